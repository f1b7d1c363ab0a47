//! A run killed midway leaves consistent tables, and the next run finishes the job.

use std::process::Command;
use std::time::Duration;

use testkit::TestDb;

use crate::common::*;

#[tokio::test]
async fn a_killed_run_is_finished_by_the_next_one() {
    let db = TestDb::new().await;
    let pool = db.pool().await;
    let files = files();
    let path = files.json_lines("many.jsonl", &offers(10_000));
    let ingest = || {
        let mut command = Command::new(env!("CARGO_BIN_EXE_offre-ingestion"));
        command
            .args(["ingest", "--no-embed", "--file"])
            .arg(&path)
            .env("DATABASE_URL", db.url_as(schemas::OFFERS.role));
        command
    };

    let mut child = ingest().spawn().unwrap();
    // Kill it once some chunks are committed, well before the end.
    let mut stored = 0;
    for _ in 0..600 {
        stored = count(&pool, "SELECT count(*) FROM offers.offers").await;
        if stored > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let stored = count(&pool, "SELECT count(*) FROM offers.offers")
        .await
        .max(stored);
    assert!(
        stored > 0 && stored < 10_000,
        "killed midway: {stored} stored"
    );
    assert_eq!(stored % 500, 0, "only whole chunks are committed");
    let orphans = count(
        &pool,
        "SELECT count(*) FROM offers.offers o WHERE NOT EXISTS (SELECT 1 FROM offers.offer_skills s WHERE s.offer_id = o.id)",
    )
    .await;
    assert_eq!(orphans, 0, "every stored offer has its skills");

    let output = ingest().output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["counts"]["unchanged"], stored);
    assert_eq!(report["counts"]["new"], 10_000 - stored);
    assert_eq!(
        count(&pool, "SELECT count(*) FROM offers.offers").await,
        10_000
    );
    let runs: Vec<(String, Option<String>)> =
        sqlx::query_as("SELECT status, error FROM offers.ingestion_runs ORDER BY id")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(runs[0].0, "failed");
    assert!(
        runs[0].1.as_deref().unwrap().starts_with("interrupted"),
        "{runs:?}"
    );
    assert_eq!(runs[1].0, "succeeded");
}
