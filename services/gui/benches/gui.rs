//! `make bench-gui`: server time of the matches page with all four services running
//! (in-process, real HTTP, the real database and model): cached (served from
//! `match_results`) and cold ("Actualiser": a search by matching and the offers'
//! details from offre-ingestion), with the share of each downstream call, measured by
//! calling it directly with the same request. The CV's embedding is made once before.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::suite::suite;
use common::Browser;
use reqwest::Method;
use shared::MatchHit;
use testkit::documents;

const CACHED: usize = 300;
const COLD: usize = 60;

fn main() -> anyhow::Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run())
}

fn p50(mut times: Vec<Duration>) -> f64 {
    times.sort();
    times[times.len() / 2].as_secs_f64() * 1000.0
}

fn p95(mut times: Vec<Duration>) -> f64 {
    times.sort();
    times[times.len() * 95 / 100].as_secs_f64() * 1000.0
}

async fn run() -> anyhow::Result<()> {
    let suite = suite().await;
    let app = &suite.app;
    let mut browser = Browser::new(app);
    browser.signed_in("bench@exemple.fr").await;
    let cv_html = common::cv_html();
    browser
        .upload_cv(documents::from_html(&cv_html, "pdf"), "cv.pdf")
        .await;
    browser.page("/offres").await;

    let mut cached = Vec::new();
    for _ in 0..CACHED {
        let started = Instant::now();
        let response = browser.get("/offres").await;
        response.bytes().await?;
        cached.push(started.elapsed());
    }

    let csrf = common::csrf_of(&browser.page("/offres").await);
    let mut cold = Vec::new();
    for _ in 0..COLD {
        let started = Instant::now();
        let response = browser
            .post("/offres/actualiser", &[("csrf", csrf.as_str())])
            .await;
        anyhow::ensure!(response.status().as_u16() == 303, "{}", response.status());
        let page = browser.get("/offres").await;
        page.bytes().await?;
        cold.push(started.elapsed());
    }

    // The downstream calls alone, with the request the GUI makes.
    let embedding: pgvector::Vector =
        sqlx::query_scalar("SELECT profile_embedding FROM gui.profiles")
            .fetch_one(&app.pool)
            .await?;
    let request = serde_json::json!({"cv_embedding": embedding.to_vec(), "limit": 20});
    let matching = &suite.servers[0];
    let offers = &suite.servers[1];
    let (mut match_times, mut offer_times) = (Vec::new(), Vec::new());
    for _ in 0..COLD {
        let started = Instant::now();
        let response = matching
            .authed(Method::POST, "/match")
            .json(&request)
            .send()
            .await?;
        let hits: Vec<MatchHit> = response.json().await?;
        match_times.push(started.elapsed());
        let ids: Vec<&str> = hits.iter().map(|h| h.id.as_str()).collect();
        let started = Instant::now();
        offers
            .authed(Method::GET, &format!("/offers?ids={}", ids.join(",")))
            .send()
            .await?
            .bytes()
            .await?;
        offer_times.push(started.elapsed());
    }

    let cold_p50 = p50(cold.clone());
    println!("bench-gui: the matches page (20 offers), server time over HTTP on loopback (ms)");
    println!("{:<52}{:>8}{:>8}", "", "p50", "p95");
    println!(
        "{:<52}{:>8.2}{:>8.2}",
        format!("cached ({CACHED} requests; goal p50 <= 10)"),
        p50(cached.clone()),
        p95(cached)
    );
    println!(
        "{:<52}{:>8.2}{:>8.2}",
        format!("cold: Actualiser + page ({COLD}; goal p50 <= 150)"),
        cold_p50,
        p95(cold)
    );
    let (m, o) = (p50(match_times.clone()), p50(offer_times.clone()));
    println!(
        "{:<52}{:>8.2}{:>8.2}   {:>4.0} % of cold",
        "  matching POST /match alone",
        m,
        p95(match_times),
        100.0 * m / cold_p50
    );
    println!(
        "{:<52}{:>8.2}{:>8.2}   {:>4.0} % of cold",
        "  offre-ingestion GET /offers alone",
        o,
        p95(offer_times),
        100.0 * o / cold_p50
    );
    println!(
        "{:<52}{:>8.2}{:>8}   {:>4.0} % of cold",
        "  the GUI's own work (cold p50 - both)",
        cold_p50 - m - o,
        "",
        100.0 * (cold_p50 - m - o) / cold_p50
    );
    Ok(())
}
