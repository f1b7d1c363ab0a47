//! `make bench-gui`: server time of the matches page with all four services running
//! (in-process, real HTTP, the real database and model): cached (served from
//! `match_results`) and cold (the cache past its 24 h: a search by matching and the
//! offers' details from offre-ingestion), with the share of each downstream call in
//! those same requests, from the services' latency histograms. The profile's embedding
//! is made once before (the issue excludes it).

// The tests' helpers; a bench uses only some of them.
#[allow(dead_code)]
#[path = "../tests/api/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::suite::suite;
use common::Browser;
use testkit::{
    documents::{self, Font},
    TestServer,
};

const CACHED: usize = 300;
const COLD: usize = 60;

fn main() -> anyhow::Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run())
}

fn p50(times: Vec<Duration>) -> f64 {
    common::quantile_ms(times, 0.5)
}

/// The total time `server` spent answering `method route`, from its /metrics.
async fn server_seconds(server: &TestServer, route: &str, method: &str) -> anyhow::Result<f64> {
    let text = server.metrics().await;
    let line = text
        .lines()
        .find(|l| {
            l.starts_with("http_request_duration_seconds_sum{")
                && l.contains(&format!("route=\"{route}\""))
                && l.contains(&format!("method=\"{method}\""))
        })
        .ok_or_else(|| anyhow::anyhow!("no {method} {route} latency in /metrics"))?;
    Ok(line.rsplit(' ').next().unwrap_or_default().parse()?)
}

fn p95(times: Vec<Duration>) -> f64 {
    common::quantile_ms(times, 0.95)
}

async fn run() -> anyhow::Result<()> {
    let suite = suite().await;
    let app = &suite.app;
    let mut browser = Browser::new(app);
    browser.signed_in("bench@exemple.fr").await;
    let cv_html = common::cv_html();
    let uploaded = browser
        .upload_cv(documents::from_html(&cv_html, "pdf", Font::Times), "cv.pdf")
        .await;
    anyhow::ensure!(
        uploaded.status().as_u16() == 303,
        "CV upload: {}",
        uploaded.status()
    );
    anyhow::ensure!(
        browser.page("/offres").await.matches("<article").count() == 20,
        "20 offers"
    );

    let mut cached = Vec::new();
    for _ in 0..CACHED {
        let started = Instant::now();
        let response = browser.get("/offres").await;
        anyhow::ensure!(response.status().is_success(), "{}", response.status());
        response.bytes().await?;
        cached.push(started.elapsed());
    }

    // Cold: the cache is past its 24 h, so the page asks matching for the 20 best offers
    // and offre-ingestion for their details (the profile's embedding is already made).
    // The downstream services' own latency histograms, read before and after, give the
    // time spent in each call during these very requests.
    let matching = &suite.servers[0];
    let offers = &suite.servers[1];
    let match_before = server_seconds(matching, "/match", "POST").await?;
    let offers_before = server_seconds(offers, "/offers", "GET").await?;
    let mut cold = Vec::new();
    for _ in 0..COLD {
        sqlx::query("UPDATE gui.profiles SET matched_at = now() - interval '25 hours'")
            .execute(&app.pool)
            .await?;
        let started = Instant::now();
        let response = browser.get("/offres").await;
        anyhow::ensure!(response.status().is_success(), "{}", response.status());
        let html = response.text().await?;
        cold.push(started.elapsed());
        anyhow::ensure!(html.matches("<article").count() == 20, "20 offers");
    }
    let in_matching = server_seconds(matching, "/match", "POST").await? - match_before;
    let in_offers = server_seconds(offers, "/offers", "GET").await? - offers_before;
    let total: f64 = cold.iter().map(Duration::as_secs_f64).sum();

    println!("bench-gui: the matches page (20 offers), server time over HTTP on loopback (ms)");
    println!("{:<56}{:>8}{:>8}{:>8}", "", "p50", "p95", "mean");
    let mean = |times: &[Duration]| {
        1000.0 * times.iter().map(Duration::as_secs_f64).sum::<f64>() / times.len() as f64
    };
    println!(
        "{:<56}{:>8.2}{:>8.2}{:>8.2}",
        format!("cached ({CACHED} requests; goal p50 <= 10)"),
        p50(cached.clone()),
        p95(cached.clone()),
        mean(&cached)
    );
    println!(
        "{:<56}{:>8.2}{:>8.2}{:>8.2}",
        format!("cold: match + offer details ({COLD}; goal p50 <= 150)"),
        p50(cold.clone()),
        p95(cold.clone()),
        mean(&cold)
    );
    println!("of the cold pages' time (from the services' own latency histograms):");
    for (name, seconds) in [
        ("  matching, POST /match", in_matching),
        ("  offre-ingestion, GET /offers", in_offers),
        (
            "  the GUI's own work (and loopback HTTP)",
            total - in_matching - in_offers,
        ),
    ] {
        println!(
            "{name:<56}{:>8.2} ms a page  {:>4.0} %",
            1000.0 * seconds / COLD as f64,
            100.0 * seconds / total
        );
    }
    Ok(())
}
