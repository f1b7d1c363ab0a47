//! cv-ingestion: `POST /cv`, a CV file in, a structured analysis out. It stores
//! nothing, so it has no database.

use axum::Router;
use platform::config::{ServiceConfig, ServiceDefaults};
use platform::{ConfigError, Env, ServiceApp};
use utoipa::OpenApi;

pub const NAME: &str = "cv-ingestion";

const DEFAULTS: ServiceDefaults = ServiceDefaults {
    name: NAME,
    port: 8083,
    // CV files: PDF, DOCX, ODT up to 10 MB.
    body_limit: 10 * 1024 * 1024,
};

#[derive(Debug, Clone)]
pub struct Config {
    pub service: ServiceConfig,
}

impl Config {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            service: ServiceConfig::from_env(env, DEFAULTS)?,
        })
    }
}

#[derive(OpenApi)]
#[openapi(info(description = "Turns a CV file into text, skills, experiences and an embedding."))]
struct ApiDoc;

pub fn router(config: &Config) -> Router {
    ServiceApp::new(&config.service, ApiDoc::openapi()).into_router()
}

pub async fn serve(config: Config) -> anyhow::Result<()> {
    platform::server::run(&config.service, router(&config)).await
}
