//! The skills: those read in the CV and those the candidate declared.

use axum::extract::State;
use axum::response::Response;
use axum::Form;
use serde::Deserialize;
use sqlx::PgPool;
use uuid::Uuid;

use super::page::{refuse_form, Section};
use super::{allow_edit, changed, ensure_profile};
use crate::session::SignedIn;
use crate::web::PageError;
use crate::AppState;

/// Skills a candidate may add (the profile's text stays within what cv-ingestion embeds
/// and matching reads).
const MAX_DECLARED_SKILLS: i64 = shared::MAX_PROFILE_SKILLS as i64 / 2;

#[derive(Deserialize)]
pub(super) struct SkillForm {
    csrf: String,
    label: String,
}

pub(super) async fn add_skill(
    State(state): State<AppState>,
    SignedIn { session, user }: SignedIn,
    Form(form): Form<SkillForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&form.csrf)?;
    allow_edit(&state, user.id).await?;
    let label = form.label.trim();
    let refusal = if declared(&state.db, user.id).await? >= MAX_DECLARED_SKILLS {
        Some("Vous avez ajouté le nombre maximal de compétences : retirez-en avant d’en ajouter d’autres.")
    } else if label.is_empty() || label.chars().count() > shared::MAX_PROFILE_SKILL_CHARS {
        Some("Indiquez une compétence (200 caractères au plus).")
    } else {
        None
    };
    if let Some(message) = refusal {
        let typed = vec![("label".into(), form.label.clone())];
        return refuse_form(&state, &session, &user, Section::Skills, message, typed).await;
    }
    ensure_profile(&state.db, user.id).await?;
    sqlx::query!(
        "INSERT INTO gui.profile_skills (user_id, label, source) VALUES ($1, $2, 'declared')
         ON CONFLICT (user_id, label) DO UPDATE SET source = 'declared'",
        user.id,
        label
    )
    .execute(&state.db)
    .await?;
    changed(&state, user.id, Section::Skills).await
}

/// How many skills the candidate declared.
async fn declared(db: &PgPool, user: Uuid) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT count(*) AS "count!" FROM gui.profile_skills WHERE user_id = $1 AND source = 'declared'"#,
        user
    )
    .fetch_one(db)
    .await
}

pub(super) async fn remove_skill(
    State(state): State<AppState>,
    SignedIn { session, user }: SignedIn,
    Form(form): Form<SkillForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&form.csrf)?;
    allow_edit(&state, user.id).await?;
    sqlx::query!(
        "DELETE FROM gui.profile_skills WHERE user_id = $1 AND label = $2",
        user.id,
        form.label
    )
    .execute(&state.db)
    .await?;
    changed(&state, user.id, Section::Skills).await
}
