//! Structured logs with `tracing`: human-readable text by default, one JSON object a line
//! with `LOG_FORMAT=json`. Every line logged while serving a request carries the
//! request's span (service, method, route, request id).
//!
//! Traces: with `OTEL_EXPORTER_OTLP_ENDPOINT` (an OTLP/HTTP receiver's base URL, e.g. an
//! OpenTelemetry collector's `http://otel-collector:4318`), the same spans are exported
//! as OTLP/HTTP JSON, and the W3C trace context (`traceparent`) goes out on every call
//! between the services ([`crate::http_client`]) and is taken up by the request span of
//! the service called ([`crate::server`]): one trace follows a request through them.

use std::time::Duration;

use opentelemetry::propagation::{Extractor, Injector};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry::Context;
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use opentelemetry_sdk::Resource;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::config::LogFormat;
use crate::{ConfigError, Env};

/// The OTLP export of a process's spans; flushed and stopped by [`Traces::shutdown`]
/// when the process ends (spans still buffered would be lost otherwise).
pub struct Traces {
    provider: SdkTracerProvider,
    service: String,
}

impl Traces {
    /// The export `OTEL_EXPORTER_OTLP_ENDPOINT` asks for, or none when it is unset.
    /// `OTEL_SERVICE_NAME` names the process in the traces (default: `service`). Build it
    /// before the async runtime starts: its HTTP client is a blocking one, run by the
    /// exporter's own thread.
    pub fn from_env(env: &Env, service: &str) -> Result<Option<Self>, ConfigError> {
        let Some(endpoint) = env.optional::<String>("OTEL_EXPORTER_OTLP_ENDPOINT")? else {
            return Ok(None);
        };
        let service = env.or("OTEL_SERVICE_NAME", service.to_owned())?;
        // The base URL, as the specification says: the signal's path is appended.
        let url = format!("{}/v1/traces", endpoint.trim_end_matches('/'));
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpJson)
            .with_endpoint(url)
            .with_timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| {
                ConfigError::new(
                    "OTEL_EXPORTER_OTLP_ENDPOINT",
                    format!("{endpoint:?} is no OTLP/HTTP base URL ({e})"),
                )
            })?;
        let provider = SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(
                Resource::builder()
                    .with_service_name(service.clone())
                    .build(),
            )
            .build();
        opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
        Ok(Some(Self { provider, service }))
    }

    /// Exports what is buffered now (blocks until done).
    pub fn flush(&self) {
        if let Err(e) = self.provider.force_flush() {
            tracing::warn!(error = %e, "spans not exported");
        }
    }

    /// Exports what is buffered and stops the export.
    pub fn shutdown(self) {
        if let Err(e) = self.provider.shutdown() {
            eprintln!("{}: spans not exported at exit: {e}", self.service);
        }
    }
}

/// The trace context of the current span, as `traceparent` (and `tracestate`) headers
/// for a call to another service; nothing when traces are not exported.
pub fn trace_headers() -> Vec<(String, String)> {
    struct Headers(Vec<(String, String)>);
    impl Injector for Headers {
        fn set(&mut self, key: &str, value: String) {
            self.0.push((key.to_owned(), value));
        }
    }
    let context = tracing::Span::current().context();
    let mut headers = Headers(Vec::new());
    opentelemetry::global::get_text_map_propagator(|p| p.inject_context(&context, &mut headers));
    headers.0
}

/// Makes the trace context a caller sent (`traceparent`) the parent of `span`.
pub fn continue_trace(span: &tracing::Span, headers: &axum::http::HeaderMap) {
    struct Headers<'a>(&'a axum::http::HeaderMap);
    impl Extractor for Headers<'_> {
        fn get(&self, key: &str) -> Option<&str> {
            self.0.get(key).and_then(|v| v.to_str().ok())
        }
        fn keys(&self) -> Vec<&str> {
            self.0.keys().map(|k| k.as_str()).collect()
        }
    }
    let parent: Context =
        opentelemetry::global::get_text_map_propagator(|p| p.extract(&Headers(headers)));
    span.set_parent(parent);
}

/// Log filter when `RUST_LOG` is unset: our crates at info, the rest at warn.
const DEFAULT_FILTER: &str = "info,sqlx=warn,hyper=warn,reqwest=warn,ort=warn";

/// Where logs go: stdout for services, stderr for commands whose stdout is their output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogTarget {
    Stdout,
    Stderr,
}

/// Installs the global subscriber, exporting spans through `traces` when given. Fails
/// if one is already installed.
pub fn init(format: LogFormat, target: LogTarget, traces: Option<&Traces>) -> anyhow::Result<()> {
    // Colours only for a person at a terminal, never in files or collectors.
    use std::io::IsTerminal;
    match target {
        LogTarget::Stdout => install(
            format,
            std::io::stdout().is_terminal(),
            std::io::stdout,
            traces,
        ),
        LogTarget::Stderr => install(
            format,
            std::io::stderr().is_terminal(),
            std::io::stderr,
            traces,
        ),
    }
}

/// Installs the global subscriber writing to `writer` (tests capture logs this way).
pub fn init_with_writer<W>(
    format: LogFormat,
    writer: W,
    traces: Option<&Traces>,
) -> anyhow::Result<()>
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    install(format, false, writer, traces)
}

fn install<W>(
    format: LogFormat,
    ansi: bool,
    writer: W,
    traces: Option<&Traces>,
) -> anyhow::Result<()>
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let logs = tracing_subscriber::fmt::layer()
        .with_ansi(ansi)
        .with_writer(writer);
    let logs = match format {
        LogFormat::Text => logs.boxed(),
        LogFormat::Json => logs
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(true)
            .boxed(),
    };
    let spans = traces
        .map(|t| tracing_opentelemetry::layer().with_tracer(t.provider.tracer(t.service.clone())));
    tracing_subscriber::registry()
        .with(filter)
        .with(logs)
        .with(spans)
        .try_init()
        .map_err(|e| anyhow::anyhow!("cannot install the log subscriber: {e}"))
}
