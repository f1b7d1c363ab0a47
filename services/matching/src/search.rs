//! `POST /match`: the offers nearest a CV embedding by cosine similarity, read from the
//! gold table's HNSW index; with a profile, the offers ranked by every signal (hybrid).
//!
//! Hybrid ranking: the in-memory index ([`crate::offers_index`]) scores every offer on
//! words, titles, ROME jobs and skills, and names its best candidates; one statement
//! then reads the cosine of the HNSW's nearest offers and of those candidates (with the
//! filters, so the database stays the judge of what is matchable); the union is fused
//! into one score ([`ranking::Signals::fused`]). A keyword-only hit can so reach the top
//! even when the vectors missed it. A request that names a learned re-ranker
//! ([`crate::rerankers`]) gets the fused best [`ranking::rerank::CANDIDATES`] re-ordered
//! by that model, as if it had asked for that many (the same vectors' candidates, so
//! the same list `make eval` trains and cross-validates on), then cut to its limit.
//!
//! Filters are applied inside the index scan with pgvector's iterative scan
//! (`hnsw.iterative_scan = relaxed_order`): when a filter rejects most of the nearest
//! candidates, the scan goes on past `ef_search` until `limit` rows pass (bounded by
//! `hnsw.max_scan_tuples`), instead of returning fewer rows than asked. Relaxed order is
//! faster than strict order; the final order is restored by sorting the few rows found,
//! by score then offer id, so the same request always gets the same answer.

use std::collections::HashMap;
use std::time::Instant;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use pgvector::Vector;
use platform::metrics::Stages;
use platform::Problem;
use ranking::{rerank, Language, OfferMeta, Ranked, Reranker, Signals, Vectors, Weights};
use shared::{
    MatchFilters, MatchHit, MatchProfile, MatchReasons, MatchRequest, ProblemBody, SignalWeights,
    MAX_MATCH_LIMIT, MAX_PROFILE_SKILLS, MAX_PROFILE_SKILL_CHARS, MAX_PROFILE_TEXT_CHARS,
    MAX_PROFILE_TITLES, MAX_PROFILE_TITLE_CHARS,
};
use sqlx::{PgConnection, PgPool};

use crate::offers_index::OffersIndex;
use crate::rerankers::Rerankers;

/// Candidates fetched beyond `limit`, so that ties at the cut are settled by id.
pub const TIE_SLACK: i64 = 10;

/// `matchable!(statement, binds)`: the filters, written once for both statements below
/// and handed to them as a literal (`sqlx::query!` takes only literals). Binds: model,
/// contract types, ROME codes, published after, lat, lon, radius km (NULL for no filter).
macro_rules! matchable {
    ($statement:ident, $($bind:tt)*) => {
        $statement!(
            "model = $2 AND NOT archived
                  AND ($3::text[] IS NULL OR contract_type = ANY($3))
                  AND ($4::text[] IS NULL OR rome_code = ANY($4))
                  AND ($5::timestamptz IS NULL OR published_at >= $5)
                  AND ($6::float8 IS NULL OR (latitude IS NOT NULL AND
                       2 * 6371.0088 * asin(sqrt(
                           sin(radians(latitude - $6) / 2) ^ 2
                           + cos(radians($6)) * cos(radians(latitude)) * sin(radians(longitude - $7) / 2) ^ 2
                       )) <= $8))",
            $($bind)*
        )
    };
}

/// The search: the vector (`$1`), [`matchable`]'s binds, candidates (`limit + TIE_SLACK`),
/// limit. Run in a transaction that set `hnsw.ef_search` and the iterative scan.
macro_rules! nearest_statement {
    ($filters:literal, $($bind:tt)*) => {
        sqlx::query!(
            "WITH nearest AS MATERIALIZED (
                SELECT offer_id, embedding <=> $1 AS distance
                FROM offers.embeddings
                WHERE " + $filters + "
                ORDER BY embedding <=> $1
                LIMIT $9
             )
             SELECT offer_id AS \"offer_id!\", 1 - distance AS \"cosine!\"
             FROM nearest ORDER BY distance, offer_id LIMIT $10",
            $($bind)*
        )
    };
}

/// Hybrid ranking's vectors: the cosines of the nearest offers and of the other signals'
/// candidates (`$10`), both filtered alike, each with its cosine to the embedding of the
/// feedback offer: the first of `$11` (best first, see [`ranking::Scoring::seeds`]) that
/// has an embedding, whose id comes with every row. Binds as [`nearest_statement`]'s
/// (without the limit), then the candidates' and the seeds' ids.
macro_rules! hybrid_statement {
    ($filters:literal, $($bind:tt)*) => {
        sqlx::query!(
            "WITH seed AS MATERIALIZED (
                SELECT offer_id, embedding FROM offers.embeddings
                WHERE model = $2 AND offer_id = ANY($11)
                ORDER BY array_position($11, offer_id) LIMIT 1
             ),
             nearest AS MATERIALIZED (
                SELECT offer_id, embedding <=> $1 AS distance,
                    embedding <=> (SELECT embedding FROM seed) AS from_seed
                FROM offers.embeddings
                WHERE " + $filters + "
                ORDER BY embedding <=> $1
                LIMIT $9
             ),
             named AS (
                SELECT offer_id, embedding <=> $1 AS distance,
                    embedding <=> (SELECT embedding FROM seed) AS from_seed
                FROM offers.embeddings
                WHERE offer_id = ANY($10) AND " + $filters + "
             ),
             found AS (
                SELECT offer_id, distance, from_seed FROM nearest
                UNION SELECT offer_id, distance, from_seed FROM named
             )
             SELECT offer_id AS \"offer_id!\", 1 - distance AS \"cosine!\",
                coalesce(1 - from_seed, 0) AS \"similar!\", (SELECT offer_id FROM seed) AS seed
             FROM found",
            $($bind)*
        )
    };
}

/// The filters' values, bound in [`matchable`]'s order.
struct FilterBinds {
    contract_types: Option<Vec<String>>,
    rome_codes: Option<Vec<String>>,
    published_after: Option<chrono::DateTime<chrono::Utc>>,
    lat: Option<f64>,
    lon: Option<f64>,
    radius_km: Option<f64>,
}

impl FilterBinds {
    fn of(filters: Option<&MatchFilters>) -> Self {
        let filters = filters.cloned().unwrap_or_default();
        let near = filters.near;
        Self {
            contract_types: filters.contract_types,
            rome_codes: filters.rome_codes,
            published_after: filters.published_after,
            lat: near.map(|n| n.lat),
            lon: near.map(|n| n.lon),
            radius_km: near.map(|n| n.radius_km),
        }
    }
}

/// Sets the HNSW scan's settings until the end of the transaction `tx`.
async fn hnsw_settings(tx: &mut PgConnection, ef_search: u32) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "SELECT set_config('hnsw.ef_search', $1, true) AS ef_search,
                set_config('hnsw.iterative_scan', 'relaxed_order', true) AS iterative_scan",
        ef_search.to_string()
    )
    .fetch_one(tx)
    .await?;
    Ok(())
}

/// The `limit` offers of `model` nearest `vector` that pass `filters`, best first, with
/// their cosine; on `tx`, whose HNSW settings the caller chose. Public for the benchmark,
/// which runs it with an exact scan to measure recall.
pub async fn nearest(
    tx: &mut PgConnection,
    vector: &[f32],
    model: &str,
    filters: Option<&MatchFilters>,
    limit: i64,
) -> Result<Vec<(String, f64)>, sqlx::Error> {
    let f = FilterBinds::of(filters);
    let rows = matchable!(
        nearest_statement,
        Vector::from(vector.to_vec()) as Vector,
        model,
        f.contract_types.as_deref(),
        f.rome_codes.as_deref(),
        f.published_after,
        f.lat,
        f.lon,
        f.radius_km,
        limit + TIE_SLACK,
        limit
    )
    .fetch_all(tx)
    .await?;
    Ok(rows.into_iter().map(|r| (r.offer_id, r.cosine)).collect())
}

/// Hybrid ranking reads the vectors' nearest offers as the vector-only search does
/// (`limit` + [`TIE_SLACK`]), and this many of the other signals' best, which it ranks
/// in memory at no cost per offer to the database: the 20 shown are the fused best as
/// often as with 100 nearest (`make eval`), and a filtered search does not make the
/// HNSW scan go on for a hundred offers that pass (three times the vector-only time).
pub const LEXICAL_CANDIDATES: usize = 100;

#[derive(Clone)]
pub struct Search {
    pub db: PgPool,
    /// The model whose vectors this service compares (`MATCH_MODEL`).
    pub model: String,
    /// Its vectors' length (`MATCH_DIM`).
    pub dim: usize,
    /// `hnsw.ef_search` for every query (`MATCH_EF_SEARCH`).
    pub ef_search: u32,
    /// The offers, in memory, for hybrid ranking.
    pub index: OffersIndex,
    /// The signals' weights when a request names none (`MATCH_WEIGHT_*`).
    pub weights: Weights,
    /// The re-rankers a request may name (`MATCH_RERANKERS` and the built-in ones).
    pub rerankers: Rerankers,
    /// Each stage's time (`match_stage_duration_seconds`).
    pub stages: Stages,
}

/// The stages of `POST /match`: the lexical signals scored in memory (hybrid only),
/// the vectors' query in PostgreSQL, the fusion of every signal (hybrid only).
const STAGE_LEXICAL: &str = "lexical";
const STAGE_VECTORS: &str = "vectors";
const STAGE_FUSION: &str = "fusion";

/// matching's errors, each a problem+json.
#[derive(Debug, thiserror::Error)]
pub enum MatchError {
    #[error("{0}")]
    Invalid(String),
    /// A re-ranker the service has not loaded (400: the request names what is not
    /// there, rather than a value out of its bounds).
    #[error("{0}")]
    UnknownReranker(String),
    #[error("the offers index is still loading")]
    IndexLoading,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

impl IntoResponse for MatchError {
    fn into_response(self) -> Response {
        match self {
            Self::Invalid(detail) => Problem::validation(detail),
            Self::UnknownReranker(detail) => Problem::bad_request(detail),
            Self::IndexLoading => Problem::unavailable(
                "the offers index is still loading (ranking with a profile needs it); retry in a few seconds",
            ),
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

/// The best offers for a CV embedding, best first: by cosine similarity, or with a
/// `profile`, by every signal (hybrid ranking), each hit saying why it matches.
#[utoipa::path(post, path = "/match", tag = "matching", request_body = MatchRequest,
    security(("service_token" = [])),
    responses(
        (status = 200, description = "Offers, best first", body = [MatchHit]),
        (status = 400, description = "A reranker this service has not loaded", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "An embedding of the wrong model or length, empty, non-finite or all zeros; a limit outside 1..100; a bad filter; a profile over its limits; bad weights; weights or a reranker without a profile", body = ProblemBody, content_type = "application/problem+json"),
        (status = 503, description = "With a profile, while the offers index loads at start", body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, description = "Missing or wrong service token", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn match_offers(
    State(search): State<Search>,
    Json(request): Json<MatchRequest>,
) -> Result<Json<Vec<MatchHit>>, MatchError> {
    search.validate(&request)?;
    match &request.profile {
        None => Ok(Json(search.run(&request).await?)),
        Some(profile) => Ok(Json(search.hybrid(&request, profile).await?)),
    }
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
        if let Some(profile) = &request.profile {
            check_profile(profile).map_err(MatchError::Invalid)?;
        }
        if let Some(weights) = &request.weights {
            if request.profile.is_none() {
                return invalid(
                    "weights apply to ranking with a profile: give a profile, or leave weights out"
                        .into(),
                );
            }
            check_weights(weights).map_err(MatchError::Invalid)?;
        }
        if let Some(id) = &request.reranker {
            if request.profile.is_none() {
                return invalid(
                    "reranker applies to ranking with a profile: give a profile, or leave reranker out"
                        .into(),
                );
            }
            if self.rerankers.get(id).is_none() {
                let known = self.rerankers.ids();
                let id: String = id.chars().take(rerank::MAX_ID_CHARS + 1).collect();
                return Err(MatchError::UnknownReranker(format!(
                    "reranker {id:?} is not one this service has loaded; it has {} (MATCH_RERANKERS)",
                    if known.is_empty() {
                        "none".to_owned()
                    } else {
                        known.join(", ")
                    }
                )));
            }
        }
        Ok(())
    }

    async fn run(&self, request: &MatchRequest) -> Result<Vec<MatchHit>, sqlx::Error> {
        let started = Instant::now();
        let hits = platform::db::retry_broken(&self.db, || self.run_once(request)).await;
        self.stages.observe(STAGE_VECTORS, started);
        hits
    }

    async fn run_once(&self, request: &MatchRequest) -> Result<Vec<MatchHit>, sqlx::Error> {
        let limit = i64::from(request.effective_limit());
        let mut tx = self.db.begin().await?;
        hnsw_settings(&mut tx, self.ef_search).await?;
        let rows = nearest(
            &mut tx,
            &request.cv_embedding,
            &self.model,
            request.filters.as_ref(),
            limit,
        )
        .await?;
        tx.commit().await?;
        Ok(rows
            .into_iter()
            .map(|(id, score)| MatchHit::cosine(id, score))
            .collect())
    }

    /// Hybrid ranking's vectors: (id, cosine, cosine to the seeds, the seed) of the
    /// `shown` + [`TIE_SLACK`] nearest offers and of `candidates`.
    async fn vectors(
        &self,
        request: &MatchRequest,
        shown: usize,
        candidates: &[String],
        seeds: &[String],
    ) -> Result<Vec<(String, f64, f64, Option<String>)>, sqlx::Error> {
        let nearest = shown as i64 + TIE_SLACK;
        let f = FilterBinds::of(request.filters.as_ref());
        let mut tx = self.db.begin().await?;
        hnsw_settings(&mut tx, self.ef_search).await?;
        let rows = matchable!(
            hybrid_statement,
            Vector::from(request.cv_embedding.clone()) as Vector,
            &self.model,
            f.contract_types.as_deref(),
            f.rome_codes.as_deref(),
            f.published_after,
            f.lat,
            f.lon,
            f.radius_km,
            nearest,
            candidates,
            seeds
        )
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(rows
            .into_iter()
            .map(|r| (r.offer_id, r.cosine, r.similar, r.seed))
            .collect())
    }

    /// Hybrid ranking (see the module's documentation).
    async fn hybrid(
        &self,
        request: &MatchRequest,
        profile: &MatchProfile,
    ) -> Result<Vec<MatchHit>, MatchError> {
        let index = self.index.current().ok_or(MatchError::IndexLoading)?;
        let started = Instant::now();
        let weights = request.weights.map(Weights::from).unwrap_or(self.weights);
        let limit = request.effective_limit() as usize;
        let reranker = request
            .reranker
            .as_deref()
            .and_then(|id| self.rerankers.get(id));
        // A re-ranker re-orders the fused best CANDIDATES, read as a request for that
        // many would read them.
        let fused = match reranker {
            Some(_) => limit.max(rerank::CANDIDATES),
            None => limit,
        };
        let skills: Vec<String> = profile.skills.iter().map(|s| s.label.clone()).collect();
        let filters = request.filters.clone().unwrap_or_default();
        let scoring = index.score(&ranking::Profile {
            text: profile.text.as_deref().unwrap_or(""),
            titles: &profile.titles,
            skills: &skills,
            language: profile.language.as_deref().and_then(Language::from_code),
        });
        let candidates =
            scoring.candidates(&weights, LEXICAL_CANDIDATES, |meta| passes(&filters, meta));
        let seeds = scoring.seeds();
        self.stages.observe(STAGE_LEXICAL, started);
        let started = Instant::now();
        let rows = platform::db::retry_broken(&self.db, || {
            self.vectors(request, fused, &candidates, &seeds)
        })
        .await?;
        self.stages.observe(STAGE_VECTORS, started);
        let started = Instant::now();
        let seed = rows.first().and_then(|row| row.3.clone());
        let vectors: HashMap<String, Vectors> = rows
            .into_iter()
            .map(|(id, cosine, similar, _)| {
                (
                    id,
                    Vectors {
                        cosine: cosine as f32,
                        similar: similar as f32,
                    },
                )
            })
            .collect();
        let mut ranked = scoring.fuse(&vectors, seed.as_deref(), &weights, fused, |meta| {
            passes(&filters, meta)
        });
        if let Some(model) = reranker {
            ranked = reranked(model, ranked, limit);
        }
        self.stages.observe(STAGE_FUSION, started);
        Ok(ranked.into_iter().map(hit_of).collect())
    }
}

/// The best `limit` of `ranked` by `model`, each scored by it; signals, reasons and
/// duplicates kept.
fn reranked(model: &Reranker, ranked: Vec<Ranked>, limit: usize) -> Vec<Ranked> {
    let signals: Vec<Signals> = ranked.iter().map(|r| r.signals).collect();
    let mut slots: Vec<Option<Ranked>> = ranked.into_iter().map(Some).collect();
    model
        .order(&signals)
        .into_iter()
        .take(limit)
        .filter_map(|(i, score)| slots[i].take().map(|r| Ranked { score, ..r }))
        .collect()
}

fn hit_of(r: ranking::Ranked) -> MatchHit {
    MatchHit {
        id: r.id,
        score: f64::from(r.score),
        signals: Some(r.signals.into()),
        reasons: Some(MatchReasons {
            skills: r.reasons.skills,
            keywords: r.reasons.keywords,
        }),
        duplicates: r.duplicates,
    }
}

/// The in-memory side of the filters: the same as [`matchable`]'s, so that the lexical
/// candidates are ones the database keeps.
fn passes(filters: &MatchFilters, offer: &OfferMeta) -> bool {
    let listed = |list: &Option<Vec<String>>, value: &Option<String>| match list {
        None => true,
        Some(list) => value.as_ref().is_some_and(|v| list.contains(v)),
    };
    listed(&filters.contract_types, &offer.contract_type)
        && listed(&filters.rome_codes, &offer.rome_code)
        && filters
            .published_after
            .is_none_or(|after| offer.published_at.is_some_and(|p| p >= after))
        && filters
            .near
            .is_none_or(|near| match (offer.latitude, offer.longitude) {
                (Some(lat), Some(lon)) => {
                    places::distance_km((near.lat, near.lon), (lat, lon)) <= near.radius_km
                }
                _ => false,
            })
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

fn check_profile(profile: &MatchProfile) -> Result<(), String> {
    if let Some(text) = &profile.text {
        let chars = text.chars().count();
        if chars > MAX_PROFILE_TEXT_CHARS {
            return Err(format!(
                "profile.text has {chars} characters; at most {MAX_PROFILE_TEXT_CHARS}"
            ));
        }
    }
    if profile.titles.len() > MAX_PROFILE_TITLES {
        return Err(format!(
            "profile.titles has {} titles; at most {MAX_PROFILE_TITLES}",
            profile.titles.len()
        ));
    }
    if let Some(i) = profile
        .titles
        .iter()
        .position(|t| t.chars().count() > MAX_PROFILE_TITLE_CHARS)
    {
        return Err(format!(
            "profile.titles[{i}] is longer than {MAX_PROFILE_TITLE_CHARS} characters"
        ));
    }
    if profile.skills.len() > MAX_PROFILE_SKILLS {
        return Err(format!(
            "profile.skills has {} skills; at most {MAX_PROFILE_SKILLS}",
            profile.skills.len()
        ));
    }
    if let Some(i) = profile
        .skills
        .iter()
        .position(|s| s.label.chars().count() > MAX_PROFILE_SKILL_CHARS)
    {
        return Err(format!(
            "profile.skills[{i}].label is longer than {MAX_PROFILE_SKILL_CHARS} characters"
        ));
    }
    if let Some(language) = &profile.language {
        if Language::from_code(language).is_none() {
            return Err(format!(
                "profile.language is {language:?}; expected \"fr\" or \"en\" (or leave it out)"
            ));
        }
    }
    Ok(())
}

fn check_weights(weights: &SignalWeights) -> Result<(), String> {
    let w = Weights::from(*weights).as_array();
    for (name, value) in Weights::NAMES.iter().zip(w) {
        if !value.is_finite() || !(0.0..=1000.0).contains(&value) {
            return Err(format!("weights.{name} is {value}; expected 0 to 1000"));
        }
    }
    if w.iter().all(|v| *v == 0.0) {
        return Err("weights are all 0: give at least one signal a weight above 0".into());
    }
    Ok(())
}
