//! Attempts per key and time window, counted in PostgreSQL so that every gui replica
//! shares them: sign-ups and log-ins per client address, log-ins per account, CV uploads
//! per candidate.

use std::net::IpAddr;
use std::time::Duration;

use sha2::{Digest, Sha256};
use sqlx::PgPool;
use uuid::Uuid;

/// The key of a client address: an IPv4 address, or the /64 an IPv6 address is in (a
/// single host usually holds a whole /64: counting each address alone counts nothing).
pub fn client(action: &str, ip: IpAddr) -> String {
    match ip {
        IpAddr::V6(v6) if v6.to_ipv4_mapped().is_none() => {
            let s = v6.segments();
            format!(
                "{action}:from:{:x}:{:x}:{:x}:{:x}::/64",
                s[0], s[1], s[2], s[3]
            )
        }
        IpAddr::V6(v6) => format!("{action}:from:{}", v6.to_ipv4_mapped().expect("checked")),
        IpAddr::V4(v4) => format!("{action}:from:{v4}"),
    }
}

/// The key of an account, named by its e-mail address: a digest, so that the table does
/// not hold the address in clear (a guessed address can still be checked against it;
/// counters last a day at most), and a typed address cannot collide with a client's key.
pub fn account(action: &str, email: &str) -> String {
    let digest = Sha256::digest(email.trim().to_lowercase().as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("{action}:account:{hex}")
}

/// The key of an account tried from a client address: failures counted per pair keep
/// that address out of that account, never the account's owner elsewhere.
pub fn pair(action: &str, email: &str, ip: IpAddr) -> String {
    format!("{}|{}", account(action, email), client("", ip))
}

/// The key of a signed-in candidate.
pub fn candidate(action: &str, id: Uuid) -> String {
    format!("{action}:candidate:{id}")
}

/// Forgets an account's counters (the account is deleted).
pub async fn forget_account(db: &PgPool, email: &str, id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "DELETE FROM gui.rate_limits WHERE key LIKE '%' || $1 || '%' OR key LIKE '%' || $2",
        account("", email),
        candidate("", id)
    )
    .execute(db)
    .await?;
    Ok(())
}

/// At most `max` attempts per `window` for one key.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    pub max: u32,
    pub window: Duration,
}

impl Limit {
    fn max(&self) -> i32 {
        i32::try_from(self.max).unwrap_or(i32::MAX)
    }
}

/// Counts one attempt under `key`; false when the limit is already reached.
pub async fn allow(db: &PgPool, key: &str, limit: Limit) -> Result<bool, sqlx::Error> {
    Ok(record(db, key, limit).await? <= limit.max())
}

/// Records one event (an attempt, a failure) under `key`; returns how many the window
/// holds now.
pub async fn record(db: &PgPool, key: &str, limit: Limit) -> Result<i32, sqlx::Error> {
    sqlx::query_scalar!(
        "INSERT INTO gui.rate_limits (key, window_start, attempts)
         VALUES ($1, to_timestamp(floor(extract(epoch FROM now()) / $2::float8) * $2::float8), 1)
         ON CONFLICT (key, window_start) DO UPDATE SET attempts = gui.rate_limits.attempts + 1
         RETURNING attempts",
        key,
        limit.window.as_secs_f64()
    )
    .fetch_one(db)
    .await
}

/// How many events `key` holds in the current window (nothing recorded).
pub async fn count(db: &PgPool, key: &str, limit: Limit) -> Result<i32, sqlx::Error> {
    let counted: Option<i32> = sqlx::query_scalar!(
        "SELECT attempts FROM gui.rate_limits
         WHERE key = $1
           AND window_start = to_timestamp(floor(extract(epoch FROM now()) / $2::float8) * $2::float8)",
        key,
        limit.window.as_secs_f64()
    )
    .fetch_optional(db)
    .await?;
    Ok(counted.unwrap_or(0))
}

/// Whether `key` reached its limit in the current window (nothing recorded).
pub async fn reached(db: &PgPool, key: &str, limit: Limit) -> Result<bool, sqlx::Error> {
    Ok(count(db, key, limit).await? >= limit.max())
}

/// Windows older than a day (longer than any limit's) go; returns how many rows went.
/// Run on a schedule ([`CLEANUP_EVERY`]), with an index on `window_start`.
pub async fn clean(db: &PgPool) -> Result<u64, sqlx::Error> {
    Ok(
        sqlx::query!("DELETE FROM gui.rate_limits WHERE window_start < now() - interval '1 day'")
            .execute(db)
            .await?
            .rows_affected(),
    )
}

/// How often the GUI cleans the counters.
pub const CLEANUP_EVERY: Duration = Duration::from_secs(600);

/// Cleans the counters every [`CLEANUP_EVERY`], until the task is dropped.
pub async fn clean_on_schedule(db: PgPool) {
    let mut every = tokio::time::interval(CLEANUP_EVERY);
    loop {
        every.tick().await;
        if let Err(e) = clean(&db).await {
            tracing::warn!(error = %e, "rate-limit counters not cleaned; next time");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_of_clients_and_accounts_never_meet() {
        let v4: IpAddr = "203.0.113.7".parse().unwrap();
        assert_eq!(client("log-in", v4), "log-in:from:203.0.113.7");
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().unwrap();
        assert_eq!(client("log-in", a), client("log-in", b), "one /64");
        assert_eq!(client("log-in", a), "log-in:from:2001:db8:1:2::/64");
        let mapped: IpAddr = "::ffff:203.0.113.7".parse().unwrap();
        assert_eq!(client("log-in", mapped), client("log-in", v4));
        // An "address" typed in the e-mail field is an account key, not a client's.
        assert_ne!(account("log-in", "203.0.113.7"), client("log-in", v4));
        assert_eq!(
            account("log-in", " Camille@Exemple.fr"),
            account("log-in", "camille@exemple.fr")
        );
        assert!(!account("log-in", "camille@exemple.fr").contains("camille"));
    }
}
