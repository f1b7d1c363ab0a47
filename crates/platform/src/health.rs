//! `/health/live` (the process answers) and `/health/ready` (its dependencies answer).

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use sqlx::PgPool;
use utoipa::ToSchema;

use crate::problem::Problem;

/// How long one readiness check may take before it counts as failed.
const CHECK_TIMEOUT: Duration = Duration::from_secs(3);

type CheckFuture = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;

/// One dependency that must answer for the service to be ready.
#[derive(Clone)]
pub struct ReadinessCheck {
    name: &'static str,
    check: Arc<dyn Fn() -> CheckFuture + Send + Sync>,
}

impl ReadinessCheck {
    pub fn new<F, Fut>(name: &'static str, check: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        Self {
            name,
            check: Arc::new(move || Box::pin(check())),
        }
    }

    /// The database answers a trivial query (on a connection that works: idle ones
    /// broken while the database was away do not count against it).
    pub fn database(pool: PgPool) -> Self {
        Self::new("database", move || {
            let pool = pool.clone();
            async move {
                crate::db::retry_broken(&pool, || {
                    sqlx::query!("SELECT 1 AS alive").fetch_one(&pool)
                })
                .await
                .map(drop)
                .map_err(|e| e.to_string())
            }
        })
    }

    async fn run(&self) -> Result<(), String> {
        match tokio::time::timeout(CHECK_TIMEOUT, (self.check)()).await {
            Ok(result) => result,
            Err(_) => Err(format!("no answer within {} s", CHECK_TIMEOUT.as_secs())),
        }
    }
}

/// The checks of `/health/ready`.
#[derive(Clone, Default)]
pub struct Readiness(Arc<Vec<ReadinessCheck>>);

impl Readiness {
    pub fn new(checks: Vec<ReadinessCheck>) -> Self {
        Self(Arc::new(checks))
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HealthStatus {
    /// `ok` or `ready`.
    pub status: &'static str,
    /// Each dependency checked, with `ok`.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub checks: BTreeMap<&'static str, &'static str>,
}

/// `GET /health/live`
#[utoipa::path(get, path = "/health/live", tag = "platform",
    responses((status = 200, description = "The process answers", body = HealthStatus)))]
pub async fn live() -> Json<HealthStatus> {
    Json(HealthStatus {
        status: "ok",
        checks: BTreeMap::new(),
    })
}

/// `GET /health/ready`
#[utoipa::path(get, path = "/health/ready", tag = "platform",
    responses(
        (status = 200, description = "Every dependency answers", body = HealthStatus),
        (status = 503, description = "A dependency does not answer", body = shared::ProblemBody, content_type = "application/problem+json")))]
pub async fn ready(State(readiness): State<Readiness>) -> Response {
    // Checks run concurrently: one slow dependency does not delay the others' verdict.
    let mut set = tokio::task::JoinSet::new();
    for (i, check) in readiness.0.iter().cloned().enumerate() {
        set.spawn(async move { (i, check.name, check.run().await) });
    }
    let mut results = Vec::with_capacity(readiness.0.len());
    while let Some(joined) = set.join_next().await {
        results.push(joined.unwrap_or_else(|e| (usize::MAX, "check", Err(e.to_string()))));
    }
    results.sort_by_key(|(i, _, _)| *i);
    let failures: Vec<String> = results
        .iter()
        .filter_map(|(_, name, r)| r.as_ref().err().map(|e| format!("{name}: {e}")))
        .collect();
    if failures.is_empty() {
        Json(HealthStatus {
            status: "ready",
            checks: results
                .into_iter()
                .map(|(_, name, _)| (name, "ok"))
                .collect(),
        })
        .into_response()
    } else {
        // The errors go to the log only: readiness is public on the GUI, and an error's
        // text (hosts, users, drivers' messages) is for operators.
        tracing::warn!(failures = ?failures, "not ready");
        let down: Vec<&str> = results
            .iter()
            .filter(|(_, _, r)| r.is_err())
            .map(|(_, name, _)| *name)
            .collect();
        Problem::unavailable(format!("not ready: {}", down.join(", "))).into_response()
    }
}
