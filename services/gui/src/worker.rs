//! The events worker (`gui worker`): a consumer in the group `gui-worker` on the
//! `offers.ingested` stream. For each event it marks the candidates' cached matches
//! out of date (`gui.offers_marker`, the lazy refresh of the cache policy), re-matches
//! the active candidates in bounded batches at a bounded rate, and records a
//! notification for each of the event's offers that now scores at or above
//! `MATCH_NOTIFY_THRESHOLD` for a candidate.
//!
//! Delivery is at least once, made effectively once: an entry is acknowledged after
//! its work committed; every step is idempotent (the marker is a time, a re-match
//! replaces the cache, a notification is unique per candidate and offer), so an event
//! processed twice changes nothing more. An entry left pending (a crashed worker, a
//! failed step) is reclaimed after `WORKER_CLAIM_IDLE_SECS`; one delivered more than
//! `WORKER_MAX_DELIVERIES` times, or that cannot be read (not JSON, an unknown schema
//! version), goes to the dead-letter stream `offers.ingested.dead` with its error, and
//! the group moves on. The relay caps the stream's length (`MAXLEN ~`).

use std::time::{Duration, Instant};

use platform::config::{EventBusConfig, ServiceConfig, ServiceDefaults};
use platform::health::ReadinessCheck;
use platform::metrics::Metrics;
use platform::{ConfigError, Env, ServiceApp};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use redis::aio::MultiplexedConnection;
use redis::Value;
use secrecy::ExposeSecret;
use shared::events::{OffersIngested, EVENT_FIELD, OFFERS_INGESTED, OUTBOX_ID_FIELD};
use utoipa::OpenApi;
use uuid::Uuid;

use crate::matches::Notify;
use crate::{AppState, Config};

#[derive(OpenApi)]
#[openapi(info(
    description = "The GUI's events worker: its health and metrics (it serves no other route)."
))]
struct WorkerDoc;

/// The consumer group every worker replica joins.
pub const GROUP: &str = "gui-worker";
/// Entries read per call.
const READ_COUNT: usize = 10;
/// How long a read waits for new entries before the worker looks at pending ones.
const BLOCK: Duration = Duration::from_secs(2);
/// Dead letters kept (the stream is capped at about this length).
const DEAD_LETTERS_KEPT: usize = 10_000;

const DEFAULTS: ServiceDefaults = ServiceDefaults {
    name: "gui-worker",
    port: 8084,
    body_limit: 64 * 1024,
};

#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// The GUI's own settings (database, matching, offre-ingestion, cv-ingestion).
    pub gui: Config,
    /// `BIND_ADDR` (127.0.0.1:8084): `/health/*` and `/metrics`.
    pub service: ServiceConfig,
    pub bus: EventBusConfig,
    /// `WORKER_CONSUMER` (host name and process id): this replica's name in the group.
    pub consumer: String,
    /// `WORKER_CLAIM_IDLE_SECS` (60): an entry pending this long is taken over.
    pub claim_idle: Duration,
    /// `WORKER_MAX_DELIVERIES` (5): past it, an entry is dead-lettered.
    pub max_deliveries: u64,
    /// `WORKER_ACTIVE_DAYS` (30): candidates seen within it are re-matched.
    pub active_days: u32,
    /// `WORKER_BATCH` (50): candidates read per batch.
    pub batch: u32,
    /// `WORKER_REMATCHES_PER_SEC` (20): at most this many re-matches a second, so that a
    /// large ingestion never starves the GUI's own requests to matching.
    pub rematches_per_sec: u32,
    /// `MATCH_NOTIFY_THRESHOLD` (0.9): the score (as the matches page shows it, 0 to 1)
    /// at or above which a new offer is notified.
    pub notify_threshold: f64,
    /// `WORKER_NIGHTLY_AT` (02:00, UTC): when the nightly refresh of the candidates
    /// whose matches are past 24 h starts each day.
    pub nightly_at: chrono::NaiveTime,
    /// `WORKER_NIGHTLY_CHECK_SECS` (60): how often a replica looks whether the nightly
    /// refresh is due or was left unfinished.
    pub nightly_check: Duration,
}

impl WorkerConfig {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let notify_threshold: f64 = env.or("MATCH_NOTIFY_THRESHOLD", 0.9)?;
        if !(0.0..=1.0).contains(&notify_threshold) {
            return Err(ConfigError::new(
                "MATCH_NOTIFY_THRESHOLD",
                "a score between 0 and 1, as the matches page shows it divided by 100",
            ));
        }
        let default_consumer = format!(
            "{}-{}",
            std::fs::read_to_string("/etc/hostname")
                .map(|h| h.trim().to_owned())
                .unwrap_or_else(|_| "worker".into()),
            std::process::id()
        );
        Ok(Self {
            gui: Config::from_env(env)?,
            service: ServiceConfig::from_env(env, DEFAULTS)?,
            bus: EventBusConfig::from_env(env)?,
            consumer: env.or("WORKER_CONSUMER", default_consumer)?,
            claim_idle: Duration::from_secs(env.at_least_one("WORKER_CLAIM_IDLE_SECS", 60u64)?),
            max_deliveries: env.at_least_one("WORKER_MAX_DELIVERIES", 5u64)?,
            active_days: env.at_least_one("WORKER_ACTIVE_DAYS", 30u32)?,
            batch: env.at_least_one("WORKER_BATCH", 50u32)?,
            rematches_per_sec: env.at_least_one("WORKER_REMATCHES_PER_SEC", 20u32)?,
            notify_threshold,
            nightly_at: env.or(
                "WORKER_NIGHTLY_AT",
                chrono::NaiveTime::from_hms_opt(2, 0, 0).expect("a time"),
            )?,
            nightly_check: Duration::from_secs(
                env.at_least_one("WORKER_NIGHTLY_CHECK_SECS", 60u64)?,
            ),
        })
    }
}

/// The worker's counters, on its `/metrics`.
#[derive(Clone)]
pub struct WorkerMetrics {
    pub processed: Counter,
    pub failed: Counter,
    pub dead_lettered: Counter,
    pub rematched: Counter,
    pub notifications: Counter,
    pub pending: Gauge,
    pub lag: Gauge,
    pub batch_seconds: Histogram,
}

impl Default for WorkerMetrics {
    fn default() -> Self {
        Self {
            processed: Counter::default(),
            failed: Counter::default(),
            dead_lettered: Counter::default(),
            rematched: Counter::default(),
            notifications: Counter::default(),
            pending: Gauge::default(),
            lag: Gauge::default(),
            batch_seconds: Histogram::new([0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 60.0, 300.0]),
        }
    }
}

impl WorkerMetrics {
    fn registry(&self, db: &sqlx::PgPool) -> Metrics {
        let m = self.clone();
        Metrics::new(DEFAULTS.name, move |r| {
            platform::metrics::register_pool(r, db);
            r.register(
                "events_processed",
                "Events whose work committed",
                m.processed,
            );
            r.register(
                "events_failed",
                "Event deliveries that failed (retried later)",
                m.failed,
            );
            r.register(
                "events_dead_lettered",
                "Events sent to the dead-letter stream",
                m.dead_lettered,
            );
            r.register(
                "candidates_rematched",
                "Candidates re-matched after an event",
                m.rematched,
            );
            r.register(
                "notifications_created",
                "Notifications recorded",
                m.notifications,
            );
            r.register(
                "consumer_pending",
                "Entries delivered to the group and not acknowledged",
                m.pending,
            );
            r.register(
                "consumer_lag",
                "Entries of the stream not yet delivered to the group",
                m.lag,
            );
            r.register(
                "event_batch_duration_seconds",
                "Time to process one event",
                m.batch_seconds,
            );
        })
    }
}

/// Runs the worker: the consumer, the nightly refresh, and its health and metrics over
/// HTTP, until SIGTERM.
pub async fn run(config: WorkerConfig) -> anyhow::Result<()> {
    let state = AppState::connect(&config.gui).await?;
    let metrics = WorkerMetrics::default();
    let client = redis::Client::open(config.bus.redis_url.expose_secret())
        .map_err(|e| anyhow::anyhow!("REDIS_URL: {e}"))?;
    let router = router(&config, &state, &client, &metrics);
    let nightly = tokio::spawn(nightly(state.clone(), config.clone(), metrics.clone()));
    let consumer = tokio::spawn(consume(state, config.clone(), client, metrics));
    let served = platform::server::run(&config.service, router).await;
    // Whatever the consumer was doing stays pending and is taken over or redone; a
    // nightly run stopped midway is taken up by the next replica to check.
    consumer.abort();
    nightly.abort();
    served
}

/// The worker's HTTP side: `/health/live`, `/health/ready` (the database and Redis
/// answer) and `/metrics`.
pub fn router(
    config: &WorkerConfig,
    state: &AppState,
    client: &redis::Client,
    metrics: &WorkerMetrics,
) -> axum::Router {
    let redis_check = client.clone();
    ServiceApp::new(&config.service, WorkerDoc::openapi())
        .metrics(metrics.registry(&state.db))
        .readiness(ReadinessCheck::database(state.db.clone()))
        .readiness(ReadinessCheck::new("redis", move || {
            let client = redis_check.clone();
            async move {
                let mut conn = client
                    .get_multiplexed_async_connection()
                    .await
                    .map_err(|e| e.to_string())?;
                redis::cmd("PING")
                    .query_async::<String>(&mut conn)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }
        }))
        .into_router()
}

/// Reads the stream until the task is dropped, reconnecting to Redis with backoff.
pub async fn consume(
    state: AppState,
    config: WorkerConfig,
    client: redis::Client,
    metrics: WorkerMetrics,
) {
    const FIRST_RETRY: Duration = Duration::from_millis(200);
    let mut backoff = FIRST_RETRY;
    loop {
        let outcome: anyhow::Result<()> = async {
            let mut conn = client.get_multiplexed_async_connection().await?;
            let worker = Worker {
                state: &state,
                config: &config,
                metrics: &metrics,
                stream: config.bus.stream(OFFERS_INGESTED),
            };
            worker.ensure_group(&mut conn).await?;
            // Connected: the next outage starts its backoff afresh.
            backoff = FIRST_RETRY;
            loop {
                worker.step(&mut conn).await?;
            }
        }
        .await;
        if let Err(e) = outcome {
            tracing::warn!(
                error = format!("{e:#}"),
                retry_in_ms = backoff.as_millis() as u64,
                "events worker: Redis unreachable"
            );
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(10));
        }
    }
}

/// One stream entry: its id and fields.
struct Entry {
    id: String,
    fields: Vec<(String, String)>,
}

impl Entry {
    fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

struct Worker<'a> {
    state: &'a AppState,
    config: &'a WorkerConfig,
    metrics: &'a WorkerMetrics,
    stream: String,
}

impl Worker<'_> {
    /// The group, from the stream's first entry (a new group reads what is kept).
    async fn ensure_group(&self, conn: &mut MultiplexedConnection) -> anyhow::Result<()> {
        let created: redis::RedisResult<String> = redis::cmd("XGROUP")
            .arg("CREATE")
            .arg(&self.stream)
            .arg(GROUP)
            .arg("0")
            .arg("MKSTREAM")
            .query_async(conn)
            .await;
        match created {
            Ok(_) => Ok(()),
            Err(e) if e.code() == Some("BUSYGROUP") => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Entries pending too long first (taken over from a crashed replica, or failed
    /// here), then new ones; each handled in turn.
    async fn step(&self, conn: &mut MultiplexedConnection) -> anyhow::Result<()> {
        let claimed: Value = redis::cmd("XAUTOCLAIM")
            .arg(&self.stream)
            .arg(GROUP)
            .arg(&self.config.consumer)
            .arg(self.config.claim_idle.as_millis() as u64)
            .arg("0-0")
            .arg("COUNT")
            .arg(READ_COUNT)
            .query_async(conn)
            .await?;
        let mut entries = match claimed {
            Value::Array(parts) if parts.len() >= 2 => entries_of(&parts[1]),
            _ => Vec::new(),
        };
        if entries.is_empty() {
            let read: Value = redis::cmd("XREADGROUP")
                .arg("GROUP")
                .arg(GROUP)
                .arg(&self.config.consumer)
                .arg("COUNT")
                .arg(READ_COUNT)
                .arg("BLOCK")
                .arg(BLOCK.as_millis() as u64)
                .arg("STREAMS")
                .arg(&self.stream)
                .arg(">")
                .query_async(conn)
                .await?;
            entries = streams_entries(&read);
        }
        for entry in entries {
            self.handle(conn, entry).await?;
        }
        self.observe(conn).await
    }

    async fn handle(&self, conn: &mut MultiplexedConnection, entry: Entry) -> anyhow::Result<()> {
        let deliveries = self.deliveries(conn, &entry.id).await?;
        if deliveries > self.config.max_deliveries {
            let error = format!("delivered {deliveries} times without success");
            return self.dead_letter(conn, &entry, &error).await;
        }
        let event = match entry.field(EVENT_FIELD).map(OffersIngested::parse) {
            Some(Ok(event)) => event,
            Some(Err(e)) => return self.dead_letter(conn, &entry, &e.to_string()).await,
            None => return self.dead_letter(conn, &entry, "no event field").await,
        };
        let started = Instant::now();
        match self.process(&event).await {
            Ok(()) => {
                self.ack(conn, &entry.id).await?;
                self.metrics.processed.inc();
                self.metrics
                    .batch_seconds
                    .observe(started.elapsed().as_secs_f64());
            }
            Err(e) => {
                // Left pending: taken over after WORKER_CLAIM_IDLE_SECS, by this replica
                // or another, until WORKER_MAX_DELIVERIES.
                self.metrics.failed.inc();
                tracing::warn!(
                    entry = entry.id,
                    outbox_id = entry.field(OUTBOX_ID_FIELD),
                    error = format!("{e:#}"),
                    "event not processed; retried later"
                );
            }
        }
        Ok(())
    }

    /// The event's work: the marker, then the active candidates re-matched and notified.
    async fn process(&self, event: &OffersIngested) -> anyhow::Result<()> {
        sqlx::query!(
            "INSERT INTO gui.offers_marker (singleton, ingested_at) VALUES (true, now())
             ON CONFLICT (singleton) DO UPDATE SET ingested_at = now()"
        )
        .execute(&self.state.db)
        .await?;
        let offers: Vec<String> = event
            .new_ids
            .iter()
            .chain(&event.changed_ids)
            .cloned()
            .collect();
        rematch(
            self.state,
            self.config,
            self.metrics,
            Candidates::Active,
            Some(&offers),
        )
        .await?;
        Ok(())
    }

    async fn deliveries(&self, conn: &mut MultiplexedConnection, id: &str) -> anyhow::Result<u64> {
        let pending: Value = redis::cmd("XPENDING")
            .arg(&self.stream)
            .arg(GROUP)
            .arg(id)
            .arg(id)
            .arg(1)
            .query_async(conn)
            .await?;
        // [[id, consumer, idle ms, deliveries]]
        Ok(match pending {
            Value::Array(rows) => rows
                .first()
                .and_then(|row| match row {
                    Value::Array(cols) => cols.get(3).and_then(as_u64),
                    _ => None,
                })
                .unwrap_or(1),
            _ => 1,
        })
    }

    async fn dead_letter(
        &self,
        conn: &mut MultiplexedConnection,
        entry: &Entry,
        error: &str,
    ) -> anyhow::Result<()> {
        let mut add = redis::cmd("XADD");
        add.arg(format!("{}.dead", self.stream))
            .arg("MAXLEN")
            .arg("~")
            .arg(DEAD_LETTERS_KEPT)
            .arg("*")
            .arg("entry")
            .arg(&entry.id)
            .arg("error")
            .arg(error);
        for (k, v) in &entry.fields {
            add.arg(k).arg(v);
        }
        add.query_async::<String>(conn).await?;
        self.ack(conn, &entry.id).await?;
        self.metrics.dead_lettered.inc();
        tracing::error!(entry = entry.id, error, "event dead-lettered");
        Ok(())
    }

    async fn ack(&self, conn: &mut MultiplexedConnection, id: &str) -> anyhow::Result<()> {
        redis::cmd("XACK")
            .arg(&self.stream)
            .arg(GROUP)
            .arg(id)
            .query_async::<u64>(conn)
            .await?;
        Ok(())
    }

    /// The group's pending count and lag, for the metrics.
    async fn observe(&self, conn: &mut MultiplexedConnection) -> anyhow::Result<()> {
        let groups: Value = redis::cmd("XINFO")
            .arg("GROUPS")
            .arg(&self.stream)
            .query_async(conn)
            .await?;
        if let Value::Array(groups) = groups {
            for group in groups {
                let fields = map_of(&group);
                if fields.get("name").and_then(as_string).as_deref() == Some(GROUP) {
                    let get = |k: &str| fields.get(k).and_then(as_u64).unwrap_or(0) as i64;
                    self.metrics.pending.set(get("pending"));
                    self.metrics.lag.set(get("lag"));
                }
            }
        }
        Ok(())
    }
}

/// Which candidates a re-match reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Candidates {
    /// Every active one (an event).
    Active,
    /// The active ones whose cached matches are past 24 h (the nightly refresh).
    Stale,
}

/// Re-matches the candidates seen within `WORKER_ACTIVE_DAYS`, `WORKER_BATCH` at a
/// time and at most `WORKER_REMATCHES_PER_SEC`; an event's offers (or, nightly, those
/// published since a candidate's previous match) at or above the threshold are
/// notified. Returns how many candidates were re-matched.
pub async fn rematch(
    state: &AppState,
    config: &WorkerConfig,
    metrics: &WorkerMetrics,
    which: Candidates,
    offers: Option<&[String]>,
) -> anyhow::Result<u64> {
    let mut pace = tokio::time::interval(Duration::from_secs_f64(
        1.0 / f64::from(config.rematches_per_sec),
    ));
    pace.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut after = Uuid::nil();
    let mut rematched = 0;
    loop {
        let batch: Vec<Uuid> = sqlx::query_scalar!(
            "SELECT u.id FROM gui.users u JOIN gui.profiles p ON p.user_id = u.id
             WHERE u.id > $1 AND p.profile_embedding IS NOT NULL
               AND u.last_active_at > now() - make_interval(days => $2)
               AND (NOT $4 OR p.matched_at IS NULL OR p.matched_at < now() - interval '24 hours')
             ORDER BY u.id LIMIT $3",
            after,
            config.active_days as i32,
            i64::from(config.batch),
            which == Candidates::Stale
        )
        .fetch_all(&state.db)
        .await?;
        let Some(last) = batch.last() else {
            return Ok(rematched);
        };
        after = *last;
        for user in batch {
            pace.tick().await;
            let notified = crate::matches::rematch_notifying(state, user, |previous| Notify {
                threshold: config.notify_threshold,
                offers,
                published_after: offers.is_none().then_some(previous).flatten(),
            })
            .await?;
            if let Some(created) = notified {
                metrics.rematched.inc();
                metrics.notifications.inc_by(created);
                rematched += 1;
            }
        }
    }
}

/// The nightly refresh's lock: one replica at a time runs it.
const NIGHTLY_LOCK: i64 = 0x6a6d_6e69_6768_746c;

/// Looks every `WORKER_NIGHTLY_CHECK_SECS` whether the nightly refresh is due.
async fn nightly(state: AppState, config: WorkerConfig, metrics: WorkerMetrics) {
    let mut check = tokio::time::interval(config.nightly_check);
    loop {
        check.tick().await;
        if let Err(e) = nightly_once(&state, &config, &metrics, chrono::Utc::now()).await {
            tracing::warn!(
                error = format!("{e:#}"),
                "nightly refresh stopped; taken up again at the next check"
            );
        }
    }
}

/// Runs the nightly refresh when `now` is past `WORKER_NIGHTLY_AT` (UTC) and the day's
/// run has not finished, unless another replica holds it; returns whether this call
/// finished it. The lock is held by a connection of its own: a replica that dies
/// releases it, and the next one re-matches the candidates still past 24 h.
pub async fn nightly_once(
    state: &AppState,
    config: &WorkerConfig,
    metrics: &WorkerMetrics,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<bool> {
    let day = now.date_naive();
    let finished = |day: chrono::NaiveDate| async move {
        sqlx::query_scalar!(
            r#"SELECT EXISTS (SELECT 1 FROM gui.nightly_runs WHERE day = $1) AS "exists!""#,
            day
        )
        .fetch_one(&state.db)
        .await
    };
    if now.time() < config.nightly_at || finished(day).await? {
        return Ok(false);
    }
    // Out of the pool: dropped (closed) with this call, and the lock with it.
    let mut lock = state.db.acquire().await?.detach();
    let locked: bool = sqlx::query_scalar!(
        r#"SELECT pg_try_advisory_lock($1) AS "locked!""#,
        NIGHTLY_LOCK
    )
    .fetch_one(&mut lock)
    .await?;
    // Another replica may have finished it between the check and the lock.
    if !locked || finished(day).await? {
        return Ok(false);
    }
    tracing::info!(%day, "nightly refresh started");
    let rematched = rematch(state, config, metrics, Candidates::Stale, None).await?;
    sqlx::query!(
        "INSERT INTO gui.nightly_runs (day, rematched) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        day,
        rematched as i32
    )
    .execute(&state.db)
    .await?;
    tracing::info!(%day, rematched, "nightly refresh finished");
    Ok(true)
}

fn as_u64(v: &Value) -> Option<u64> {
    match v {
        Value::Int(n) => u64::try_from(*n).ok(),
        Value::BulkString(b) => std::str::from_utf8(b).ok()?.parse().ok(),
        Value::SimpleString(s) => s.parse().ok(),
        _ => None,
    }
}

fn as_string(v: &Value) -> Option<String> {
    match v {
        Value::BulkString(b) => String::from_utf8(b.clone()).ok(),
        Value::SimpleString(s) => Some(s.clone()),
        _ => None,
    }
}

/// A flat [key, value, ...] array (or a RESP3 map) as pairs.
fn map_of(v: &Value) -> std::collections::HashMap<String, Value> {
    match v {
        Value::Array(items) => items
            .chunks(2)
            .filter_map(|kv| Some((as_string(&kv[0])?, kv.get(1)?.clone())))
            .collect(),
        Value::Map(pairs) => pairs
            .iter()
            .filter_map(|(k, v)| Some((as_string(k)?, v.clone())))
            .collect(),
        _ => Default::default(),
    }
}

/// Entries of an XRANGE-shaped array: [[id, [field, value, ...]], ...] (deleted entries,
/// whose fields are nil, are skipped).
fn entries_of(v: &Value) -> Vec<Entry> {
    let Value::Array(items) = v else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|item| {
            let Value::Array(parts) = item else {
                return None;
            };
            let id = as_string(parts.first()?)?;
            let Value::Array(kv) = parts.get(1)? else {
                return None;
            };
            let fields = kv
                .chunks(2)
                .filter_map(|p| Some((as_string(&p[0])?, as_string(p.get(1)?)?)))
                .collect();
            Some(Entry { id, fields })
        })
        .collect()
}

/// Entries of an XREADGROUP answer: [[stream, entries]] (or a RESP3 map), nil when
/// nothing came.
fn streams_entries(v: &Value) -> Vec<Entry> {
    match v {
        Value::Array(streams) => streams
            .iter()
            .flat_map(|s| match s {
                Value::Array(parts) if parts.len() == 2 => entries_of(&parts[1]),
                _ => Vec::new(),
            })
            .collect(),
        Value::Map(pairs) => pairs.iter().flat_map(|(_, e)| entries_of(e)).collect(),
        _ => Vec::new(),
    }
}
