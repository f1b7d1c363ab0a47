//! cv-ingestion: `POST /cv`, a CV file in, a structured analysis out. It stores
//! nothing, so it has no database; documents are parsed in child processes
//! ([`sandbox`]), so that no file can take the service down.

pub mod analysis;
pub mod api;
pub mod error;
pub mod extract;
pub mod sandbox;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use platform::config::{ServiceConfig, ServiceDefaults};
use platform::{ConfigError, Env, ServiceApp};
use shared::embedding::{self, EmbeddingConfig};
use utoipa::OpenApi;

use crate::analysis::Referential;
use crate::extract::Limits;
use crate::sandbox::{Confinement, Sandbox};

pub const NAME: &str = "cv-ingestion";

const DEFAULTS: ServiceDefaults = ServiceDefaults {
    name: NAME,
    port: 8083,
    // CV files: PDF, DOCX, ODT up to 10 MB.
    body_limit: 10 * 1024 * 1024,
};

/// Our French labels and synonyms, mapped to ESCO (see the module `analysis::skills`).
pub const SKILLS_TABLE: &str = include_str!("../data/skills.tsv");

#[derive(Debug, Clone)]
pub struct Config {
    pub service: ServiceConfig,
    /// `CV_PARSE_TIMEOUT_SECS` (10): a document not read by then is refused (422).
    pub parse_timeout: Duration,
    /// `CV_PARSE_PARALLEL` (the cores): documents parsed at once.
    pub parse_parallel: usize,
    /// `CV_MAX_PAGES` (30), `CV_MAX_ZIP_ENTRIES` (1000), `CV_MAX_INFLATED_MB` (64),
    /// `CV_MAX_TEXT_CHARS` (50000, about 20 dense pages: a CV with more text is refused
    /// (422) before analysis and embedding, whose cost grows with it).
    pub limits: Limits,
    /// `CV_PARSER` (this executable): the program run as the parsing child.
    pub parser: PathBuf,
    /// `CV_PARSER_MEMORY_MB` (1024): the parsing child's address space; CPU seconds are
    /// the parse timeout's.
    pub confinement: Confinement,
    /// `CV_PARSER_UID`, `CV_PARSER_GID` (65534, nobody): who the parsing child runs as
    /// when the service runs as root; otherwise it keeps the service's own user.
    pub parser_user: Option<(u32, u32)>,
    /// `SKILLS_REFERENTIAL` (`$REFERENTIALS_DIR/esco_skills_en.csv`, installed by
    /// `make setup`): ESCO's skills.
    pub skills_referential: PathBuf,
    pub embedding: EmbeddingConfig,
}

impl Config {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let service = ServiceConfig::from_env(env, DEFAULTS)?;
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        let parser = match env.raw("CV_PARSER") {
            Some(path) => PathBuf::from(path),
            None => std::env::current_exe().map_err(|e| {
                ConfigError::new("CV_PARSER", format!("cannot find this executable: {e}"))
            })?,
        };
        let skills_referential = match (env.raw("SKILLS_REFERENTIAL"), env.raw("REFERENTIALS_DIR"))
        {
            (Some(path), _) => PathBuf::from(path),
            (None, Some(dir)) => PathBuf::from(dir).join("esco_skills_en.csv"),
            (None, None) => return Err(ConfigError::new(
                "SKILLS_REFERENTIAL",
                "not set, nor REFERENTIALS_DIR: run `make setup` and source $JOBMATCH_CACHE/env",
            )),
        };
        let parse_timeout = env.seconds("CV_PARSE_TIMEOUT_SECS", Duration::from_secs(10))?;
        let parser_user = if rustix::process::geteuid().is_root() {
            Some((
                env.at_least_one("CV_PARSER_UID", 65534u32)?,
                env.at_least_one("CV_PARSER_GID", 65534u32)?,
            ))
        } else {
            None
        };
        Ok(Self {
            service,
            parse_timeout,
            parse_parallel: env.at_least_one("CV_PARSE_PARALLEL", cores)?,
            limits: Limits {
                max_pages: env.at_least_one("CV_MAX_PAGES", 30)?,
                max_zip_entries: env.at_least_one("CV_MAX_ZIP_ENTRIES", 1000)?,
                max_inflated_bytes: env.at_least_one("CV_MAX_INFLATED_MB", 64u64)? * 1024 * 1024,
                max_text_chars: env.at_least_one("CV_MAX_TEXT_CHARS", 50_000)?,
            },
            parser,
            confinement: Confinement {
                memory_bytes: env.at_least_one("CV_PARSER_MEMORY_MB", 1024u64)? * 1024 * 1024,
                // The wall-clock limit's backstop: a child that computes past it gets
                // SIGXCPU even if the service could not kill it.
                cpu_seconds: parse_timeout.as_secs().max(1) + 1,
            },
            parser_user,
            skills_referential,
            embedding: EmbeddingConfig::from_env(env)?,
        })
    }
}

impl Config {
    /// The parsing children's runner, as configured.
    pub fn sandbox(&self) -> Sandbox {
        Sandbox::new(
            self.parser.clone(),
            self.limits,
            self.confinement,
            self.parser_user,
            self.parse_timeout,
            self.parse_parallel,
        )
    }
}

/// What the service loads once: the skills referential and the embedding model.
#[derive(Clone)]
pub struct AppState {
    pub referential: Arc<Referential>,
    pub embedder: Arc<dyn embedding::Embedder>,
}

impl AppState {
    pub async fn load(config: &Config) -> anyhow::Result<Self> {
        let path = config.skills_referential.clone();
        let referential =
            tokio::task::spawn_blocking(move || Referential::load(&path, SKILLS_TABLE))
                .await?
                .map_err(anyhow::Error::msg)?;
        Ok(Self {
            referential: Arc::new(referential),
            embedder: embedding::from_config(&config.embedding).await?,
        })
    }
}

#[derive(OpenApi)]
#[openapi(
    info(description = "Turns a CV file into text, sections, skills, experiences and an embedding."),
    paths(api::analyze_cv),
    components(schemas(api::CvText, api::CvUpload, shared::CvAnalysis, shared::CvSection,
        shared::CvSectionKind, shared::CvSkill, shared::CvExperience, shared::CvEducation,
        shared::CvLanguage)),
    tags((name = "cv", description = "CV analysis"))
)]
struct ApiDoc;

pub fn router(config: &Config, state: AppState) -> Router {
    let cv = api::Cv {
        max_text_chars: config.limits.max_text_chars,
        sandbox: config.sandbox(),
        referential: state.referential,
        embedder: state.embedder,
    };
    ServiceApp::new(&config.service, ApiDoc::openapi())
        .internal(api::routes(cv))
        .into_router()
}

pub async fn serve(config: Config) -> anyhow::Result<()> {
    // Fail closed: a kernel that cannot confine the parsing child (no seccomp, say)
    // must not get untrusted documents parsed unconfined.
    let report = config.sandbox().check().await?;
    tracing::info!(uid = report.uid, refused = ?report.refused(), "parsing child confined");
    let state = AppState::load(&config).await?;
    platform::server::run(&config.service, router(&config, state)).await
}
