//! Attempts per key and time window, counted in PostgreSQL so that every gui replica
//! shares them: sign-ups and log-ins per client address, log-ins per account, CV uploads
//! per candidate.

use std::time::Duration;

use sqlx::PgPool;

/// At most `max` attempts per `window` for one key.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    pub max: u32,
    pub window: Duration,
}

/// Counts one attempt under `key`; false when the limit is already reached.
pub async fn allow(db: &PgPool, key: &str, limit: Limit) -> Result<bool, sqlx::Error> {
    let window = limit.window.as_secs_f64();
    let attempts: i32 = sqlx::query_scalar(
        "INSERT INTO gui.rate_limits (key, window_start, attempts)
         VALUES ($1, to_timestamp(floor(extract(epoch FROM now()) / $2) * $2), 1)
         ON CONFLICT (key, window_start) DO UPDATE SET attempts = gui.rate_limits.attempts + 1
         RETURNING attempts",
    )
    .bind(key)
    .bind(window)
    .fetch_one(db)
    .await?;
    if attempts == 1 {
        // A new window: old ones can go.
        sqlx::query("DELETE FROM gui.rate_limits WHERE window_start < now() - interval '1 day'")
            .execute(db)
            .await?;
    }
    Ok(attempts <= i32::try_from(limit.max).unwrap_or(i32::MAX))
}
