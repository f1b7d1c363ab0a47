//! `make setup` is idempotent: run twice in a row, the second run changes nothing.

use std::process::Command;

fn run_setup() -> String {
    let root = testkit::repo_dir();
    let output = Command::new("make")
        .args(["--no-print-directory", "-C"])
        .arg(&root)
        .arg("setup")
        .output()
        .expect("cannot run make setup");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "make setup failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

#[test]
fn a_second_setup_changes_nothing() {
    let first = run_setup();
    let started = std::time::Instant::now();
    let second = run_setup();
    println!("second run took {:.1} s", started.elapsed().as_secs_f64());
    let last = second.lines().last().unwrap_or_default();
    assert_eq!(
        last, "setup: ready, 0 changes",
        "first run:\n{first}\nsecond run:\n{second}"
    );
}
