//! matching: `POST /match` over the offers' gold embeddings (pgvector HNSW). It reads
//! the `offers` schema with a read-only role and never writes.

use axum::Router;
use platform::config::{DatabaseConfig, ServiceConfig, ServiceDefaults};
use platform::health::ReadinessCheck;
use platform::{ConfigError, Env, ServiceApp};
use sqlx::PgPool;
use utoipa::OpenApi;

pub const NAME: &str = "matching";

const DEFAULTS: ServiceDefaults = ServiceDefaults {
    name: NAME,
    port: 8081,
    body_limit: 1024 * 1024,
};

#[derive(Debug, Clone)]
pub struct Config {
    pub service: ServiceConfig,
    /// A role that may only read the gold table (`jobmatch_matching`).
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
    pub fn connect(config: &Config) -> anyhow::Result<Self> {
        Ok(Self {
            db: platform::db::pool(&config.database, NAME)?,
        })
    }
}

#[derive(OpenApi)]
#[openapi(info(description = "Ranks job offers by cosine similarity to a CV embedding."))]
struct ApiDoc;

pub fn router(config: &Config, state: AppState) -> Router {
    ServiceApp::new(&config.service, ApiDoc::openapi())
        .readiness(ReadinessCheck::database(state.db))
        .into_router()
}

pub async fn serve(config: Config) -> anyhow::Result<()> {
    let state = AppState::connect(&config)?;
    platform::server::run(&config.service, router(&config, state)).await
}
