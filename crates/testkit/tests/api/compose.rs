//! docker-compose.yml, checked offline (no daemon: `make test` installs the Compose
//! client): valid alone and with the test override; every long-running service has a
//! healthcheck (its own, or its image's); no secret is written inline, in the file or
//! in `.env.example`: secrets are files under the git-ignored `deploy/secrets/`, read
//! through the services' `*_FILE` variables. `make compose-test` runs the stack itself.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

/// `docker compose <args> config`, as JSON (`args`: `-f FILE`, `--profile NAME`...).
fn config(args: &[&str]) -> Value {
    let mut compose = Command::new("docker");
    compose
        .current_dir(testkit::repo_dir())
        .env("DOCKER_CONFIG", testkit::cache_dir().join("docker/config"))
        // Interpolated from the documented defaults, never a developer's own .env.
        .args(["compose", "--env-file", ".env.example"])
        .args(args);
    let output = compose
        .args(["config", "--format", "json"])
        .output()
        .expect("docker's client, which `make test` installs with Compose");
    assert!(
        output.status.success(),
        "docker compose {args:?} config:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn the_compose_file_is_valid_alone_and_with_the_test_override() {
    let operators = config(&["-f", "docker-compose.yml"]);
    let services = operators["services"].as_object().unwrap();
    for name in [
        "postgres",
        "redis",
        "db-init",
        "offre-ingestion",
        "matching",
        "cv-ingestion",
        "gui",
        "gui-worker",
        "proxy",
        "prometheus",
        "grafana",
    ] {
        assert!(services.contains_key(name), "no service {name}");
    }
    // Only the proxy is reachable from outside, and Grafana from the host itself.
    let published: Vec<(&String, Vec<&str>)> = services
        .iter()
        .filter_map(|(name, s)| {
            let ports = s.get("ports")?.as_array()?;
            Some((
                name,
                ports.iter().filter_map(|p| p["host_ip"].as_str()).collect(),
            ))
        })
        .collect();
    assert_eq!(
        published,
        [
            (&"grafana".to_owned(), vec!["127.0.0.1"]),
            (&"proxy".to_owned(), vec!["0.0.0.0"])
        ]
    );
    // The `traces` profile: a collector and Jaeger, the services told where to export.
    let traced = config(&["--profile", "traces", "-f", "docker-compose.yml"]);
    for name in ["otel-collector", "jaeger"] {
        assert!(
            traced["services"].get(name).is_some(),
            "no {name} in profile traces"
        );
    }
    let test = config(&["-f", "docker-compose.yml", "-f", "docker-compose.test.yml"]);
    assert_eq!(
        test["services"].as_object().unwrap().len(),
        services.len(),
        "the override adds no service"
    );
}

/// Dockerfile stages that carry a HEALTHCHECK, themselves or through the stage they
/// are built FROM.
fn stages_with_healthcheck() -> Vec<String> {
    let dockerfile =
        std::fs::read_to_string(testkit::repo_dir().join("deploy/Dockerfile")).unwrap();
    let mut parent: HashMap<String, String> = HashMap::new();
    let mut checked: Vec<String> = Vec::new();
    let mut current = String::new();
    for line in dockerfile.lines().map(str::trim) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["FROM", from, "AS", name] => {
                current = name.to_string();
                parent.insert(current.clone(), from.to_string());
            }
            ["HEALTHCHECK", ..] if !current.is_empty() => checked.push(current.clone()),
            _ => {}
        }
    }
    let has = |stage: &str| {
        let mut stage = stage.to_owned();
        for _ in 0..10 {
            if checked.contains(&stage) {
                return true;
            }
            match parent.get(&stage) {
                Some(from) => stage = from.clone(),
                None => return false,
            }
        }
        false
    };
    parent.keys().filter(|s| has(s)).cloned().collect()
}

#[test]
fn every_long_running_service_has_a_healthcheck() {
    let config = config(&["-f", "docker-compose.yml"]);
    let checked_stages = stages_with_healthcheck();
    let services = config["services"].as_object().unwrap();
    // The worker runs the GUI's image: the target of whichever service builds it.
    let target_of_image: HashMap<&str, &str> = services
        .values()
        .filter_map(|s| Some((s["image"].as_str()?, s["build"]["target"].as_str()?)))
        .collect();
    for (name, service) in services {
        if service["restart"] == "no" {
            continue; // a one-shot job (db-init): completion is its signal
        }
        let own = service
            .get("healthcheck")
            .is_some_and(|h| h.get("disable") != Some(&Value::Bool(true)));
        let target = service["build"]["target"].as_str().or_else(|| {
            let image = service["image"].as_str()?;
            target_of_image.get(image).copied()
        });
        let image = target.is_some_and(|target| checked_stages.iter().any(|s| s == target));
        assert!(own || image, "{name} has no healthcheck");
    }
}

/// Names of settings that hold secrets: they must come from a file.
fn names_a_secret(variable: &str) -> bool {
    ["PASSWORD", "TOKEN", "SECRET", "CALLERS"]
        .iter()
        .any(|word| variable.contains(word))
        && !variable.ends_with("_TOKENS") // EMBEDDING_BATCH_TOKENS: a size
        && !variable.ends_with("_URL") // FT_TOKEN_URL: an address
}

#[test]
fn no_secret_is_written_inline() {
    let config = config(&["-f", "docker-compose.yml"]);
    for (name, service) in config["services"].as_object().unwrap() {
        let environment = service
            .get("environment")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        for (variable, value) in environment {
            let value = value.as_str().unwrap_or_default();
            if names_a_secret(&variable) {
                assert!(
                    variable.ends_with("_FILE") && value.starts_with("/run/secrets/"),
                    "{name}: {variable} must be a *_FILE under /run/secrets/, not {value:?}"
                );
            }
            // A URL carries no password (postgres://user@host is fine).
            if let Some((_, rest)) = value.split_once("://") {
                let credentials = rest.split(['/', '?']).next().unwrap_or_default();
                assert!(
                    !credentials.contains('@')
                        || !credentials.split('@').next().unwrap().contains(':'),
                    "{name}: {variable} holds a password in its URL"
                );
            }
        }
    }
    // Every secret is a file under deploy/secrets/, which git ignores.
    for (name, secret) in config["secrets"].as_object().unwrap() {
        let file = secret["file"]
            .as_str()
            .unwrap_or_else(|| panic!("secret {name} is not a file: {secret}"));
        let relative = PathBuf::from(file);
        let relative = relative
            .strip_prefix(testkit::repo_dir())
            .unwrap_or(&relative);
        assert!(
            relative.starts_with("deploy/secrets"),
            "secret {name} lives at {file}"
        );
        let ignored = Command::new("git")
            .current_dir(testkit::repo_dir())
            .args(["check-ignore", "-q"])
            .arg(relative)
            .status()
            .unwrap();
        assert!(ignored.success(), "git would commit secret {name} ({file})");
    }
    // .env.example documents the settings and holds no secret value.
    let example = std::fs::read_to_string(testkit::repo_dir().join(".env.example")).unwrap();
    for line in example.lines().filter(|l| !l.starts_with('#')) {
        if let Some((variable, value)) = line.split_once('=') {
            assert!(
                !names_a_secret(variable) || value.is_empty(),
                ".env.example gives {variable} a value"
            );
        }
    }
}
