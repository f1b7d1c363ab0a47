//! POST /match on the real database with real embeddings (offers ingested and embedded
//! by offre-ingestion's pipeline with the local model).

use std::collections::HashMap;

use matching::{AppState, Config};
use platform::config::Env;
use reqwest::StatusCode;
use serde_json::{json, Value};
use shared::embedding::{self, EmbeddingConfig};
use testkit::offers::Offer;
use testkit::{conformance::assert_problem, TestDb, TestServer};

use crate::common;

const CITIES: [(&str, f64, f64); 4] = [
    ("75 - PARIS", 48.8566, 2.3522),
    ("69 - LYON", 45.7640, 4.8357),
    ("13 - MARSEILLE", 43.2965, 5.3698),
    ("59 - LILLE", 50.6292, 3.0573),
];
const JOBS: [(&str, &str, &str); 4] = [
    (
        "M1805",
        "Développeur Rust",
        "Conception d'API en Rust et PostgreSQL",
    ),
    (
        "J1506",
        "Infirmier de nuit",
        "Soins aux patients en service de chirurgie",
    ),
    (
        "N4101",
        "Chauffeur poids lourd",
        "Livraisons régionales en semi-remorque",
    ),
    (
        "M1203",
        "Comptable",
        "Tenue de la comptabilité et déclarations fiscales",
    ),
];

fn offer(id: &str, job: usize, i: usize, contract: &str) -> Value {
    let (rome, title, mission) = JOBS[job];
    let (place, lat, lon) = CITIES[i % 4];
    Offer::new(id, format!("{title} {i}"))
        .description(format!("{mission}. Poste numéro {i}."))
        .rome(rome)
        .contract(contract)
        .created(format!("2026-11-{:02}T08:00:00.000Z", 1 + i % 25))
        .place(place, lat, lon)
        .json()
}

struct Fixture {
    _db: TestDb,
    admin: sqlx::PgPool,
    server: TestServer,
}

/// 40 offers over 4 jobs, 4 cities and 2 contracts (plus `extra` more of the same kinds),
/// two identical offers (a tie), and 20 seasonal offers; matching runs with `env`.
async fn fixture_with(extra: usize, env: platform::Env) -> Fixture {
    let db = TestDb::new().await;
    let admin = db.pool().await;
    let mut offers: Vec<Value> = (0..40 + extra)
        .map(|i| {
            offer(
                &format!("O{i:03}"),
                i % 4,
                i,
                if i % 2 == 0 { "CDI" } else { "CDD" },
            )
        })
        .collect();
    let twin = |id: &str| {
        Offer::new(id, "Boulanger")
            .description("Pétrissage et cuisson du pain.")
            .contract("CDI")
            .json()
    };
    offers.push(twin("TIE002"));
    offers.push(twin("TIE001"));
    offers.extend((0..20).map(|i| {
        Offer::new(
            format!("SAI{i:03}"),
            format!("Cueilleur de fruits saisonnier {i}"),
        )
        .description("Récolte des pommes en verger, travail en extérieur.")
        .contract("SAI")
        .json()
    }));
    let file = testkit::offers::json_lines_file(&offers);
    let embedder =
        embedding::from_config(&EmbeddingConfig::from_env(&Env::from_process()).unwrap())
            .await
            .unwrap();
    let report = offre_ingestion::ingest::ingest_file(&admin, file.path(), Some(&embedder), 36500)
        .await
        .unwrap();
    assert_eq!(report.counts.embedded, 62 + extra as i32);

    let env = env.with("DATABASE_URL", db.url_as(schemas::MATCHING_ROLE));
    let config = Config::from_env(&env).unwrap();
    let server = testkit::spawn(matching::router(
        &config,
        AppState::connect(&config).unwrap(),
    ))
    .await;
    Fixture {
        _db: db,
        admin,
        server,
    }
}

async fn fixture() -> Fixture {
    fixture_with(0, testkit::env()).await
}

impl Fixture {
    async fn embedding_of(&self, id: &str) -> Vec<f32> {
        let v: pgvector::Vector =
            sqlx::query_scalar("SELECT embedding FROM offers.embeddings WHERE offer_id = $1")
                .bind(id)
                .fetch_one(&self.admin)
                .await
                .unwrap();
        v.to_vec()
    }

    async fn post(&self, body: Value) -> reqwest::Response {
        common::post_match(&self.server, body).await
    }

    async fn hits(&self, body: Value) -> Vec<(String, f64)> {
        let response = self.post(body).await;
        assert_eq!(response.status(), StatusCode::OK);
        let hits: Vec<Value> = response.json().await.unwrap();
        hits.iter()
            .map(|h| {
                (
                    h["id"].as_str().unwrap().to_owned(),
                    h["score"].as_f64().unwrap(),
                )
            })
            .collect()
    }

    async fn column(&self, column: &str) -> HashMap<String, Option<String>> {
        sqlx::query_as::<_, (String, Option<String>)>(&format!(
            "SELECT id, {column}::text FROM offers.offers"
        ))
        .fetch_all(&self.admin)
        .await
        .unwrap()
        .into_iter()
        .collect()
    }
}

#[tokio::test]
async fn ranks_by_cosine_with_the_offer_itself_first_and_ties_by_id() {
    let f = fixture().await;
    let own = f.embedding_of("O005").await;
    let hits = f.hits(json!({"cv_embedding": own})).await;
    assert_eq!(hits.len(), 20, "20 by default");
    assert_eq!(hits[0].0, "O005");
    assert!((hits[0].1 - 1.0).abs() < 1e-4, "score {}", hits[0].1);
    assert!(
        hits.windows(2).all(|w| w[0].1 >= w[1].1),
        "best first: {hits:?}"
    );

    let twin = f.embedding_of("TIE002").await;
    let hits = f.hits(json!({"cv_embedding": twin, "limit": 2})).await;
    assert_eq!(
        hits.iter().map(|h| h.0.as_str()).collect::<Vec<_>>(),
        ["TIE001", "TIE002"]
    );
    assert_eq!(hits[0].1, hits[1].1, "a tie, settled by id");
    let again = f.hits(json!({"cv_embedding": twin, "limit": 2})).await;
    assert_eq!(hits, again, "same request, same answer");
}

#[tokio::test]
async fn filters_narrow_the_hits() {
    let f = fixture().await;
    let query = f.embedding_of("O001").await;
    let contracts = f.column("contract_type").await;
    let hits = f
        .hits(json!({"cv_embedding": query, "filters": {"contract_types": ["CDD"]}}))
        .await;
    assert_eq!(hits.len(), 20, "the 20 CDD offers");
    assert!(hits
        .iter()
        .all(|(id, _)| contracts[id].as_deref() == Some("CDD")));

    let romes = f.column("rome_code").await;
    let hits = f
        .hits(json!({"cv_embedding": query, "filters": {"rome_codes": ["J1506", "N4101"]}}))
        .await;
    assert_eq!(hits.len(), 20);
    assert!(hits
        .iter()
        .all(|(id, _)| matches!(romes[id].as_deref(), Some("J1506" | "N4101"))));

    let places = f.column("location_label").await;
    let hits = f.hits(json!({"cv_embedding": query, "filters": {"near": {"lat": 45.75, "lon": 4.85, "radius_km": 20}}})).await;
    assert_eq!(hits.len(), 10, "the 10 offers in Lyon");
    assert!(hits
        .iter()
        .all(|(id, _)| places[id].as_deref() == Some("69 - LYON")));

    let published = f.column("published_at").await;
    let hits = f.hits(json!({"cv_embedding": query, "limit": 100, "filters": {"published_after": "2026-11-20T00:00:00Z"}})).await;
    assert!(!hits.is_empty());
    assert!(hits
        .iter()
        .all(|(id, _)| published[id].as_deref().unwrap() >= "2026-11-20"));
}

#[tokio::test]
async fn a_selective_filter_still_returns_the_limit() {
    // 142 offers near the query, 20 seasonal ones; the service at the same ef_search as
    // the plain query below, so that only the iterative scan differs.
    let f = fixture_with(100, testkit::env().with("MATCH_EF_SEARCH", "40")).await;
    let query = f.embedding_of("O000").await;
    // Plain HNSW: the 40 nearest candidates hold no seasonal offer, so it finds too few.
    // (Settings before the query: a setting changed inside a statement is too late for its plan.)
    let mut conn = f.admin.acquire().await.unwrap();
    sqlx::raw_sql(
        "SET enable_seqscan = off; SET hnsw.ef_search = 40; SET hnsw.iterative_scan = off",
    )
    .execute(&mut *conn)
    .await
    .unwrap();
    let plain: Vec<String> = sqlx::query_scalar(
        "SELECT offer_id FROM offers.embeddings WHERE contract_type = 'SAI'
         ORDER BY embedding <=> $1 LIMIT 20",
    )
    .bind(pgvector::Vector::from(query.clone()))
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    assert!(plain.len() < 20, "plain HNSW found {}", plain.len());
    let hits = f
        .hits(json!({"cv_embedding": query, "filters": {"contract_types": ["SAI"]}}))
        .await;
    assert_eq!(
        hits.len(),
        20,
        "the iterative scan finds all 20 seasonal offers"
    );
    assert!(hits.iter().all(|(id, _)| id.starts_with("SAI")));
}

#[tokio::test]
async fn archived_offers_are_never_matched() {
    let f = fixture().await;
    let own = f.embedding_of("O007").await;
    sqlx::query("UPDATE offers.embeddings SET archived = true WHERE offer_id = 'O007'")
        .execute(&f.admin)
        .await
        .unwrap();
    let hits = f.hits(json!({"cv_embedding": own, "limit": 100})).await;
    assert!(!hits.iter().any(|(id, _)| id == "O007"));
    assert_eq!(hits.len(), 61);
}

#[tokio::test]
async fn bad_requests_are_422_problems_that_say_what_was_expected() {
    let f = fixture().await;
    let good = f.embedding_of("O001").await;
    let mut zeros = vec![0.0f32; 384];
    let mut overflow: Vec<Value> = good.iter().map(|x| json!(x)).collect();
    overflow[7] = json!(1e39);
    let cases = [
        (json!({"cv_embedding": []}), "empty"),
        (
            json!({"cv_embedding": [0.1, 0.2, 0.3]}),
            "has 3 values; expected 384",
        ),
        (
            json!({"cv_embedding": overflow}),
            "cv_embedding[7] is not a finite number",
        ),
        (json!({"cv_embedding": zeros.clone()}), "all zeros"),
        (json!({"cv_embedding": good, "limit": 0}), "limit is 0"),
        (json!({"cv_embedding": good, "limit": 101}), "limit is 101"),
        (
            json!({"cv_embedding": good, "filters": {"contract": ["CDI"]}}),
            "unknown field `contract`",
        ),
        (
            json!({"cv_embedding": good, "filters": {"contract_types": []}}),
            "contract_types is empty",
        ),
        (
            json!({"cv_embedding": good, "filters": {"near": {"lat": 48.8, "lon": 2.3, "radius_km": 0}}}),
            "radius_km",
        ),
        (
            json!({"cv_embedding": good, "model": "intfloat/multilingual-e5-small"}),
            "compares vectors of",
        ),
    ];
    for (body, expected) in cases {
        let response = f.post(body.clone()).await;
        let problem = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY, "/match").await;
        let detail = problem["detail"].as_str().unwrap();
        assert!(detail.contains(expected), "{expected:?} not in {detail:?}");
    }
    zeros[0] = 1.0;
    let anonymous = f
        .server
        .post("/match")
        .json(&json!({"cv_embedding": zeros}))
        .send()
        .await
        .unwrap();
    assert_problem(anonymous, StatusCode::UNAUTHORIZED, "/match").await;
    assert_eq!(
        f.post(json!({"cv_embedding": good})).await.status(),
        StatusCode::OK,
        "still up"
    );
}

#[tokio::test]
async fn a_search_after_the_database_closed_its_connections_still_answers() {
    let f = fixture().await;
    let own = f.embedding_of("O007").await;
    assert_eq!(f.hits(json!({"cv_embedding": own})).await[0].0, "O007");
    // What a database restart does to the pool's idle connections.
    let terminated: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE application_name = 'matching' AND datname = current_database()",
    )
    .fetch_all(&f.admin)
    .await
    .unwrap();
    assert!(!terminated.is_empty(), "matching holds a connection");
    assert!(terminated.iter().all(|t| *t));
    let hits = f.hits(json!({"cv_embedding": own})).await;
    assert_eq!(hits[0].0, "O007", "the first search after it is answered");
}
