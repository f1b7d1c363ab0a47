//! Structured logs with `tracing`: human-readable text by default, one JSON object a line
//! with `LOG_FORMAT=json`. Every line logged while serving a request carries the
//! request's span (service, method, route, request id).

use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Log filter when `RUST_LOG` is unset: our crates at info, the rest at warn.
const DEFAULT_FILTER: &str = "info,sqlx=warn,hyper=warn,reqwest=warn,ort=warn";

/// Where logs go: stdout for services, stderr for commands whose stdout is their output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogTarget {
    Stdout,
    Stderr,
}

/// Installs the global subscriber. Fails if one is already installed.
pub fn init(format: LogFormat, target: LogTarget) -> anyhow::Result<()> {
    // Colours only for a person at a terminal, never in files or collectors.
    use std::io::IsTerminal;
    match target {
        LogTarget::Stdout => install(format, std::io::stdout().is_terminal(), std::io::stdout),
        LogTarget::Stderr => install(format, std::io::stderr().is_terminal(), std::io::stderr),
    }
}

/// Installs the global subscriber writing to `writer` (tests capture logs this way).
pub fn init_with_writer<W>(format: LogFormat, writer: W) -> anyhow::Result<()>
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    install(format, false, writer)
}

fn install<W>(format: LogFormat, ansi: bool, writer: W) -> anyhow::Result<()>
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(writer);
    let result = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(true)
            .try_init(),
    };
    result.map_err(|e| anyhow::anyhow!("cannot install the log subscriber: {e}"))
}
