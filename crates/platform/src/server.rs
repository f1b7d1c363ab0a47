//! Assembly of a service's router with every platform layer, and serving it with a
//! graceful shutdown.

use std::future::{Future, IntoFuture};
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::header::{AUTHORIZATION, COOKIE, SET_COOKIE};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::sensitive_headers::SetSensitiveHeadersLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;
use utoipa::openapi::OpenApi as OpenApiDoc;

use crate::auth::require_caller;
use crate::config::ServiceConfig;
use crate::docs;
use crate::health::{self, Readiness, ReadinessCheck};
use crate::metrics::{self, Metrics};
use crate::problem::{self, Problem};
use crate::request_id::{self, RequestId};

/// A service's routes plus everything the platform adds around them.
pub struct ServiceApp {
    config: ServiceConfig,
    openapi: OpenApiDoc,
    metrics: Option<Metrics>,
    readiness: Vec<ReadinessCheck>,
    internal: Router,
    public: Router,
    error_page: Option<problem::ErrorPage>,
    private_docs: bool,
}

impl ServiceApp {
    pub fn new(config: &ServiceConfig, openapi: OpenApiDoc) -> Self {
        Self {
            config: config.clone(),
            openapi,
            metrics: None,
            readiness: Vec::new(),
            internal: Router::new(),
            public: Router::new(),
            error_page: None,
            private_docs: false,
        }
    }

    /// The service's metrics registry (one with the HTTP metrics only by default).
    pub fn metrics(mut self, metrics: Metrics) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// A dependency `/health/ready` checks.
    pub fn readiness(mut self, check: ReadinessCheck) -> Self {
        self.readiness.push(check);
        self
    }

    /// Routes for other services: they need the bearer service token.
    pub fn internal(mut self, routes: Router) -> Self {
        self.internal = self.internal.merge(routes);
        self
    }

    /// API docs (`/docs`, `/openapi.json`) only for callers with a token: a public
    /// service's docs would describe its internal routes to anyone.
    pub fn private_docs(mut self) -> Self {
        self.private_docs = true;
        self
    }

    /// Routes open to anyone (the GUI's pages).
    pub fn public(mut self, routes: Router) -> Self {
        self.public = self.public.merge(routes);
        self
    }

    /// The page a browser gets for the errors the platform itself answers (a body over
    /// the limit, a timeout, a panic, a rejected form), instead of problem+json.
    pub fn error_page(mut self, page: problem::ErrorPage) -> Self {
        self.error_page = Some(page);
        self
    }

    pub fn into_router(self) -> Router {
        let Self {
            config,
            openapi,
            metrics,
            readiness,
            internal,
            public,
            error_page,
            private_docs,
        } = self;
        let name = config.name;
        let metrics = metrics.unwrap_or_else(|| Metrics::new(name, |_| {}));
        let docs = docs::router(
            name,
            docs::complete(name, openapi),
            config.docs_assets_dir.clone(),
        );
        // Metrics are internal too: the GUI is public, its counters are not.
        let mut internal = internal.route(
            "/metrics",
            get(metrics::handler).with_state(metrics.clone()),
        );
        let mut platform = Router::new()
            .route("/health/live", get(health::live))
            .route(
                "/health/ready",
                get(health::ready).with_state(Readiness::new(readiness)),
            );
        if private_docs {
            internal = internal.merge(docs);
        } else {
            platform = platform.merge(docs);
        }
        // route_layer: an unknown path stays a 404, not a 401.
        let internal = internal.route_layer(middleware::from_fn_with_state(
            config.callers.clone(),
            require_caller,
        ));

        // Layers run outside in, from the last added to the first.
        platform
            .merge(internal)
            .merge(public)
            .fallback(problem::not_found)
            .layer(CatchPanicLayer::custom(panic_response))
            .layer(DefaultBodyLimit::max(config.body_limit))
            .layer(RequestBodyLimitLayer::new(config.body_limit))
            .layer(middleware::from_fn_with_state(
                config.request_timeout,
                timeout,
            ))
            .layer(middleware::from_fn_with_state(
                problem::Limits {
                    body_bytes: config.body_limit,
                    error_page,
                },
                problem::middleware,
            ))
            .layer(middleware::from_fn_with_state(metrics, metrics::middleware))
            .layer(
                TraceLayer::new_for_http()
                    .make_span_with(move |req: &Request| request_span(name, req))
                    .on_response(DefaultOnResponse::new().level(Level::INFO)),
            )
            .layer(middleware::from_fn(request_id::middleware))
            .layer(SetSensitiveHeadersLayer::new([
                AUTHORIZATION,
                COOKIE,
                SET_COOKIE,
            ]))
    }
}

/// A panicking handler: its message goes to the log (it may hold internals), the caller
/// gets a generic 500.
fn panic_response(payload: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let message = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string panic payload".to_owned());
    Problem::internal(&format!("handler panicked: {message}")).into_response()
}

fn request_span(service: &'static str, req: &Request) -> tracing::Span {
    let request_id = req
        .extensions()
        .get::<RequestId>()
        .map_or("", RequestId::as_str);
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| req.uri().path(), MatchedPath::as_str);
    let span = tracing::info_span!(
        "request",
        service,
        method = %req.method(),
        route,
        request_id,
        caller = tracing::field::Empty
    );
    crate::telemetry::continue_trace(&span, req.headers());
    span
}

/// Answers 503 problem+json when the handler takes longer than the configured limit.
async fn timeout(State(limit): State<Duration>, req: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(response) => response,
        Err(_) => Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "timeout",
            "Request timed out",
        )
        .detail(format!(
            "the request took longer than {} s (REQUEST_TIMEOUT_SECS)",
            limit.as_secs()
        ))
        .into_response(),
    }
}

/// Completes when the process gets SIGTERM or SIGINT. The handlers are installed when
/// this is called, not when the future is first polled, so no signal is missed.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).expect("cannot install the SIGTERM handler");
    let mut int = signal(SignalKind::interrupt()).expect("cannot install the SIGINT handler");
    async move {
        let name = tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = int.recv() => "SIGINT",
        };
        tracing::info!(signal = name, "shutdown requested");
    }
}

/// Serves `router` until `shutdown` completes, then lets in-flight requests finish for at
/// most `grace`.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> std::io::Result<()> {
    let (stopping_tx, mut stopping_rx) = tokio::sync::watch::channel(false);
    // No Nagle delay: small JSON answers leave at once instead of waiting for an ACK.
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp: &mut tokio::net::TcpStream| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
    });
    // The peer's address reaches handlers (`ConnectInfo`): the GUI limits attempts by it.
    let app = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        shutdown.await;
        tracing::info!("finishing in-flight requests");
        let _ = stopping_tx.send(true);
    });
    let grace_over = async move {
        if stopping_rx.wait_for(|stopping| *stopping).await.is_ok() {
            tokio::time::sleep(grace).await;
        } else {
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        result = server.into_future() => result,
        () = grace_over => {
            tracing::warn!(grace_secs = grace.as_secs(), "grace period over; dropping the requests still running");
            Ok(())
        }
    }
}

/// Binds the configured address and serves until SIGTERM/SIGINT.
pub async fn run(config: &ServiceConfig, router: Router) -> anyhow::Result<()> {
    let listener = TcpListener::bind(config.bind_addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {} (BIND_ADDR): {e}", config.bind_addr))?;
    tracing::info!(service = config.name, addr = %config.bind_addr, "listening");
    serve(listener, router, shutdown_signal(), config.shutdown_grace).await?;
    tracing::info!(service = config.name, "stopped");
    Ok(())
}
