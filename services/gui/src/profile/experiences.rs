//! The experiences: the jobs read in the CV and those the candidate declared.

use axum::extract::State;
use axum::response::Response;
use axum::Form;
use chrono::NaiveDate;
use serde::Deserialize;
use sqlx::PgPool;
use uuid::Uuid;

use super::page::{refuse_form, Section};
use super::{allow_edit, changed, ensure_profile};
use crate::session::SignedIn;
use crate::web::PageError;
use crate::AppState;

/// Experiences a candidate may add (the profile's text stays within what cv-ingestion
/// embeds and matching reads).
const MAX_DECLARED_EXPERIENCES: i64 = 50;

#[derive(Deserialize)]
pub(super) struct ExperienceForm {
    csrf: String,
    title: String,
    employer: String,
    /// `YYYY-MM` (an `<input type="month">`), optional.
    start: String,
    end: String,
}

pub(super) async fn add_experience(
    State(state): State<AppState>,
    SignedIn { session, user }: SignedIn,
    Form(form): Form<ExperienceForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&form.csrf)?;
    allow_edit(&state, user.id).await?;
    let (start, end) = (month_of(&form.start), month_of(&form.end));
    let title = form.title.trim();
    let bad_dates = (!form.start.trim().is_empty() && start.is_none())
        || (!form.end.trim().is_empty() && end.is_none())
        || matches!((start, end), (Some(s), Some(e)) if e < s);
    let too_many = declared(&state.db, user.id).await? >= MAX_DECLARED_EXPERIENCES;
    if title.is_empty()
        || title.chars().count() > shared::MAX_PROFILE_TITLE_CHARS
        || form.employer.trim().chars().count() > shared::MAX_PROFILE_TITLE_CHARS
        || bad_dates
        || too_many
    {
        let message = if too_many {
            "Vous avez ajouté le nombre maximal d’expériences : retirez-en avant d’en ajouter d’autres."
        } else {
            "Indiquez l’intitulé du poste (200 caractères au plus), et des dates au format mois/année, la fin après le début."
        };
        let typed = vec![
            ("title".into(), form.title.clone()),
            ("employer".into(), form.employer.clone()),
            ("start".into(), form.start.clone()),
            ("end".into(), form.end.clone()),
        ];
        return refuse_form(
            &state,
            &session,
            &user,
            Section::Experiences,
            message,
            typed,
        )
        .await;
    }
    ensure_profile(&state.db, user.id).await?;
    let employer = Some(form.employer.trim()).filter(|e| !e.is_empty());
    sqlx::query!(
        "INSERT INTO gui.profile_experiences (id, user_id, title, employer, start_date, end_date, source, position)
         VALUES ($1, $2, $3, $4, $5, $6, 'declared', (SELECT coalesce(max(position), -1) + 1 FROM gui.profile_experiences WHERE user_id = $2))",
        Uuid::now_v7(),
        user.id,
        title,
        employer,
        start,
        end
    )
    .execute(&state.db)
    .await?;
    changed(&state, user.id, Section::Experiences).await
}

/// How many experiences the candidate declared.
async fn declared(db: &PgPool, user: Uuid) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT count(*) AS "count!" FROM gui.profile_experiences WHERE user_id = $1 AND source = 'declared'"#,
        user
    )
    .fetch_one(db)
    .await
}

/// A month as `<input type="month">` sends it (`2019-01`), or as a person types it where
/// the browser shows a plain text field instead (`01/2019`, `1/2019`).
fn month_of(field: &str) -> Option<NaiveDate> {
    let field = field.trim();
    let (year, month) = match field.split_once('/') {
        Some((month, year)) => (year, month),
        None => field.split_once('-')?,
    };
    let (year, month) = (year.trim().parse().ok()?, month.trim().parse().ok()?);
    NaiveDate::from_ymd_opt(year, month, 1).filter(|_| (1900..=2100).contains(&year))
}

#[derive(Deserialize)]
pub(super) struct RemoveExperienceForm {
    csrf: String,
    id: Uuid,
}

pub(super) async fn remove_experience(
    State(state): State<AppState>,
    SignedIn { session, user }: SignedIn,
    Form(form): Form<RemoveExperienceForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&form.csrf)?;
    allow_edit(&state, user.id).await?;
    sqlx::query!(
        "DELETE FROM gui.profile_experiences WHERE user_id = $1 AND id = $2",
        user.id,
        form.id
    )
    .execute(&state.db)
    .await?;
    changed(&state, user.id, Section::Experiences).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_as_browsers_send_them_or_people_type_them() {
        let january = NaiveDate::from_ymd_opt(2019, 1, 1);
        assert_eq!(month_of("2019-01"), january);
        assert_eq!(month_of("01/2019"), january);
        assert_eq!(month_of(" 1/2019 "), january);
        assert_eq!(month_of("13/2019"), None);
        assert_eq!(month_of("janvier 2019"), None);
        assert_eq!(month_of("19-01"), None, "a two-digit year is not a year");
        assert_eq!(month_of(""), None);
    }
}
