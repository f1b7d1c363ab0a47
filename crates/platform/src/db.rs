//! PostgreSQL pool, and how a schema's migrations are applied (which schemas exist, with
//! their roles and migrations, is the `schemas` crate's).

use std::time::Duration;

use secrecy::ExposeSecret;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgConnection, PgPool};

use crate::config::DatabaseConfig;

/// A set of migrations, the schema it fills and the role that owns that schema and
/// applies them. Its history table lives in that schema (`<schema>._sqlx_migrations`),
/// so that the sets of two services never collide.
pub struct SchemaMigrations {
    pub schema: &'static str,
    pub role: &'static str,
    pub migrator: Migrator,
}

/// Runs `sql`, what needs a superuser before any service starts (the roles, the
/// extension, the schemas owned by their roles, the grants: `schemas::BOOTSTRAP_SQL`),
/// as `config`'s role, a superuser.
pub async fn bootstrap(config: &DatabaseConfig, app: &str, sql: &str) -> anyhow::Result<()> {
    let mut conn = PgConnection::connect_with(&connect_options(config, app)?)
        .await
        .map_err(|e| anyhow::anyhow!("cannot connect to the database to bootstrap it: {e}"))?;
    let result = sqlx::raw_sql(sql).execute(&mut conn).await;
    conn.close().await.ok();
    result
        .map(drop)
        .map_err(|e| anyhow::anyhow!("database bootstrap failed: {e}"))
}

/// Runs `work` on the pool, again each time a connection turns out to have been broken
/// while idle (database restarted, connection cut), for pools that do not ping
/// connections before use. A broken connection leaves the pool as it fails, so there are
/// at most as many retries as connections were idle.
pub async fn retry_broken<T, F, Fut>(pool: &PgPool, work: F) -> Result<T, sqlx::Error>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<T, sqlx::Error>>,
{
    let mut retries = pool.num_idle() + 1;
    loop {
        match work().await {
            Err(e) if retries > 0 && is_broken_connection(&e) => {
                tracing::warn!(error = %e, "database connection broken; trying again");
                retries -= 1;
            }
            result => return result,
        }
    }
}

/// An error that says the connection, not the query, failed: I/O, or the server closing
/// the session (SQLSTATE classes 08 connection exception, 57P operator intervention).
pub fn is_broken_connection(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_) => true,
        sqlx::Error::Database(e) => e
            .code()
            .is_some_and(|code| code.starts_with("08") || code.starts_with("57P")),
        _ => false,
    }
}

/// Advisory lock key serialising schema creation across services and replicas.
const MIGRATION_LOCK: i64 = 0x6a6f_626d_6174_6368; // "jobmatch"

fn connect_options(config: &DatabaseConfig, app: &str) -> Result<PgConnectOptions, sqlx::Error> {
    let options = config
        .url
        .expose_secret()
        .parse::<PgConnectOptions>()?
        .application_name(app)
        .log_slow_statements(tracing::log::LevelFilter::Warn, Duration::from_secs(1));
    Ok(match &config.password {
        Some(password) => options.password(password.expose_secret()),
        None => options,
    })
}

/// A pool that connects on first use: the service starts (and reports not ready) while
/// the database is down, and recovers by itself when it comes back.
pub fn pool(config: &DatabaseConfig, app: &str) -> Result<PgPool, sqlx::Error> {
    Ok(PgPoolOptions::new()
        .max_connections(config.max_connections)
        .acquire_timeout(config.acquire_timeout)
        .test_before_acquire(config.ping_before_use)
        .connect_lazy_with(connect_options(config, app)?))
}

/// Applies `set` on a dedicated connection (its `search_path` is changed for the run).
pub async fn migrate(
    config: &DatabaseConfig,
    app: &str,
    set: &SchemaMigrations,
) -> anyhow::Result<()> {
    let mut conn = PgConnection::connect_with(&connect_options(config, app)?)
        .await
        .map_err(|e| anyhow::anyhow!("cannot connect to the database to migrate it: {e}"))?;
    let result = migrate_on(&mut conn, set).await;
    conn.close().await.ok();
    result
}

async fn migrate_on(conn: &mut PgConnection, set: &SchemaMigrations) -> anyhow::Result<()> {
    sqlx::query!("SELECT FROM pg_advisory_lock($1)", MIGRATION_LOCK)
        .execute(&mut *conn)
        .await?;
    // The schema must exist before the history table can be created inside it. The
    // bootstrap makes it, owned by the service's role (which may not create schemas);
    // a superuser without the bootstrap (eval, benchmarks) makes it here.
    let schema = set.schema;
    let exists = sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1) AS "exists!""#,
        schema
    )
    .fetch_one(&mut *conn)
    .await?;
    if !exists {
        sqlx::raw_sql(&format!("CREATE SCHEMA {schema}"))
            .execute(&mut *conn)
            .await
            .map_err(|e| {
                anyhow::anyhow!(
                    "schema {schema} does not exist and cannot be made ({e}): run the database bootstrap (`make setup`, or compose's db-init) first"
                )
            })?;
    }
    sqlx::raw_sql(&format!("SET search_path TO {schema}, public"))
        .execute(&mut *conn)
        .await?;
    let result = set.migrator.run(&mut *conn).await;
    sqlx::query!("SELECT FROM pg_advisory_unlock($1)", MIGRATION_LOCK)
        .execute(&mut *conn)
        .await?;
    result.map_err(|e| anyhow::anyhow!("migrations of schema {schema} failed: {e}"))
}
