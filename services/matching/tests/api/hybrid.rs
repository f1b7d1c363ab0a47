//! POST /match with a profile: hybrid ranking over the in-memory offers index and the
//! gold vectors, on the real database with offers ingested and embedded by
//! offre-ingestion's pipeline with the local model.

use std::time::{Duration, Instant};

use matching::{AppState, Config};
use platform::config::Env;
use reqwest::StatusCode;
use serde_json::{json, Value};
use shared::embedding::{self, Embedder, EmbeddingConfig};
use testkit::offers::Offer;
use testkit::{conformance::assert_problem, TestDb, TestServer};

use crate::common;

fn offer(id: &str, title: &str, description: &str, rome: &str, skills: &[&str]) -> Value {
    let odd = id.ends_with(['1', '3', '5', '7', '9']);
    Offer::new(id, title)
        .description(description)
        .rome(rome)
        .contract(if odd { "CDD" } else { "CDI" })
        .company(format!("Entreprise {id}"))
        .place("69 - LYON", 45.76, 4.83)
        .required_skills(skills)
        .json()
}

/// Developers, nurses, drivers and accountants; one developer offer posted twice (same
/// title, company, place and text under two ids); `fillers` more developer offers.
fn offers(fillers: usize) -> Vec<Value> {
    let mut offers = vec![
        offer(
            "DEV0",
            "Développeur Python (H/F)",
            "Développement d'API en Python et Django, bases PostgreSQL, déploiement Docker.",
            "M1805",
            &["Python", "Django", "PostgreSQL"],
        ),
        offer(
            "DEV2",
            "Ingénieur logiciel backend",
            "Conception de services backend, revue de code, intégration continue.",
            "M1805",
            &[],
        ),
        offer(
            "NUR0",
            "Infirmier de bloc opératoire",
            "Soins aux patients, préparation du bloc, surveillance post-opératoire.",
            "J1506",
            &["Soins infirmiers"],
        ),
        offer(
            "NUR1",
            "Infirmière de nuit",
            "Soins et surveillance des patients hospitalisés la nuit.",
            "J1506",
            &["Soins infirmiers"],
        ),
        offer(
            "DRV0",
            "Chauffeur poids lourd",
            "Livraisons régionales en semi-remorque, chargement et déchargement.",
            "N4101",
            &["Permis CE"],
        ),
        offer(
            "ACC0",
            "Comptable",
            "Tenue de la comptabilité, déclarations fiscales et paie.",
            "M1203",
            &["Comptabilité générale"],
        ),
    ];
    let mut twin = offers[0].clone();
    twin["id"] = json!("DEV1");
    offers.push(twin);
    offers.extend((0..fillers).map(|i| {
        offer(
            &format!("FIL{i:03}"),
            &format!("Développeur Java {i}"),
            "Développement d'applications Java et Spring pour la banque.",
            "M1805",
            &["Java"],
        )
    }));
    offers
}

struct Fixture {
    _db: TestDb,
    admin: sqlx::PgPool,
    server: TestServer,
    embedder: std::sync::Arc<dyn Embedder>,
}

async fn fixture(fillers: usize) -> Fixture {
    let db = TestDb::new().await;
    let admin = db.pool().await;
    let embedder =
        embedding::from_config(&EmbeddingConfig::from_env(&Env::from_process()).unwrap())
            .await
            .unwrap();
    let f = Fixture {
        server: start(&db).await,
        _db: db,
        admin,
        embedder,
    };
    f.ingest(&offers(fillers), 36500).await;
    f.wait_for(|ids| ids.contains(&"DEV0".to_owned())).await;
    f
}

async fn start(db: &TestDb) -> TestServer {
    let env = testkit::env().with("DATABASE_URL", db.url_as(schemas::MATCHING_ROLE));
    let config = Config::from_env(&env).unwrap();
    testkit::spawn(matching::router(
        &config,
        AppState::connect(&config).unwrap(),
    ))
    .await
}

impl Fixture {
    /// `offers` through offre-ingestion's pipeline, as one run.
    async fn ingest(&self, offers: &[Value], max_age_days: i64) {
        let file = testkit::offers::json_lines_file(offers);
        offre_ingestion::ingest::ingest_file(
            &self.admin,
            file.path(),
            Some(&self.embedder),
            max_age_days,
        )
        .await
        .unwrap();
    }

    async fn embed(&self, text: &str) -> Vec<f32> {
        self.embedder
            .embed(&[text.to_owned()])
            .await
            .unwrap()
            .remove(0)
    }

    async fn post(&self, body: Value) -> reqwest::Response {
        common::post_match(&self.server, body).await
    }

    async fn hits(&self, body: Value) -> Vec<Value> {
        let response = self.post(body).await;
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.unwrap()
    }

    /// Waits until a lexical search for "python" satisfies `done`; the offers index
    /// follows the database within moments (see `offers_index`): 10 s is a deadline for
    /// a failure, not a measure.
    async fn wait_for(&self, done: impl Fn(&[String]) -> bool) {
        self.wait_for_words("python", done).await
    }

    async fn wait_for_words(&self, words: &str, done: impl Fn(&[String]) -> bool) {
        let started = Instant::now();
        let mut last: Vec<String> = Vec::new();
        loop {
            let response = self
                .post(json!({"cv_embedding": self.embed(words).await, "limit": 100, "profile": {"text": words}, "weights": {"lexical": 1}}))
                .await;
            if response.status() == StatusCode::OK {
                let hits: Vec<Value> = response.json().await.unwrap();
                // The offers the words find (the others are the vectors' nearest).
                last = hits
                    .iter()
                    .filter(|h| h["signals"]["lexical"].as_f64() > Some(0.0))
                    .map(|h| h["id"].as_str().unwrap().to_owned())
                    .collect();
                if done(&last) {
                    return;
                }
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "the offers index did not catch up with the database: {words:?} finds {last:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

fn developer_profile() -> Value {
    json!({
        "text": "Camille Martin\nDéveloppeuse Python\nExpérience\n2019 - 2024 Développeuse Python, ACME : API Django, PostgreSQL, Docker.\nCompétences\nPython, Django, PostgreSQL, Docker",
        "titles": ["Développeuse Python"],
        "skills": [{"label": "Python", "code": "http://data.europa.eu/esco/skill/ccd0a1d9-afda-43d9-b901-96344886e14d"}, {"label": "Django"}, {"label": "PostgreSQL"}, {"label": "Docker"}],
        "language": "fr"
    })
}

#[tokio::test]
async fn a_full_profile_ranks_by_every_signal_and_says_why() {
    let f = fixture(0).await;
    let query = f
        .embed("Développeuse Python, Django, PostgreSQL, Docker")
        .await;
    let hits = f
        .hits(json!({"cv_embedding": query, "profile": developer_profile()}))
        .await;
    let ids: Vec<&str> = hits.iter().map(|h| h["id"].as_str().unwrap()).collect();
    assert_eq!(ids[0], "DEV0", "{ids:?}");
    assert_eq!(ids[1], "DEV2", "the other developer job next: {ids:?}");
    assert!(
        !ids.contains(&"DEV1"),
        "the job posted twice is listed once: {ids:?}"
    );
    assert_eq!(hits[0]["duplicates"], json!(["DEV1"]));
    let weights = ranking::Weights::default().as_array();
    for hit in &hits {
        let signals = &hit["signals"];
        let parts: Vec<f64> = ranking::Weights::NAMES
            .iter()
            .map(|name| signals[name].as_f64().unwrap())
            .collect();
        assert!(parts.iter().all(|p| (0.0..=1.0).contains(p)), "{hit}");
        let mean = parts
            .iter()
            .zip(weights)
            .map(|(p, w)| p * f64::from(w))
            .sum::<f64>()
            / weights.iter().map(|w| f64::from(*w)).sum::<f64>();
        let score = hit["score"].as_f64().unwrap();
        assert!(
            (score - mean).abs() < 1e-4,
            "the score is the signals' weighted mean: {hit}"
        );
    }
    assert!(
        hits.windows(2)
            .all(|w| w[0]["score"].as_f64() >= w[1]["score"].as_f64()),
        "best first"
    );
    let best = &hits[0];
    assert!(best["signals"]["title"].as_f64().unwrap() > 0.9, "{best}");
    assert_eq!(
        best["reasons"]["skills"],
        json!(["Python", "Django", "PostgreSQL"])
    );
    let keywords: Vec<&str> = best["reasons"]["keywords"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap())
        .collect();
    assert!(keywords.contains(&"Docker"), "{keywords:?}");
    // The driver's offer shares nothing with the profile but what the vectors see.
    let driver = hits.iter().find(|h| h["id"] == "DRV0").unwrap();
    assert_eq!(driver["signals"]["lexical"], json!(0.0));
    assert_eq!(driver["reasons"], json!({}));
    // Each stage of the ranking is timed, once per hybrid request.
    let counts = |metrics: &str| -> Vec<u64> {
        ["lexical", "vectors", "fusion"]
            .iter()
            .map(|stage| {
                let series = format!(
                    r#"match_stage_duration_seconds_count{{service="matching",stage="{stage}"}} "#
                );
                metrics
                    .lines()
                    .find_map(|line| line.strip_prefix(&series))
                    .map_or(0, |n| n.parse().unwrap())
            })
            .collect()
    };
    let before = counts(&f.server.metrics().await);
    f.hits(json!({"cv_embedding": query, "profile": developer_profile()}))
        .await;
    let after = counts(&f.server.metrics().await);
    let once: Vec<u64> = before.iter().map(|n| n + 1).collect();
    assert_eq!(after, once, "lexical, vectors, fusion: one each");
}

#[tokio::test]
async fn the_embedding_alone_still_ranks_by_cosine() {
    let f = fixture(0).await;
    let own: pgvector::Vector =
        sqlx::query_scalar("SELECT embedding FROM offers.embeddings WHERE offer_id = 'NUR0'")
            .fetch_one(&f.admin)
            .await
            .unwrap();
    let hits = f.hits(json!({"cv_embedding": own.to_vec()})).await;
    assert_eq!(hits[0]["id"], "NUR0");
    assert!((hits[0]["score"].as_f64().unwrap() - 1.0).abs() < 1e-4);
    assert_eq!(
        hits[0].as_object().unwrap().len(),
        2,
        "{{id, score}} only: {}",
        hits[0]
    );
    let ids: Vec<&str> = hits.iter().map(|h| h["id"].as_str().unwrap()).collect();
    assert!(
        ids.contains(&"DEV0") && ids.contains(&"DEV1"),
        "no folding without a profile"
    );
}

#[tokio::test]
async fn a_keyword_only_hit_reaches_the_top() {
    // 120 Java developer offers are nearer the candidate's vector than the one offer
    // that names Kubernetes: past the vectors' 100 candidates.
    let f = fixture(120).await;
    f.ingest(&[offer("OPS0", "Opérateur de maintenance", "Atelier de maintenance industrielle ; la supervision des serveurs sous Kubernetes est un plus.", "I1304", &[])],
        36500,
    )
    .await;
    f.wait_for_words("kubernetes", |ids| ids.contains(&"OPS0".to_owned()))
        .await;
    let query = f.embed("Développeur Java Spring, Kubernetes").await;
    let nearer: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM offers.embeddings WHERE (embedding <=> $1) <
             (SELECT embedding <=> $1 FROM offers.embeddings WHERE offer_id = 'OPS0')",
    )
    .bind(pgvector::Vector::from(query.clone()))
    .fetch_one(&f.admin)
    .await
    .unwrap();
    assert!(nearer > 100, "{nearer} offers nearer than OPS0");
    let hits = f
        .hits(json!({"cv_embedding": query, "profile": {"text": "Kubernetes"}, "weights": {"semantic": 1, "lexical": 3}}))
        .await;
    assert_eq!(hits[0]["id"], "OPS0", "{}", hits[0]);
    assert!(
        hits[0]["signals"]["semantic"].as_f64().unwrap() > 0.0,
        "its cosine was read too"
    );
}

#[tokio::test]
async fn filters_and_archived_offers_hold_for_every_signal() {
    let f = fixture(0).await;
    let query = f.embed("Infirmière de nuit").await;
    let profile =
        json!({"text": "Infirmière de nuit, soins aux patients", "titles": ["Infirmière"]});
    let hits = f
        .hits(json!({"cv_embedding": query, "profile": profile, "filters": {"contract_types": ["CDI"]}}))
        .await;
    assert!(!hits.is_empty());
    let contracts: std::collections::HashMap<String, String> =
        sqlx::query_as("SELECT id, contract_type FROM offers.offers")
            .fetch_all(&f.admin)
            .await
            .unwrap()
            .into_iter()
            .collect();
    assert!(
        hits.iter()
            .all(|h| contracts[h["id"].as_str().unwrap()] == "CDI"),
        "{hits:?}"
    );
    assert_eq!(hits[0]["id"], "NUR0", "the CDI nurse first");
    let far = f
        .hits(json!({"cv_embedding": query, "profile": profile, "filters": {"near": {"lat": 48.85, "lon": 2.35, "radius_km": 50}}}))
        .await;
    assert!(far.is_empty(), "no offer near Paris: {far:?}");
    let nurses = f
        .hits(json!({"cv_embedding": query, "profile": profile, "filters": {"rome_codes": ["J1506"]}}))
        .await;
    assert_eq!(nurses.len(), 2);
    // Archived by an ingestion run: the offer is no longer matched, however well it fits.
    let mut old = offers(0)[3].clone();
    old["dateActualisation"] = json!("2020-01-01T00:00:00.000Z");
    old["dateCreation"] = json!("2020-01-01T00:00:00.000Z");
    f.ingest(&[old], 60).await;
    let hits = f
        .hits(json!({"cv_embedding": query, "profile": profile, "limit": 100}))
        .await;
    assert!(!hits.iter().any(|h| h["id"] == "NUR1"), "{hits:?}");
    f.wait_for_words("infirmiere nuit", |ids| !ids.contains(&"NUR1".to_owned()))
        .await;
}

#[tokio::test]
async fn what_is_added_changed_or_deleted_is_searchable_by_every_signal_moments_after() {
    let f = fixture(0).await;
    f.ingest(
        &[offer(
            "BAK0",
            "Boulanger",
            "Fabrication du pain et des viennoiseries en boulangerie.",
            "D1102",
            &["Panification"],
        )],
        36500,
    )
    .await;
    f.wait_for_words("boulangerie", |ids| {
        ids.first().map(String::as_str) == Some("BAK0")
    })
    .await;
    let query = f.embed("Boulanger").await;
    let hits = f
        .hits(json!({"cv_embedding": query, "profile": {"titles": ["Boulanger"], "skills": [{"label": "Panification"}]}}))
        .await;
    assert_eq!(hits[0]["id"], "BAK0");
    assert!(hits[0]["signals"]["title"].as_f64().unwrap() > 0.9);
    assert_eq!(hits[0]["reasons"]["skills"], json!(["Panification"]));
    // A changed title is searched by its new words.
    let mut changed = offer(
        "BAK0",
        "Pâtissier",
        "Fabrication des entremets en pâtisserie.",
        "D1104",
        &[],
    );
    changed["dateActualisation"] = json!("2026-11-27T08:00:00.000Z");
    f.ingest(&[changed], 36500).await;
    f.wait_for_words("patisserie entremets", |ids| {
        ids.first().map(String::as_str) == Some("BAK0")
    })
    .await;
    f.wait_for_words("boulangerie", |ids| !ids.contains(&"BAK0".to_owned()))
        .await;
    // The pipeline archives; an offer deleted by hand leaves the index too.
    sqlx::query("DELETE FROM offers.offers WHERE id = 'BAK0'")
        .execute(&f.admin)
        .await
        .unwrap();
    f.wait_for_words("patisserie entremets", |ids| {
        !ids.contains(&"BAK0".to_owned())
    })
    .await;
}

#[tokio::test]
async fn profiles_empty_or_absurd_get_a_clear_answer() {
    let f = fixture(0).await;
    let query = f.embed("Développeur").await;
    // Empty parts are no signal, not an error: the vectors alone rank.
    let hits = f
        .hits(json!({"cv_embedding": query, "profile": {"text": "  ", "titles": [], "skills": []}}))
        .await;
    assert_eq!(hits.len(), 6, "the 7 offers, the twins once");
    assert!(hits.iter().all(|h| h["signals"]["lexical"] == json!(0.0)));
    let long = "x".repeat(20_001);
    let titles: Vec<String> = (0..21).map(|i| format!("Titre {i}")).collect();
    let skills: Vec<Value> = (0..201)
        .map(|i| json!({"label": format!("S{i}")}))
        .collect();
    let cases = [
        (
            json!({"profile": {"text": long}}),
            "profile.text has 20001 characters; at most 20000",
        ),
        (
            json!({"profile": {"titles": titles}}),
            "profile.titles has 21 titles; at most 20",
        ),
        (
            json!({"profile": {"titles": ["x".repeat(201)]}}),
            "profile.titles[0] is longer than 200",
        ),
        (
            json!({"profile": {"skills": skills}}),
            "profile.skills has 201 skills; at most 200",
        ),
        (
            json!({"profile": {"language": "de"}}),
            "profile.language is \"de\"",
        ),
        (json!({"profile": {"cv": "x"}}), "unknown field `cv`"),
        (
            json!({"weights": {"lexical": 1}}),
            "weights apply to ranking with a profile",
        ),
        (
            json!({"profile": {}, "weights": {"lexical": 0}}),
            "weights are all 0",
        ),
        (
            json!({"profile": {}, "weights": {"lexical": -1}}),
            "weights.lexical is -1",
        ),
        (
            json!({"profile": {}, "weights": {"speed": 1}}),
            "unknown field `speed`",
        ),
    ];
    for (extra, expected) in cases {
        let mut body = json!({"cv_embedding": query});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let problem = assert_problem(
            f.post(body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "/match",
        )
        .await;
        let detail = problem["detail"].as_str().unwrap();
        assert!(detail.contains(expected), "{expected:?} not in {detail:?}");
    }
    assert_eq!(
        f.post(json!({"cv_embedding": query, "profile": developer_profile()}))
            .await
            .status(),
        StatusCode::OK,
        "still up"
    );
}
