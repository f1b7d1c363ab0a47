//! The outbox relay: events written by ingestion runs (in their own transaction, see
//! `offers.outbox`) are published to Redis Streams. While Redis is down they wait in the
//! outbox; the relay retries with backoff and publishes them, in order, when it returns.
//! Delivery is at least once: each entry carries its `outbox_id` for consumers to
//! deduplicate.

use std::time::Duration;

use platform::config::EventBusConfig;
use platform::{ConfigError, Env};
use redis::aio::MultiplexedConnection;
use secrecy::ExposeSecret;
use shared::events::{EVENT_FIELD, OUTBOX_ID_FIELD};
use sqlx::PgPool;

/// Events published per transaction.
const BATCH: i64 = 100;
const BACKOFF_MAX: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Debug, Clone)]
pub struct RelayConfig {
    /// `REDIS_URL`, `EVENTS_STREAM_PREFIX`.
    pub bus: EventBusConfig,
    /// `RELAY_INTERVAL_MS` (1000): how often the outbox is looked at.
    pub interval: Duration,
    /// `EVENTS_STREAM_MAX_LEN` (100000): the stream is capped at about this many entries
    /// (`XADD MAXLEN ~`), so that Redis memory stays bounded whatever the consumers do
    /// (an ingestion run is one entry: the cap is months of runs).
    pub max_len: u64,
}

impl RelayConfig {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let interval = env.at_least_one("RELAY_INTERVAL_MS", 1000u64)?;
        Ok(Self {
            bus: EventBusConfig::from_env(env)?,
            interval: Duration::from_millis(interval),
            max_len: env.at_least_one("EVENTS_STREAM_MAX_LEN", 100_000u64)?,
        })
    }
}

/// Runs the relay until the task is dropped.
pub fn spawn(db: PgPool, config: RelayConfig) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let client = redis::Client::open(config.bus.redis_url.expose_secret())
        .map_err(|e| anyhow::anyhow!("REDIS_URL: {e}"))?;
    Ok(tokio::spawn(async move {
        let mut connection: Option<MultiplexedConnection> = None;
        let mut backoff = config.interval;
        loop {
            let result = match connection.as_mut() {
                Some(conn) => publish_pending(&db, conn, &config).await,
                None => connect(&client).await.map(|conn| {
                    connection = Some(conn);
                    0
                }),
            };
            match result {
                Ok(published) => {
                    if published > 0 {
                        tracing::info!(published, "events published");
                    }
                    backoff = config.interval;
                    if published == 0 {
                        tokio::time::sleep(config.interval).await;
                    }
                }
                Err(e) => {
                    tracing::warn!(
                        error = format!("{e:#}"),
                        retry_in_ms = backoff.as_millis() as u64,
                        "events wait in the outbox"
                    );
                    connection = None;
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(BACKOFF_MAX);
                }
            }
        }
    }))
}

async fn connect(client: &redis::Client) -> anyhow::Result<MultiplexedConnection> {
    match tokio::time::timeout(CONNECT_TIMEOUT, client.get_multiplexed_async_connection()).await {
        Ok(connection) => Ok(connection?),
        Err(_) => anyhow::bail!(
            "no answer from Redis within {} s",
            CONNECT_TIMEOUT.as_secs()
        ),
    }
}

/// Publishes every pending event, oldest first; returns how many. Rows are marked in the
/// transaction that locked them, after Redis took them.
pub async fn publish_pending(
    db: &PgPool,
    redis: &mut MultiplexedConnection,
    config: &RelayConfig,
) -> anyhow::Result<usize> {
    let mut published = 0;
    loop {
        let mut tx = db.begin().await?;
        let rows = sqlx::query!(
            "SELECT id, stream, payload FROM offers.outbox WHERE published_at IS NULL
             ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED",
            BATCH
        )
        .fetch_all(&mut *tx)
        .await?;
        if rows.is_empty() {
            return Ok(published);
        }
        for row in &rows {
            redis::cmd("XADD")
                .arg(config.bus.stream(&row.stream))
                .arg("MAXLEN")
                .arg("~")
                .arg(config.max_len)
                .arg("*")
                .arg(OUTBOX_ID_FIELD)
                .arg(row.id)
                .arg(EVENT_FIELD)
                .arg(row.payload.to_string())
                .query_async::<String>(redis)
                .await?;
        }
        let ids: Vec<i64> = rows.iter().map(|row| row.id).collect();
        sqlx::query!(
            "UPDATE offers.outbox SET published_at = now() WHERE id = ANY($1)",
            &ids
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        published += rows.len();
    }
}
