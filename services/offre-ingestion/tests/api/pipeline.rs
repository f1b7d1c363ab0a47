//! The ingestion pipeline on the real database with the real model.

use offre_ingestion::ingest::ingest_file;
use serde_json::json;
use testkit::TestDb;

use crate::common::*;

const MAX_AGE: i64 = 36500;

async fn migrated() -> (TestDb, sqlx::PgPool) {
    let db = TestDb::new().await;
    let pool = db.pool().await;
    (db, pool)
}

/// A saved set of past offers: with the default maximum age they are archived as they
/// arrive, and the run says so and how to keep them; `OFFER_MAX_AGE_DAYS=0` keeps them.
#[tokio::test]
async fn offers_archived_on_arrival_are_reported_and_age_zero_keeps_them() {
    let (_db, pool) = migrated().await;
    let files = files();
    let mut old = offers(3);
    for offer in &mut old {
        offer["dateCreation"] = json!("2023-03-01T08:00:00.000Z");
        offer["dateActualisation"] = json!("2023-03-02T08:00:00.000Z");
    }
    let path = files.json_lines("old.jsonl", &old);
    let report = ingest_file(&pool, &path, None, 60).await.unwrap();
    assert_eq!((report.counts.new, report.counts.archived), (3, 3));
    assert_eq!(report.warnings.len(), 1, "{:?}", report.warnings);
    let warning = &report.warnings[0];
    assert!(
        warning.starts_with("3 of the 3 offers this run stored were archived on arrival")
            && warning.contains("more than 60 days (OFFER_MAX_AGE_DAYS)")
            && warning.contains("OFFER_MAX_AGE_DAYS=0 keeps offers of any age"),
        "{warning}"
    );
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(
        json["warnings"][0].as_str(),
        Some(warning.as_str()),
        "in the printed report"
    );

    let (_db2, fresh) = migrated().await;
    let kept = ingest_file(&fresh, &path, None, 0).await.unwrap();
    assert_eq!((kept.counts.new, kept.counts.archived), (3, 0));
    assert!(kept.warnings.is_empty());
    assert_eq!(
        count(
            &fresh,
            "SELECT count(*) FROM offers.offers WHERE archived_at IS NULL"
        )
        .await,
        3
    );
}

/// Saved search responses are often one compact line (the development sets' are 20 MB):
/// a first line past the JSON-lines limit is read as one document, streamed.
#[tokio::test]
async fn a_one_line_search_response_over_16_mb_is_streamed() {
    let (_db, pool) = migrated().await;
    let files = files();
    let long = "Mission en équipe. ".repeat(1_000);
    let all: Vec<serde_json::Value> = (0..900)
        .map(|i| offer(&format!("L{i:06}"), &format!("Développeur {i}"), &long))
        .collect();
    let line = json!({"resultats": all}).to_string();
    assert!(line.len() > 17 << 20 && !line.contains('\n'));
    let report = ingest_file(
        &pool,
        &files.gzip("page.json.gz", line.as_bytes()),
        None,
        MAX_AGE,
    )
    .await
    .unwrap();
    assert_eq!((report.counts.read, report.counts.new), (900, 900));
}

#[tokio::test]
async fn ingests_search_responses_json_lines_and_gzip() {
    let (_db, pool) = migrated().await;
    let files = files();
    let all = offers(9);
    let response = files.search_response("page.json", &all[..3]);
    let lines = files.json_lines("offers.jsonl", &all[3..6]);
    let mut jsonl = String::new();
    for offer in &all[6..] {
        jsonl.push_str(&format!("{offer}\n"));
    }
    // Named .json: gzip is recognised by its content.
    let gzipped = files.gzip("compressed.json", jsonl.as_bytes());
    for path in [&response, &lines, &gzipped] {
        let report = ingest_file(&pool, path, None, MAX_AGE).await.unwrap();
        assert_eq!(
            (report.counts.read, report.counts.new),
            (3, 3),
            "{}",
            path.display()
        );
    }
    assert_eq!(count(&pool, "SELECT count(*) FROM offers.offers").await, 9);
    assert_eq!(
        count(&pool, "SELECT count(*) FROM offers.offer_skills").await,
        18
    );
    let runs: Vec<(String, String, i32)> =
        sqlx::query_as("SELECT kind, status, new_count FROM offers.ingestion_runs ORDER BY id")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(
        runs,
        vec![("file".into(), "succeeded".into(), 3); 3],
        "lineage of each run"
    );
    let bronze: serde_json::Value =
        sqlx::query_scalar("SELECT payload FROM offers.bronze_payloads WHERE offer_id = 'T000000'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(
        bronze, all[0],
        "bronze keeps the payload as received, unknown fields included"
    );
}

#[tokio::test]
async fn the_same_input_twice_writes_nothing_and_embeds_nothing() {
    let (_db, pool) = migrated().await;
    let embedder = embedder().await;
    let files = files();
    let path = files.json_lines("offers.jsonl", &offers(12));
    let first = ingest_file(&pool, &path, Some(&embedder), MAX_AGE)
        .await
        .unwrap();
    assert_eq!((first.counts.new, first.counts.embedded), (12, 12));
    assert_eq!(
        count(&pool, "SELECT count(*) FROM offers.outbox").await,
        1,
        "one event"
    );

    let before = row_versions(&pool).await;
    let second = ingest_file(&pool, &path, Some(&embedder), MAX_AGE)
        .await
        .unwrap();
    assert_eq!(second.counts.unchanged, 12);
    assert_eq!(
        (
            second.counts.new,
            second.counts.changed,
            second.counts.embedded,
            second.counts.quarantined
        ),
        (0, 0, 0, 0)
    );
    assert_eq!(
        row_versions(&pool).await,
        before,
        "no row inserted, updated or deleted"
    );
}

#[tokio::test]
async fn a_changed_offer_is_updated_and_re_embedded_only_when_its_text_changed() {
    let (_db, pool) = migrated().await;
    let embedder = embedder().await;
    let files = files();
    let mut all = offers(4);
    ingest_file(
        &pool,
        &files.json_lines("v1.jsonl", &all),
        Some(&embedder),
        MAX_AGE,
    )
    .await
    .unwrap();
    let stamp = |id: &'static str| {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, chrono::DateTime<chrono::Utc>>(
                "SELECT embedded_at FROM offers.embeddings WHERE offer_id = $1",
            )
            .bind(id)
            .fetch_one(&pool)
            .await
            .unwrap()
        }
    };
    let (text_before, salary_before) = (stamp("T000000").await, stamp("T000001").await);

    all[0]["description"] = json!("Nouvelle mission : développement de services Rust.");
    all[1]["salaire"] = json!({"libelle": "Annuel de 50000 Euros"}); // not in the embedded text
    let report = ingest_file(
        &pool,
        &files.json_lines("v2.jsonl", &all),
        Some(&embedder),
        MAX_AGE,
    )
    .await
    .unwrap();
    assert_eq!((report.counts.changed, report.counts.unchanged), (2, 2));
    assert_eq!(
        report.counts.embedded, 1,
        "only the offer whose text changed"
    );
    assert_eq!(report.changed_ids, ["T000000", "T000001"]);
    assert!(stamp("T000000").await > text_before);
    assert_eq!(stamp("T000001").await, salary_before);
    let salary: String =
        sqlx::query_scalar("SELECT salary_label FROM offers.offers WHERE id = 'T000001'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(salary, "Annuel de 50000 Euros");
    assert_eq!(
        count(&pool, "SELECT count(*) FROM offers.bronze_payloads").await,
        6,
        "both versions kept"
    );
}

#[tokio::test]
async fn bad_payloads_are_quarantined_with_their_reason_and_the_run_goes_on() {
    let (_db, pool) = migrated().await;
    let files = files();
    let good = offers(2);
    let mut no_id = offer("X", "Sans identifiant", "...");
    no_id.as_object_mut().unwrap().remove("id");
    let mut bad_place = offer("BADPLACE", "Lieu invalide", "...");
    bad_place["lieuTravail"]["latitude"] = json!("nord");
    let text = format!(
        "{}\n{no_id}\n{{\"id\": \"TRUNC\", \"intitule\": \"coupé\n{bad_place}\n{}\n",
        good[0], good[1]
    );
    let report = ingest_file(
        &pool,
        &files.write("mixed.jsonl", text.as_bytes()),
        None,
        MAX_AGE,
    )
    .await
    .unwrap();
    assert_eq!(
        (
            report.counts.read,
            report.counts.new,
            report.counts.quarantined
        ),
        (5, 2, 3)
    );
    let reasons: Vec<String> =
        sqlx::query_scalar("SELECT reason FROM offers.quarantine ORDER BY id")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(reasons[0], "no id");
    assert!(reasons[1].starts_with("line 3: not JSON"), "{}", reasons[1]);
    assert!(
        reasons[2].contains("lieuTravail.latitude: expected a number"),
        "{}",
        reasons[2]
    );
    let status: String = sqlx::query_scalar("SELECT status FROM offers.ingestion_runs")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(status, "succeeded");
}

#[tokio::test]
async fn expired_offers_are_archived_kept_and_flagged_in_gold() {
    let (_db, pool) = migrated().await;
    let embedder = embedder().await;
    let files = files();
    let mut all = offers(3);
    all[2]["dateActualisation"] = json!("2020-01-01T00:00:00.000Z");
    all[2]["dateCreation"] = json!("2020-01-01T00:00:00.000Z");
    let report = ingest_file(
        &pool,
        &files.json_lines("o.jsonl", &all),
        Some(&embedder),
        60,
    )
    .await
    .unwrap();
    assert_eq!(report.counts.archived, 1);
    assert_eq!(
        report.counts.embedded, 2,
        "archived offers are not embedded"
    );
    let reason: String =
        sqlx::query_scalar("SELECT archive_reason FROM offers.offers WHERE id = 'T000002'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(reason, "expired");
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM offers.embeddings WHERE NOT archived"
        )
        .await,
        2
    );
}

#[tokio::test]
async fn storing_without_embeddings_then_embedding_resumes_what_is_missing() {
    let (_db, pool) = migrated().await;
    let embedder = embedder().await;
    let files = files();
    let path = files.json_lines("o.jsonl", &offers(5));
    ingest_file(&pool, &path, None, MAX_AGE).await.unwrap();
    assert_eq!(
        count(&pool, "SELECT count(*) FROM offers.embeddings").await,
        0
    );
    let report = ingest_file(&pool, &path, Some(&embedder), MAX_AGE)
        .await
        .unwrap();
    assert_eq!((report.counts.unchanged, report.counts.embedded), (5, 5));
    let model: String = sqlx::query_scalar("SELECT DISTINCT model FROM offers.embeddings")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(model, embedder.model_id());
}

#[tokio::test]
async fn bad_files_end_with_a_clear_error_and_lose_nothing() {
    let (_db, pool) = migrated().await;
    let files = files();
    ingest_file(
        &pool,
        &files.json_lines("good.jsonl", &offers(3)),
        None,
        MAX_AGE,
    )
    .await
    .unwrap();
    let before = row_versions(&pool).await;

    let document = serde_json::to_string_pretty(&json!({"resultats": offers(5)})).unwrap();
    let truncated = files.write("truncated.json", &document.as_bytes()[..document.len() / 2]);
    let wrong_shape = files.write("wrong.json", br#"{"pages": 3, "items": []}"#);
    let garbage = files.write("garbage.bin", b"\x00\x01binary garbage\xff\xfe");
    // 2 GB of zeros without a line break (sparse: no disk used).
    let huge = files.0.path().join("huge.json");
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(2 << 30)
        .unwrap();
    // A one-line search response that unzips to 260 MB and never ends (a few hundred KB
    // zipped): streamed, it costs no memory and is found truncated.
    let bomb = files.0.path().join("bomb.json.gz");
    // One offer of 20 MB: past the largest offer read whole.
    let big_offer = files.0.path().join("big-offer.json.gz");
    {
        use std::io::Write;
        for (path, head, filler, megabytes) in [
            (&bomb, &br#"{"resultats": ["#[..], b' ', 260),
            (
                &big_offer,
                &br#"{"resultats": [{"description": ""#[..],
                b'a',
                20,
            ),
        ] {
            let mut encoder = flate2::write::GzEncoder::new(
                std::fs::File::create(path).unwrap(),
                flate2::Compression::fast(),
            );
            encoder.write_all(head).unwrap();
            let block = vec![filler; 1 << 20];
            for _ in 0..megabytes {
                encoder.write_all(&block).unwrap();
            }
            encoder.write_all(br#""}]}"#).unwrap();
            encoder.finish().unwrap();
        }
    }
    let gz_garbage = files.gzip("garbage.gz", b"not json at all");
    for (path, expected) in [
        (&truncated, "invalid JSON"),
        (&wrong_shape, "expected a France Travail search response"),
        (&garbage, "expected a JSON object or array"),
        (&huge, "expected a JSON object or array"),
        (&bomb, "invalid JSON at byte"),
        (&big_offer, "an offer of more than 16 MB"),
        (&gz_garbage, "expected a JSON object or array"),
    ] {
        let err = ingest_file(&pool, path, None, MAX_AGE).await.unwrap_err();
        let message = format!("{err:#}");
        assert!(message.contains(expected), "{}: {message}", path.display());
        assert!(
            message.contains(&path.display().to_string()),
            "names the file: {message}"
        );
    }
    assert_eq!(
        row_versions(&pool).await,
        before,
        "nothing stored before was touched"
    );
    let failed = count(
        &pool,
        "SELECT count(*) FROM offers.ingestion_runs WHERE status = 'failed' AND error IS NOT NULL",
    )
    .await;
    assert_eq!(failed, 7, "each bad file is a failed run with its error");
}
