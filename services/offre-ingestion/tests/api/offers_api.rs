//! `GET /offers` and `GET /offers/{id}` over HTTP, on ingested offers.

use offre_ingestion::ingest::ingest_file;
use offre_ingestion::{AppState, Config};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use testkit::{conformance::assert_problem, TestDb, TestServer};

use crate::common::*;

async fn service_with_offers() -> (TestDb, TestServer) {
    let db = TestDb::new().await;
    let pool = db.pool().await;
    let files = files();
    let mut all = offers(3);
    all[2]["dateActualisation"] = json!("2020-01-01T00:00:00.000Z");
    all[2]["dateCreation"] = json!("2020-01-01T00:00:00.000Z");
    ingest_file(&pool, &files.json_lines("o.jsonl", &all), None, 60)
        .await
        .unwrap();
    let config = Config::from_env(&testkit::env_as(&db, schemas::OFFERS.role)).unwrap();
    let state = AppState::connect(&config).await.unwrap();
    // As `serve` does: the runs' totals read as the service starts, then again and again.
    tokio::spawn(
        state
            .ingestion
            .clone()
            .follow(state.db.clone(), config.embedding_model.clone()),
    );
    let server = testkit::spawn(offre_ingestion::router(&config, state)).await;
    (db, server)
}

async fn get(server: &TestServer, path: &str) -> reqwest::Response {
    server.authed(Method::GET, path).send().await.unwrap()
}

#[tokio::test]
async fn details_come_in_the_order_asked_without_unknown_ids() {
    let (_db, server) = service_with_offers().await;
    let response = get(&server, "/offers?ids=T000001,NOPE1,T000000").await;
    assert_eq!(response.status(), StatusCode::OK);
    let offers: Vec<Value> = response.json().await.unwrap();
    let ids: Vec<&str> = offers.iter().map(|o| o["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["T000001", "T000000"]);
    let first = &offers[0];
    assert_eq!(first["intitule"], "Développeur 1");
    assert_eq!(first["entreprise"], "ACME");
    assert_eq!(first["lieu"], "69 - LYON 03");
    assert_eq!(first["typeContrat"], "CDI");
    assert_eq!(first["salaire"], "Annuel de 40000 Euros");
    assert_eq!(
        first["competences"],
        json!([{"libelle": "Rust", "exigence": "E"}, {"libelle": "SQL", "exigence": "S"}])
    );
    assert_eq!(first["codePostal"], "69003");
    assert_eq!(first["romeCode"], "M1805");
    assert!(
        first.get("archived").is_none(),
        "active offers carry no archived flag"
    );
}

#[tokio::test]
async fn archived_offers_are_still_served() {
    let (_db, server) = service_with_offers().await;
    let offer: Value = get(&server, "/offers/T000002").await.json().await.unwrap();
    assert_eq!(offer["archived"], true);
}

#[tokio::test]
async fn bad_requests_are_problems() {
    let (_db, server) = service_with_offers().await;
    let many: Vec<String> = (0..101).map(|i| format!("X{i}")).collect();
    let path = format!("/offers?ids={}", many.join(","));
    let body = assert_problem(
        get(&server, &path).await,
        StatusCode::BAD_REQUEST,
        "/offers",
    )
    .await;
    assert!(body["detail"].as_str().unwrap().contains("101"), "{body}");
    assert_problem(
        get(&server, "/offers").await,
        StatusCode::BAD_REQUEST,
        "/offers",
    )
    .await;
    assert_problem(
        get(&server, "/offers?ids=A;B").await,
        StatusCode::BAD_REQUEST,
        "/offers",
    )
    .await;
    let body = assert_problem(
        get(&server, "/offers/NOPE1").await,
        StatusCode::NOT_FOUND,
        "/offers/NOPE1",
    )
    .await;
    assert!(body["detail"].as_str().unwrap().contains("NOPE1"));
    // One offer per path: a list is not an id (it answered either offer before), and a
    // bad one is named as the path's `id`, not as `ids`.
    for path in ["/offers/T000001,T000002", "/offers/T000001;DROP"] {
        let body = assert_problem(get(&server, path).await, StatusCode::BAD_REQUEST, path).await;
        assert_eq!(body["errors"][0]["field"], "id", "{path}: {body}");
        assert!(
            body["detail"]
                .as_str()
                .unwrap()
                .contains("is not a France Travail offer id"),
            "{body}"
        );
    }
    let anonymous = server.get("/offers?ids=T000001").send().await.unwrap();
    assert_problem(anonymous, StatusCode::UNAUTHORIZED, "/offers").await;
    // A hundred is fine.
    let hundred = format!("/offers?ids={}", many[..100].join(","));
    assert_eq!(get(&server, &hundred).await.status(), StatusCode::OK);
}

/// The runs' totals reach the service's metrics from their lineage rows, whichever
/// process ran them, and follow the runs that come later.
#[tokio::test]
async fn ingestion_totals_are_in_the_metrics() {
    let (db, server) = service_with_offers().await;
    let files = files();
    let pool = db.pool().await;
    let value = |metrics: &str, name: &str| -> Option<f64> {
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name}{{service=\"offre-ingestion\"}} ")))
            .map(|v| v.parse().unwrap())
    };
    // The first run: three offers stored, the one too old archived, none embedded.
    let expected = [
        ("offers_ingested_total", 3.0),
        ("offers_archived_total", 1.0),
        ("offers_embedded_total", 0.0),
        ("offers_quarantined_total", 0.0),
        ("ingestion_runs_failed_total", 0.0),
        ("embedding_backlog", 2.0),
    ];
    // Exported once first read (the service reads them as it starts).
    let mut metrics = server.metrics().await;
    for _ in 0..40 {
        if value(&metrics, "offers_ingested_total").is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        metrics = server.metrics().await;
    }
    for (name, want) in expected {
        assert_eq!(value(&metrics, name), Some(want), "{name} in:\n{metrics}");
    }
    assert!(value(&metrics, "ingestion_last_success_timestamp_seconds").unwrap() > 1.7e9);
    // The database pool's use, beside (DATABASE_MAX_CONNECTIONS' default: 10).
    assert_eq!(value(&metrics, "db_pool_max"), Some(10.0), "{metrics}");
    let open = value(&metrics, "db_pool_connections").unwrap();
    assert!((1.0..=10.0).contains(&open) && value(&metrics, "db_pool_idle").unwrap() <= open);
    // A later run with a payload that is no offer: quarantined, seen within a refresh.
    ingest_file(
        &pool,
        &files.json_lines("bad.jsonl", &[json!({"intitule": "sans identifiant"})]),
        None,
        60,
    )
    .await
    .unwrap();
    let mut quarantined = None;
    for _ in 0..100 {
        quarantined = value(&server.metrics().await, "offers_quarantined_total");
        if quarantined == Some(1.0) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert_eq!(quarantined, Some(1.0));
}
