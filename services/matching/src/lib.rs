//! matching: `POST /match` over the offers' gold embeddings (pgvector HNSW), and with a
//! candidate's profile, hybrid ranking over an in-memory index of the offers. It reads
//! the `offers` schema with a read-only role and never writes.

pub mod offers_index;
pub mod rerankers;
pub mod search;

use std::time::Duration;

use axum::Router;
use offers_index::OffersIndex;
use platform::config::{DatabaseConfig, ServiceConfig, ServiceDefaults};
use platform::health::ReadinessCheck;
use platform::metrics::{Metrics, Stages};
use platform::{ConfigError, Env, ServiceApp};
use ranking::Weights;
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
    /// `MATCH_WEIGHT_SEMANTIC`, `_LEXICAL`, `_TITLE`, `_JOB`, `_SKILLS`, `_KEYWORDS`,
    /// `_FAMILY`, `_SIMILAR`:
    /// the signals' weights in hybrid ranking (defaults tuned by `make eval`).
    pub weights: Weights,
    /// `MATCH_INDEX_POLL_SECS` (10): the offers index also looks for changes this often,
    /// in case a change notification was lost.
    pub index_poll: Duration,
    /// The learned re-rankers a request may name (`MatchRequest::reranker`): the
    /// built-in ones and those of `MATCH_RERANKERS` (files or directories of `.json`,
    /// comma-separated), read at start.
    pub rerankers: rerankers::Rerankers,
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
            // meets a broken connection is retried on another (`platform::db::retry_broken`).
            database: DatabaseConfig {
                ping_before_use: false,
                ..DatabaseConfig::from_env(env)?
            },
            model: env.or("MATCH_MODEL", shared::DEFAULT_MODEL.to_owned())?,
            dim: env.or("MATCH_DIM", 384usize)?,
            ef_search,
            weights: weights_from_env(env)?,
            index_poll: Duration::from_secs(env.at_least_one("MATCH_INDEX_POLL_SECS", 10u64)?),
            rerankers: rerankers::Rerankers::load(
                env.optional::<String>(rerankers::VARIABLE)?.as_deref(),
            )
            .map_err(|reason| ConfigError::new(rerankers::VARIABLE, reason))?,
        })
    }
}

fn weights_from_env(env: &Env) -> Result<Weights, ConfigError> {
    let default = Weights::default().as_array();
    let mut weights = [0f32; ranking::search::SIGNALS];
    for (i, name) in Weights::NAMES.iter().enumerate() {
        let key = format!("MATCH_WEIGHT_{}", name.to_uppercase());
        let value: f32 = env.or(&key, default[i])?;
        if !value.is_finite() || !(0.0..=1000.0).contains(&value) {
            return Err(ConfigError::new(&key, "expected a weight from 0 to 1000"));
        }
        weights[i] = value;
    }
    if weights.iter().all(|w| *w == 0.0) {
        return Err(ConfigError::new(
            "MATCH_WEIGHT_*",
            "every signal's weight is 0: at least one must weigh",
        ));
    }
    Ok(Weights::from_array(weights))
}

#[derive(Clone)]
pub struct AppState {
    pub db: PgPool,
    pub index: OffersIndex,
}

impl AppState {
    /// The database pool, and the offers index, which starts loading in the background
    /// (the service is ready once it has loaded).
    pub fn connect(config: &Config) -> anyhow::Result<Self> {
        let db = platform::db::pool(&config.database, NAME)?;
        let index = OffersIndex::default();
        tokio::spawn(index.clone().follow(db.clone(), config.index_poll));
        Ok(Self { db, index })
    }
}

#[derive(OpenApi)]
#[openapi(
    info(description = "Ranks job offers by cosine similarity to a CV embedding."),
    paths(search::match_offers),
    components(schemas(shared::MatchRequest, shared::MatchFilters, shared::GeoFilter, shared::MatchHit,
        shared::MatchProfile, shared::ProfileSkill, shared::SignalWeights, shared::MatchSignals, shared::MatchReasons)),
    tags((name = "matching", description = "Offers nearest a CV embedding"))
)]
struct ApiDoc;

pub fn router(config: &Config, state: AppState) -> Router {
    let search = search::Search {
        db: state.db.clone(),
        model: config.model.clone(),
        dim: config.dim,
        ef_search: config.ef_search,
        index: state.index.clone(),
        weights: config.weights,
        rerankers: config.rerankers.clone(),
        stages: Stages::default(),
    };
    let metrics = Metrics::new(NAME, |registry| {
        platform::metrics::register_pool(registry, &state.db);
        search.stages.register(
            registry,
            "match_stage_duration_seconds",
            "Time of each stage of POST /match: lexical (signals scored in memory), vectors (the query in PostgreSQL), fusion",
        )
    });
    let index = state.index;
    ServiceApp::new(&config.service, ApiDoc::openapi())
        .metrics(metrics)
        .readiness(ReadinessCheck::database(state.db))
        .readiness(ReadinessCheck::new("offers index", move || {
            let loaded = index.current().is_some();
            async move { loaded.then_some(()).ok_or_else(|| "loading".to_owned()) }
        }))
        .internal(search::routes(search))
        .into_router()
}

/// `MATCH_DIM` against the stored vectors' column (`vector(n)`): a service comparing
/// vectors of another length would answer every request with a database error.
pub async fn check_dimension(db: &PgPool, dim: usize) -> anyhow::Result<()> {
    let column = sqlx::query_scalar!(
        "SELECT atttypmod FROM pg_attribute
         WHERE attrelid = to_regclass('offers.embeddings') AND attname = 'embedding' AND NOT attisdropped"
    )
    .fetch_optional(db)
    .await?;
    match column {
        None => anyhow::bail!(
            "offers.embeddings is not there yet: start offre-ingestion first (it migrates the offers schema)"
        ),
        Some(stored) if stored > 0 && stored as usize != dim => anyhow::bail!(
            "MATCH_DIM is {dim}, but the offers' embeddings are vector({stored}): set MATCH_DIM={stored}, \
             or re-embed the offers with a model of {dim} dimensions"
        ),
        Some(_) => Ok(()),
    }
}

pub async fn serve(config: Config) -> anyhow::Result<()> {
    tracing::info!(rerankers = ?config.rerankers.ids(), "learned re-rankers a request may name");
    let state = AppState::connect(&config)?;
    check_dimension(&state.db, config.dim).await?;
    platform::server::run(&config.service, router(&config, state)).await
}
