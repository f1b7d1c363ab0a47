//! The settings every service shares, read through [`Env`] (the `settings` crate).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use secrecy::SecretString;
pub use settings::{ConfigError, Env};

/// Log output format: human-readable text, or one JSON object a line for collectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

impl FromStr for LogFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "text" => Ok(Self::Text),
            "json" => Ok(Self::Json),
            _ => Err("expected text or json".into()),
        }
    }
}

/// Settings every service has.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    /// The service's name, in logs, metrics and problem types.
    pub name: &'static str,
    /// `BIND_ADDR`, default `127.0.0.1:<the service's port>`.
    pub bind_addr: SocketAddr,
    /// `SERVICE_TOKEN`: the bearer token this service's calls to others send (who it
    /// is); without `SERVICE_CALLERS`, also the one its internal routes accept.
    pub service_token: SecretString,
    /// `SERVICE_CALLERS`: the callers its internal routes accept, each with its own
    /// token and scopes (see `auth::Callers::from_env`).
    pub callers: crate::auth::Callers,
    /// `REQUEST_TIMEOUT_SECS`, default 30.
    pub request_timeout: Duration,
    /// `BODY_LIMIT_BYTES`, default given by the service (1 MiB for JSON APIs).
    pub body_limit: usize,
    /// `SHUTDOWN_GRACE_SECS`, default 30: how long in-flight requests may run after
    /// SIGTERM.
    pub shutdown_grace: Duration,
    /// `DOCS_ASSETS_DIR`: Swagger UI files installed by `make setup`.
    pub docs_assets_dir: Option<PathBuf>,
}

/// Per-service defaults of [`ServiceConfig`].
#[derive(Debug, Clone, Copy)]
pub struct ServiceDefaults {
    pub name: &'static str,
    pub port: u16,
    pub body_limit: usize,
}

impl ServiceConfig {
    pub fn from_env(env: &Env, defaults: ServiceDefaults) -> Result<Self, ConfigError> {
        let service_token = env.secret("SERVICE_TOKEN")?;
        if secrecy::ExposeSecret::expose_secret(&service_token).len() < crate::auth::MIN_TOKEN_CHARS
        {
            return Err(ConfigError::new(
                "SERVICE_TOKEN",
                "too short: use at least 16 characters",
            ));
        }
        Ok(Self {
            name: defaults.name,
            bind_addr: env.or(
                "BIND_ADDR",
                SocketAddr::from(([127, 0, 0, 1], defaults.port)),
            )?,
            callers: crate::auth::Callers::from_env(env, &service_token)?,
            service_token,
            request_timeout: env.seconds("REQUEST_TIMEOUT_SECS", Duration::from_secs(30))?,
            body_limit: env.or("BODY_LIMIT_BYTES", defaults.body_limit)?,
            shutdown_grace: env.seconds("SHUTDOWN_GRACE_SECS", Duration::from_secs(30))?,
            docs_assets_dir: env.optional("DOCS_ASSETS_DIR")?,
        })
    }
}

/// `DATABASE_URL` (secret: it may hold a password), `DATABASE_PASSWORD` (or
/// `DATABASE_PASSWORD_FILE`: the role's password apart from the URL, as compose secrets
/// give it) and pool settings.
#[derive(Debug, Clone)]
pub struct DatabaseConfig {
    pub url: SecretString,
    /// Overrides the URL's password when set.
    pub password: Option<SecretString>,
    /// `DATABASE_MAX_CONNECTIONS`, default 10.
    pub max_connections: u32,
    /// `DATABASE_ACQUIRE_TIMEOUT_SECS`, default 3: how long a request waits for a
    /// connection before readiness (or the request) fails.
    pub acquire_timeout: Duration,
    /// Whether a pooled connection is pinged before each use (true unless a service turns
    /// it off in code). The ping costs a round trip per query; a service that turns it
    /// off must retry a query that meets a connection broken since its last use.
    pub ping_before_use: bool,
}

impl DatabaseConfig {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let url = env.secret("DATABASE_URL")?;
        let exposed = secrecy::ExposeSecret::expose_secret(&url);
        if !(exposed.starts_with("postgres://") || exposed.starts_with("postgresql://")) {
            return Err(ConfigError::new(
                "DATABASE_URL",
                "expected a postgres:// or postgresql:// URL",
            ));
        }
        let max_connections = env.at_least_one("DATABASE_MAX_CONNECTIONS", 10u32)?;
        Ok(Self {
            url,
            password: env.secret_opt("DATABASE_PASSWORD")?,
            max_connections,
            acquire_timeout: env
                .seconds("DATABASE_ACQUIRE_TIMEOUT_SECS", Duration::from_secs(3))?,
            ping_before_use: true,
        })
    }
}

/// The event bus (Redis Streams): `REDIS_URL` (secret: it may hold a password) and
/// `EVENTS_STREAM_PREFIX` (empty), prepended to every stream's name to share one Redis
/// between environments.
#[derive(Debug, Clone)]
pub struct EventBusConfig {
    pub redis_url: SecretString,
    pub stream_prefix: String,
}

impl EventBusConfig {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let redis_url = env.secret("REDIS_URL")?;
        let exposed = secrecy::ExposeSecret::expose_secret(&redis_url);
        if !["redis://", "rediss://", "unix://"]
            .iter()
            .any(|s| exposed.starts_with(s))
        {
            return Err(ConfigError::new(
                "REDIS_URL",
                "expected a redis:// or rediss:// URL",
            ));
        }
        Ok(Self {
            redis_url,
            stream_prefix: env.or("EVENTS_STREAM_PREFIX", String::new())?,
        })
    }

    /// A stream's name on this bus.
    pub fn stream(&self, name: &str) -> String {
        format!("{}{name}", self.stream_prefix)
    }
}
