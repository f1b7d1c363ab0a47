//! One version of each crate for the whole workspace: every member takes its
//! dependencies from `[workspace.dependencies]`, none declares a version of its own.

use std::path::Path;

#[test]
fn every_dependency_comes_from_the_workspace() {
    let root = testkit::manifest_dir().join("../..");
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
