//! What every jobmatch service shares: typed config, telemetry, request ids, errors as
//! problem+json, health, metrics, API docs, service auth, database pool and migrations,
//! the inter-service HTTP client, and the server with its graceful shutdown.

pub mod auth;
pub mod config;
pub mod db;
pub mod docs;
pub mod health;
pub mod http_client;
pub mod metrics;
pub mod problem;
pub mod progress;
pub mod request_id;
pub mod server;
pub mod telemetry;

use std::future::Future;
use std::process::ExitCode;

pub use config::{ConfigError, Env};
pub use problem::Problem;
pub use server::{serve, shutdown_signal, ServiceApp};
pub use telemetry::LogTarget;

/// The body of every `main`: reads the configuration from the process environment (one
/// line naming the variable and exit code 2 when it is wrong), installs logging (stdout
/// for services, stderr for commands whose stdout is their output), and runs `serve` on
/// a multi-threaded runtime (exit code 1 when it fails).
pub fn run_main<C, F, Fut>(
    name: &str,
    logs: LogTarget,
    load: impl FnOnce(&Env) -> Result<C, ConfigError>,
    serve: F,
) -> ExitCode
where
    F: FnOnce(C) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let env = Env::from_process();
    let loaded = env
        .or("LOG_FORMAT", config::LogFormat::Text)
        .and_then(|format| Ok((format, load(&env)?)));
    let (format, config) = match loaded {
        Ok(loaded) => loaded,
        Err(e) => {
            eprintln!("{name}: configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    let traces = match telemetry::Traces::from_env(&env, name) {
        Ok(traces) => traces,
        Err(e) => {
            eprintln!("{name}: configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    if let Err(e) = telemetry::init(format, logs, traces.as_ref()) {
        eprintln!("{name}: {e}");
        return ExitCode::FAILURE;
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("{name}: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let code = match runtime.block_on(serve(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "{name} stopped on an error");
            eprintln!("{name}: {e:#}");
            ExitCode::FAILURE
        }
    };
    // Outside the runtime: the exporter's client blocks.
    if let Some(traces) = traces {
        traces.shutdown();
    }
    code
}
