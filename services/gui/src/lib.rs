//! gui: the candidates' web application (French). It owns and migrates the `gui`
//! schema and calls the other services.

pub mod accounts;
pub mod client_ip;
pub mod contracts;
pub mod cv_client;
pub mod interactions;
pub mod learning;
pub mod matches;
pub mod notifications;
pub mod profile;
pub mod rate_limit;
pub mod session;
pub mod variants;
pub mod web;
pub mod worker;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::routing::get;
use axum::Router;
use platform::config::{DatabaseConfig, ServiceConfig, ServiceDefaults};
use platform::health::ReadinessCheck;
use platform::http_client::ServiceClient;
use platform::metrics::{Metrics, Outcomes};
use platform::{ConfigError, Env, ServiceApp};
use sqlx::PgPool;
use utoipa::OpenApi;

pub const NAME: &str = "gui";

/// The body of any form but the CV upload, at most.
pub const FORM_BYTES: usize = 16 * 1024;

const DEFAULTS: ServiceDefaults = ServiceDefaults {
    name: NAME,
    port: 8080,
    // The CV upload's (`profile::CV_UPLOAD_BYTES`); every other form gets `FORM_BYTES`.
    body_limit: profile::CV_UPLOAD_BYTES,
};

#[derive(Debug, Clone)]
pub struct Config {
    pub service: ServiceConfig,
    /// The owner of the `gui` schema: it runs the schema's migrations.
    pub database: DatabaseConfig,
    /// `COOKIE_SECURE` (true): cookies only over HTTPS. Browsers treat
    /// http://127.0.0.1 and http://localhost as secure, so `make run` keeps it.
    pub cookie_secure: bool,
    /// `TRUSTED_PROXIES` (none): addresses or networks of the reverse proxies in front of
    /// the GUI, whose `X-Forwarded-For` names the client (see `client_ip`).
    pub trusted_proxies: Vec<client_ip::Network>,
    /// `SESSION_TTL_HOURS` (12): how long a session lasts after log-in, at most.
    pub session_ttl_hours: u32,
    /// `SESSION_IDLE_MINUTES` (30): a session left unused this long ends (OWASP ASVS
    /// level 2: 12 hours at most, 30 minutes idle).
    pub session_idle_minutes: u32,
    /// `CV_INGESTION_URL` (http://127.0.0.1:8083): reads CVs and embeds profiles.
    pub cv_ingestion_url: reqwest::Url,
    /// `CV_INGESTION_TIMEOUT_SECS` (12): reading a CV takes seconds (cv-ingestion gives
    /// up parsing at 10 by default). A CV upload calls cv-ingestion twice (reading, then
    /// the profile's embedding): twice this must stay under `REQUEST_TIMEOUT_SECS`.
    pub cv_ingestion_timeout: Duration,
    /// `MATCHING_URL` (http://127.0.0.1:8081) and `OFFRE_INGESTION_URL`
    /// (http://127.0.0.1:8082): the matches and the offers' details.
    pub matching_url: reqwest::Url,
    pub offre_ingestion_url: reqwest::Url,
    /// `DOWNSTREAM_TIMEOUT_SECS` (3): past it, matching or offre-ingestion counts as
    /// down and the cached matches are shown, marked out of date; also how long the
    /// matches page waits for cv-ingestion when it retries a profile's embedding.
    pub downstream_timeout: Duration,
    /// `REFERENTIALS_DIR` (from `make setup`'s env file): communes for the candidates'
    /// places.
    pub referentials: PathBuf,
    /// `RANKING_VARIANTS` (one, `control`): the A/B variants of ranking and their shares.
    pub variants: variants::Variants,
}

impl Config {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let session_ttl_hours = env.at_least_one("SESSION_TTL_HOURS", 12u32)?;
        let session_idle_minutes = env.at_least_one("SESSION_IDLE_MINUTES", 30u32)?;
        let trusted_proxies = client_ip::parse_networks(&env.or("TRUSTED_PROXIES", String::new())?)
            .map_err(|e| ConfigError::new("TRUSTED_PROXIES", e))?;
        let service = ServiceConfig::from_env(env, DEFAULTS)?;
        let cv_ingestion_timeout =
            env.seconds("CV_INGESTION_TIMEOUT_SECS", Duration::from_secs(12))?;
        if cv_ingestion_timeout * 2 >= service.request_timeout {
            return Err(ConfigError::new(
                "CV_INGESTION_TIMEOUT_SECS",
                "twice it must stay under REQUEST_TIMEOUT_SECS (a CV upload calls cv-ingestion twice)",
            ));
        }
        let database = DatabaseConfig::from_env(env)?;
        let referentials: PathBuf = env.optional("REFERENTIALS_DIR")?.ok_or_else(|| {
            ConfigError::new(
                "REFERENTIALS_DIR",
                "missing: run `make setup` and source $JOBMATCH_CACHE/env",
            )
        })?;
        Ok(Self {
            service,
            database,
            cookie_secure: env.or("COOKIE_SECURE", true)?,
            session_ttl_hours,
            session_idle_minutes,
            trusted_proxies,
            cv_ingestion_url: env.or(
                "CV_INGESTION_URL",
                "http://127.0.0.1:8083".parse().expect("a URL"),
            )?,
            cv_ingestion_timeout,
            matching_url: env.or(
                "MATCHING_URL",
                "http://127.0.0.1:8081".parse().expect("a URL"),
            )?,
            offre_ingestion_url: env.or(
                "OFFRE_INGESTION_URL",
                "http://127.0.0.1:8082".parse().expect("a URL"),
            )?,
            downstream_timeout: env.seconds("DOWNSTREAM_TIMEOUT_SECS", Duration::from_secs(3))?,
            referentials,
            variants: variants::Variants::from_env(env)?,
        })
    }
}

#[derive(Clone)]
pub struct AppState {
    pub db: PgPool,
    pub cookie_secure: bool,
    pub session_ttl: chrono::TimeDelta,
    pub session_idle: chrono::TimeDelta,
    pub trusted_proxies: Arc<Vec<client_ip::Network>>,
    pub cv: ServiceClient,
    /// `DOWNSTREAM_TIMEOUT_SECS`: also the matches page's patience with cv-ingestion
    /// when it retries a profile embedding that is behind the profile.
    pub downstream_timeout: Duration,
    pub matching: ServiceClient,
    pub offers: ServiceClient,
    pub communes: Arc<Vec<places::Commune>>,
    /// The matches page's cache: what each access did, and why it refreshed.
    pub matches_cache: Outcomes,
    pub matches_refreshes: Outcomes,
    /// Each candidate's ranking variant.
    pub variants: Arc<variants::Variants>,
}

impl AppState {
    /// Connects and brings the `gui` schema up to date.
    pub async fn connect(config: &Config) -> anyhow::Result<Self> {
        platform::db::migrate(&config.database, NAME, &schemas::GUI).await?;
        let dir = config.referentials.clone();
        let communes = tokio::task::spawn_blocking(move || places::load(&dir)).await??;
        let token = config.service.service_token.clone();
        Ok(Self {
            db: platform::db::pool(&config.database, NAME)?,
            cookie_secure: config.cookie_secure,
            session_ttl: chrono::TimeDelta::hours(i64::from(config.session_ttl_hours)),
            session_idle: chrono::TimeDelta::minutes(i64::from(config.session_idle_minutes)),
            trusted_proxies: Arc::new(config.trusted_proxies.clone()),
            cv: ServiceClient::new(
                config.cv_ingestion_url.clone(),
                token.clone(),
                config.cv_ingestion_timeout,
            )?,
            downstream_timeout: config.downstream_timeout,
            matching: ServiceClient::new(
                config.matching_url.clone(),
                token.clone(),
                config.downstream_timeout,
            )?,
            offers: ServiceClient::new(
                config.offre_ingestion_url.clone(),
                token,
                config.downstream_timeout,
            )?,
            communes: Arc::new(communes),
            matches_cache: Outcomes::default(),
            matches_refreshes: Outcomes::default(),
            variants: Arc::new(config.variants.clone()),
        })
    }
}

#[derive(OpenApi)]
#[openapi(info(description = "The candidates' web application (HTML pages, in French)."))]
struct ApiDoc;

const STYLESHEET: &str = include_str!("../static/app.css");
/// What the pages do with JavaScript beyond htmx (nothing they need to work).
const SCRIPT: &str = include_str!("../static/app.js");
/// htmx, vendored (static/VENDORED.md).
const HTMX: &str = include_str!("../static/htmx.min.js");

/// A file built into the binary, served with its type and how long browsers keep it.
fn asset(
    content_type: &'static str,
    max_age_secs: u32,
    body: &'static str,
) -> axum::routing::MethodRouter<AppState> {
    let cache = format!("public, max-age={max_age_secs}");
    get(move || async move {
        (
            [
                (CONTENT_TYPE, content_type.to_owned()),
                (CACHE_CONTROL, cache),
            ],
            body,
        )
    })
}

pub fn router(config: &Config, state: AppState) -> Router {
    let pages = accounts::routes()
        .merge(profile::routes())
        .merge(matches::routes())
        .merge(interactions::routes())
        .merge(notifications::routes())
        .route("/static/app.css", asset("text/css", 3600, STYLESHEET))
        .route("/static/htmx.min.js", asset("text/javascript", 86400, HTMX))
        .route("/static/app.js", asset("text/javascript", 3600, SCRIPT))
        // A form is a few fields: more is refused (413) before it is read, except the
        // CV upload's route, whose own limit is set inside this one.
        .layer(axum::extract::DefaultBodyLimit::max(FORM_BYTES))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            session::csrf_cookie,
        ))
        .with_state(state.clone())
        .layer(axum::middleware::map_response(web::security_headers));
    let metrics = Metrics::new(NAME, |registry| {
        platform::metrics::register_pool(registry, &state.db);
        state.matches_cache.register(
            registry,
            "matches_page_cache",
            "Matches page accesses: hit (cached shown as is), refreshed, refresh_failed (cached shown, out of date), embedding_behind",
        );
        state.matches_refreshes.register(
            registry,
            "matches_refreshes",
            "Refreshes of a candidate's matches, by reason: empty, expired, profile_changed, new_offers, asked",
        );
    });
    ServiceApp::new(&config.service, ApiDoc::openapi())
        .metrics(metrics)
        .readiness(ReadinessCheck::database(state.db))
        // Only the candidates' pages are public; the docs are the operators'.
        .private_docs()
        .public(pages)
        .error_page(web::error_page)
        .into_router()
}

pub async fn serve(config: Config) -> anyhow::Result<()> {
    let state = AppState::connect(&config).await?;
    let cleaning = tokio::spawn(rate_limit::clean_on_schedule(state.db.clone()));
    let served = platform::server::run(&config.service, router(&config, state)).await;
    cleaning.abort();
    served
}
