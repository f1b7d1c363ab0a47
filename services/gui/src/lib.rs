//! gui: the candidates' web application (French). It owns and migrates the `gui`
//! schema and calls the other services.

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
}

impl Config {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            service: ServiceConfig::from_env(env, DEFAULTS)?,
            database: DatabaseConfig::from_env(env)?,
        })
    }
}

#[derive(Clone)]
pub struct AppState {
    pub db: PgPool,
}

impl AppState {
    /// Connects and brings the `gui` schema up to date.
    pub async fn connect(config: &Config) -> anyhow::Result<Self> {
        platform::db::migrate(&config.database, NAME, &platform::db::GUI).await?;
        Ok(Self {
            db: platform::db::pool(&config.database, NAME)?,
        })
    }
}

#[derive(OpenApi)]
#[openapi(info(description = "The candidates' web application."))]
struct ApiDoc;

pub fn router(config: &Config, state: AppState) -> Router {
    ServiceApp::new(&config.service, ApiDoc::openapi())
        .readiness(ReadinessCheck::database(state.db))
        .into_router()
}

pub async fn serve(config: Config) -> anyhow::Result<()> {
    let state = AppState::connect(&config).await?;
    platform::server::run(&config.service, router(&config, state)).await
}
