//! `make bench-match`: POST /match on a corpus of offers embedded with the real model
//! (database `BENCH_DB`, default `jobmatch_bench_match`, built once by
//! scripts/bench/match.sh and reused), with queries embedded from CV-like texts. In one
//! run: HNSW build time and index size, recall@20 against exact search for several
//! ef_search values (unfiltered and filtered), the offers index's load and refresh
//! times, latency of the service over HTTP at concurrency 1 and 8 with throughput, for
//! the embedding alone and for hybrid ranking (a profile with the CV's text and title),
//! and the vector query as raw SQL, with the ratios.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use matching::search::{nearest, LEXICAL_CANDIDATES};
use platform::config::Env;
use reqwest::Method;
use serde_json::json;
use shared::embedding::{self, EmbeddingConfig};
use sqlx::{Connection, PgConnection};

const K: usize = 20;
const EF_SEARCH: [u32; 6] = [40, 64, 100, 128, 160, 200];
const REQUESTS: usize = 1000;

fn main() -> anyhow::Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run())
}

async fn run() -> anyhow::Result<()> {
    let env = Env::from_process();
    let db_name = env.or("BENCH_DB", "jobmatch_bench_match".to_owned())?;
    let admin_url = format!("postgres://postgres@127.0.0.1:5432/{db_name}");
    let mut admin = PgConnection::connect(&admin_url).await?;
    let offers: i64 =
        sqlx::query_scalar("SELECT count(*) FROM offers.embeddings WHERE NOT archived")
            .fetch_one(&mut admin)
            .await?;
    println!("bench-match: {offers} offers embedded in {db_name}");

    // HNSW build time and size (the index was built row by row during ingestion).
    sqlx::raw_sql("SET maintenance_work_mem = '512MB'")
        .execute(&mut admin)
        .await?;
    let started = Instant::now();
    sqlx::raw_sql("REINDEX INDEX offers.embeddings_hnsw")
        .execute(&mut admin)
        .await?;
    let build = started.elapsed();
    let size: i64 = sqlx::query_scalar("SELECT pg_relation_size('offers.embeddings_hnsw')")
        .fetch_one(&mut admin)
        .await?;
    sqlx::raw_sql("ANALYZE offers.embeddings")
        .execute(&mut admin)
        .await?;
    println!(
        "HNSW (m 16, ef_construction 64): built in {:.1} s, {:.1} MB",
        build.as_secs_f64(),
        size as f64 / 1e6
    );

    let queries = cv_queries(&env).await?;
    let filters: [(&str, Option<Vec<String>>); 2] = [
        ("unfiltered", None),
        ("contract CDD", Some(vec!["CDD".into()])),
    ];

    // Recall@20 against exact search.
    println!(
        "\nrecall@{K} against exact search ({} CV queries)",
        queries.len()
    );
    print!("{:<14}", "ef_search");
    for ef in EF_SEARCH {
        print!("{ef:>8}");
    }
    println!();
    for (name, contracts) in &filters {
        let mut exact = Vec::new();
        for q in &queries {
            exact.push(search(&mut admin, &q.vector, contracts.clone(), None).await?);
        }
        print!("{name:<14}");
        for ef in EF_SEARCH {
            let mut found = 0usize;
            for (q, truth) in queries.iter().zip(&exact) {
                let got = search(&mut admin, &q.vector, contracts.clone(), Some(ef)).await?;
                found += got.iter().filter(|id| truth.contains(id)).count();
            }
            print!("{:>8.3}", found as f64 / (queries.len() * K) as f64);
        }
        println!();
    }

    // The offers index: a first load, then a refresh after one offer changed.
    let matching_url = matching_url(&db_name);
    let pool = sqlx::PgPool::connect(&matching_url).await?;
    let mut loader = matching::offers_index::Loader::new();
    let started = Instant::now();
    let index = loader.refresh(&pool).await?.expect("a first load");
    println!(
        "\noffers index: {} offers loaded in {:.2} s",
        index.len(),
        started.elapsed().as_secs_f64()
    );
    sqlx::raw_sql(
        "UPDATE offers.offers SET updated_at = now() WHERE id = (SELECT min(id) FROM offers.offers)",
    )
    .execute(&mut admin)
    .await?;
    let started = Instant::now();
    loader.refresh(&pool).await?.expect("the changed offer");
    println!(
        "offers index: refreshed after one changed offer in {:.0} ms (what an ingestion run waits to be searchable by every signal)",
        started.elapsed().as_secs_f64() * 1000.0
    );

    // Hybrid ranking's own work, in memory (no SQL, no HTTP): the profile's signals over
    // every offer, the candidates, then the fusion of the candidates' vectors.
    let weights = ranking::Weights::default();
    println!("\nhybrid ranking in memory, no SQL ({REQUESTS} profiles each; ms)");
    for (name, contract) in [("unfiltered", None), ("contract CDD", Some("CDD"))] {
        let filter = |m: &ranking::OfferMeta| {
            contract.is_none_or(|c: &str| m.contract_type.as_deref() == Some(c))
        };
        let mut times = Vec::new();
        for i in 0..REQUESTS {
            let q = &queries[i % queries.len()];
            let started = Instant::now();
            let titles = [q.title.clone()];
            let scoring = index.score(&ranking::Profile {
                text: &q.text,
                titles: &titles,
                skills: &[],
                language: None,
            });
            let candidates = scoring.candidates(&weights, LEXICAL_CANDIDATES, filter);
            let vectors: HashMap<String, ranking::Vectors> = candidates
                .into_iter()
                .map(|id| {
                    let v = ranking::Vectors {
                        cosine: 0.5,
                        similar: 0.5,
                    };
                    (id, v)
                })
                .collect();
            std::hint::black_box(scoring.fuse(&vectors, None, &weights, K, filter));
            times.push(started.elapsed());
        }
        Stats::of(times, None).print(&format!("ranking in memory, {name}"));
    }

    // Latency: the service over HTTP and the same query as raw SQL, same ef_search.
    let ef: u32 = env.or("MATCH_EF_SEARCH", matching::DEFAULT_EF_SEARCH)?;
    let service_env = testkit::env()
        .with("DATABASE_URL", matching_url)
        .with("MATCH_EF_SEARCH", ef.to_string())
        .with("DATABASE_MAX_CONNECTIONS", "16");
    let config = matching::Config::from_env(&service_env)?;
    let server = testkit::spawn(matching::router(
        &config,
        matching::AppState::connect(&config)?,
    ))
    .await;
    println!("\nlatency at ef_search {ef} ({REQUESTS} requests each; ms)");
    println!(
        "{:<34}{:>8}{:>8}{:>8}{:>10}",
        "", "p50", "p95", "p99", "req/s"
    );
    // The service ready: its offers index loaded.
    while !server
        .get("/health/ready")
        .send()
        .await?
        .status()
        .is_success()
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for (name, contracts) in &filters {
        let filter = contracts.as_ref().map(|c| json!({"contract_types": c}));
        let vector = |q: &Query| json!({"cv_embedding": q.vector, "filters": filter});
        let hybrid = |q: &Query| {
            json!({"cv_embedding": q.vector, "filters": filter,
            "profile": {"text": q.text, "titles": [q.title]}})
        };
        // Concurrency 1: raw SQL and the service's two paths take turns on the same
        // queries, so that all meet the same machine (its load drifts over a run).
        let (mut raw, mut alone, mut both) = (Vec::new(), Vec::new(), Vec::new());
        for i in 0..REQUESTS {
            let q = &queries[i % queries.len()];
            let started = Instant::now();
            search(&mut admin, &q.vector, contracts.clone(), Some(ef)).await?;
            raw.push(started.elapsed());
            let started = Instant::now();
            post(&server.http, &server.url("/match"), &vector(q)).await;
            alone.push(started.elapsed());
            let started = Instant::now();
            post(&server.http, &server.url("/match"), &hybrid(q)).await;
            both.push(started.elapsed());
        }
        let raw_stats = Stats::of(raw, None);
        raw_stats.print(&format!("raw SQL, {name}"));
        let busy: Duration = alone.iter().sum();
        let alone_stats = Stats::of(alone, Some(busy));
        alone_stats.print(&format!("vector only c1, {name}"));
        println!(
            "{:<34}{:>8.2}x raw SQL at p50",
            "",
            alone_stats.p50 / raw_stats.p50
        );
        let busy: Duration = both.iter().sum();
        let both_stats = Stats::of(both, Some(busy));
        both_stats.print(&format!("hybrid c1, {name}"));
        println!(
            "{:<34}{:>8.2}x vector only at p50",
            "",
            both_stats.p50 / alone_stats.p50
        );
        for (path, body) in [
            (
                "vector only",
                &vector as &dyn Fn(&Query) -> serde_json::Value,
            ),
            ("hybrid", &hybrid),
        ] {
            let (times, wall) = concurrently(&server, &queries, body).await?;
            Stats::of(times, Some(wall)).print(&format!("{path} c8, {name}"));
        }
    }
    Ok(())
}

/// `REQUESTS` requests by 8 workers at once; each one's time, and the whole.
async fn concurrently(
    server: &testkit::TestServer,
    queries: &[Query],
    body: &dyn Fn(&Query) -> serde_json::Value,
) -> anyhow::Result<(Vec<Duration>, Duration)> {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for worker in 0..8 {
        let client = server.http.clone();
        let url = server.url("/match");
        let bodies: Vec<_> = (worker..REQUESTS)
            .step_by(8)
            .map(|i| body(&queries[i % queries.len()]))
            .collect();
        tasks.push(tokio::spawn(async move {
            let mut times = Vec::new();
            for b in bodies {
                let t = Instant::now();
                post(&client, &url, &b).await;
                times.push(t.elapsed());
            }
            times
        }));
    }
    let mut times = Vec::new();
    for task in tasks {
        times.extend(task.await?);
    }
    Ok((times, started.elapsed()))
}

/// One `POST /match`, read to the end.
async fn post(client: &reqwest::Client, url: &str, body: &serde_json::Value) {
    let response = client
        .request(Method::POST, url)
        .bearer_auth(testkit::SERVICE_TOKEN)
        .json(body)
        .send()
        .await
        .expect("request");
    assert!(response.status().is_success(), "{}", response.status());
    response.bytes().await.expect("body");
}

/// The matching query, exact (sequential scan) when `ef` is None.
async fn search(
    conn: &mut PgConnection,
    q: &[f32],
    contracts: Option<Vec<String>>,
    ef: Option<u32>,
) -> anyhow::Result<Vec<String>> {
    let mut tx = conn.begin().await?;
    match ef {
        Some(ef) => {
            sqlx::query("SELECT set_config('hnsw.ef_search', $1, true), set_config('hnsw.iterative_scan', 'relaxed_order', true)")
                .bind(ef.to_string())
                .execute(&mut *tx)
                .await?;
        }
        None => {
            sqlx::raw_sql("SET LOCAL enable_indexscan = off")
                .execute(&mut *tx)
                .await?;
        }
    }
    // The service's own statement, filters other than the contract left out.
    let filters = contracts.map(|contract_types| shared::MatchFilters {
        contract_types: Some(contract_types),
        ..Default::default()
    });
    let ids = nearest(
        &mut tx,
        q,
        shared::embedding::DEFAULT_MODEL,
        filters.as_ref(),
        K as i64,
    )
    .await?;
    tx.commit().await?;
    Ok(ids.into_iter().map(|(id, _)| id).collect())
}

struct Stats {
    p50: f64,
    p95: f64,
    p99: f64,
    rps: Option<f64>,
}

impl Stats {
    fn of(mut times: Vec<Duration>, wall: Option<Duration>) -> Self {
        times.sort();
        let at = |p: f64| {
            times[((times.len() as f64 * p) as usize).min(times.len() - 1)].as_secs_f64() * 1000.0
        };
        Self {
            p50: at(0.50),
            p95: at(0.95),
            p99: at(0.99),
            rps: wall.map(|w| times.len() as f64 / w.as_secs_f64()),
        }
    }

    fn print(&self, name: &str) {
        let rps = self.rps.map_or(String::new(), |r| format!("{r:.0}"));
        println!(
            "{name:<34}{:>8.2}{:>8.2}{:>8.2}{rps:>10}",
            self.p50, self.p95, self.p99
        );
    }
}

/// A CV-like query: its text, its title and its embedding.
struct Query {
    text: String,
    title: String,
    vector: Vec<f32>,
}

/// CV-like French texts (profile, skills, experience), embedded with the real model.
async fn cv_queries(env: &Env) -> anyhow::Result<Vec<Query>> {
    const ROLES: [&str; 10] = [
        "Développeuse web full stack, 5 ans d'expérience en JavaScript, Python et PostgreSQL",
        "Infirmier diplômé d'État, expérience en service de chirurgie et soins de nuit",
        "Chauffeur poids lourd permis C et CE, livraisons régionales, FIMO à jour",
        "Comptable confirmée : saisie, rapprochements bancaires, déclarations de TVA, paie",
        "Cuisinier en restauration collective, normes HACCP, élaboration de menus",
        "Technicien de maintenance industrielle, électromécanique, maintenance préventive",
        "Assistante commerciale bilingue anglais, relation client, devis et facturation",
        "Aide-soignante en EHPAD, accompagnement des résidents, soins d'hygiène",
        "Électricien du bâtiment, installations neuves et rénovation, habilitations électriques",
        "Responsable logistique, gestion d'entrepôt, encadrement d'équipe, WMS",
    ];
    const EXTRAS: [&str; 10] = [
        "Recherche un CDI en région lyonnaise.",
        "Disponible immédiatement, mobilité nationale.",
        "Titulaire du permis B, autonome et rigoureuse.",
        "Souhaite évoluer vers un poste d'encadrement.",
        "Ouvert aux missions d'intérim et aux CDD.",
        "Dix ans d'expérience, dont trois comme responsable d'équipe.",
        "Jeune diplômé, premier emploi, motivé et curieux.",
        "Recherche un temps partiel près de Marseille.",
        "Anglais courant, habitué aux équipes internationales.",
        "En reconversion, formation suivie en 2025.",
    ];
    let texts: Vec<String> = ROLES
        .iter()
        .flat_map(|r| EXTRAS.iter().map(move |e| format!("{r}. {e}")))
        .collect();
    let embedder = embedding::from_config(&EmbeddingConfig::from_env(env)?).await?;
    let vectors = embedder.embed(&texts).await?;
    Ok(texts
        .into_iter()
        .zip(vectors)
        .map(|(text, vector)| Query {
            title: text.split([',', ':']).next().unwrap_or(&text).to_owned(),
            text,
            vector,
        })
        .collect())
}

/// The bench database as matching's role, with the password `make setup` gave it.
fn matching_url(db_name: &str) -> String {
    let role = schemas::MATCHING_ROLE;
    let password = std::fs::read_to_string(testkit::db::role_password_file(role))
        .map(|p| format!(":{}", p.trim()))
        .unwrap_or_default();
    format!("postgres://{role}{password}@127.0.0.1:5432/{db_name}")
}
