//! The profile's embedding: recomputed by cv-ingestion from the CV, skills and
//! experiences as they are now, written only if the profile did not change meanwhile.

use std::time::Duration;

use chrono::{DateTime, Utc};
use pgvector::Vector;
use shared::profile::CandidateProfile;
use shared::{CvSection, ProfileSkill};
use sqlx::PgPool;
use uuid::Uuid;

use crate::cv_client::{self, CvRefused};
use crate::AppState;

/// The candidate as ranking reads them (the CV, the skills and the experiences as they
/// are now) and the last change it includes, read in one statement so that both are of
/// the same instant; None without a profile.
pub async fn candidate(
    db: &PgPool,
    user: Uuid,
) -> Result<Option<(Option<DateTime<Utc>>, CandidateProfile)>, sqlx::Error> {
    let row = sqlx::query!(
        r#"SELECT p.matches_invalidated_at, p.cv_text,
             p.cv_analysis->'sections' AS "sections: sqlx::types::Json<Vec<serde_json::Value>>",
             p.cv_analysis->>'language' AS language,
             ARRAY(SELECT label FROM gui.profile_skills s WHERE s.user_id = p.user_id ORDER BY label)
                 AS "labels!",
             ARRAY(SELECT code FROM gui.profile_skills s WHERE s.user_id = p.user_id ORDER BY label)
                 AS "codes!: Vec<Option<String>>",
             ARRAY(SELECT title FROM gui.profile_experiences e
                   WHERE e.user_id = p.user_id AND e.source = 'declared' ORDER BY position) AS "declared!",
             ARRAY(SELECT jsonb_array_elements_text(coalesce(p.cv_analysis->'titles', '[]'))) AS "stated!",
             ARRAY(SELECT title FROM gui.profile_experiences e
                   WHERE e.user_id = p.user_id AND e.source = 'cv' ORDER BY position) AS "held!"
         FROM gui.profiles p WHERE p.user_id = $1"#,
        user
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|row| {
        let skills = row
            .labels
            .into_iter()
            .zip(row.codes)
            .map(|(label, code)| ProfileSkill { label, code })
            .collect();
        // Titles: those the candidate declared first (their own words for what they
        // seek), then those the CV states (headline, sentences), then its jobs.
        let titles = row
            .declared
            .into_iter()
            .chain(row.stated)
            .chain(row.held)
            .collect();
        (
            row.matches_invalidated_at,
            CandidateProfile {
                cv_text: row.cv_text.unwrap_or_default(),
                // A section this version does not know is left out, not an error.
                sections: row
                    .sections
                    .map(|s| s.0)
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|s| serde_json::from_value::<CvSection>(s).ok())
                    .collect(),
                language: row.language,
                titles,
                skills,
            },
        )
    }))
}

/// Recomputes the profile's embedding through cv-ingestion (waiting `patience`, or
/// `CV_INGESTION_TIMEOUT_SECS`); true when the embedding is now current. When
/// cv-ingestion is unavailable the previous embedding stays, known to be behind the
/// profile (`profile_embedded_at` older than `matches_invalidated_at`): the matches page
/// tries again and says its results may be out of date meanwhile.
pub async fn refresh_embedding(
    state: &AppState,
    user: Uuid,
    patience: Option<Duration>,
) -> Result<bool, sqlx::Error> {
    // The profile as of this instant: if it changes while cv-ingestion works, this
    // embedding is already old and is not written (the change's own refresh writes).
    let Some((as_of, candidate)) = candidate(&state.db, user).await? else {
        return Ok(false);
    };
    let text = candidate.embedding_text();
    let embedding = if text.trim().is_empty() {
        // Nothing left to match with (no CV, no skill, no experience).
        None
    } else {
        match cv_client::analyse_text(&state.cv, &text, patience).await {
            Ok(analysis) => Some((Vector::from(analysis.embedding), analysis.embedding_model)),
            Err(CvRefused::Unavailable(e)) => {
                tracing::warn!(error = %e, "profile embedding not refreshed");
                return Ok(false);
            }
            Err(refused @ CvRefused::Document(_)) => {
                // cv-ingestion refuses the text we made: retrying cannot help. The
                // previous embedding stays and counts as current.
                tracing::error!(error = %refused, "cv-ingestion refused a profile's text");
                sqlx::query!(
                    "UPDATE gui.profiles SET profile_embedded_at = now()
                     WHERE user_id = $1 AND matches_invalidated_at IS NOT DISTINCT FROM $2",
                    user,
                    as_of
                )
                .execute(&state.db)
                .await?;
                return Ok(false);
            }
        }
    };
    let (vector, model) = embedding.unzip();
    let written = sqlx::query!(
        "UPDATE gui.profiles SET profile_embedding = $3, embedding_model = coalesce($4, embedding_model),
             profile_embedded_at = now()
         WHERE user_id = $1 AND matches_invalidated_at IS NOT DISTINCT FROM $2",
        user,
        as_of,
        vector as Option<Vector>,
        model
    )
    .execute(&state.db)
    .await?;
    Ok(written.rows_affected() == 1)
}
