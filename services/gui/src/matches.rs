//! The matches page: the 20 offers nearest the profile (matching), with their details
//! (offre-ingestion), cached per the architecture's policy:
//!
//! | event | action |
//! |---|---|
//! | results older than 24 h | re-match at the next access |
//! | CV or profile changed | invalidated at once (`matches_invalidated_at`) |
//! | new offers ingested | re-match lazily at the next access (`offers_marker`) |
//! | matching or offre-ingestion down or slow | the cached results, marked out of date |
//!
//! "Actualiser" forces a refresh.

use std::collections::HashMap;

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::{DateTime, TimeDelta, Utc};
use pgvector::Vector;
use reqwest::{Method, StatusCode};
use shared::{
    GeoFilter, MatchFilters, MatchHit, MatchReasons, MatchRequest, MatchSignals, OfferDetail,
};
use sqlx::PgPool;
use uuid::Uuid;

use crate::session::{CsrfForm, CurrentUser, Session, SignedIn};
use crate::web::{french_time, render, PageError};
use crate::{profile, AppState};

/// Offers shown: matching's default.
pub const MATCHES: u32 = shared::DEFAULT_MATCH_LIMIT;

/// A score (in [0, 1], see `POST /match`) as candidates read it: a percentage.
pub fn percent(score: f64) -> u32 {
    (score.clamp(0.0, 1.0) * 100.0).round() as u32
}
/// Cached results older than this are re-matched at the next access.
pub const MAX_AGE: TimeDelta = TimeDelta::hours(24);

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/offres", get(page))
        .route("/offres/actualiser", post(refresh_now))
}

/// Why cached results must be matched again, if they must.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refresh {
    /// Never matched.
    Empty,
    /// Older than [`MAX_AGE`].
    Expired,
    /// The CV or the profile changed since.
    ProfileChanged,
    /// Offers were ingested since.
    NewOffers,
    /// The candidate asked ("Actualiser").
    Asked,
}

impl Refresh {
    /// Its name in the metrics.
    pub fn label(self) -> &'static str {
        match self {
            Refresh::Empty => "empty",
            Refresh::Expired => "expired",
            Refresh::ProfileChanged => "profile_changed",
            Refresh::NewOffers => "new_offers",
            Refresh::Asked => "asked",
        }
    }
}

/// The cache's timestamps for one profile.
#[derive(Debug, Clone, Copy, Default)]
pub struct CacheState {
    pub matched_at: Option<DateTime<Utc>>,
    pub invalidated_at: Option<DateTime<Utc>>,
    /// When the profile's embedding last caught up with the profile.
    pub embedded_at: Option<DateTime<Utc>>,
    pub offers_ingested_at: Option<DateTime<Utc>>,
}

impl CacheState {
    /// None when the cached results can be shown as they are.
    pub fn refresh(&self, now: DateTime<Utc>, asked: bool) -> Option<Refresh> {
        let Some(matched_at) = self.matched_at else {
            return Some(Refresh::Empty);
        };
        if asked {
            Some(Refresh::Asked)
        } else if self.invalidated_at.is_some_and(|t| t >= matched_at)
            || self.embedded_at.is_some_and(|t| t >= matched_at)
        {
            // The profile changed, or its embedding caught up with a change matched
            // while it could not.
            Some(Refresh::ProfileChanged)
        } else if self.offers_ingested_at.is_some_and(|t| t >= matched_at) {
            Some(Refresh::NewOffers)
        } else if now - matched_at > MAX_AGE {
            Some(Refresh::Expired)
        } else {
            None
        }
    }

    /// The profile changed after its embedding was last computed.
    pub fn embedding_behind(&self) -> bool {
        match (self.invalidated_at, self.embedded_at) {
            (Some(changed), Some(embedded)) => changed > embedded,
            (Some(_), None) => true,
            (None, _) => false,
        }
    }
}

/// What a profile is matched with.
struct Query {
    profile_embedding: Option<Vector>,
    embedding_model: Option<String>,
    latitude: Option<f64>,
    longitude: Option<f64>,
    radius_km: Option<f64>,
    contract_types: Vec<String>,
    matches_invalidated_at: Option<DateTime<Utc>>,
    profile_embedded_at: Option<DateTime<Utc>>,
    matched_at: Option<DateTime<Utc>>,
    offers_ingested_at: Option<DateTime<Utc>>,
}

/// One offer of the page.
pub struct MatchRow {
    pub id: String,
    pub title: String,
    pub company: Option<String>,
    pub location: Option<String>,
    pub contract: Option<String>,
    pub salary: Option<String>,
    pub percent: u32,
    /// The offer's skills the profile has, and those it lacks.
    pub has: Vec<String>,
    pub lacks: Vec<String>,
    /// Why it matches, in French ("intitulé proche", "3 compétences en commun").
    pub why: Vec<String>,
    /// How many other postings of the same job were folded into this one.
    pub reposted: usize,
    /// Kilometres from the place the candidate gave, when both have coordinates.
    pub distance_km: Option<u32>,
}

#[derive(Template)]
#[template(path = "matches.html")]
struct MatchesPage {
    csrf: String,
    unread: i64,
    rows: Vec<MatchRow>,
    has_profile: bool,
    stale: bool,
    matched_on: Option<String>,
}

async fn page(
    State(state): State<AppState>,
    SignedIn { session, user }: SignedIn,
) -> Result<Response, PageError> {
    let outcome = matches_for(&state, user.id, false).await?;
    show(&state, &session, &user, outcome).await
}

async fn refresh_now(
    State(state): State<AppState>,
    SignedIn { session, user }: SignedIn,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&form.csrf)?;
    let outcome = matches_for(&state, user.id, true).await?;
    if outcome.stale {
        // Shown with the notice, rather than redirected away from it (and without
        // waiting for the unavailable services a second time).
        return show(&state, &session, &user, outcome).await;
    }
    Ok(Redirect::to("/offres").into_response())
}

async fn show(
    state: &AppState,
    session: &Session,
    user: &CurrentUser,
    outcome: Outcome,
) -> Result<Response, PageError> {
    let rows = rows(&state.db, user.id).await?;
    record_impressions(&state.db, user.id).await?;
    let page = MatchesPage {
        csrf: session.csrf.clone(),
        unread: user.unread,
        rows,
        has_profile: outcome.has_profile,
        stale: outcome.stale,
        matched_on: outcome
            .matched_at
            .map(|t| french_time(t, "%d/%m/%Y à %H:%M")),
    };
    Ok(render(&page))
}

/// The state of a candidate's matches after this access.
pub struct Outcome {
    pub has_profile: bool,
    /// The results shown could not be refreshed when they should have been.
    pub stale: bool,
    pub matched_at: Option<DateTime<Utc>>,
}

/// Refreshes a candidate's cached matches when the policy says so.
pub async fn matches_for(
    state: &AppState,
    user: Uuid,
    asked: bool,
) -> Result<Outcome, sqlx::Error> {
    let mut query = profile_query(&state.db, user).await?;
    let mut cache = cache_state(query.as_ref());
    if cache.embedding_behind() {
        // cv-ingestion was down when the profile changed: try again now, with the
        // page's patience, or the upload's when the candidate asked for a refresh.
        let patience = (!asked).then_some(state.downstream_timeout);
        if profile::refresh_embedding(state, user, patience).await? {
            query = profile_query(&state.db, user).await?;
            cache = cache_state(query.as_ref());
        }
    }
    let Some(query) = query.filter(|q| q.profile_embedding.is_some()) else {
        return Ok(Outcome {
            has_profile: false,
            stale: false,
            matched_at: None,
        });
    };
    let refresh = cache.refresh(Utc::now(), asked);
    let behind = cache.embedding_behind();
    let mut outcome = Outcome {
        has_profile: true,
        stale: behind,
        matched_at: cache.matched_at,
    };
    // An embedding behind its profile is matched only when nothing is cached: the
    // results say they may be out of date, and the embedding catching up re-matches.
    match refresh {
        Some(reason) if !(behind && cache.matched_at.is_some()) => {
            state.matches_refreshes.inc(reason.label());
            match fetch(state, user, &query).await {
                Ok((hits, offers)) => {
                    let variant = &state.variants.of(user).name;
                    store(&state.db, user, variant, &hits, &offers, None).await?;
                    outcome.matched_at = Some(Utc::now());
                    state.matches_cache.inc("refreshed");
                }
                Err(e) => {
                    tracing::warn!(error = %e, ?reason, "matches not refreshed; showing the cached ones");
                    outcome.stale = true;
                    state.matches_cache.inc("refresh_failed");
                }
            }
        }
        _ if behind => state.matches_cache.inc("embedding_behind"),
        _ => state.matches_cache.inc("hit"),
    }
    Ok(outcome)
}

async fn profile_query(db: &PgPool, user: Uuid) -> Result<Option<Query>, sqlx::Error> {
    sqlx::query_as!(
        Query,
        r#"SELECT profile_embedding AS "profile_embedding: Vector", embedding_model, latitude,
             longitude, radius_km, contract_types, matches_invalidated_at, profile_embedded_at,
             matched_at, (SELECT ingested_at FROM gui.offers_marker) AS "offers_ingested_at?"
         FROM gui.profiles WHERE user_id = $1"#,
        user
    )
    .fetch_optional(db)
    .await
}

fn cache_state(query: Option<&Query>) -> CacheState {
    CacheState {
        matched_at: query.and_then(|q| q.matched_at),
        invalidated_at: query.and_then(|q| q.matches_invalidated_at),
        embedded_at: query.and_then(|q| q.profile_embedded_at),
        offers_ingested_at: query.and_then(|q| q.offers_ingested_at),
    }
}

/// The best offers from matching, and their details from offre-ingestion. Matching
/// ranks with everything the profile holds (hybrid ranking), and says why each offer
/// matches.
async fn fetch(
    state: &AppState,
    user: Uuid,
    query: &Query,
) -> anyhow::Result<(Vec<MatchHit>, Vec<OfferDetail>)> {
    let near = match (query.latitude, query.longitude, query.radius_km) {
        (Some(lat), Some(lon), Some(radius_km)) => Some(GeoFilter {
            lat,
            lon,
            radius_km,
        }),
        _ => None,
    };
    let contracts = (!query.contract_types.is_empty()).then(|| query.contract_types.clone());
    let candidate = profile::candidate(&state.db, user)
        .await?
        .map(|(_, candidate)| candidate)
        .unwrap_or_default();
    let profile = candidate.match_profile();
    let empty = profile.text.is_none() && profile.titles.is_empty() && profile.skills.is_empty();
    // The candidate's ranking variant: its settings apply to ranking with a profile.
    let variant = state.variants.of(user);
    let mut request = MatchRequest {
        cv_embedding: query.profile_embedding.clone().expect("checked").to_vec(),
        limit: Some(MATCHES),
        filters: (near.is_some() || contracts.is_some()).then(|| MatchFilters {
            contract_types: contracts,
            near,
            ..MatchFilters::default()
        }),
        model: query.embedding_model.clone(),
        weights: variant.weights.filter(|_| !empty),
        reranker: variant.reranker.clone().filter(|_| !empty),
        profile: (!empty).then_some(profile),
    };
    let mut response = state
        .matching
        .request(Method::POST, "/match")?
        .json(&request)
        .send()
        .await?;
    if response.status() == StatusCode::SERVICE_UNAVAILABLE && request.profile.is_some() {
        // matching is up but its offers index still loads (a replica starting): the
        // embedding alone ranks meanwhile.
        request.profile = None;
        request.weights = None;
        request.reranker = None;
        response = state
            .matching
            .request(Method::POST, "/match")?
            .json(&request)
            .send()
            .await?;
    }
    anyhow::ensure!(
        response.status().is_success(),
        "matching answered {}",
        response.status()
    );
    let hits: Vec<MatchHit> = response.json().await?;
    if hits.is_empty() {
        return Ok((hits, Vec::new()));
    }
    let ids: Vec<&str> = hits.iter().map(|h| h.id.as_str()).collect();
    let response = state
        .offers
        .get(&format!("/offers?ids={}", ids.join(",")))?
        .send()
        .await?;
    anyhow::ensure!(
        response.status().is_success(),
        "offre-ingestion answered {}",
        response.status()
    );
    Ok((hits, response.json().await?))
}

/// Refreshes the local copies of `offers` and their skills.
pub async fn store_offers(db: &PgPool, offers: &[OfferDetail]) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    upsert_offers(&mut tx, offers).await?;
    tx.commit().await
}

async fn upsert_offers(
    tx: &mut sqlx::PgConnection,
    offers: &[OfferDetail],
) -> Result<(), sqlx::Error> {
    // One statement for all the offers, one for their skills: a refresh stores 20
    // offers at once. Rows are written in the order of their ids: candidates whose
    // refreshes share offers then lock them in the same order, one waits for the other,
    // and neither deadlocks (`make bench-load` found it, under 8 candidates).
    let column = |f: fn(&OfferDetail) -> Option<String>| offers.iter().map(f).collect::<Vec<_>>();
    sqlx::query!(
        "INSERT INTO gui.job_offers (external_id, title, description, company_name, location, postal_code, latitude, longitude,
             contract_type, experience_required, salary, rome_code, rome_label, sector, url, published_at, archived, synced_at)
         SELECT *, now() FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
             $7::float8[], $8::float8[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[],
             $15::text[], $16::timestamptz[], $17::bool[]) AS offer
         ORDER BY 1
         ON CONFLICT (external_id) DO UPDATE SET title = excluded.title, description = excluded.description,
             company_name = excluded.company_name, location = excluded.location, postal_code = excluded.postal_code,
             latitude = excluded.latitude, longitude = excluded.longitude, contract_type = excluded.contract_type,
             experience_required = excluded.experience_required, salary = excluded.salary, rome_code = excluded.rome_code,
             rome_label = excluded.rome_label, sector = excluded.sector, url = excluded.url,
             published_at = excluded.published_at, archived = excluded.archived, synced_at = now()",
        &offers.iter().map(|o| o.id.clone()).collect::<Vec<_>>(),
        &offers.iter().map(|o| o.intitule.clone()).collect::<Vec<_>>(),
        &column(|o| o.description.clone()) as &[Option<String>],
        &column(|o| o.entreprise.clone()) as &[Option<String>],
        &column(|o| o.lieu.clone()) as &[Option<String>],
        &column(|o| o.code_postal.clone()) as &[Option<String>],
        &offers.iter().map(|o| o.latitude).collect::<Vec<_>>() as &[Option<f64>],
        &offers.iter().map(|o| o.longitude).collect::<Vec<_>>() as &[Option<f64>],
        &column(|o| o.type_contrat.clone()) as &[Option<String>],
        &column(|o| o.experience_libelle.clone()) as &[Option<String>],
        &column(|o| o.salaire.clone()) as &[Option<String>],
        &column(|o| o.rome_code.clone()) as &[Option<String>],
        &column(|o| o.rome_libelle.clone()) as &[Option<String>],
        &column(|o| o.secteur_activite_libelle.clone()) as &[Option<String>],
        &column(|o| o.url_origine.clone()) as &[Option<String>],
        &offers.iter().map(|o| o.date_creation).collect::<Vec<_>>() as &[Option<DateTime<Utc>>],
        &offers.iter().map(|o| o.archived).collect::<Vec<_>>()
    )
    .execute(&mut *tx)
    .await?;
    let ids: Vec<&str> = offers.iter().map(|o| o.id.as_str()).collect();
    sqlx::query!(
        "DELETE FROM gui.job_offer_skills WHERE offer_external_id = ANY($1)",
        &ids as &[&str]
    )
    .execute(&mut *tx)
    .await?;
    let skills: Vec<(&str, &str, bool)> = offers
        .iter()
        .flat_map(|o| {
            o.competences.iter().map(|s| {
                (
                    o.id.as_str(),
                    s.libelle.as_str(),
                    s.exigence.as_deref() == Some("E"),
                )
            })
        })
        .collect();
    sqlx::query!(
        "INSERT INTO gui.job_offer_skills (offer_external_id, name, is_required)
         SELECT * FROM UNNEST($1::text[], $2::text[], $3::bool[]) AS skill ORDER BY 1, 2
         ON CONFLICT DO NOTHING",
        &skills.iter().map(|s| s.0).collect::<Vec<_>>() as &[&str],
        &skills.iter().map(|s| s.1).collect::<Vec<_>>() as &[&str],
        &skills.iter().map(|s| s.2).collect::<Vec<_>>()
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Replaces the candidate's cached matches and refreshes the offers' local copies, in
/// one transaction.
/// Which of a re-match's offers the events worker notifies: those at or above
/// `threshold`, among `offers` (an event's) or published after `published_after` (the
/// nightly refresh: since the candidate's previous match).
#[derive(Debug, Clone, Copy)]
pub struct Notify<'a> {
    pub threshold: f64,
    pub offers: Option<&'a [String]>,
    pub published_after: Option<DateTime<Utc>>,
}

/// The events worker's re-match: matching asked again whatever the cache's age, the
/// results stored and the notifications recorded in one transaction (a crash leaves
/// both or neither). Returns how many notifications were recorded, None for a
/// candidate without a profile to match.
pub async fn rematch_notifying<'a>(
    state: &AppState,
    user: Uuid,
    notify: impl FnOnce(Option<DateTime<Utc>>) -> Notify<'a>,
) -> anyhow::Result<Option<u64>> {
    let Some(query) = profile_query(&state.db, user)
        .await?
        .filter(|q| q.profile_embedding.is_some())
    else {
        return Ok(None);
    };
    let (hits, offers) = fetch(state, user, &query).await?;
    let rule = notify(query.matched_at);
    let variant = &state.variants.of(user).name;
    Ok(Some(
        store(&state.db, user, variant, &hits, &offers, Some(rule)).await?,
    ))
}

async fn store(
    db: &PgPool,
    user: Uuid,
    variant: &str,
    hits: &[MatchHit],
    offers: &[OfferDetail],
    notify: Option<Notify<'_>>,
) -> Result<u64, sqlx::Error> {
    let mut tx = db.begin().await?;
    // Two refreshes of one profile at once (two tabs) take turns on the profile's row:
    // the second replaces the first's results instead of adding to them or failing on
    // the unique key.
    // The profile row also says when it was matched, even when nothing was found.
    sqlx::query!(
        "UPDATE gui.profiles SET matched_at = now() WHERE user_id = $1",
        user
    )
    .execute(&mut *tx)
    .await?;
    upsert_offers(&mut tx, offers).await?;
    sqlx::query!("DELETE FROM gui.match_results WHERE user_id = $1", user)
        .execute(&mut *tx)
        .await?;
    let known: std::collections::HashSet<&str> = offers.iter().map(|o| o.id.as_str()).collect();
    let kept: Vec<&MatchHit> = hits
        .iter()
        .filter(|h| known.contains(h.id.as_str()))
        .collect();
    let json = |value: Option<serde_json::Value>| value.unwrap_or(serde_json::Value::Null);
    sqlx::query!(
        "INSERT INTO gui.match_results (user_id, offer_external_id, score, signals, reasons, duplicates, matched_at, variant)
         SELECT $1, id, score, nullif(signals, 'null'), nullif(reasons, 'null'), ARRAY(SELECT jsonb_array_elements_text(duplicates)), now(), $7
         FROM UNNEST($2::text[], $3::float8[], $4::jsonb[], $5::jsonb[], $6::jsonb[])
             AS hit(id, score, signals, reasons, duplicates)",
        user,
        &kept.iter().map(|h| h.id.as_str()).collect::<Vec<_>>() as &[&str],
        &kept.iter().map(|h| h.score).collect::<Vec<_>>(),
        &kept.iter().map(|h| json(h.signals.map(|s| serde_json::json!(s)))).collect::<Vec<_>>(),
        &kept.iter().map(|h| json(h.reasons.as_ref().map(|r| serde_json::json!(r)))).collect::<Vec<_>>(),
        &kept.iter().map(|h| serde_json::json!(h.duplicates)).collect::<Vec<_>>(),
        variant
    )
    .execute(&mut *tx)
    .await?;
    let mut notified = 0;
    if let Some(rule) = notify {
        // Once per candidate and offer (a unique index): an event redelivered, or a
        // re-match redone, records nothing more.
        notified = sqlx::query!(
            "INSERT INTO gui.notifications (id, user_id, offer_external_id, score, message, variant)
             SELECT gen_random_uuid(), m.user_id, m.offer_external_id, m.score,
                 'Nouvelle offre : ' || o.title || ' (' || round(m.score * 100)::int || ' %)', m.variant
             FROM gui.match_results m JOIN gui.job_offers o ON o.external_id = m.offer_external_id
             WHERE m.user_id = $1 AND m.score >= $2
               AND ($3::text[] IS NULL OR m.offer_external_id = ANY($3))
               AND ($4::timestamptz IS NULL OR o.published_at > $4)
             ON CONFLICT (user_id, offer_external_id) WHERE offer_external_id IS NOT NULL DO NOTHING",
            user,
            rule.threshold,
            rule.offers,
            rule.published_after
        )
        .execute(&mut *tx)
        .await?
        .rows_affected();
    }
    tx.commit().await?;
    Ok(notified)
}

/// Records the matches the page shows as shown (their rank, score and variant), once per
/// version of the results: a cached page shown again writes nothing. The rows and order
/// are [`rows`]'.
async fn record_impressions(db: &PgPool, user: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "WITH version AS (
             UPDATE gui.profiles SET impressions_of = matched_at
             WHERE user_id = $1 AND matched_at IS DISTINCT FROM impressions_of
             RETURNING user_id
         ), shown AS (
             SELECT m.user_id, m.offer_external_id, coalesce(m.variant, $3) AS variant, m.score,
                 m.signals, row_number() OVER (ORDER BY m.score DESC, m.offer_external_id) AS rank
             FROM gui.match_results m JOIN version USING (user_id)
             JOIN gui.job_offers o ON o.external_id = m.offer_external_id
         )
         INSERT INTO gui.match_impressions (user_id, offer_external_id, variant, rank, score, signals)
         SELECT user_id, offer_external_id, variant, rank, score, signals FROM shown WHERE rank <= $2
         ON CONFLICT (user_id, offer_external_id)
             DO UPDATE SET rank = least(gui.match_impressions.rank, EXCLUDED.rank)",
        user,
        i64::from(MATCHES),
        crate::variants::CONTROL
    )
    .execute(db)
    .await?;
    Ok(())
}

/// A cached match, with the offer's local copy.
struct CachedMatch {
    external_id: String,
    title: String,
    company_name: Option<String>,
    location: Option<String>,
    contract_type: Option<String>,
    salary: Option<String>,
    latitude: Option<f64>,
    longitude: Option<f64>,
    score: f64,
    signals: Option<sqlx::types::Json<MatchSignals>>,
    reasons: Option<sqlx::types::Json<MatchReasons>>,
    duplicates: Vec<String>,
}

/// The cached matches, best first, with what explains them.
pub async fn rows(db: &PgPool, user: Uuid) -> Result<Vec<MatchRow>, sqlx::Error> {
    let cached: Vec<CachedMatch> = sqlx::query_as!(
        CachedMatch,
        r#"SELECT o.external_id, o.title, o.company_name, o.location, o.contract_type, o.salary,
             o.latitude, o.longitude, m.score,
             m.signals AS "signals: sqlx::types::Json<MatchSignals>",
             m.reasons AS "reasons: sqlx::types::Json<MatchReasons>", m.duplicates
         FROM gui.match_results m JOIN gui.job_offers o ON o.external_id = m.offer_external_id
         WHERE m.user_id = $1 ORDER BY m.score DESC, o.external_id LIMIT $2"#,
        user,
        i64::from(MATCHES)
    )
    .fetch_all(db)
    .await?;
    let home: Option<(f64, f64)> = sqlx::query!(
        r#"SELECT latitude AS "latitude!", longitude AS "longitude!" FROM gui.profiles
         WHERE user_id = $1 AND latitude IS NOT NULL AND longitude IS NOT NULL"#,
        user
    )
    .fetch_optional(db)
    .await?
    .map(|row| (row.latitude, row.longitude));
    let skills: Vec<String> = sqlx::query_scalar!(
        "SELECT label FROM gui.profile_skills WHERE user_id = $1",
        user
    )
    .fetch_all(db)
    .await?;
    let offer_skills = sqlx::query!(
        "SELECT s.offer_external_id, s.name FROM gui.job_offer_skills s
         JOIN gui.match_results m ON m.offer_external_id = s.offer_external_id AND m.user_id = $1
         ORDER BY s.is_required DESC, s.name",
        user
    )
    .fetch_all(db)
    .await?;
    let mut by_offer: HashMap<String, Vec<String>> = HashMap::new();
    for row in offer_skills {
        by_offer
            .entry(row.offer_external_id)
            .or_default()
            .push(row.name);
    }
    let profile: Vec<String> = skills.iter().map(|s| places::name_key(s)).collect();
    Ok(cached
        .into_iter()
        .map(|m| {
            let (has, lacks) = by_offer
                .remove(&m.external_id)
                .unwrap_or_default()
                .into_iter()
                .partition(|name| covers(&profile, name));
            MatchRow {
                why: why(
                    m.signals.map(|s| s.0).as_ref(),
                    m.reasons.map(|r| r.0).as_ref(),
                ),
                reposted: m.duplicates.len(),
                distance_km: home
                    .zip(m.latitude.zip(m.longitude))
                    .map(|(home, offer)| places::distance_km(home, offer).round() as u32),
                percent: percent(m.score),
                id: m.external_id,
                title: m.title,
                company: m.company_name,
                location: m.location,
                contract: m
                    .contract_type
                    .map(|c| crate::contracts::contract_label(&c).to_owned()),
                salary: m.salary,
                has,
                lacks,
            }
        })
        .collect())
}

/// Signals at or above this say so in the reasons.
const CLOSE: f64 = 0.5;

/// Why an offer matches, as the candidate reads it: its title, its job, the skills in
/// common and the candidate's words it uses.
fn why(signals: Option<&MatchSignals>, reasons: Option<&MatchReasons>) -> Vec<String> {
    let mut why = Vec::new();
    if let Some(s) = signals {
        if s.title >= CLOSE {
            why.push("intitulé proche".to_owned());
        } else if s.job >= CLOSE {
            why.push("même métier".to_owned());
        }
    }
    if let Some(r) = reasons {
        match r.skills.len() {
            0 => {}
            1 => why.push("1 compétence en commun".to_owned()),
            n => why.push(format!("{n} compétences en commun")),
        }
        if !r.keywords.is_empty() {
            why.push(format!("mots-clés : {}", r.keywords.join(", ")));
        }
    }
    why
}

/// Whether one of the profile's (folded) skills names the offer's skill: equal, or one
/// contained in the other as whole words ("Python" in "Développer en Python").
fn covers(profile: &[String], offer_skill: &str) -> bool {
    let offer = format!(" {} ", places::name_key(offer_skill));
    profile.iter().any(|skill| {
        let skill = format!(" {skill} ");
        offer.contains(&skill) || skill.contains(&offer)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(hours_ago: i64) -> Option<DateTime<Utc>> {
        Some(Utc::now() - TimeDelta::hours(hours_ago))
    }

    #[test]
    fn the_cache_policy_row_by_row() {
        let now = Utc::now();
        let fresh = CacheState {
            matched_at: at(1),
            invalidated_at: at(2),
            embedded_at: at(2),
            offers_ingested_at: at(3),
        };
        assert_eq!(fresh.refresh(now, false), None);
        assert_eq!(
            CacheState::default().refresh(now, false),
            Some(Refresh::Empty)
        );
        let old = CacheState {
            matched_at: at(25),
            invalidated_at: at(30),
            embedded_at: at(30),
            offers_ingested_at: at(30),
        };
        assert_eq!(old.refresh(now, false), Some(Refresh::Expired));
        assert_eq!(
            CacheState {
                invalidated_at: at(0),
                ..fresh
            }
            .refresh(now, false),
            Some(Refresh::ProfileChanged)
        );
        assert_eq!(
            CacheState {
                offers_ingested_at: at(0),
                ..fresh
            }
            .refresh(now, false),
            Some(Refresh::NewOffers)
        );
        assert_eq!(fresh.refresh(now, true), Some(Refresh::Asked));
        assert!(!fresh.embedding_behind());
    }

    #[test]
    fn an_embedding_behind_its_profile_is_known_and_catching_up_rematches() {
        let now = Utc::now();
        // The profile changed an hour ago; cv-ingestion was down: the embedding is from
        // three hours ago.
        let behind = CacheState {
            matched_at: at(2),
            invalidated_at: at(1),
            embedded_at: at(3),
            offers_ingested_at: None,
        };
        assert!(behind.embedding_behind());
        assert_eq!(behind.refresh(now, false), Some(Refresh::ProfileChanged));
        // Matched meanwhile with the old embedding, then the embedding caught up.
        let caught_up = CacheState {
            matched_at: at(1),
            invalidated_at: at(2),
            embedded_at: at(0),
            offers_ingested_at: None,
        };
        assert!(!caught_up.embedding_behind());
        assert_eq!(caught_up.refresh(now, false), Some(Refresh::ProfileChanged));
        let never_embedded = CacheState {
            invalidated_at: at(0),
            ..CacheState::default()
        };
        assert!(never_embedded.embedding_behind());
    }

    #[test]
    fn skills_cover_offer_skills_as_whole_words() {
        let profile = vec!["python".to_owned(), "gestion de projet".to_owned()];
        assert!(covers(&profile, "Python"));
        assert!(covers(&profile, "Développer en Python"));
        assert!(covers(&profile, "Gestion de projet"));
        assert!(!covers(&profile, "Pythonneries"));
        assert!(!covers(&profile, "Soudure"));
    }
}
