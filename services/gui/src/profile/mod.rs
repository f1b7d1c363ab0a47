//! The candidate's profile: the CV (read by cv-ingestion), the skills and experiences
//! understood from it and edited by the candidate, the place, search radius and
//! contract preferences. Every change marks the cached matches out of date at once and
//! recomputes the profile's embedding (CV, skills and experiences together), so that a
//! profile change changes the matches.
//!
//! One module per section of the page, each handler followed by its statements; `page`
//! shows the page (and a refused form in it), `embedding` keeps the profile's embedding
//! current.

mod cv;
mod embedding;
mod experiences;
mod page;
mod preferences;
mod skills;

use std::time::Duration;

use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use sqlx::PgPool;
use uuid::Uuid;

use crate::rate_limit::{self, Limit};
use crate::web::PageError;
use crate::AppState;

pub use cv::{cv_max_label, store_cv, CV_MAX_BYTES, CV_UPLOAD_BYTES};
pub use embedding::{candidate, refresh_embedding};
use page::Section;
pub use page::{load, ExperienceRow, Profile};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/profil", get(page::page))
        // The one form that carries a file: every other one gets a few KiB (`router`).
        .route(
            "/profil/cv",
            post(cv::upload_cv).layer(axum::extract::DefaultBodyLimit::max(CV_UPLOAD_BYTES)),
        )
        .route("/profil/competences", post(skills::add_skill))
        .route("/profil/competences/supprimer", post(skills::remove_skill))
        .route("/profil/experiences", post(experiences::add_experience))
        .route(
            "/profil/experiences/supprimer",
            post(experiences::remove_experience),
        )
        .route("/profil/preferences", post(preferences::save_preferences))
}

/// Every profile edit re-embeds the profile (cv-ingestion's model): a candidate, or a
/// script with their session, cannot keep the model busy for everyone else.
const EDITS_PER_CANDIDATE: Limit = Limit {
    max: 120,
    window: Duration::from_secs(3600),
};

/// Whether the candidate may edit their profile now ([`EDITS_PER_CANDIDATE`]).
async fn allow_edit(state: &AppState, user: Uuid) -> Result<(), PageError> {
    if rate_limit::allow(
        &state.db,
        &rate_limit::candidate("profile-edit", user),
        EDITS_PER_CANDIDATE,
    )
    .await?
    {
        Ok(())
    } else {
        Err(PageError::TooManyAttempts)
    }
}

/// A profile row, for a candidate who edits before giving a CV.
async fn ensure_profile(db: &PgPool, user: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO gui.profiles (user_id) VALUES ($1) ON CONFLICT DO NOTHING",
        user
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Marks the cached matches out of date (the profile changed), re-embeds the profile and
/// sends the browser back to the section it changed.
async fn changed(state: &AppState, user: Uuid, section: Section) -> Result<Response, PageError> {
    sqlx::query!(
        "UPDATE gui.profiles SET updated_at = now(), matches_invalidated_at = now() WHERE user_id = $1",
        user
    )
    .execute(&state.db)
    .await?;
    refresh_embedding(state, user, None).await?;
    Ok(section.redirect(""))
}
