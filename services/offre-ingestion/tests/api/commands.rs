//! The commands services/offre-ingestion/README.md shows, typed as a user types them in a
//! new shell after `make run`:
//! `scripts/commands.sh` installs them, and a shell that has nothing but a `PATH` (and
//! the database's name, `make run`'s `JOBMATCH_DATABASE`) runs them.

use std::path::Path;
use std::process::Command;

use testkit::TestDb;

#[tokio::test]
async fn the_readme_commands_run_as_written_in_a_new_shell() {
    let db = TestDb::new().await;
    let bin = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let built = Path::new(env!("CARGO_BIN_EXE_offre-ingestion"))
        .parent()
        .unwrap();
    let repo = testkit::repo_dir();
    let installed = Command::new("bash")
        .arg(repo.join("scripts/commands.sh"))
        .arg(built)
        .env("JOBMATCH_BIN", bin.path())
        .env("JOBMATCH_CACHE", testkit::cache_dir())
        .output()
        .unwrap();
    assert!(
        installed.status.success(),
        "{}",
        String::from_utf8_lossy(&installed.stderr)
    );

    let shell = |line: &str| {
        let output = Command::new("bash")
            .args(["-c", line])
            .current_dir(work.path())
            .env_clear()
            .env("PATH", format!("{}:/usr/bin:/bin", bin.path().display()))
            .env("JOBMATCH_DATABASE", &db.name)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{line}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    };
    shell("offre-ingestion demo-data --count 30 --seed 1 > demo.jsonl");
    let report: serde_json::Value = serde_json::from_str(&shell(
        "offre-ingestion ingest --no-embed --file demo.jsonl",
    ))
    .unwrap();
    assert_eq!(report["counts"]["new"], 30, "{report}");
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM offers.offers")
        .fetch_one(&db.pool().await)
        .await
        .unwrap();
    assert_eq!(stored, 30, "into the database the shell named");

    let vector: Vec<f32> =
        serde_json::from_str(shell("echo 'Développeur Python' | offre-ingestion embed").trim())
            .unwrap();
    assert_eq!(vector.len(), 384);
}

/// Off a terminal (a log file, `make run`'s background load), a long run says how far it
/// is at each tenth of the work, with its rate and the time left, as log fields.
#[tokio::test]
async fn off_a_terminal_progress_is_logged_by_tenths_with_rate_and_time_left() {
    let db = TestDb::new().await;
    let work = tempfile::tempdir().unwrap();
    let binary = env!("CARGO_BIN_EXE_offre-ingestion");
    let demo = Command::new(binary)
        .args(["demo-data", "--count", "300", "--seed", "3"])
        .output()
        .unwrap();
    assert!(demo.status.success());
    let file = work.path().join("demo.jsonl");
    std::fs::write(&file, &demo.stdout).unwrap();
    let output = Command::new(binary)
        .args(["ingest", "--file"])
        .arg(&file)
        .env("DATABASE_URL", db.url_as(schemas::OFFERS.role))
        .env("LOG_FORMAT", "json")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let lines: Vec<serde_json::Value> = stderr
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let progress = |what: &str| -> Vec<serde_json::Value> {
        lines
            .iter()
            .filter(|l| l["message"] == what && l.get("percent").is_some())
            .cloned()
            .collect()
    };
    // 300 offers embedded in batches of 128: 42 %, 85 %, 100 %, one line each.
    let embedding = progress("embedding offers");
    let percents: Vec<u64> = embedding
        .iter()
        .map(|l| l["percent"].as_u64().unwrap())
        .collect();
    assert_eq!(percents, [42, 85, 100], "{stderr}");
    for line in &embedding {
        assert_eq!(line["total"], 300);
        assert!(line["rate"].as_str().unwrap().ends_with("/s"), "{line}");
        assert!(line["left_secs"].is_u64(), "{line}");
    }
    assert_eq!(embedding.last().unwrap()["left_secs"], 0);
    let storing = progress("storing the file's offers");
    let last = storing.last().expect("the file's progress");
    assert_eq!(
        (last["unit"].as_str(), last["total"].as_u64()),
        (Some("bytes"), Some(demo.stdout.len() as u64))
    );
    assert!(lines
        .iter()
        .any(|l| l["message"] == "embedding offers done" && l["done"] == 300));
}
