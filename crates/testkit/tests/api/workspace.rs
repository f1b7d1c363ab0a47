//! One version of each crate for the whole workspace: every member takes its
//! dependencies from `[workspace.dependencies]`, none declares a version of its own.
//! Crates layered by weight: only what embeds text builds the embedder.

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
