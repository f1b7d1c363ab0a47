//! The events worker as operators run it (`gui worker`, a process of its own), with the
//! real Redis, database and services: an ingestion run's event reaches a candidate as a
//! notification; the same event delivered twice notifies nothing more; events that
//! cannot be read are dead-lettered while the next ones are processed.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use platform::config::EventBusConfig;
use redis::aio::MultiplexedConnection;
use shared::events::OFFERS_INGESTED;
use testkit::documents::{self, Font};

use crate::common;
use crate::common::suite::{suite, Suite};
use crate::common::*;

/// `gui worker` on the suite's services and database, on a stream of its own; `extra`
/// settings override the defaults.
struct Worker(Child);

impl Worker {
    fn start(
        suite: &Suite,
        bus: &EventBusConfig,
        threshold: f64,
        extra: &[(&str, String)],
    ) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_gui"));
        command
            .arg("worker")
            .env("DATABASE_URL", suite.app._db.url_as(schemas::GUI.role))
            .env("SERVICE_TOKEN", testkit::SERVICE_TOKEN)
            .env("REDIS_URL", testkit::redis_url())
            .env("EVENTS_STREAM_PREFIX", &bus.stream_prefix)
            .env("BIND_ADDR", "127.0.0.1:0")
            .env("DOCS_ASSETS_DIR", testkit::docs_assets_dir())
            .envs(suite.service_urls())
            .env("MATCH_NOTIFY_THRESHOLD", threshold.to_string())
            .env("WORKER_CLAIM_IDLE_SECS", "1")
            .stdout(Stdio::null());
        for (name, value) in extra {
            command.env(name, value);
        }
        Self(command.spawn().unwrap())
    }

    /// SIGKILL: no chance to finish anything.
    fn kill(mut self) {
        self.0.kill().unwrap();
        self.0.wait().unwrap();
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A suite with a developer candidate (a real CV, matched) and `clones` more candidates
/// with the same profile, a stream of the test's own, and a threshold the developer
/// offers reach and the others do not.
struct Setup {
    suite: Suite,
    bus: EventBusConfig,
    stream: String,
    threshold: f64,
}

async fn setup(clones: usize) -> Setup {
    let suite = suite().await;
    let app = &suite.app;
    let mut browser = Browser::new(app);
    browser.signed_in("camille@exemple.fr").await;
    browser
        .upload_cv(
            documents::from_html(&cv_html(), "pdf", Font::Times),
            "cv.pdf",
        )
        .await;
    assert_eq!(
        browser.page("/offres").await.matches("<article").count(),
        20
    );
    common::suite::clone_candidates(&app.pool, clones as i32).await;
    let best: f64 = sqlx::query_scalar("SELECT max(score) FROM gui.match_results")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    // The suite's own first load went out before the worker's time.
    sqlx::query("UPDATE offers.outbox SET published_at = now()")
        .execute(&app.pool)
        .await
        .unwrap();
    let bus = EventBusConfig {
        redis_url: testkit::redis_url().into(),
        stream_prefix: format!("test-{}:", uuid::Uuid::new_v4().simple()),
    };
    Setup {
        stream: bus.stream(OFFERS_INGESTED),
        suite,
        bus,
        threshold: best - 0.05,
    }
}

impl Setup {
    fn worker(&self, extra: &[(&str, String)]) -> Worker {
        Worker::start(&self.suite, &self.bus, self.threshold, extra)
    }

    /// An ingestion run with a developer offer like the best ones and a nurse's; its
    /// event waits in the outbox.
    async fn ingest_new_offers(&self) {
        let offers = [
            // Another employer's: not a second posting of a job already there.
            common::suite::offer(0)
                .id("NEWDEV1")
                .title("Développeur backend Rust et Python senior")
                .company("Nouvelle Entreprise")
                .json(),
            common::suite::offer(1)
                .id("NEWNURSE1")
                .title("Infirmier de nuit en clinique")
                .json(),
        ];
        common::suite::ingest(&self.suite.app.pool, &offers).await;
    }

    /// offre-ingestion's relay settings on this test's stream, through `redis_url`.
    fn relay(&self, redis_url: &str) -> offre_ingestion::relay::RelayConfig {
        offre_ingestion::relay::RelayConfig::from_env(
            &testkit::env()
                .with("EVENTS_STREAM_PREFIX", &self.bus.stream_prefix)
                .with("REDIS_URL", redis_url)
                .with("RELAY_INTERVAL_MS", "100"),
        )
        .unwrap()
    }

    /// What the outbox holds, published by the relay's own code.
    async fn publish(&self) {
        let mut conn = redis().await;
        let relay = self.relay(&testkit::redis_url());
        offre_ingestion::relay::publish_pending(&self.suite.app.pool, &mut conn, &relay)
            .await
            .unwrap();
    }

    async fn count(&self, sql: &str) -> i64 {
        count(&self.suite.app, sql).await
    }
}

impl Drop for Setup {
    fn drop(&mut self) {
        let stream = self.stream.clone();
        // Best effort: the test's streams go with it.
        let _ = std::thread::spawn(move || {
            let client = redis::Client::open(testkit::redis_url()).unwrap();
            if let Ok(mut conn) = client.get_connection() {
                let _: redis::RedisResult<()> = redis::cmd("DEL")
                    .arg(&stream)
                    .arg(format!("{stream}.dead"))
                    .query(&mut conn);
            }
        })
        .join();
    }
}

/// Polls `check` every 100 ms for up to 60 s.
async fn eventually(what: &str, mut check: impl AsyncFnMut() -> bool) {
    for _ in 0..600 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("not within 60 s: {what}");
}

async fn redis() -> MultiplexedConnection {
    redis::Client::open(testkit::redis_url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

/// The group's pending entries and those not delivered yet.
async fn backlog(conn: &mut MultiplexedConnection, stream: &str) -> (u64, u64) {
    let groups: Vec<std::collections::HashMap<String, redis::Value>> = redis::cmd("XINFO")
        .arg("GROUPS")
        .arg(stream)
        .query_async(conn)
        .await
        .unwrap_or_default();
    let get = |g: &std::collections::HashMap<String, redis::Value>, k: &str| match g.get(k) {
        Some(redis::Value::Int(n)) => *n as u64,
        _ => u64::MAX,
    };
    groups
        .iter()
        .find(|g| matches!(g.get("name"), Some(redis::Value::BulkString(n)) if n == b"gui-worker"))
        .map_or((u64::MAX, u64::MAX), |g| (get(g, "pending"), get(g, "lag")))
}

/// Waits (up to 60 s) until the worker has acknowledged everything on the stream.
async fn drained(conn: &mut MultiplexedConnection, stream: &str) {
    for _ in 0..600 {
        if backlog(conn, stream).await == (0, 0) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "the worker left {:?} on {stream}",
        backlog(conn, stream).await
    );
}

async fn notified(app: &App) -> Vec<(String, String)> {
    sqlx::query_as(
        "SELECT offer_external_id, message FROM gui.notifications ORDER BY offer_external_id",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn an_ingested_offer_that_fits_reaches_the_candidate_once() {
    let setup = setup(0).await;
    let app = &setup.suite.app;
    let stream = &setup.stream;
    let _worker = setup.worker(&[]);
    setup.ingest_new_offers().await;
    setup.publish().await;
    let mut conn = redis().await;
    drained(&mut conn, stream).await;
    let once = notified(app).await;
    assert_eq!(once.len(), 1, "{once:?}");
    // The notification records the ranking variant its match came from.
    assert_eq!(
        count(
            app,
            "SELECT count(*) FROM gui.notifications WHERE variant = 'control'"
        )
        .await,
        1
    );
    assert_eq!(once[0].0, "NEWDEV1");
    assert!(
        once[0]
            .1
            .starts_with("Nouvelle offre : Développeur backend Rust et Python senior ("),
        "{once:?}"
    );
    let marker: Option<chrono::DateTime<chrono::Utc>> =
        sqlx::query_scalar("SELECT ingested_at FROM gui.offers_marker")
            .fetch_optional(&app.pool)
            .await
            .unwrap();
    assert!(marker.is_some(), "the candidates' caches are marked stale");

    // The same event delivered again (at least once): nothing more.
    let entries: Vec<(String, Vec<(String, String)>)> = redis::cmd("XRANGE")
        .arg(stream)
        .arg("-")
        .arg("+")
        .query_async(&mut conn)
        .await
        .unwrap();
    let mut again = redis::cmd("XADD");
    again.arg(stream).arg("*");
    for (k, v) in &entries[0].1 {
        again.arg(k).arg(v);
    }
    again.query_async::<String>(&mut conn).await.unwrap();
    // Events it cannot read go to the dead letters; the one after them is processed.
    for event in ["not json", r#"{"schema_version": 2, "run_id": 9}"#] {
        redis::cmd("XADD")
            .arg(stream)
            .arg("*")
            .arg("event")
            .arg(event)
            .query_async::<String>(&mut conn)
            .await
            .unwrap();
    }
    again.query_async::<String>(&mut conn).await.unwrap();
    drained(&mut conn, stream).await;
    assert_eq!(notified(app).await, once, "no second notification");
    let dead: Vec<(String, Vec<(String, String)>)> = redis::cmd("XRANGE")
        .arg(format!("{stream}.dead"))
        .arg("-")
        .arg("+")
        .query_async(&mut conn)
        .await
        .unwrap();
    let errors: Vec<String> = dead
        .iter()
        .map(|(_, fields)| {
            fields
                .iter()
                .find(|(k, _)| k == "error")
                .map(|(_, v)| v.clone())
                .unwrap()
        })
        .collect();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(errors[0].starts_with("not JSON"), "{errors:?}");
    assert!(errors[1].contains("schema version 2"), "{errors:?}");
}

/// SIGKILL while it re-matches (pacing makes the batch last): the entry stays pending,
/// the next worker takes it over and redoes it; every candidate is notified once.
#[tokio::test]
async fn a_worker_killed_mid_batch_loses_nothing_and_doubles_nothing() {
    let setup = setup(30).await;
    let first = setup.worker(&[
        ("WORKER_CONSUMER", "first".into()),
        ("WORKER_REMATCHES_PER_SEC", "10".into()),
    ]);
    setup.ingest_new_offers().await;
    setup.publish().await;
    eventually("a few candidates notified", async || {
        setup.count("SELECT count(*) FROM gui.notifications").await >= 5
    })
    .await;
    first.kill();
    let before = setup.count("SELECT count(*) FROM gui.notifications").await;
    assert!(before < 31, "killed mid-batch: {before}");
    let _second = setup.worker(&[("WORKER_CONSUMER", "second".into())]);
    let mut conn = redis().await;
    drained(&mut conn, &setup.stream).await;
    assert_eq!(
        setup
            .count("SELECT count(DISTINCT user_id) FROM gui.notifications WHERE offer_external_id = 'NEWDEV1'")
            .await,
        31
    );
    assert_eq!(
        setup.count("SELECT count(*) FROM gui.notifications").await,
        31
    );
}

/// Redis down while offers are ingested, and PostgreSQL cut off under the worker: the
/// events wait in the outbox, go out when Redis returns, and are processed once the
/// database answers again, without restarting anything.
#[tokio::test]
async fn redis_and_postgresql_outages_delay_events_and_lose_none() {
    let setup = setup(0).await;
    let redis_proxy = testkit::TcpProxy::start("127.0.0.1:6379".parse().unwrap()).await;
    let db_proxy = testkit::TcpProxy::start(setup.suite.app._db.server_addr()).await;
    let redis_via = format!("redis://{}", redis_proxy.addr);
    let _worker = setup.worker(&[
        ("REDIS_URL", redis_via.clone()),
        (
            "DATABASE_URL",
            setup
                .suite
                .app
                ._db
                .url_as_via(schemas::GUI.role, db_proxy.addr),
        ),
    ]);
    redis_proxy.set_up(false);
    let relay =
        offre_ingestion::relay::spawn(setup.suite.app.pool.clone(), setup.relay(&redis_via))
            .unwrap();
    setup.ingest_new_offers().await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        setup
            .count("SELECT count(*) FROM offers.outbox WHERE published_at IS NULL")
            .await,
        1,
        "the event waits while Redis is down"
    );
    // Redis back, PostgreSQL gone for the worker: the event is read, not processed.
    db_proxy.set_up(false);
    redis_proxy.set_up(true);
    eventually("the event published", async || {
        setup
            .count("SELECT count(*) FROM offers.outbox WHERE published_at IS NULL")
            .await
            == 0
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        setup.count("SELECT count(*) FROM gui.notifications").await,
        0
    );
    db_proxy.set_up(true);
    let mut conn = redis().await;
    drained(&mut conn, &setup.stream).await;
    assert_eq!(
        notified(&setup.suite.app).await.len(),
        1,
        "processed once the database is back"
    );
    relay.abort();
}

/// Two replicas at the nightly refresh's time: one runs it. A replica killed midway
/// leaves the rest to the next one, which re-matches only the candidates still past
/// 24 h.
#[tokio::test]
async fn one_replica_runs_the_nightly_refresh_and_the_next_finishes_a_dead_ones() {
    let setup = setup(30).await;
    sqlx::query("UPDATE gui.profiles SET matched_at = now() - interval '25 hours'")
        .execute(&setup.suite.app.pool)
        .await
        .unwrap();
    let stale = "SELECT count(*) FROM gui.profiles WHERE matched_at < now() - interval '24 hours'";
    let nightly = |name: &str, rate: &str| {
        vec![
            ("WORKER_CONSUMER", name.to_owned()),
            ("WORKER_NIGHTLY_AT", "00:00:00".to_owned()),
            ("WORKER_NIGHTLY_CHECK_SECS", "1".to_owned()),
            ("WORKER_REMATCHES_PER_SEC", rate.to_owned()),
        ]
    };
    let first = setup.worker(&nightly("first", "5"));
    eventually("the first replica midway", async || {
        setup.count(stale).await <= 26
    })
    .await;
    first.kill();
    assert!(setup.count(stale).await > 0);
    assert_eq!(
        setup.count("SELECT count(*) FROM gui.nightly_runs").await,
        0
    );
    let _a = setup.worker(&nightly("a", "50"));
    let _b = setup.worker(&nightly("b", "50"));
    eventually("the run finished", async || {
        setup.count("SELECT count(*) FROM gui.nightly_runs").await == 1
    })
    .await;
    assert_eq!(setup.count(stale).await, 0, "every candidate re-matched");
    let rematched: i32 = sqlx::query_scalar("SELECT rematched FROM gui.nightly_runs")
        .fetch_one(&setup.suite.app.pool)
        .await
        .unwrap();
    assert!(
        (1..=26).contains(&rematched),
        "the rest only, by one replica: {rematched}"
    );
    // The other replica, and the next checks, do not run it again today.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        setup.count("SELECT count(*) FROM gui.nightly_runs").await,
        1
    );
}

/// An event that keeps failing (the database cut off for the worker) is dead-lettered
/// after `WORKER_MAX_DELIVERIES` with its error, and the group moves on; the worker's
/// readiness says what is down, and its metrics count it all.
#[tokio::test]
async fn an_event_failing_past_its_deliveries_is_dead_lettered_and_counted() {
    let setup = setup(0).await;
    let db_proxy = testkit::TcpProxy::start(setup.suite.app._db.server_addr()).await;
    let env = setup
        .suite
        .service_urls()
        .into_iter()
        .fold(testkit::env(), |env, (k, v)| env.with(k, v))
        .with(
            "DATABASE_URL",
            setup
                .suite
                .app
                ._db
                .url_as_via(schemas::GUI.role, db_proxy.addr),
        )
        .with("DATABASE_ACQUIRE_TIMEOUT_SECS", "1")
        .with("EVENTS_STREAM_PREFIX", &setup.bus.stream_prefix)
        .with("WORKER_CLAIM_IDLE_SECS", "1")
        .with("WORKER_MAX_DELIVERIES", "2");
    let config = gui::worker::WorkerConfig::from_env(&env).unwrap();
    let state = gui::AppState::connect(&config.gui).await.unwrap();
    let client = redis::Client::open(testkit::redis_url()).unwrap();
    let metrics = gui::worker::WorkerMetrics::default();
    let server = testkit::spawn(gui::worker::router(&config, &state, &client, &metrics)).await;
    assert_eq!(
        server.get("/health/ready").send().await.unwrap().status(),
        200
    );
    let consumer = tokio::spawn(gui::worker::consume(
        state,
        config.clone(),
        client,
        metrics.clone(),
    ));

    db_proxy.set_up(false);
    let ready = server.get("/health/ready").send().await.unwrap();
    assert_eq!(ready.status(), 503, "the database is down for the worker");
    setup.ingest_new_offers().await;
    setup.publish().await;
    let mut conn = redis().await;
    drained(&mut conn, &setup.stream).await;
    let dead: Vec<(String, Vec<(String, String)>)> = redis::cmd("XRANGE")
        .arg(format!("{}.dead", setup.stream))
        .arg("-")
        .arg("+")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(dead.len(), 1);
    let fields: std::collections::HashMap<_, _> = dead[0].1.iter().cloned().collect();
    assert_eq!(fields["error"], "delivered 3 times without success");
    assert!(
        shared::events::OffersIngested::parse(&fields["event"]).is_ok(),
        "the event itself is kept beside its error"
    );
    db_proxy.set_up(true);
    // The gauges are read after each step: the one after the dead letter.
    eventually("the gauges updated", async || {
        metrics.pending.get() == 0 && metrics.dead_lettered.get() == 1
    })
    .await;
    let text = server.metrics().await;
    let value = |name: &str| -> f64 {
        text.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{name} in {text}"))
    };
    assert_eq!(value("events_dead_lettered_total"), 1.0);
    assert_eq!(value("events_failed_total"), 2.0);
    assert_eq!(value("events_processed_total"), 0.0);
    assert_eq!(value("consumer_pending"), 0.0);
    assert_eq!(value("consumer_lag"), 0.0);
    for name in [
        "candidates_rematched_total",
        "notifications_created_total",
        "event_batch_duration_seconds_count",
    ] {
        value(name);
    }
    consumer.abort();
}
