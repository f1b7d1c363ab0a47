//! POST /match with a learned re-ranker (`reranker`): the fused best offers re-ordered by
//! the model the request names, read at start from `MATCH_RERANKERS` (or built in); on
//! the real database, offers ingested and embedded by offre-ingestion's pipeline.

use std::path::Path;
use std::time::{Duration, Instant};

use matching::{AppState, Config};
use platform::config::Env;
use reqwest::StatusCode;
use serde_json::{json, Value};
use shared::embedding::{self, Embedder, EmbeddingConfig};
use testkit::{conformance::assert_problem, TestDb, TestServer};

use crate::common;

fn offer(id: &str, title: &str, description: &str, rome: &str, skills: &[&str]) -> Value {
    json!({
        "id": id, "intitule": title, "description": description, "romeCode": rome,
        "typeContrat": "CDI",
        "dateCreation": "2026-11-20T08:00:00.000Z", "dateActualisation": "2026-11-26T08:00:00.000Z",
        "entreprise": {"nom": format!("Entreprise {id}")},
        "lieuTravail": {"libelle": "69 - LYON", "latitude": 45.76, "longitude": 4.83},
        "competences": skills.iter().map(|s| json!({"libelle": s, "exigence": "E"})).collect::<Vec<_>>()
    })
}

/// Developers of several kinds, nurses, a driver, an accountant.
fn offers() -> Vec<Value> {
    let mut offers = vec![
        offer(
            "DEV0",
            "Développeur Python (H/F)",
            "Développement d'API en Python et Django, bases PostgreSQL.",
            "M1805",
            &["Python", "Django"],
        ),
        offer(
            "DEV1",
            "Ingénieur logiciel backend",
            "Services backend en Python, revue de code, intégration continue.",
            "M1805",
            &[],
        ),
        offer(
            "DEV2",
            "Développeur Java",
            "Applications Java et Spring pour la banque.",
            "M1805",
            &["Java"],
        ),
        offer(
            "DEV3",
            "Data engineer",
            "Pipelines de données Python, Spark et Airflow.",
            "M1805",
            &["Python"],
        ),
        offer(
            "NUR0",
            "Infirmier de bloc opératoire",
            "Soins aux patients, préparation du bloc.",
            "J1506",
            &["Soins infirmiers"],
        ),
        offer(
            "NUR1",
            "Infirmière de nuit",
            "Soins et surveillance des patients la nuit.",
            "J1506",
            &["Soins infirmiers"],
        ),
        offer(
            "DRV0",
            "Chauffeur poids lourd",
            "Livraisons régionales en semi-remorque.",
            "N4101",
            &["Permis CE"],
        ),
        offer(
            "ACC0",
            "Comptable",
            "Tenue de la comptabilité et déclarations fiscales.",
            "M1203",
            &["Comptabilité générale"],
        ),
    ];
    offers.extend((0..6).map(|i| {
        offer(
            &format!("WEB{i}"),
            &format!("Développeur web {i}"),
            "Sites web en JavaScript et un peu de Python.",
            "M1805",
            &["JavaScript"],
        )
    }));
    offers
}

/// Re-rankers written for the tests: one that orders by `lexical` alone, one by
/// `semantic` alone.
fn write_models(dir: &Path) {
    std::fs::write(
        dir.join("lexical-only.json"),
        r#"{"id": "lexical-only", "features": ["lexical"], "weights": [4.0], "bias": -2.0}"#,
    )
    .unwrap();
    std::fs::write(
        dir.join("semantic-only.json"),
        r#"{"id": "semantic-only", "kind": "linear", "features": ["semantic"], "weights": [10.0], "bias": -5.0, "about": "a test's"}"#,
    )
    .unwrap();
}

struct Fixture {
    _db: TestDb,
    server: TestServer,
    embedder: std::sync::Arc<dyn Embedder>,
    _dir: tempfile::TempDir,
}

async fn fixture() -> Fixture {
    let db = TestDb::new().await;
    let admin = db.pool().await;
    let embedder =
        embedding::from_config(&EmbeddingConfig::from_env(&Env::from_process()).unwrap())
            .await
            .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let models = dir.path().join("models");
    std::fs::create_dir(&models).unwrap();
    write_models(&models);
    let env = testkit::env()
        .with("DATABASE_URL", db.url_as(schemas::MATCHING_ROLE))
        .with("MATCH_RERANKERS", models.to_str().unwrap());
    let config = Config::from_env(&env).unwrap();
    let server = testkit::spawn(matching::router(
        &config,
        AppState::connect(&config).unwrap(),
    ))
    .await;
    let path = dir.path().join("offers.jsonl");
    let lines: Vec<String> = offers().iter().map(Value::to_string).collect();
    std::fs::write(&path, lines.join("\n")).unwrap();
    offre_ingestion::ingest::ingest_file(&admin, &path, Some(&embedder), 36500)
        .await
        .unwrap();
    let f = Fixture {
        _db: db,
        server,
        embedder,
        _dir: dir,
    };
    // The offers index follows the database within moments; 10 s is a deadline.
    let started = Instant::now();
    loop {
        let response = f.post(json!({"profile": {"text": "python"}})).await;
        if response.status() == StatusCode::OK {
            let hits: Vec<Value> = response.json().await.unwrap();
            if hits.iter().any(|h| h["id"] == "DEV0") {
                break;
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the offers index never loaded"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    f
}

impl Fixture {
    async fn request(&self, embed: &str, extra: Value) -> Value {
        let vector = self
            .embedder
            .embed(&[embed.to_owned()])
            .await
            .unwrap()
            .remove(0);
        let mut body = json!({"cv_embedding": vector});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        body
    }

    async fn post(&self, body: Value) -> reqwest::Response {
        let body = if body.get("cv_embedding").is_none() {
            self.request("Développeur Python", body).await
        } else {
            body
        };
        common::post_match(&self.server, body).await
    }

    async fn hits(&self, body: Value) -> Vec<Value> {
        let response = self.post(body).await;
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.unwrap()
    }
}

fn ids(hits: &[Value]) -> Vec<&str> {
    hits.iter().map(|h| h["id"].as_str().unwrap()).collect()
}

fn signal(hit: &Value, name: &str) -> f64 {
    hit["signals"][name].as_f64().unwrap()
}

/// The profile of a Python developer; the embedding of a nurse: the words and the
/// vectors disagree, so that ordering by one signal is not the fused order.
fn mixed(f: &Fixture) -> impl std::future::Future<Output = Value> + '_ {
    f.request(
        "Infirmière de nuit, soins aux patients",
        json!({"profile": {"text": "Développeuse Python, Django, PostgreSQL", "titles": ["Développeuse Python"], "skills": [{"label": "Python"}]}}),
    )
}

#[tokio::test]
async fn a_reranker_reorders_the_fused_best_by_its_model_keeping_signals_and_reasons() {
    let f = fixture().await;
    let base = mixed(&f).await;
    // The fused list the re-ranker re-orders: the best 100 (here, every offer once).
    let mut all = base.clone();
    all["limit"] = json!(100);
    let fused = f.hits(all).await;
    assert!(fused.len() >= 10, "{}", fused.len());
    for (model, name, weight, bias) in [
        ("lexical-only", "lexical", 4.0, -2.0),
        ("semantic-only", "semantic", 10.0, -5.0),
    ] {
        let mut body = base.clone();
        body["limit"] = json!(5);
        body["reranker"] = json!(model);
        let hits = f.hits(body).await;
        assert_eq!(hits.len(), 5);
        // Expected: the fused list ordered by that signal alone (ties in fused order).
        let mut expected = fused.clone();
        expected.sort_by(|a, b| signal(b, name).total_cmp(&signal(a, name)));
        assert_eq!(ids(&hits), ids(&expected[..5]), "{model}");
        if name == "semantic" {
            assert_ne!(
                ids(&hits),
                ids(&fused[..5]),
                "the fixture makes the vectors' order differ from the fusion's"
            );
        }
        for hit in &hits {
            let score = hit["score"].as_f64().unwrap();
            let z = weight * signal(hit, name) + bias;
            let sigmoid = 1.0 / (1.0 + f64::exp(-z));
            assert!(
                (score - sigmoid).abs() < 1e-5,
                "{model}: score σ(w·x + b): {hit}"
            );
            assert!((0.0..=1.0).contains(&score));
            // Signals and reasons as the fused hit had them.
            let same = fused.iter().find(|h| h["id"] == hit["id"]).unwrap();
            assert_eq!(hit["signals"], same["signals"], "{model}");
            assert_eq!(hit["reasons"], same["reasons"], "{model}");
        }
    }
    // By the vectors alone (a nurse's embedding), a nurse's offer comes first.
    let mut body = base.clone();
    body["reranker"] = json!("semantic-only");
    assert!(f.hits(body).await[0]["id"]
        .as_str()
        .unwrap()
        .starts_with("NUR"));
}

#[tokio::test]
async fn without_a_reranker_the_answer_is_the_fusion_as_before() {
    let f = fixture().await;
    let base = mixed(&f).await;
    let hits = f.hits(base.clone()).await;
    let mut null = base.clone();
    null["reranker"] = Value::Null;
    assert_eq!(f.hits(null).await, hits, "null is absent");
    // The score is the signals' weighted mean under the default weights, best first.
    let weights = ranking::Weights::default().as_array();
    let total: f64 = weights.iter().map(|w| f64::from(*w)).sum();
    for hit in &hits {
        let mean: f64 = ranking::Weights::NAMES
            .iter()
            .zip(weights)
            .map(|(name, w)| signal(hit, name) * f64::from(w))
            .sum::<f64>()
            / total;
        assert!(
            (hit["score"].as_f64().unwrap() - mean).abs() < 1e-4,
            "{hit}"
        );
    }
    assert!(hits
        .windows(2)
        .all(|w| w[0]["score"].as_f64() >= w[1]["score"].as_f64()));
    // A client that names no re-ranker sends no field: a matching of before, which
    // refuses unknown fields, still reads its requests.
    let request: shared::MatchRequest = serde_json::from_value(base).unwrap();
    assert_eq!(request.reranker, None);
    let sent = serde_json::to_value(&request).unwrap();
    assert!(sent.get("reranker").is_none(), "{sent}");
}

#[tokio::test]
async fn an_unknown_reranker_is_a_400_naming_it_and_one_without_a_profile_a_422() {
    let f = fixture().await;
    let mut body = mixed(&f).await;
    body["reranker"] = json!("linear-1999-01-01");
    let problem = assert_problem(f.post(body).await, StatusCode::BAD_REQUEST, "/match").await;
    let detail = problem["detail"].as_str().unwrap();
    assert!(detail.contains("\"linear-1999-01-01\""), "{detail}");
    assert!(
        detail.contains("lexical-only") && detail.contains("semantic-only"),
        "the ids it has: {detail}"
    );
    let body = f
        .request("Développeur", json!({"reranker": "lexical-only"}))
        .await;
    let problem = assert_problem(
        f.post(body).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "/match",
    )
    .await;
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("reranker applies to ranking with a profile"),
        "{problem}"
    );
    // The OpenAPI document describes the field and the 400.
    let doc: Value = f
        .server
        .get("/openapi.json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let field = &doc["components"]["schemas"]["MatchRequest"]["properties"]["reranker"];
    assert!(
        field["description"]
            .as_str()
            .is_some_and(|d| d.contains("re-ranker")),
        "{field}"
    );
    assert!(
        doc["paths"]["/match"]["post"]["responses"]["400"].is_object(),
        "{}",
        doc["paths"]["/match"]["post"]["responses"]
    );
}

#[test]
fn rerankers_are_read_at_start_and_a_bad_file_stops_it_naming_the_file() {
    let env = testkit::env().with("DATABASE_URL", "postgres://x@127.0.0.1/db");
    // Built in: the shipped models, with no setting.
    let config = Config::from_env(&env).unwrap();
    let shipped = ranking::rerank::shipped();
    assert!(!shipped.is_empty(), "a model is shipped");
    for model in &shipped {
        assert_eq!(config.rerankers.get(model.id()), Some(model));
    }
    let dir = tempfile::tempdir().unwrap();
    write_models(dir.path());
    // A directory: every .json in it; a file by its path; both at once, listed twice.
    let files = format!(
        "{}, {}",
        dir.path().display(),
        dir.path().join("lexical-only.json").display()
    );
    let config = Config::from_env(&env.clone().with("MATCH_RERANKERS", &files)).unwrap();
    let lexical = config.rerankers.get("lexical-only").unwrap();
    assert_eq!(lexical.weight_of("lexical"), Some(4.0));
    assert!(config.rerankers.get("semantic-only").is_some());

    let bad = dir.path().join("bad.json");
    let other = tempfile::tempdir().unwrap();
    let twin = other.path().join("twin.json");
    std::fs::write(
        &twin,
        r#"{"id": "lexical-only", "features": ["lexical"], "weights": [1.0], "bias": 0}"#,
    )
    .unwrap();
    let empty = tempfile::tempdir().unwrap();
    let cases: [(&str, String, &str); 5] = [
        (
            r#"{"id": "m", "features": ["salary"], "weights": [1], "bias": 0}"#,
            bad.display().to_string(),
            "feature \"salary\"",
        ),
        (
            r#"{"id": "m", "features": ["job"], "weights": [1, 2], "bias": 0}"#,
            bad.display().to_string(),
            "2 weights for 1 features",
        ),
        (
            "{not json",
            bad.display().to_string(),
            "not a re-ranker's JSON",
        ),
        (
            "",
            format!(
                "{},{}",
                dir.path().join("lexical-only.json").display(),
                twin.display()
            ),
            "already",
        ),
        ("", empty.path().display().to_string(), "without any .json"),
    ];
    for (text, setting, expected) in cases {
        if !text.is_empty() {
            std::fs::write(&bad, text).unwrap();
        }
        let err = Config::from_env(&env.clone().with("MATCH_RERANKERS", &setting)).unwrap_err();
        let line = err.to_string();
        assert_eq!(err.var, "MATCH_RERANKERS", "{line}");
        assert!(line.contains(expected), "{line}");
        assert!(!line.contains('\n'), "one line: {line}");
        let named = if expected == "already" {
            twin.display().to_string()
        } else {
            setting.clone()
        };
        assert!(line.contains(&named), "names the file: {line}");
        std::fs::remove_file(&bad).ok();
    }
    let missing = dir.path().join("missing.json");
    let err = Config::from_env(
        &env.clone()
            .with("MATCH_RERANKERS", missing.to_str().unwrap()),
    )
    .unwrap_err();
    assert!(err.to_string().contains("missing.json"), "{err}");

    // The binary stops with that one line, exit code 2.
    std::fs::write(&bad, r#"{"id": "m", "features": ["job"]}"#).unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_matching"))
        .env_clear()
        .env("SERVICE_TOKEN", testkit::SERVICE_TOKEN)
        .env("DATABASE_URL", "postgres://x@127.0.0.1/db")
        .env("MATCH_RERANKERS", &bad)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(
        lines[0].contains("MATCH_RERANKERS")
            && lines[0].contains(bad.to_str().unwrap())
            && lines[0].contains("missing field `weights`"),
        "{stderr}"
    );
}
