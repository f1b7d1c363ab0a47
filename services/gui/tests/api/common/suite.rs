//! All four services running in-process on one real database: offers ingested and
//! embedded with the real model; matching, offre-ingestion and cv-ingestion behind
//! proxies that can cut them off or make them hang.

use serde_json::Value;
use shared::embedding::{self, EmbeddingConfig};
use testkit::offers::Offer;
use testkit::{TcpProxy, TestDb, TestServer};

use super::{app_on, cv_ingestion, App};

const JOBS: [(&str, &str, &str, &[&str]); 4] = [
    (
        "M1805",
        "Développeur backend Rust et Python",
        "Conception de microservices en Rust et Python, bases PostgreSQL, Docker et Kubernetes.",
        &["Python", "PostgreSQL", "Docker"],
    ),
    (
        "J1506",
        "Infirmier de nuit",
        "Soins aux patients en service de chirurgie, surveillance post-opératoire.",
        &["Soins infirmiers"],
    ),
    (
        "N4101",
        "Chauffeur poids lourd",
        "Livraisons régionales en semi-remorque, chargement et déchargement.",
        &["Permis CE"],
    ),
    (
        "M1203",
        "Comptable",
        "Tenue de la comptabilité, déclarations fiscales et paie.",
        &["Comptabilité"],
    ),
];

/// The `i`th offer of [`offers`]: the `i % 4`th job, in Lyon, a CDI for the first four
/// of every eight and a CDD for the next four.
pub fn offer(i: usize) -> Offer {
    let (rome, title, mission, skills) = JOBS[i % 4];
    let offer = Offer::new(format!("G{i:03}"), format!("{title} {i}"))
        .description(mission)
        .rome(rome)
        .contract(if i % 8 < 4 { "CDI" } else { "CDD" })
        .company(format!("Entreprise {i}"))
        .place("69 - LYON", 45.76, 4.83)
        .salary("Mensuel de 2500 Euros")
        .required_skills(skills);
    if rome == "M1805" {
        // Developers are also wished to know Terraform (exigence S).
        offer.wished("Terraform")
    } else {
        offer
    }
}

/// 48 offers, 12 of each job.
pub fn offers() -> Vec<Value> {
    (0..48).map(|i| offer(i).json()).collect()
}

pub struct Suite {
    pub app: App,
    pub matching_proxy: TcpProxy,
    pub cv_proxy: TcpProxy,
    pub offers_proxy: TcpProxy,
    /// matching, offre-ingestion and cv-ingestion, running as long as the suite; the
    /// tests reach them through the proxies, `make bench-gui` reads their metrics.
    #[allow(dead_code)]
    pub servers: Vec<TestServer>,
}

/// Offers ingested and embedded; matching (behind a proxy that can cut it off),
/// offre-ingestion, cv-ingestion and the GUI serving.
pub async fn suite() -> Suite {
    suite_with(offers()).await
}

/// [`suite`] with other offers.
pub async fn suite_with(offers: Vec<Value>) -> Suite {
    let db = TestDb::new().await;
    let pool = db.pool().await;
    ingest(&pool, &offers).await;

    let matching_config = matching::Config::from_env(
        &testkit::env().with("DATABASE_URL", db.url_as(schemas::MATCHING_ROLE)),
    )
    .unwrap();
    let matching = testkit::spawn(matching::router(
        &matching_config,
        matching::AppState::connect(&matching_config).unwrap(),
    ))
    .await;
    let matching_proxy = TcpProxy::start(matching.addr).await;
    let offers_config =
        offre_ingestion::Config::from_env(&testkit::env_as(&db, schemas::OFFERS.role)).unwrap();
    let offers = testkit::spawn(offre_ingestion::router(
        &offers_config,
        offre_ingestion::AppState::connect(&offers_config)
            .await
            .unwrap(),
    ))
    .await;
    let offers_proxy = TcpProxy::start(offers.addr).await;
    let cv = cv_ingestion().await;
    let cv_proxy = TcpProxy::start(cv.addr).await;
    let urls = service_urls(&matching_proxy, &offers_proxy, &cv_proxy);
    let app = app_on(db, |env| {
        urls.into_iter()
            .fold(env, |env, (k, v)| env.with(k, v))
            .with("DOWNSTREAM_TIMEOUT_SECS", "2")
    })
    .await;
    matching.wait_ready().await;
    Suite {
        app,
        matching_proxy,
        cv_proxy,
        offers_proxy,
        servers: vec![matching, offers, cv],
    }
}

/// Where the GUI (and its worker) find the other services: through their proxies.
fn service_urls(
    matching: &TcpProxy,
    offers: &TcpProxy,
    cv: &TcpProxy,
) -> [(&'static str, String); 3] {
    [
        ("MATCHING_URL", format!("http://{}", matching.addr)),
        ("OFFRE_INGESTION_URL", format!("http://{}", offers.addr)),
        ("CV_INGESTION_URL", format!("http://{}", cv.addr)),
    ]
}

impl Suite {
    pub fn service_urls(&self) -> [(&'static str, String); 3] {
        service_urls(&self.matching_proxy, &self.offers_proxy, &self.cv_proxy)
    }
}

/// `offers` through the real pipeline (a JSON-lines file, ingested and embedded), as
/// one run.
pub async fn ingest(pool: &sqlx::PgPool, offers: &[Value]) {
    let file = testkit::offers::json_lines_file(offers);
    let embedder = embedding::from_config(&EmbeddingConfig::from_env(&testkit::env()).unwrap())
        .await
        .unwrap();
    offre_ingestion::ingest::ingest_file(pool, file.path(), Some(&embedder), 36500)
        .await
        .unwrap();
}

/// `n` more candidates, active now, with the profile of the one candidate there is.
pub async fn clone_candidates(pool: &sqlx::PgPool, n: i32) {
    for sql in [
        "INSERT INTO gui.users (id, email, password_hash, last_active_at)
         SELECT gen_random_uuid(), 'clone' || i || '@exemple.fr', 'x', now() FROM generate_series(1, $1) AS i",
        "INSERT INTO gui.profiles
         SELECT (jsonb_populate_record(NULL::gui.profiles, to_jsonb(p) || jsonb_build_object('user_id', u.id))).*
         FROM gui.profiles p, gui.users u WHERE u.email LIKE 'clone%'",
    ] {
        sqlx::query(sql).bind(n).execute(pool).await.unwrap();
    }
}
