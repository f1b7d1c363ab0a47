//! One version of each crate for the whole workspace: every member takes its
//! dependencies from `[workspace.dependencies]`, none declares a version of its own.
//! Crates layered by weight: only what embeds text builds the embedder. The SQL checked
//! when it compiles.

use std::path::Path;

#[test]
fn every_dependency_comes_from_the_workspace() {
    let root = testkit::repo_dir();
    let mut manifests = vec![root.join("shared/Cargo.toml")];
    for group in ["crates", "services"] {
        for entry in std::fs::read_dir(root.join(group)).unwrap() {
            let manifest = entry.unwrap().path().join("Cargo.toml");
            if manifest.exists() {
                manifests.push(manifest);
            }
        }
    }
    assert!(manifests.len() >= 10, "{manifests:?}");
    let mut own_versions = Vec::new();
    for manifest in &manifests {
        own_versions.extend(own_dependency_versions(manifest));
    }
    assert!(
        own_versions.is_empty(),
        "declare these in [workspace.dependencies]: {own_versions:?}"
    );
}

/// ONNX Runtime's bindings and the tokenizer are built for the services that embed text
/// (cv-ingestion, offre-ingestion), not for those that only need the contracts.
#[test]
fn only_what_embeds_builds_the_embedder() {
    for (package, embeds) in [
        ("platform", false),
        ("matching", false),
        ("gui", false),
        ("cv-ingestion", true),
        ("offre-ingestion", true),
    ] {
        let output = std::process::Command::new(env!("CARGO"))
            .current_dir(testkit::manifest_dir())
            .args([
                "tree",
                "--offline",
                "--locked",
                "-e",
                "normal",
                "--prefix",
                "none",
            ])
            .args(["--format", "{p}", "-p", package])
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let tree = String::from_utf8_lossy(&output.stdout);
        let builds = |name: &str| tree.lines().any(|l| l.starts_with(&format!("{name} v")));
        assert_eq!(
            (builds("ort"), builds("tokenizers")),
            (embeds, embeds),
            "{package}: ONNX Runtime and the tokenizer built: {}",
            !embeds
        );
    }
}

/// The dependency lines of `manifest` that do not take the workspace's version.
fn own_dependency_versions(manifest: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(manifest).unwrap();
    let mut in_dependencies = false;
    let mut found = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            in_dependencies = line.ends_with("dependencies]");
            continue;
        }
        if in_dependencies && !line.is_empty() && !line.starts_with('#') {
            let (name, value) = line.split_once('=').unwrap_or((line, ""));
            let workspace =
                name.trim().ends_with(".workspace") || value.contains("workspace = true");
            if !workspace {
                found.push(format!("{}: {line}", manifest.display()));
            }
        }
    }
    found
}

/// Every statement of the services and their libraries is checked when it compiles
/// (`sqlx::query!` and kin, `.sqlx/`): no run-time statement comes back unnoticed. Only
/// SQL that cannot be a prepared statement's text stays run-time (`raw_sql`): the
/// bootstrap script and statements naming a schema or a database.
#[test]
fn the_services_sql_is_checked_when_it_compiles() {
    let root = testkit::repo_dir();
    let run_time = [
        "sqlx::query(",
        "sqlx::query_as(",
        "sqlx::query_scalar(",
        "sqlx::query_as::<",
        "sqlx::query_scalar::<",
        "sqlx::query_with(",
    ];
    let raw_sql_allowed = ["crates/platform/src/db.rs", "crates/eval/src/run.rs"];
    let mut sources = Vec::new();
    for dir in ["shared/src", "crates", "services"] {
        rust_sources(&root.join(dir), &mut sources);
    }
    let mut found = Vec::new();
    for path in &sources {
        let relative = path
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        // The test harness names the databases it makes; tests and benches are not the
        // services' code.
        if relative.starts_with("crates/testkit/")
            || relative.contains("/tests/")
            || relative.contains("/benches/")
            || relative.contains("/fuzz/")
        {
            continue;
        }
        let text = std::fs::read_to_string(path).unwrap();
        for (n, line) in text.lines().enumerate() {
            let run_time_call = run_time.iter().any(|call| line.contains(call));
            let raw = line.contains("raw_sql(") && !raw_sql_allowed.contains(&relative.as_str());
            if run_time_call || raw {
                found.push(format!("{relative}:{}: {}", n + 1, line.trim()));
            }
        }
    }
    assert!(sources.len() > 100, "{} Rust files", sources.len());
    assert!(
        found.is_empty(),
        "statements unchecked at compile time (use sqlx::query! and make sqlx-prepare):\n{}",
        found.join("\n")
    );
}

fn rust_sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n != "target") {
                rust_sources(&path, out);
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}
