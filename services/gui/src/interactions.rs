//! An offer's page and what the candidate does with it, one `offer_interactions` row
//! per (candidate, offer): viewed (first time, and the time spent, sent by a beacon when
//! the page is left), saved, applied, then interview and hire outcomes, with the match
//! score at the first view. The saved offers and the applications have pages of their
//! own.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use shared::OfferDetail;
use sqlx::PgPool;
use uuid::Uuid;

use crate::session::{CsrfForm, SignedIn};
use crate::web::{french_time, render, PageError};
use crate::AppState;

/// Longest time one beacon may add (a tab left open overnight is not reading).
const MAX_SECONDS_PER_VISIT: i32 = 3600;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/offres/{id}", get(offer_page))
        .route("/offres/{id}/vue", post(viewed))
        .route("/offres/{id}/temps", post(time_spent))
        .route("/offres/{id}/{action}", post(act))
        .route("/favoris", get(saved_page))
        .route("/candidatures", get(applications_page))
}

pub struct Offer {
    pub external_id: String,
    pub title: String,
    pub description: Option<String>,
    pub company_name: Option<String>,
    pub location: Option<String>,
    pub contract_type: Option<String>,
    pub experience_required: Option<String>,
    pub salary: Option<String>,
    pub url: Option<String>,
}

#[derive(Default)]
pub struct Interaction {
    pub saved: bool,
    pub applied: bool,
    pub applied_at: Option<DateTime<Utc>>,
    pub got_interview: bool,
    pub got_hired: bool,
    pub match_score: Option<f64>,
}

#[derive(Template)]
#[template(path = "offer.html")]
struct OfferPage {
    csrf: String,
    unread: i64,
    /// The offer's id, for the tracking section (`offer_tracking.html`).
    id: String,
    offer: Offer,
    link: String,
    required: Vec<String>,
    wished: Vec<String>,
    interaction: Interaction,
    percent: Option<u32>,
}

impl OfferPage {
    fn contract(&self) -> Option<&str> {
        self.offer
            .contract_type
            .as_deref()
            .map(crate::contracts::contract_label)
    }
}

/// The offer's local copy, if any.
async fn cached_offer(db: &PgPool, id: &str) -> Result<Option<Offer>, sqlx::Error> {
    sqlx::query_as!(
        Offer,
        "SELECT external_id, title, description, company_name, location, contract_type, experience_required, salary, url
         FROM gui.job_offers WHERE external_id = $1",
        id
    )
    .fetch_optional(db)
    .await
}

/// The offer from the local cache, else from offre-ingestion (then cached).
async fn offer(state: &AppState, id: &str) -> Result<Option<Offer>, PageError> {
    if let Some(offer) = cached_offer(&state.db, id).await? {
        return Ok(Some(offer));
    }
    if shared::OfferId::parse(id).is_err() {
        return Ok(None);
    }
    let response = state
        .offers
        .get(&format!("/offers/{id}"))
        .map_err(|e| PageError::Internal(e.to_string()))?
        .send()
        .await
        .map_err(|_| PageError::Unavailable)?;
    match response.status() {
        StatusCode::NOT_FOUND => return Ok(None),
        s if !s.is_success() => return Err(PageError::Unavailable),
        _ => {}
    }
    let detail: OfferDetail = response.json().await.map_err(|_| PageError::Unavailable)?;
    crate::matches::store_offers(&state.db, std::slice::from_ref(&detail)).await?;
    Ok(cached_offer(&state.db, id).await?)
}

async fn offer_page(
    State(state): State<AppState>,
    SignedIn { session, user }: SignedIn,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let Some(offer) = offer(&state, &id).await? else {
        return Err(PageError::NotFound);
    };
    // Reading the page changes nothing (a prefetch or a crawler is not a view): the
    // page itself records the view by POST (`viewed`). The score shown is the one the
    // offer had at the first view, else its current one.
    let interaction = sqlx::query_as!(
        Interaction,
        r#"SELECT coalesce(i.saved, false) AS "saved!", coalesce(i.applied, false) AS "applied!",
                i.applied_at AS "applied_at?", coalesce(i.got_interview, false) AS "got_interview!",
                coalesce(i.got_hired, false) AS "got_hired!",
                coalesce(i.match_score, m.score) AS match_score
         FROM (SELECT $1::uuid AS user_id, $2::text AS offer_external_id) AS wanted
         LEFT JOIN gui.offer_interactions i USING (user_id, offer_external_id)
         LEFT JOIN gui.match_results m USING (user_id, offer_external_id)"#,
        user.id,
        id
    )
    .fetch_one(&state.db)
    .await?;
    let skills = sqlx::query!(
        "SELECT name, is_required FROM gui.job_offer_skills WHERE offer_external_id = $1 ORDER BY name",
        id
    )
    .fetch_all(&state.db)
    .await?;
    let (required, wished): (Vec<_>, Vec<_>) = skills
        .into_iter()
        .map(|row| (row.name, row.is_required))
        .partition(|(_, required)| *required);
    // An offer's URL comes from a feed: only an https:// one becomes a link (a
    // `javascript:` or `data:` URL would run in the candidate's page), else the offer's
    // page on francetravail.fr.
    let link = offer
        .url
        .clone()
        .filter(|url| url.starts_with("https://"))
        .unwrap_or_else(|| {
            format!(
                "https://candidat.francetravail.fr/offres/recherche/detail/{}",
                offer.external_id
            )
        });
    let page = OfferPage {
        id: offer.external_id.clone(),
        csrf: session.csrf.clone(),
        unread: user.unread,
        percent: interaction.match_score.map(crate::matches::percent),
        offer,
        link,
        required: required.into_iter().map(|(n, _)| n).collect(),
        wished: wished.into_iter().map(|(n, _)| n).collect(),
        interaction,
    };
    Ok(render(&page))
}

/// The offer page's tracking section alone, what htmx swaps in place.
#[derive(Template)]
#[template(path = "offer_tracking.html")]
struct TrackingSection {
    csrf: String,
    id: String,
    interaction: Interaction,
}

/// Save, unsave, applied, interview, hired: each a form on the offer's page. Without
/// JavaScript the page is reloaded; with htmx (`HX-Request`), only the tracking
/// section comes back.
async fn act(
    State(state): State<AppState>,
    SignedIn { session, user }: SignedIn,
    Path((id, action)): Path<(String, String)>,
    headers: axum::http::HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&form.csrf)?;
    let action = Action::from_path(&action).ok_or(PageError::NotFound)?;
    let known: bool = sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM gui.job_offers WHERE external_id = $1) AS "exists!""#,
        id
    )
    .fetch_one(&state.db)
    .await?;
    if !known {
        return Err(PageError::NotFound);
    }
    let variant = &state.variants.of(user.id).name;
    let interaction = record(&state.db, user.id, &id, variant, action).await?;
    if headers.contains_key("hx-request") {
        return Ok(render(&TrackingSection {
            csrf: session.csrf.clone(),
            id,
            interaction,
        }));
    }
    Ok(Redirect::to(&format!("/offres/{id}")).into_response())
}

/// What a candidate does about an offer, from its page: each its own statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Save,
    Unsave,
    Apply,
    /// Outcomes follow an application: they mark it too.
    Interview,
    Hired,
}

impl Action {
    /// The action a form posts to (`/offres/{id}/<action>`).
    fn from_path(segment: &str) -> Option<Self> {
        Some(match segment {
            "enregistrer" => Action::Save,
            "retirer" => Action::Unsave,
            "postule" => Action::Apply,
            "entretien" => Action::Interview,
            "embauche" => Action::Hired,
            _ => return None,
        })
    }
}

/// `interaction_update!(set, user, offer)`: the update of the candidate's row for the
/// offer (`$1` the candidate, `$2` the offer) that sets `set`, returning the row after
/// (a literal: `sqlx::query_as!` takes only literals).
macro_rules! interaction_update {
    ($set:literal, $user:expr, $offer:expr) => {
        sqlx::query_as!(
            Interaction,
            "UPDATE gui.offer_interactions SET "
                + $set
                + ", updated_at = now()
             WHERE user_id = $1 AND offer_external_id = $2
             RETURNING saved, applied, applied_at, coalesce(got_interview, false) AS \"got_interview!\",
                 coalesce(got_hired, false) AS \"got_hired!\", match_score",
            $user,
            $offer
        )
    };
}

/// Applies `action` to the candidate's row for the offer (made if missing); the row after.
async fn record(
    db: &PgPool,
    user: Uuid,
    offer: &str,
    variant: &str,
    action: Action,
) -> Result<Interaction, sqlx::Error> {
    sqlx::query!(
        "INSERT INTO gui.offer_interactions (user_id, offer_external_id, variant) VALUES ($1, $2, $3)
         ON CONFLICT (user_id, offer_external_id) DO NOTHING",
        user,
        offer,
        variant
    )
    .execute(db)
    .await?;
    // Each action its own statement.
    match action {
        Action::Save => {
            interaction_update!("saved = true, saved_at = now()", user, offer)
                .fetch_one(db)
                .await
        }
        Action::Unsave => {
            interaction_update!("saved = false, saved_at = NULL", user, offer)
                .fetch_one(db)
                .await
        }
        Action::Apply => {
            interaction_update!(
                "applied = true, applied_at = coalesce(applied_at, now())",
                user,
                offer
            )
            .fetch_one(db)
            .await
        }
        Action::Interview => {
            interaction_update!(
                "applied = true, applied_at = coalesce(applied_at, now()), got_interview = true",
                user,
                offer
            )
            .fetch_one(db)
            .await
        }
        Action::Hired => {
            interaction_update!(
                "applied = true, applied_at = coalesce(applied_at, now()), got_interview = true,
                     got_hired = true",
                user,
                offer
            )
            .fetch_one(db)
            .await
        }
    }
}

/// The first view of an offer's page: when, and the score the offer had for the
/// candidate then. Sent by the page once shown (a POST, as every change of state).
async fn viewed(
    State(state): State<AppState>,
    SignedIn { session, user }: SignedIn,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<StatusCode, PageError> {
    session.check_csrf(&form.csrf)?;
    let recorded = sqlx::query!(
        "INSERT INTO gui.offer_interactions (user_id, offer_external_id, viewed, viewed_at, match_score, variant)
         SELECT $1, o.external_id, true, now(),
                (SELECT score FROM gui.match_results WHERE user_id = $1 AND offer_external_id = $2), $3
         FROM gui.job_offers o WHERE o.external_id = $2
         ON CONFLICT (user_id, offer_external_id) DO UPDATE
         SET viewed = true, viewed_at = coalesce(gui.offer_interactions.viewed_at, now()),
             match_score = coalesce(gui.offer_interactions.match_score, excluded.match_score)",
        user.id,
        id,
        &state.variants.of(user.id).name
    )
    .execute(&state.db)
    .await?;
    if recorded.rows_affected() == 0 {
        return Err(PageError::NotFound);
    }
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct TimeForm {
    csrf: String,
    seconds: i32,
}

/// The beacon sent when the candidate leaves an offer's page.
async fn time_spent(
    State(state): State<AppState>,
    SignedIn { session, user }: SignedIn,
    Path(id): Path<String>,
    Form(form): Form<TimeForm>,
) -> Result<StatusCode, PageError> {
    session.check_csrf(&form.csrf)?;
    let seconds = form.seconds.clamp(0, MAX_SECONDS_PER_VISIT);
    sqlx::query!(
        "UPDATE gui.offer_interactions SET time_spent_seconds = time_spent_seconds + $3, updated_at = now()
         WHERE user_id = $1 AND offer_external_id = $2",
        user.id,
        id,
        seconds
    )
    .execute(&state.db)
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An offer the candidate saved or applied to.
pub struct Tracked {
    pub external_id: String,
    pub title: String,
    pub company_name: Option<String>,
    pub location: Option<String>,
    pub applied_at: Option<DateTime<Utc>>,
    pub got_interview: bool,
    pub got_hired: bool,
}

impl Tracked {
    /// "Postulé le 27/11/2026", "Entretien obtenu", "Embauche obtenue".
    pub fn status(&self) -> String {
        if self.got_hired {
            "Embauche obtenue".into()
        } else if self.got_interview {
            "Entretien obtenu".into()
        } else {
            self.applied_at.map_or_else(String::new, |t| {
                format!("Postulé le {}", french_time(t, "%d/%m/%Y"))
            })
        }
    }
}

#[derive(Template)]
#[template(path = "tracked.html")]
struct TrackedPage {
    csrf: String,
    unread: i64,
    title: &'static str,
    empty: &'static str,
    offers: Vec<Tracked>,
}

/// Which tracked offers a page lists.
/// `tracked_where!(condition, user)`: the candidate's offers whose interaction meets
/// `condition`, last changed first (a literal: `sqlx::query_as!` takes only literals).
macro_rules! tracked_where {
    ($condition:literal, $user:expr) => {
        sqlx::query_as!(
            Tracked,
            r#"SELECT o.external_id, o.title, o.company_name, o.location, i.applied_at,
                coalesce(i.got_interview, false) AS "got_interview!", coalesce(i.got_hired, false) AS "got_hired!"
             FROM gui.offer_interactions i JOIN gui.job_offers o ON o.external_id = i.offer_external_id
             WHERE i.user_id = $1 AND "# + $condition + " ORDER BY i.updated_at DESC",
            $user
        )
    };
}

#[derive(Debug, Clone, Copy)]
enum Shelf {
    Saved,
    Applied,
}

async fn tracked(
    state: &AppState,
    SignedIn { session, user }: SignedIn,
    shelf: Shelf,
    title: &'static str,
    empty: &'static str,
) -> Result<Response, PageError> {
    let offers = match shelf {
        Shelf::Saved => {
            tracked_where!("i.saved", user.id)
                .fetch_all(&state.db)
                .await?
        }
        Shelf::Applied => {
            tracked_where!("i.applied", user.id)
                .fetch_all(&state.db)
                .await?
        }
    };
    Ok(render(&TrackedPage {
        csrf: session.csrf.clone(),
        unread: user.unread,
        title,
        empty,
        offers,
    }))
}

async fn saved_page(
    State(state): State<AppState>,
    signed_in: SignedIn,
) -> Result<Response, PageError> {
    tracked(
        &state,
        signed_in,
        Shelf::Saved,
        "Mes offres enregistrées",
        "Vous n’avez enregistré aucune offre.",
    )
    .await
}

async fn applications_page(
    State(state): State<AppState>,
    signed_in: SignedIn,
) -> Result<Response, PageError> {
    tracked(
        &state,
        signed_in,
        Shelf::Applied,
        "Mes candidatures",
        "Vous n’avez encore postulé à aucune offre.",
    )
    .await
}
