//! `POST /match`: the offers nearest a CV embedding by cosine similarity, read from the
//! gold table's HNSW index.
//!
//! Filters are applied inside the index scan with pgvector's iterative scan
//! (`hnsw.iterative_scan = relaxed_order`): when a filter rejects most of the nearest
//! candidates, the scan goes on past `ef_search` until `limit` rows pass (bounded by
//! `hnsw.max_scan_tuples`), instead of returning fewer rows than asked. Relaxed order is
//! faster than strict order; the final order is restored by sorting the few rows found,
//! by score then offer id, so the same request always gets the same answer.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use pgvector::Vector;
use platform::Problem;
use shared::{MatchFilters, MatchHit, MatchRequest, ProblemBody, MAX_MATCH_LIMIT};
use sqlx::PgPool;

/// Candidates fetched beyond `limit`, so that ties at the cut are settled by id.
pub const TIE_SLACK: i64 = 10;

/// The search, run in a transaction that set `hnsw.ef_search` and the iterative scan.
/// Binds: vector, model, contract types, ROME codes, published after, lat, lon,
/// radius km (NULL for no filter), candidates (`limit + TIE_SLACK`), limit.
pub const MATCH_SQL: &str = "WITH nearest AS MATERIALIZED (
                SELECT offer_id, embedding <=> $1 AS distance
                FROM offers.embeddings
                WHERE model = $2 AND NOT archived
                  AND ($3::text[] IS NULL OR contract_type = ANY($3))
                  AND ($4::text[] IS NULL OR rome_code = ANY($4))
                  AND ($5::timestamptz IS NULL OR published_at >= $5)
                  AND ($6::float8 IS NULL OR (latitude IS NOT NULL AND
                       2 * 6371.0088 * asin(sqrt(
                           sin(radians(latitude - $6) / 2) ^ 2
                           + cos(radians($6)) * cos(radians(latitude)) * sin(radians(longitude - $7) / 2) ^ 2
                       )) <= $8))
                ORDER BY embedding <=> $1
                LIMIT $9
             )
             SELECT offer_id, 1 - distance FROM nearest ORDER BY distance, offer_id LIMIT $10";

#[derive(Clone)]
pub struct Search {
    pub db: PgPool,
    /// The model whose vectors this service compares (`MATCH_MODEL`).
    pub model: String,
    /// Its vectors' length (`MATCH_DIM`).
    pub dim: usize,
    /// `hnsw.ef_search` for every query (`MATCH_EF_SEARCH`).
    pub ef_search: u32,
}

/// matching's errors, each a problem+json.
#[derive(Debug, thiserror::Error)]
pub enum MatchError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

impl IntoResponse for MatchError {
    fn into_response(self) -> Response {
        match self {
            Self::Invalid(detail) => Problem::validation(detail),
            Self::Database(e) => Problem::internal(&e),
        }
        .into_response()
    }
}

pub fn routes(search: Search) -> Router {
    Router::new()
        .route("/match", post(match_offers))
        .with_state(search)
}

/// The best offers for a CV embedding, best first.
#[utoipa::path(post, path = "/match", tag = "matching", request_body = MatchRequest,
    security(("service_token" = [])),
    responses(
        (status = 200, description = "Offers by cosine similarity, best first", body = [MatchHit]),
        (status = 422, description = "An embedding of the wrong model or length, empty, non-finite or all zeros; a limit outside 1..100; a bad filter", body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, description = "Missing or wrong service token", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn match_offers(
    State(search): State<Search>,
    Json(request): Json<MatchRequest>,
) -> Result<Json<Vec<MatchHit>>, MatchError> {
    search.validate(&request)?;
    Ok(Json(search.run(&request).await?))
}

impl Search {
    fn validate(&self, request: &MatchRequest) -> Result<(), MatchError> {
        let invalid = |s: String| Err(MatchError::Invalid(s));
        if let Some(model) = &request.model {
            if *model != self.model {
                return invalid(format!(
                    "model {model:?}: this service compares vectors of {:?} only",
                    self.model
                ));
            }
        }
        let v = &request.cv_embedding;
        if v.is_empty() {
            return invalid(format!(
                "cv_embedding is empty; expected {} values",
                self.dim
            ));
        }
        if v.len() != self.dim {
            return invalid(format!(
                "cv_embedding has {} values; expected {} for model {}",
                v.len(),
                self.dim,
                self.model
            ));
        }
        if let Some(i) = v.iter().position(|x| !x.is_finite()) {
            return invalid(format!("cv_embedding[{i}] is not a finite number"));
        }
        if v.iter().all(|x| *x == 0.0) {
            return invalid("cv_embedding is all zeros: its cosine similarity is undefined".into());
        }
        let limit = request.effective_limit();
        if !(1..=MAX_MATCH_LIMIT).contains(&limit) {
            return invalid(format!("limit is {limit}; expected 1 to {MAX_MATCH_LIMIT}"));
        }
        if let Some(filters) = &request.filters {
            check_filters(filters).map_err(MatchError::Invalid)?;
        }
        Ok(())
    }

    /// Runs the search, once more on another connection when the first one turns out to
    /// have been broken while idle (database restarted, connection cut): the pool does not
    /// ping connections before use, to spare a round trip per search.
    async fn run(&self, request: &MatchRequest) -> Result<Vec<MatchHit>, sqlx::Error> {
        match self.run_once(request).await {
            Err(e) if is_broken_connection(&e) => {
                tracing::warn!(error = %e, "database connection broken; searching again");
                self.run_once(request).await
            }
            result => result,
        }
    }

    async fn run_once(&self, request: &MatchRequest) -> Result<Vec<MatchHit>, sqlx::Error> {
        let filters = request.filters.clone().unwrap_or_default();
        let near = filters.near;
        let limit = i64::from(request.effective_limit());
        let mut tx = self.db.begin().await?;
        // Both settings last until the end of this transaction only.
        sqlx::query(
            "SELECT set_config('hnsw.ef_search', $1, true),
                    set_config('hnsw.iterative_scan', 'relaxed_order', true)",
        )
        .bind(self.ef_search.to_string())
        .execute(&mut *tx)
        .await?;
        let rows: Vec<(String, f64)> = sqlx::query_as(MATCH_SQL)
            .bind(Vector::from(request.cv_embedding.clone()))
            .bind(&self.model)
            .bind(filters.contract_types)
            .bind(filters.rome_codes)
            .bind(filters.published_after)
            .bind(near.map(|n| n.lat))
            .bind(near.map(|n| n.lon))
            .bind(near.map(|n| n.radius_km))
            .bind(limit + TIE_SLACK)
            .bind(limit)
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(rows
            .into_iter()
            .map(|(id, score)| MatchHit { id, score })
            .collect())
    }
}

/// An error that says the connection, not the query, failed: I/O, or the server closing
/// the session (SQLSTATE classes 08 connection exception, 57P operator intervention).
fn is_broken_connection(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_) => true,
        sqlx::Error::Database(e) => e
            .code()
            .is_some_and(|code| code.starts_with("08") || code.starts_with("57P")),
        _ => false,
    }
}

fn check_filters(filters: &MatchFilters) -> Result<(), String> {
    for (name, list) in [
        ("contract_types", &filters.contract_types),
        ("rome_codes", &filters.rome_codes),
    ] {
        if list.as_ref().is_some_and(Vec::is_empty) {
            return Err(format!(
                "filters.{name} is empty; give at least one value or leave it out"
            ));
        }
    }
    if let Some(near) = filters.near {
        if !(-90.0..=90.0).contains(&near.lat) || !(-180.0..=180.0).contains(&near.lon) {
            return Err(format!(
                "filters.near: ({}, {}) is not a latitude/longitude",
                near.lat, near.lon
            ));
        }
        if !(near.radius_km > 0.0 && near.radius_km <= 1000.0) {
            return Err(format!(
                "filters.near.radius_km is {}; expected more than 0 and at most 1000",
                near.radius_km
            ));
        }
    }
    Ok(())
}
