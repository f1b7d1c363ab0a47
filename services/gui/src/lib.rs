//! gui: the candidates' web application (French). It owns and migrates the `gui`
//! schema and calls the other services.

pub mod accounts;
pub mod rate_limit;
pub mod session;
pub mod web;

use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::routing::get;
use axum::Router;
use platform::config::{DatabaseConfig, ServiceConfig, ServiceDefaults};
use platform::health::ReadinessCheck;
use platform::{ConfigError, Env, ServiceApp};
use sqlx::PgPool;
use utoipa::OpenApi;

pub const NAME: &str = "gui";

const DEFAULTS: ServiceDefaults = ServiceDefaults {
    name: NAME,
    port: 8080,
    body_limit: 1024 * 1024,
};

#[derive(Debug, Clone)]
pub struct Config {
    pub service: ServiceConfig,
    /// The owner of the `gui` schema: it runs the schema's migrations.
    pub database: DatabaseConfig,
    /// `COOKIE_SECURE` (true): cookies only over HTTPS. Browsers treat
    /// http://127.0.0.1 and http://localhost as secure, so `make run` keeps it.
    pub cookie_secure: bool,
    /// `SESSION_TTL_HOURS` (168): how long a session lasts after log-in.
    pub session_ttl_hours: u32,
}

impl Config {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let session_ttl_hours = env.or("SESSION_TTL_HOURS", 168u32)?;
        if session_ttl_hours == 0 {
            return Err(ConfigError::new("SESSION_TTL_HOURS", "must be at least 1"));
        }
        Ok(Self {
            service: ServiceConfig::from_env(env, DEFAULTS)?,
            database: DatabaseConfig::from_env(env)?,
            cookie_secure: env.or("COOKIE_SECURE", true)?,
            session_ttl_hours,
        })
    }
}

#[derive(Clone)]
pub struct AppState {
    pub db: PgPool,
    pub cookie_secure: bool,
    pub session_ttl: chrono::TimeDelta,
}

impl AppState {
    /// Connects and brings the `gui` schema up to date.
    pub async fn connect(config: &Config) -> anyhow::Result<Self> {
        platform::db::migrate(&config.database, NAME, &platform::db::GUI).await?;
        Ok(Self {
            db: platform::db::pool(&config.database, NAME)?,
            cookie_secure: config.cookie_secure,
            session_ttl: chrono::TimeDelta::hours(i64::from(config.session_ttl_hours)),
        })
    }
}

#[derive(OpenApi)]
#[openapi(info(description = "The candidates' web application (HTML pages, in French)."))]
struct ApiDoc;

const STYLESHEET: &str = include_str!("../static/app.css");

pub fn router(config: &Config, state: AppState) -> Router {
    let pages = accounts::routes()
        .route(
            "/static/app.css",
            get(|| async {
                (
                    [
                        (CONTENT_TYPE, "text/css"),
                        (CACHE_CONTROL, "public, max-age=3600"),
                    ],
                    STYLESHEET,
                )
            }),
        )
        .with_state(state.clone());
    ServiceApp::new(&config.service, ApiDoc::openapi())
        .readiness(ReadinessCheck::database(state.db))
        .public(pages)
        .into_router()
}

pub async fn serve(config: Config) -> anyhow::Result<()> {
    let state = AppState::connect(&config).await?;
    platform::server::run(&config.service, router(&config, state)).await
}
