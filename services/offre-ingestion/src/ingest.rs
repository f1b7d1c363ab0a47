//! `offre-ingestion ingest --file PATH... | --api`: one run per file, one for the API.

use std::path::PathBuf;
use std::sync::Arc;

use platform::config::DatabaseConfig;
use platform::progress::{Progress, Unit};
use platform::{ConfigError, Env};
use shared::embedding::{self, Embedder, EmbeddingConfig};

use crate::france_travail::{ApiConfig, Client};
use crate::pipeline::{Item, Run, RunReport, RunSpec, SourceKind};
use crate::source::{OfferFile, Position};

/// Payloads read from a source before they are stored.
const READ_CHUNK: usize = 500;

/// What `ingest` needs.
#[derive(Debug, Clone)]
pub struct IngestConfig {
    pub database: DatabaseConfig,
    /// With `--api`: the France Travail API.
    pub api: Option<ApiConfig>,
    /// None with `--no-embed`.
    pub embedding: Option<EmbeddingConfig>,
    /// `OFFER_MAX_AGE_DAYS` (60): an offer not updated for this long is archived; 0 keeps
    /// offers of any age (e.g. a saved set of past offers, as `make eval` ingests).
    pub max_age_days: i64,
}

impl IngestConfig {
    pub fn from_env(env: &Env, embed: bool, api: bool) -> Result<Self, ConfigError> {
        let max_age_days = env.or("OFFER_MAX_AGE_DAYS", 60i64)?;
        if max_age_days < 0 {
            return Err(ConfigError::new(
                "OFFER_MAX_AGE_DAYS",
                "expected a number of days, or 0 to keep offers of any age",
            ));
        }
        Ok(Self {
            database: DatabaseConfig::from_env(env)?,
            api: api.then(|| ApiConfig::from_env(env)).transpose()?,
            embedding: embed.then(|| EmbeddingConfig::from_env(env)).transpose()?,
            max_age_days,
        })
    }
}

/// Ingests each file in its own run, then the API (a full pull) when configured, and
/// prints each run's report (JSON) on stdout.
pub async fn ingest(config: IngestConfig, files: Vec<PathBuf>) -> anyhow::Result<()> {
    platform::db::migrate(&config.database, crate::NAME, &schemas::OFFERS).await?;
    let db = platform::db::pool(&config.database, crate::NAME)?;
    let embedder = match &config.embedding {
        Some(embedding) => Some(embedding::from_config(embedding).await?),
        None => None,
    };
    for path in files {
        let report = ingest_file(&db, &path, embedder.as_ref(), config.max_age_days).await?;
        println!("{}", serde_json::to_string(&report)?);
    }
    if let Some(api) = config.api {
        let report = ingest_api(&db, api, embedder.as_ref(), config.max_age_days).await?;
        println!("{}", serde_json::to_string(&report)?);
    }
    Ok(())
}

/// A full pull of the API in one run: offers it no longer lists are archived, but only
/// when the whole pull succeeded.
pub async fn ingest_api(
    db: &sqlx::PgPool,
    api: ApiConfig,
    embedder: Option<&Arc<dyn Embedder>>,
    max_age_days: i64,
) -> anyhow::Result<RunReport> {
    let spec = RunSpec {
        source: api.api_url.to_string(),
        kind: SourceKind::Api,
        full_sync: true,
    };
    let mut client = Client::new(api)?;
    let mut run = Run::start(db, spec).await?;
    let pulled: anyhow::Result<()> = async {
        let plan = client.plan(chrono::Utc::now()).await?;
        tracing::info!(queries = plan.len(), "France Travail pull planned");
        let mut progress = Progress::new(
            "pulling France Travail offers",
            Unit::Items("queries"),
            plan.len() as u64,
        );
        for (done, planned) in plan.iter().enumerate() {
            let rest = client.rest(planned).await?;
            let items = planned
                .first
                .offers
                .iter()
                .cloned()
                .chain(rest)
                .map(Item::Payload)
                .collect();
            run.ingest(items).await?;
            progress.update(done as u64 + 1);
        }
        progress.finish(plan.len() as u64);
        Ok(())
    }
    .await;
    tracing::info!(requests = client.requests, "France Travail requests made");
    match pulled {
        Ok(()) => run.finish(embedder, max_age_days).await,
        Err(e) => {
            run.fail(&e).await?;
            Err(e)
        }
    }
}

/// One run over one file; a file that cannot be read ends the run as failed, keeping
/// what earlier chunks stored.
pub async fn ingest_file(
    db: &sqlx::PgPool,
    path: &std::path::Path,
    embedder: Option<&Arc<dyn Embedder>>,
    max_age_days: i64,
) -> anyhow::Result<RunReport> {
    let spec = RunSpec {
        source: path.display().to_string(),
        kind: SourceKind::File,
        full_sync: false,
    };
    let mut run = Run::start(db, spec).await?;
    match read_into(&mut run, path.to_owned()).await {
        Ok(()) => run.finish(embedder, max_age_days).await,
        Err(e) => {
            run.fail(&e).await?;
            Err(e)
        }
    }
}

async fn read_into(run: &mut Run, path: PathBuf) -> anyhow::Result<()> {
    // File reading and JSON parsing are blocking: off the async runtime.
    let mut file = tokio::task::spawn_blocking(move || OfferFile::open(&path)).await??;
    let (unit, total) = match file.position() {
        Position::Bytes { size, .. } => (Unit::Bytes, size),
        Position::Offers { total, .. } => (Unit::Items("offers"), total),
    };
    let mut progress = Progress::new("storing the file's offers", unit, total);
    loop {
        let (back, chunk) = tokio::task::spawn_blocking(move || {
            let chunk = file.next_chunk(READ_CHUNK);
            (file, chunk)
        })
        .await?;
        file = back;
        let chunk = chunk?;
        let done = match file.position() {
            Position::Bytes { read, .. } => read,
            Position::Offers { handed, .. } => handed,
        };
        if chunk.is_empty() {
            progress.finish(done);
            return Ok(());
        }
        run.ingest(chunk).await?;
        progress.update(done);
    }
}
