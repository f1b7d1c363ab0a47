//! matching: `POST /match` over the offers' gold embeddings (pgvector HNSW). It reads
//! the `offers` schema with a read-only role and never writes.

pub mod search;

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

/// The smallest `hnsw.ef_search` that keeps recall@20 at or above 0.95, with and
/// without a filter, with a margin for the variation between index builds (see
/// `make bench-match`).
pub const DEFAULT_EF_SEARCH: u32 = 128;

#[derive(Debug, Clone)]
pub struct Config {
    pub service: ServiceConfig,
    /// A role that may only read the gold table (`jobmatch_matching`).
    pub database: DatabaseConfig,
    /// `MATCH_MODEL`: the model whose vectors are compared (requests of another model are
    /// refused).
    pub model: String,
    /// `MATCH_DIM` (384): its vectors' length.
    pub dim: usize,
    /// `MATCH_EF_SEARCH` (128): HNSW candidate list size; higher is slower and finds more
    /// of the exact nearest (see `make bench-match`).
    pub ef_search: u32,
}

impl Config {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let ef_search = env.or("MATCH_EF_SEARCH", DEFAULT_EF_SEARCH)?;
        if !(1..=1000).contains(&ef_search) {
            return Err(ConfigError::new("MATCH_EF_SEARCH", "expected 1 to 1000"));
        }
        Ok(Self {
            service: ServiceConfig::from_env(env, DEFAULTS)?,
            // No ping before each search: it is a round trip of its own; a search that
            // meets a broken connection is retried once instead (`search::Search::run`).
            database: DatabaseConfig {
                ping_before_use: false,
                ..DatabaseConfig::from_env(env)?
            },
            model: env.or("MATCH_MODEL", shared::embedding::DEFAULT_MODEL.to_owned())?,
            dim: env.or("MATCH_DIM", 384usize)?,
            ef_search,
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
#[openapi(
    info(description = "Ranks job offers by cosine similarity to a CV embedding."),
    paths(search::match_offers),
    components(schemas(shared::MatchRequest, shared::MatchFilters, shared::GeoFilter, shared::MatchHit)),
    tags((name = "matching", description = "Offers nearest a CV embedding"))
)]
struct ApiDoc;

pub fn router(config: &Config, state: AppState) -> Router {
    let search = search::Search {
        db: state.db.clone(),
        model: config.model.clone(),
        dim: config.dim,
        ef_search: config.ef_search,
    };
    ServiceApp::new(&config.service, ApiDoc::openapi())
        .readiness(ReadinessCheck::database(state.db))
        .internal(search::routes(search))
        .into_router()
}

pub async fn serve(config: Config) -> anyhow::Result<()> {
    let state = AppState::connect(&config)?;
    platform::server::run(&config.service, router(&config, state)).await
}
