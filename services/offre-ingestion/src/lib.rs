//! offre-ingestion: France Travail offers into the `offers` schema (bronze, silver,
//! gold) and their details over `GET /offers`. It owns and migrates that schema.

pub mod api;
pub mod cli;
pub mod demo;
pub mod france_travail;
pub mod gold;
pub mod ingest;
pub mod metrics;
pub mod normalize;
pub mod pipeline;
pub mod relay;
pub mod source;

use axum::Router;
use platform::config::{DatabaseConfig, ServiceConfig, ServiceDefaults};
use platform::health::ReadinessCheck;
use platform::{ConfigError, Env, ServiceApp};
use sqlx::PgPool;
use utoipa::OpenApi;

pub const NAME: &str = "offre-ingestion";

const DEFAULTS: ServiceDefaults = ServiceDefaults {
    name: NAME,
    port: 8082,
    body_limit: 1024 * 1024,
};

#[derive(Debug, Clone)]
pub struct Config {
    pub service: ServiceConfig,
    /// The owner of the `offers` schema: it runs the schema's migrations.
    pub database: DatabaseConfig,
    /// Where the outbox's events go.
    pub relay: relay::RelayConfig,
    /// The model whose embeddings the backlog metric counts (`EMBEDDING_MODEL`, as the
    /// ingestion runs embed with).
    pub embedding_model: String,
}

impl Config {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            service: ServiceConfig::from_env(env, DEFAULTS)?,
            database: DatabaseConfig::from_env(env)?,
            relay: relay::RelayConfig::from_env(env)?,
            embedding_model: env.or("EMBEDDING_MODEL", shared::DEFAULT_MODEL.to_owned())?,
        })
    }
}

#[derive(Clone)]
pub struct AppState {
    pub db: PgPool,
    /// The ingestion runs' totals, which [`serve`] keeps reading.
    pub ingestion: metrics::IngestionMetrics,
}

impl AppState {
    /// Connects and brings the `offers` schema up to date.
    pub async fn connect(config: &Config) -> anyhow::Result<Self> {
        platform::db::migrate(&config.database, NAME, &schemas::OFFERS).await?;
        Ok(Self {
            db: platform::db::pool(&config.database, NAME)?,
            ingestion: metrics::IngestionMetrics::default(),
        })
    }
}

#[derive(OpenApi)]
#[openapi(
    info(description = "Ingests France Travail job offers and serves their details."),
    paths(api::list, api::one),
    components(schemas(shared::OfferDetail, shared::OfferSkill)),
    tags((name = "offers", description = "Offer details in the France Travail shape"))
)]
struct ApiDoc;

pub fn router(config: &Config, state: AppState) -> Router {
    let metrics = platform::metrics::Metrics::new(NAME, |registry| {
        platform::metrics::register_pool(registry, &state.db);
        registry.register_collector(Box::new(state.ingestion.clone()))
    });
    ServiceApp::new(&config.service, ApiDoc::openapi())
        .metrics(metrics)
        .readiness(ReadinessCheck::database(state.db.clone()))
        .internal(api::routes(state.db))
        .into_router()
}

pub async fn serve(config: Config) -> anyhow::Result<()> {
    let state = AppState::connect(&config).await?;
    let relay = relay::spawn(state.db.clone(), config.relay.clone())?;
    let totals = tokio::spawn(
        state
            .ingestion
            .clone()
            .follow(state.db.clone(), config.embedding_model.clone()),
    );
    let served = platform::server::run(&config.service, router(&config, state)).await;
    relay.abort();
    totals.abort();
    served
}
