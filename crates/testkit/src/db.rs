//! A fresh database per test, cloned from a template that has every migration applied:
//! a clone costs tens of milliseconds, a migration run much more.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use platform::config::DatabaseConfig;
use reqwest::Url;
use sha2::{Digest, Sha256};
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgConnection, PgPool};
use tokio::sync::OnceCell;

/// Admin connection (a superuser) to the test cluster; `TEST_DATABASE_URL` overrides it.
const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// Test databases older than this are dropped by the next run (left by killed tests).
const STALE_AFTER: Duration = Duration::from_secs(2 * 3600);

/// Serialises template creation across the test processes of one run.
const TEMPLATE_LOCK: i64 = 0x6a6d_7465_6d70_6c74;

const TEST_DB_PREFIX: &str = "jm_test_";
const TEMPLATE_PREFIX: &str = "jm_tpl_";

static TEMPLATE: OnceCell<String> = OnceCell::const_new();

/// A database of its own for one test. It is left behind on purpose (inspect it after a
/// failure); the next run drops it once it is stale.
#[derive(Debug, Clone)]
pub struct TestDb {
    pub name: String,
    admin: Url,
}

impl TestDb {
    pub async fn new() -> Self {
        let admin = admin_url();
        let template = TEMPLATE
            .get_or_try_init(|| ensure_template(admin.clone()))
            .await
            .expect("cannot prepare the template database (is PostgreSQL running? `make setup` starts it)");
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let name = format!(
            "{TEST_DB_PREFIX}{secs}_{}",
            &uuid::Uuid::new_v4().simple().to_string()[..12]
        );
        let mut conn = connect(&admin).await.expect("cannot connect to PostgreSQL");
        // Two clones of one template at the same instant may collide on its lock: retry.
        let mut attempt = 0;
        loop {
            let created = sqlx::raw_sql(&format!(
                r#"CREATE DATABASE "{name}" TEMPLATE "{template}""#
            ))
            .execute(&mut conn)
            .await;
            match created {
                Ok(_) => break,
                Err(e)
                    if attempt < 50 && e.to_string().contains("being accessed by other users") =>
                {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => panic!("cannot create test database {name}: {e}"),
            }
        }
        conn.close().await.ok();
        Self { name, admin }
    }

    /// URL of this database as the admin (owner) role.
    pub fn url(&self) -> String {
        self.url_with(None, None)
    }

    /// URL of this database as a service's role (`schemas::OFFERS.role`...), with
    /// the password `make setup` gave it.
    pub fn url_as(&self, role: &str) -> String {
        self.url_with(Some(role), None)
    }

    /// URL of this database as a service's role, through another address (a
    /// [`crate::TcpProxy`]).
    pub fn url_as_via(&self, role: &str, addr: std::net::SocketAddr) -> String {
        self.url_with(Some(role), Some(addr))
    }

    fn url_with(&self, role: Option<&str>, addr: Option<std::net::SocketAddr>) -> String {
        let mut url = self.admin.clone();
        url.set_path(&self.name);
        if let Some(role) = role {
            as_role(&mut url, role);
        }
        if let Some(addr) = addr {
            url.set_ip_host(addr.ip())
                .expect("postgres URLs take a host");
            url.set_port(Some(addr.port())).ok();
        }
        url.to_string()
    }

    /// A small pool on this database as the admin role, for setting up and checking data.
    pub async fn pool(&self) -> PgPool {
        sqlx::postgres::PgPoolOptions::new()
            .max_connections(2)
            .connect(&self.url())
            .await
            .expect("cannot connect to the test database")
    }
}

/// Makes `url` connect as `role`, with the password `make setup` keeps for it
/// (`$JOBMATCH_CACHE/secrets/<role>.password`), if any.
fn as_role(url: &mut Url, role: &str) {
    url.set_username(role)
        .expect("postgres URLs take a user name");
    let password = std::fs::read_to_string(role_password_file(role)).ok();
    url.set_password(password.as_deref().map(str::trim)).ok();
}

/// Where `make setup` keeps the password of a service's database role.
pub fn role_password_file(role: &str) -> std::path::PathBuf {
    crate::cache_dir()
        .join("secrets")
        .join(format!("{role}.password"))
}

fn admin_url() -> Url {
    let raw = std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_ADMIN_URL.into());
    Url::parse(&raw).expect("TEST_DATABASE_URL is not a URL")
}

async fn connect(url: &Url) -> Result<PgConnection, sqlx::Error> {
    let options: PgConnectOptions = url.as_str().parse()?;
    PgConnection::connect_with(&options.application_name("testkit")).await
}

/// Name of the template for the current migrations: a change of any migration makes a
/// new template, so a stale one is never used.
fn template_name() -> String {
    let mut hash = Sha256::new();
    hash.update(schemas::BOOTSTRAP_SQL.as_bytes());
    for set in schemas::ALL {
        hash.update(set.schema.as_bytes());
        for migration in set.migrator.iter() {
            hash.update(migration.version.to_le_bytes());
            hash.update(&migration.checksum);
        }
    }
    let digest = hash.finalize();
    format!("{TEMPLATE_PREFIX}{}", crate::hex(&digest[..6]))
}

async fn ensure_template(admin: Url) -> anyhow::Result<String> {
    let template = template_name();
    let mut conn = connect(&admin).await?;
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(TEMPLATE_LOCK)
        .execute(&mut conn)
        .await?;
    let result = build_template_once(&admin, &mut conn, &template).await;
    sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(TEMPLATE_LOCK)
        .execute(&mut conn)
        .await?;
    conn.close().await.ok();
    result.map(|()| template)
}

async fn build_template_once(
    admin: &Url,
    conn: &mut PgConnection,
    template: &str,
) -> anyhow::Result<()> {
    drop_stale(conn, template).await?;
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(template)
            .fetch_one(&mut *conn)
            .await?;
    if exists {
        return Ok(());
    }
    // Built under another name and renamed when complete: a killed run leaves no
    // half-migrated template behind.
    let building = format!("{template}_building");
    // One statement per call: DROP/CREATE DATABASE refuse to run in a transaction, and
    // a multi-statement string is one implicit transaction.
    for statement in [
        format!(r#"DROP DATABASE IF EXISTS "{building}" WITH (FORCE)"#),
        format!(r#"CREATE DATABASE "{building}""#),
    ] {
        sqlx::raw_sql(&statement).execute(&mut *conn).await?;
    }
    // As in production: the bootstrap as a superuser, then each schema's migrations by
    // its own role.
    let mut url = admin.clone();
    url.set_path(&building);
    let config = |url: &Url| {
        DatabaseConfig::from_env(&platform::Env::default().with("DATABASE_URL", url.as_str()))
    };
    platform::db::bootstrap(&config(&url)?, "testkit", schemas::BOOTSTRAP_SQL).await?;
    for set in schemas::ALL {
        let mut url = url.clone();
        as_role(&mut url, set.role);
        platform::db::migrate(&config(&url)?, "testkit", set).await?;
    }
    for statement in [
        format!(r#"ALTER DATABASE "{building}" RENAME TO "{template}""#),
        format!(r#"ALTER DATABASE "{template}" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false"#),
    ] {
        sqlx::raw_sql(&statement).execute(&mut *conn).await?;
    }
    Ok(())
}

/// Drops test databases left by earlier runs and templates of older migrations.
async fn drop_stale(conn: &mut PgConnection, current_template: &str) -> anyhow::Result<()> {
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT datname FROM pg_database WHERE datname LIKE 'jm\\_test\\_%' OR datname LIKE 'jm\\_tpl\\_%'",
    )
    .fetch_all(&mut *conn)
    .await?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
    for name in names {
        let stale = if let Some(rest) = name.strip_prefix(TEST_DB_PREFIX) {
            rest.split('_')
                .next()
                .and_then(|s| s.parse::<u64>().ok())
                .is_some_and(|created| now.saturating_sub(created) > STALE_AFTER.as_secs())
        } else {
            name != current_template
        };
        if stale {
            for statement in [
                format!(r#"ALTER DATABASE "{name}" WITH IS_TEMPLATE false"#),
                format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#),
            ] {
                sqlx::raw_sql(&statement).execute(&mut *conn).await?;
            }
        }
    }
    Ok(())
}

impl TestDb {
    /// The PostgreSQL server's socket address (a [`crate::TcpProxy`] forwards to it).
    pub fn server_addr(&self) -> std::net::SocketAddr {
        let host = self.admin.host_str().unwrap_or("127.0.0.1");
        let port = self.admin.port().unwrap_or(5432);
        std::net::ToSocketAddrs::to_socket_addrs(&(host, port))
            .ok()
            .and_then(|mut addrs| addrs.next())
            .expect("the PostgreSQL host resolves")
    }
}
