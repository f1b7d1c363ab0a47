//! The CV: uploaded, read by cv-ingestion, stored with what was understood from it.

use std::time::Duration;

use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::Response;
use pgvector::Vector;
use shared::CvAnalysis;
use sqlx::PgPool;
use uuid::Uuid;

use super::page::{refuse, refuse_form, Refusal, Section};
use super::refresh_embedding;
use crate::cv_client::{self, CvRefused};
use crate::rate_limit::{self, Limit};
use crate::session::SignedIn;
use crate::web::PageError;
use crate::AppState;

/// The largest CV file accepted (cv-ingestion's `BODY_LIMIT_BYTES` must not be lower).
pub const CV_MAX_BYTES: usize = 10 * 1024 * 1024;
/// A CV of [`CV_MAX_BYTES`] and the rest of its form.
pub const CV_UPLOAD_BYTES: usize = CV_MAX_BYTES + 1024 * 1024;

/// [`CV_MAX_BYTES`] as the pages say it: "10 Mo".
pub fn cv_max_label() -> String {
    format!("{} Mo", CV_MAX_BYTES / (1024 * 1024))
}

/// Each CV is read and embedded by cv-ingestion: an hour allows this many per candidate.
const UPLOADS_PER_CANDIDATE: Limit = Limit {
    max: 20,
    window: Duration::from_secs(3600),
};

/// The CV upload: a multipart form with the CSRF token and the file.
pub(super) async fn upload_cv(
    State(state): State<AppState>,
    SignedIn { session, user }: SignedIn,
    mut form: Multipart,
) -> Result<Response, PageError> {
    // A body cut short or over the limit while it is read is said as such, not taken
    // for a form without its file or its token.
    let unreadable = |e: axum::extract::multipart::MultipartError| match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => PageError::TooLarge,
        _ => PageError::BadForm,
    };
    let (mut csrf, mut file) = (String::new(), None);
    while let Some(field) = form.next_field().await.map_err(unreadable)? {
        match field.name() {
            Some("csrf") => csrf = field.text().await.map_err(unreadable)?,
            Some("cv") => {
                let name = field.file_name().unwrap_or("cv").to_owned();
                file = Some((name, field.bytes().await.map_err(unreadable)?.to_vec()));
            }
            _ => {}
        }
    }
    session.check_csrf(&csrf)?;
    if !rate_limit::allow(
        &state.db,
        &rate_limit::candidate("cv-upload", user.id),
        UPLOADS_PER_CANDIDATE,
    )
    .await?
    {
        return Err(PageError::TooManyAttempts);
    }
    let Some((name, bytes)) = file.filter(|(_, b)| !b.is_empty()) else {
        return refuse_form(
            &state,
            &session,
            &user,
            Section::Cv,
            "Choisissez le fichier de votre CV.",
            Vec::new(),
        )
        .await;
    };
    let analysis = match cv_client::analyse_file(&state.cv, bytes, &name).await {
        Ok(analysis) => analysis,
        Err(refused) => {
            let status = match refused {
                CvRefused::Document(_) => StatusCode::UNPROCESSABLE_ENTITY,
                CvRefused::Unavailable(ref e) => {
                    tracing::warn!(error = %e, "cv-ingestion unavailable");
                    StatusCode::SERVICE_UNAVAILABLE
                }
            };
            return refuse(
                &state,
                &session,
                &user,
                Refusal {
                    section: Section::Cv,
                    message: &refused.to_string(),
                    typed: Vec::new(),
                },
                status,
            )
            .await;
        }
    };
    store_cv(&state.db, user.id, &analysis).await?;
    refresh_embedding(&state, user.id, None).await?;
    Ok(Section::Cv.redirect("?cv=1"))
}

/// Stores a CV's analysis: its text, embedding, skills and experiences (the skills and
/// experiences the candidate added stay), and marks the cached matches out of date.
pub async fn store_cv(db: &PgPool, user: Uuid, analysis: &CvAnalysis) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    // Until the profile's own embedding catches up (refresh_embedding), a first CV is
    // matched by its own embedding.
    sqlx::query!(
        "INSERT INTO gui.profiles (user_id, cv_text, cv_analysis, cv_embedding, profile_embedding, embedding_model, cv_updated_at, updated_at, matches_invalidated_at)
         VALUES ($1, $2, $3, $4, $4, $5, now(), now(), now())
         ON CONFLICT (user_id) DO UPDATE SET cv_text = $2, cv_analysis = $3, cv_embedding = $4,
             profile_embedding = coalesce(gui.profiles.profile_embedding, $4), embedding_model = $5,
             cv_updated_at = now(), updated_at = now(), matches_invalidated_at = now()",
        user,
        analysis.text,
        sqlx::types::Json(analysis) as sqlx::types::Json<&CvAnalysis>,
        Vector::from(analysis.embedding.clone()) as Vector,
        analysis.embedding_model
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "DELETE FROM gui.profile_skills WHERE user_id = $1 AND source = 'cv'",
        user
    )
    .execute(&mut *tx)
    .await?;
    for skill in &analysis.skills {
        sqlx::query!(
            "INSERT INTO gui.profile_skills (user_id, label, code, source) VALUES ($1, $2, $3, 'cv') ON CONFLICT DO NOTHING",
            user,
            skill.label,
            skill.code
        )
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query!(
        "DELETE FROM gui.profile_experiences WHERE user_id = $1 AND source = 'cv'",
        user
    )
    .execute(&mut *tx)
    .await?;
    for (position, job) in analysis.experiences.iter().enumerate() {
        sqlx::query!(
            "INSERT INTO gui.profile_experiences (id, user_id, title, employer, start_date, end_date, months, position)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            Uuid::now_v7(),
            user,
            job.title,
            job.employer,
            job.start,
            job.end,
            job.months.map(|m| m as i32),
            position as i32
        )
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await
}
