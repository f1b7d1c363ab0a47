//! `make bench-worker`: the events worker with all four services running (in-process,
//! real HTTP, the real database, Redis and model). In one run: events per second end to
//! end (outbox rows published by the relay's code, read and acknowledged by the worker,
//! no candidate to re-match), then the GUI's cached matches page p50 with the worker
//! idle, and while it re-matches 1,000 candidates after one event, at its default pace.

// The tests' helpers; a bench uses only some of them.
#[allow(dead_code)]
#[path = "../tests/api/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::suite::suite;
use common::Browser;
use platform::config::EventBusConfig;
use secrecy::ExposeSecret;
use testkit::documents::{self, Font};

const EVENTS: usize = 500;
const CANDIDATES: i32 = 1000;
const CACHED: usize = 300;

fn main() -> anyhow::Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run())
}

fn p50(times: Vec<Duration>) -> f64 {
    common::quantile_ms(times, 0.5)
}

/// One cached matches page, read to the end.
async fn page(browser: &mut Browser<'_>) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let response = browser.get("/offres").await;
    anyhow::ensure!(response.status().is_success(), "{}", response.status());
    response.bytes().await?;
    Ok(started.elapsed())
}

async fn run() -> anyhow::Result<()> {
    let suite = suite().await;
    let app = &suite.app;
    let mut browser = Browser::new(app);
    browser.signed_in("bench@exemple.fr").await;
    browser
        .upload_cv(
            documents::from_html(&common::cv_html(), "pdf", Font::Times),
            "cv.pdf",
        )
        .await;
    anyhow::ensure!(
        browser.page("/offres").await.matches("<article").count() == 20,
        "20 offers"
    );
    sqlx::query("UPDATE offers.outbox SET published_at = now()")
        .execute(&app.pool)
        .await?;

    // The worker, in this process, on a stream of the run's own.
    let env = suite.service_urls().into_iter().fold(
        testkit::env_as(&app._db, schemas::GUI.role),
        |env, (k, v)| env.with(k, v),
    );
    let config = gui::worker::WorkerConfig::from_env(&env)?;
    let bus: EventBusConfig = config.bus.clone();
    let stream = bus.stream(shared::events::OFFERS_INGESTED);
    let client = redis::Client::open(bus.redis_url.expose_secret())?;
    let mut redis = client.get_multiplexed_async_connection().await?;
    let state = gui::AppState::connect(&config.gui).await?;
    let metrics = gui::worker::WorkerMetrics::default();
    let worker = tokio::spawn(gui::worker::consume(
        state,
        config.clone(),
        client.clone(),
        metrics.clone(),
    ));
    let relay = offre_ingestion::relay::RelayConfig::from_env(&env)?;

    // Events per second, end to end, with nobody to re-match.
    sqlx::query("UPDATE gui.users SET last_active_at = now() - interval '1 year'")
        .execute(&app.pool)
        .await?;
    let started = Instant::now();
    sqlx::query(
        "INSERT INTO offers.outbox (stream, payload)
         SELECT 'offers.ingested', jsonb_build_object('schema_version', 1, 'run_id', i,
             'new_ids', '[]'::jsonb, 'changed_ids', '[]'::jsonb, 'archived', 0, 'embedded', 0)
         FROM generate_series(1, $1) AS i",
    )
    .bind(EVENTS as i32)
    .execute(&app.pool)
    .await?;
    offre_ingestion::relay::publish_pending(&app.pool, &mut redis, &relay).await?;
    while metrics.processed.get() < EVENTS as u64 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let events_per_sec = EVENTS as f64 / started.elapsed().as_secs_f64();

    // The cached page with the worker idle.
    let mut idle = Vec::new();
    for _ in 0..CACHED {
        idle.push(page(&mut browser).await?);
    }

    // 1,000 active candidates with the bench's profile, then one event: the cached page
    // while the worker re-matches them all.
    common::suite::clone_candidates(&app.pool, CANDIDATES).await;
    let rematched_before = metrics.rematched.get();
    let started = Instant::now();
    redis::cmd("XADD")
        .arg(&stream)
        .arg("*")
        .arg("event")
        .arg(r#"{"schema_version": 1, "run_id": 0, "new_ids": ["G000"], "changed_ids": [], "archived": 0, "embedded": 1}"#)
        .query_async::<String>(&mut redis)
        .await?;
    let mut busy = Vec::new();
    while metrics.rematched.get() - rematched_before < CANDIDATES as u64 {
        busy.push(page(&mut browser).await?);
    }
    let rematch_secs = started.elapsed().as_secs_f64();
    worker.abort();
    let _: () = redis::cmd("DEL")
        .arg(&stream)
        .query_async(&mut redis)
        .await?;

    println!("bench-worker: the events worker beside the GUI (all services in-process, real Redis and database)");
    println!(
        "events end to end (outbox -> relay -> stream -> worker ack), nobody to re-match: {events_per_sec:.0} events/s ({EVENTS} events)"
    );
    println!(
        "one event, {CANDIDATES} candidates re-matched in {rematch_secs:.1} s ({:.1} a second; WORKER_REMATCHES_PER_SEC {})",
        f64::from(CANDIDATES) / rematch_secs,
        config.rematches_per_sec
    );
    println!("{:<60}{:>8}", "GUI cached matches page (ms)", "p50");
    println!(
        "{:<60}{:>8.2}",
        format!("worker idle ({CACHED} requests)"),
        p50(idle.clone())
    );
    println!(
        "{:<60}{:>8.2}  ({:.2}x idle)",
        format!("worker re-matching ({} requests)", busy.len()),
        p50(busy.clone()),
        p50(busy) / p50(idle)
    );
    Ok(())
}
