//! Prometheus metrics: requests by route, method and status, and a latency histogram.
//! One registry per service instance (no global recorder), so several services can run
//! in one process (tests, all-in-one launcher).

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::problem::Problem;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    method: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
    method: String,
}

/// The service's metrics registry and the HTTP metrics every service has.
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    in_flight: Gauge,
}

/// Latency buckets in seconds, from 1 ms to 30 s.
const LATENCY_BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

impl Metrics {
    /// A registry labelled with the service's name; `register` adds the service's own
    /// metrics.
    pub fn new(service: &'static str, register: impl FnOnce(&mut Registry)) -> Self {
        let mut registry = Registry::with_labels([("service".into(), service.into())].into_iter());
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(LATENCY_BUCKETS)
        });
        let in_flight = Gauge::default();
        registry.register(
            "http_requests",
            "HTTP requests handled, by route, method and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time to produce the response head, by route and method",
            latency.clone(),
        );
        registry.register(
            "http_requests_in_flight",
            "HTTP requests being handled",
            in_flight.clone(),
        );
        register(&mut registry);
        Self {
            registry: Arc::new(registry),
            requests,
            latency,
            in_flight,
        }
    }

    /// The Prometheus (OpenMetrics) text exposition.
    pub fn render(&self) -> Result<String, std::fmt::Error> {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)?;
        Ok(out)
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StageLabels {
    stage: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: String,
}

/// How long each stage of a piece of work took (a histogram by `stage`), for the
/// services' domain metrics. Stage names are the code's own constants: bounded.
#[derive(Clone, Debug)]
pub struct Stages(Family<StageLabels, Histogram>);

impl Default for Stages {
    fn default() -> Self {
        Self(Family::new_with_constructor(|| {
            Histogram::new(LATENCY_BUCKETS)
        }))
    }
}

impl Stages {
    /// Records `stage` as having run from `since` until now.
    pub fn observe(&self, stage: &str, since: Instant) {
        self.0
            .get_or_create(&StageLabels {
                stage: stage.to_owned(),
            })
            .observe(since.elapsed().as_secs_f64());
    }

    pub fn register(&self, registry: &mut Registry, name: &str, help: &str) {
        registry.register(name, help, self.0.clone());
    }
}

/// How often each outcome happened (a counter by `outcome`). Outcome names are the
/// code's own constants: bounded.
#[derive(Clone, Debug, Default)]
pub struct Outcomes(Family<OutcomeLabels, Counter>);

impl Outcomes {
    pub fn inc(&self, outcome: &str) {
        self.0
            .get_or_create(&OutcomeLabels {
                outcome: outcome.to_owned(),
            })
            .inc();
    }

    pub fn register(&self, registry: &mut Registry, name: &str, help: &str) {
        registry.register(name, help, self.0.clone());
    }
}

/// A database pool's use, read at each scrape: open connections, idle ones, the most
/// allowed. A pool with none idle and all open for long is saturated: requests wait
/// for a connection (`DATABASE_ACQUIRE_TIMEOUT_SECS`, then 503).
#[derive(Debug)]
struct PoolUse(sqlx::PgPool);

impl prometheus_client::collector::Collector for PoolUse {
    fn encode(
        &self,
        mut encoder: prometheus_client::encoding::DescriptorEncoder,
    ) -> Result<(), std::fmt::Error> {
        use prometheus_client::encoding::EncodeMetric;
        use prometheus_client::metrics::gauge::ConstGauge;
        let pool = &self.0;
        for (name, help, value) in [
            (
                "db_pool_connections",
                "Connections the database pool holds open",
                pool.size(),
            ),
            (
                "db_pool_idle",
                "Open connections of the pool waiting for a query",
                pool.num_idle() as u32,
            ),
            (
                "db_pool_max",
                "Connections the pool may open (DATABASE_MAX_CONNECTIONS)",
                pool.options().get_max_connections(),
            ),
        ] {
            let gauge = ConstGauge::new(i64::from(value));
            gauge.encode(encoder.encode_descriptor(name, help, None, gauge.metric_type())?)?;
        }
        Ok(())
    }
}

/// Registers `pool`'s use (`db_pool_connections`, `db_pool_idle`, `db_pool_max`).
pub fn register_pool(registry: &mut Registry, pool: &sqlx::PgPool) {
    registry.register_collector(Box::new(PoolUse(pool.clone())));
}

/// Records every request. Runs after routing, so the route is the matched pattern
/// (`/offers/{id}`), never the raw path: label cardinality stays bounded.
pub async fn middleware(State(metrics): State<Metrics>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = method_label(req.method()).to_owned();
    let started = Instant::now();
    metrics.in_flight.inc();
    let response = next.run(req).await;
    metrics.in_flight.dec();
    metrics
        .latency
        .get_or_create(&RouteLabels {
            route: route.clone(),
            method: method.clone(),
        })
        .observe(started.elapsed().as_secs_f64());
    metrics
        .requests
        .get_or_create(&RequestLabels {
            route,
            method,
            status: response.status().as_u16(),
        })
        .inc();
    response
}

/// The standard methods by name, any other under one value: a client inventing
/// methods must not create a series per invention.
fn method_label(method: &axum::http::Method) -> &'static str {
    const STANDARD: [&str; 9] = [
        "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT",
    ];
    STANDARD
        .into_iter()
        .find(|known| *known == method.as_str())
        .unwrap_or("other")
}

/// `GET /metrics`
#[utoipa::path(get, path = "/metrics", tag = "platform",
    responses((status = 200, description = "Prometheus text exposition", content_type = "application/openmetrics-text")))]
pub async fn handler(State(metrics): State<Metrics>) -> Response {
    match metrics.render() {
        Ok(text) => (
            [(
                CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )],
            text,
        )
            .into_response(),
        Err(e) => Problem::internal(&e).into_response(),
    }
}
