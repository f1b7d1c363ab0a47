//! The candidate's profile: the CV (read by cv-ingestion), the skills and experiences
//! understood from it and edited by the candidate, the place, search radius and
//! contract preferences. Every change marks the cached matches out of date at once and
//! recomputes the profile's embedding (CV, skills and experiences together), so that a
//! profile change changes the matches.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use askama::Template;
use axum::extract::{Multipart, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::{DateTime, NaiveDate, Utc};
use pgvector::Vector;
use serde::Deserialize;
use shared::profile::CandidateProfile;
use shared::{CvAnalysis, CvSection, ProfileSkill};
use sqlx::PgPool;
use uuid::Uuid;

use crate::cv_client::{self, CvRefused};
use crate::rate_limit::{self, Limit};
use crate::session::{CurrentUser, Session, SignedIn};
use crate::web::{french_time, render, PageError};
use crate::AppState;

/// The largest CV file accepted (cv-ingestion's `BODY_LIMIT_BYTES` must not be lower).
pub const CV_MAX_BYTES: usize = 10 * 1024 * 1024;
/// A CV of [`CV_MAX_BYTES`] and the rest of its form.
pub const CV_UPLOAD_BYTES: usize = CV_MAX_BYTES + 1024 * 1024;

/// [`CV_MAX_BYTES`] as the pages say it: "10 Mo".
pub fn cv_max_label() -> String {
    format!("{} Mo", CV_MAX_BYTES / (1024 * 1024))
}

const UPLOADS_PER_CANDIDATE: Limit = Limit {
    max: 20,
    window: Duration::from_secs(3600),
};
/// Every profile edit re-embeds the profile (cv-ingestion's model): a candidate, or a
/// script with their session, cannot keep the model busy for everyone else.
const EDITS_PER_CANDIDATE: Limit = Limit {
    max: 120,
    window: Duration::from_secs(3600),
};
/// Skills and experiences a candidate may add (the profile's text stays within what
/// cv-ingestion embeds and matching reads).
const MAX_DECLARED_SKILLS: i64 = shared::MAX_PROFILE_SKILLS as i64 / 2;
const MAX_DECLARED_EXPERIENCES: i64 = 50;
/// Contract types offered as preferences (France Travail codes) and their labels.
pub const CONTRACTS: [(&str, &str); 6] = [
    ("CDI", "CDI"),
    ("CDD", "CDD"),
    ("MIS", "Intérim"),
    ("SAI", "Saisonnier"),
    ("LIB", "Profession libérale"),
    ("FRA", "Franchise"),
];
/// A contract code as candidates read it: the preferences' labels, and the other codes
/// France Travail uses; an unknown code as it is.
pub fn contract_label(code: &str) -> &str {
    const OTHERS: [(&str, &str); 5] = [
        ("DDI", "CDD d’insertion"),
        ("DIN", "CDI intérimaire"),
        ("CCE", "Profession commerciale"),
        ("TTI", "Travail temporaire d’insertion"),
        ("REP", "Reprise d’entreprise"),
    ];
    CONTRACTS
        .iter()
        .chain(OTHERS.iter())
        .find(|(c, _)| *c == code)
        .map_or(code, |(_, label)| label)
}

pub const RADII_KM: [u32; 6] = [5, 10, 20, 30, 50, 100];

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/profil", get(page))
        // The one form that carries a file: every other one gets a few KiB (`router`).
        .route(
            "/profil/cv",
            post(upload_cv).layer(axum::extract::DefaultBodyLimit::max(CV_UPLOAD_BYTES)),
        )
        .route("/profil/competences", post(add_skill))
        .route("/profil/competences/supprimer", post(remove_skill))
        .route("/profil/experiences", post(add_experience))
        .route("/profil/experiences/supprimer", post(remove_experience))
        .route("/profil/preferences", post(save_preferences))
}

/// What the profile page shows.
#[derive(Debug, Default)]
pub struct Profile {
    pub cv_updated_at: Option<String>,
    pub skills: Vec<(String, bool)>,
    /// Skills read in the CV that the profile does not hold (the candidate removed
    /// them): one click adds each back.
    pub suggestions: Vec<String>,
    pub experiences: Vec<ExperienceRow>,
    pub education: Vec<String>,
    pub languages: Vec<String>,
    pub place: Option<String>,
    pub radius_km: Option<f64>,
    pub contract_types: Vec<String>,
}

#[derive(Debug)]
pub struct ExperienceRow {
    pub id: Uuid,
    pub title: String,
    pub employer: Option<String>,
    pub period: String,
}

/// The page's sections, by their ids (`section-<id>`): notices and refusals are shown in
/// the section of the form they answer, which is what htmx swaps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Section {
    Cv,
    Skills,
    Experiences,
    Preferences,
}

impl Section {
    fn id(self) -> &'static str {
        match self {
            Self::Cv => "cv",
            Self::Skills => "competences",
            Self::Experiences => "experiences",
            Self::Preferences => "preferences",
        }
    }

    /// Where a form of this section sends the browser back: the page, at the section.
    fn redirect(self, query: &str) -> Response {
        Redirect::to(&format!("/profil{query}#section-{}", self.id())).into_response()
    }
}

#[derive(Template)]
#[template(path = "profile.html")]
struct ProfilePage<'a> {
    csrf: String,
    unread: i64,
    profile: Profile,
    notice: Option<(Section, &'a str)>,
    error: Option<Refusal<'a>>,
    /// Code, label, checked.
    contracts: Vec<(&'a str, &'a str, bool)>,
    /// Kilometres, selected.
    radii: Vec<(u32, bool)>,
}

impl ProfilePage<'_> {
    fn notice_in(&self, section: &str) -> Option<&str> {
        self.notice
            .filter(|(s, _)| s.id() == section)
            .map(|(_, message)| message)
    }

    fn error_in(&self, section: &str) -> Option<&str> {
        self.error
            .as_ref()
            .filter(|r| r.section.id() == section)
            .map(|r| r.message)
    }

    /// What the candidate typed in field `name` of the refused form, given back.
    fn typed(&self, name: &str) -> &str {
        self.error
            .iter()
            .flat_map(|r| &r.typed)
            .find(|(n, _)| *n == name)
            .map_or("", |(_, value)| value.as_str())
    }
}

/// A form refused: in which section, why, and what was typed (shown again, so that
/// nothing typed is lost).
struct Refusal<'a> {
    section: Section,
    message: &'a str,
    typed: Vec<(String, String)>,
}

#[derive(Deserialize)]
struct PageQuery {
    bienvenue: Option<String>,
    cv: Option<String>,
    enregistre: Option<String>,
}

async fn page(
    State(state): State<AppState>,
    SignedIn { session, user }: SignedIn,
    Query(query): Query<PageQuery>,
) -> Result<Response, PageError> {
    let notice = if query.bienvenue.is_some() {
        Some((
            Section::Cv,
            "Votre compte est créé. Déposez votre CV : nous en tirons votre profil et les offres qui vous correspondent.",
        ))
    } else if query.cv.is_some() {
        Some((
            Section::Cv,
            "Votre CV a été lu : vérifiez ce que nous avons compris ci-dessous.",
        ))
    } else {
        query
            .enregistre
            .map(|_| (Section::Preferences, "Vos préférences sont enregistrées."))
    };
    show(&state, &session, &user, notice, None, StatusCode::OK).await
}

/// The page again, with what was wrong with a form.
async fn refuse(
    state: &AppState,
    session: &Session,
    user: &CurrentUser,
    refusal: Refusal<'_>,
    status: StatusCode,
) -> Result<Response, PageError> {
    show(state, session, user, None, Some(refusal), status).await
}

async fn show(
    state: &AppState,
    session: &Session,
    user: &CurrentUser,
    notice: Option<(Section, &str)>,
    error: Option<Refusal<'_>>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let profile = load(&state.db, user.id).await?;
    // A refused preferences form shows the radius and contracts as they were sent.
    let sent = error.as_ref().filter(|r| r.section == Section::Preferences);
    let checked = |code: &str| match sent {
        Some(r) => r
            .typed
            .iter()
            .any(|(name, _)| *name == format!("contract_{code}")),
        None => profile.contract_types.iter().any(|c| c == code),
    };
    let radius = match sent {
        Some(r) => r
            .typed
            .iter()
            .find(|(name, _)| name == "radius_km")
            .and_then(|(_, v)| v.parse::<f64>().ok()),
        None => profile.radius_km,
    };
    let contracts = CONTRACTS
        .iter()
        .map(|(code, label)| (*code, *label, checked(code)))
        .collect();
    let radii = RADII_KM
        .iter()
        .map(|&r| (r, radius == Some(f64::from(r))))
        .collect();
    let page = ProfilePage {
        csrf: session.csrf.clone(),
        unread: user.unread,
        profile,
        notice,
        error,
        contracts,
        radii,
    };
    Ok((status, render(&page)).into_response())
}

/// A profile as stored.
#[derive(sqlx::FromRow)]
struct ProfileRow {
    cv_updated_at: Option<chrono::DateTime<chrono::Utc>>,
    cv_analysis: Option<sqlx::types::Json<CvAnalysis>>,
    place_label: Option<String>,
    radius_km: Option<f64>,
    contract_types: Vec<String>,
}

/// An experience as stored.
#[derive(sqlx::FromRow)]
struct ExperienceRecord {
    id: Uuid,
    title: String,
    employer: Option<String>,
    start_date: Option<NaiveDate>,
    end_date: Option<NaiveDate>,
}

pub async fn load(db: &PgPool, user: Uuid) -> Result<Profile, sqlx::Error> {
    let row: Option<ProfileRow> = sqlx::query_as(
        "SELECT cv_updated_at, cv_analysis, place_label, radius_km, contract_types FROM gui.profiles WHERE user_id = $1",
    )
    .bind(user)
    .fetch_optional(db)
    .await?;
    let Some(row) = row else {
        return Ok(Profile::default());
    };
    let skills: Vec<(String, String)> = sqlx::query_as(
        "SELECT label, source FROM gui.profile_skills WHERE user_id = $1 ORDER BY source, label",
    )
    .bind(user)
    .fetch_all(db)
    .await?;
    let experiences: Vec<ExperienceRecord> = sqlx::query_as(
        "SELECT id, title, employer, start_date, end_date FROM gui.profile_experiences WHERE user_id = $1
         ORDER BY source = 'declared', position",
    )
    .bind(user)
    .fetch_all(db)
    .await?;
    let analysis = row.cv_analysis.map(|a| a.0);
    let held: HashSet<String> = skills
        .iter()
        .map(|(label, _)| places::name_key(label))
        .collect();
    let mut suggestions: Vec<String> = Vec::new();
    for skill in analysis.iter().flat_map(|a| &a.skills) {
        if !held.contains(&places::name_key(&skill.label)) && !suggestions.contains(&skill.label) {
            suggestions.push(skill.label.clone());
        }
    }
    Ok(Profile {
        cv_updated_at: row.cv_updated_at.map(|t| french_time(t, "%d/%m/%Y")),
        skills: skills
            .into_iter()
            .map(|(label, source)| (label, source == "declared"))
            .collect(),
        suggestions,
        experiences: experiences
            .into_iter()
            .map(|e| ExperienceRow {
                id: e.id,
                title: e.title,
                employer: e.employer,
                period: period(e.start_date, e.end_date),
            })
            .collect(),
        education: analysis
            .iter()
            .flat_map(|a| &a.education)
            .map(|e| {
                let mut line = e.title.clone();
                if let Some(i) = &e.institution {
                    line.push_str(&format!(", {i}"));
                }
                if let Some(y) = e.year {
                    line.push_str(&format!(" ({y})"));
                }
                line
            })
            .collect(),
        languages: analysis
            .iter()
            .flat_map(|a| &a.languages)
            .map(|l| match &l.level {
                Some(level) => format!("{} : {level}", l.language),
                None => l.language.clone(),
            })
            .collect(),
        place: row.place_label,
        radius_km: row.radius_km,
        contract_types: row.contract_types,
    })
}

/// "janv. 2019 – aujourd’hui", "2014 – 2016".
fn period(start: Option<NaiveDate>, end: Option<NaiveDate>) -> String {
    const MONTHS: [&str; 12] = [
        "janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.",
        "déc.",
    ];
    let month = |d: NaiveDate| {
        format!(
            "{} {}",
            MONTHS[chrono::Datelike::month0(&d) as usize],
            chrono::Datelike::year(&d)
        )
    };
    match (start, end) {
        (Some(s), Some(e)) => format!("{} – {}", month(s), month(e)),
        (Some(s), None) => format!("depuis {}", month(s)),
        _ => String::new(),
    }
}

/// The CV upload: a multipart form with the CSRF token and the file.
async fn upload_cv(
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
        return refuse(
            &state,
            &session,
            &user,
            Refusal {
                section: Section::Cv,
                message: "Choisissez le fichier de votre CV.",
                typed: Vec::new(),
            },
            StatusCode::UNPROCESSABLE_ENTITY,
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
    sqlx::query(
        // Until the profile's own embedding catches up (refresh_embedding), a first CV
        // is matched by its own embedding.
        "INSERT INTO gui.profiles (user_id, cv_text, cv_analysis, cv_embedding, profile_embedding, embedding_model, cv_updated_at, updated_at, matches_invalidated_at)
         VALUES ($1, $2, $3, $4, $4, $5, now(), now(), now())
         ON CONFLICT (user_id) DO UPDATE SET cv_text = $2, cv_analysis = $3, cv_embedding = $4,
             profile_embedding = coalesce(gui.profiles.profile_embedding, $4), embedding_model = $5,
             cv_updated_at = now(), updated_at = now(), matches_invalidated_at = now()",
    )
    .bind(user)
    .bind(&analysis.text)
    .bind(sqlx::types::Json(analysis))
    .bind(Vector::from(analysis.embedding.clone()))
    .bind(&analysis.embedding_model)
    .execute(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM gui.profile_skills WHERE user_id = $1 AND source = 'cv'")
        .bind(user)
        .execute(&mut *tx)
        .await?;
    for skill in &analysis.skills {
        sqlx::query("INSERT INTO gui.profile_skills (user_id, label, code, source) VALUES ($1, $2, $3, 'cv') ON CONFLICT DO NOTHING")
            .bind(user)
            .bind(&skill.label)
            .bind(&skill.code)
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query("DELETE FROM gui.profile_experiences WHERE user_id = $1 AND source = 'cv'")
        .bind(user)
        .execute(&mut *tx)
        .await?;
    for (position, job) in analysis.experiences.iter().enumerate() {
        sqlx::query(
            "INSERT INTO gui.profile_experiences (id, user_id, title, employer, start_date, end_date, months, position)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(Uuid::now_v7())
        .bind(user)
        .bind(&job.title)
        .bind(&job.employer)
        .bind(job.start)
        .bind(job.end)
        .bind(job.months.map(|m| m as i32))
        .bind(position as i32)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await
}

/// The candidate as ranking reads them (the CV, the skills and the experiences as they
/// are now) and the last change it includes, read in one statement so that both are of
/// the same instant; None without a profile.
pub async fn candidate(
    db: &PgPool,
    user: Uuid,
) -> Result<Option<(Option<DateTime<Utc>>, CandidateProfile)>, sqlx::Error> {
    type Row = (
        Option<DateTime<Utc>>,
        Option<String>,
        Option<sqlx::types::Json<Vec<serde_json::Value>>>,
        Option<String>,
        Vec<String>,
        Vec<Option<String>>,
        Vec<String>,
        Vec<String>,
        Vec<String>,
    );
    let row: Option<Row> = sqlx::query_as(
        "SELECT p.matches_invalidated_at, p.cv_text, p.cv_analysis->'sections', p.cv_analysis->>'language',
             ARRAY(SELECT label FROM gui.profile_skills s WHERE s.user_id = p.user_id ORDER BY label),
             ARRAY(SELECT code FROM gui.profile_skills s WHERE s.user_id = p.user_id ORDER BY label),
             ARRAY(SELECT title FROM gui.profile_experiences e
                   WHERE e.user_id = p.user_id AND e.source = 'declared' ORDER BY position),
             ARRAY(SELECT jsonb_array_elements_text(coalesce(p.cv_analysis->'titles', '[]'))),
             ARRAY(SELECT title FROM gui.profile_experiences e
                   WHERE e.user_id = p.user_id AND e.source = 'cv' ORDER BY position)
         FROM gui.profiles p WHERE p.user_id = $1",
    )
    .bind(user)
    .fetch_optional(db)
    .await?;
    Ok(row.map(
        |(as_of, cv, sections, language, labels, codes, declared, stated, held)| {
            let skills = labels
                .into_iter()
                .zip(codes)
                .map(|(label, code)| ProfileSkill { label, code })
                .collect();
            // Titles: those the candidate declared first (their own words for what they
            // seek), then those the CV states (headline, sentences), then its jobs.
            let titles = declared.into_iter().chain(stated).chain(held).collect();
            (
                as_of,
                CandidateProfile {
                    cv_text: cv.unwrap_or_default(),
                    // A section this version does not know is left out, not an error.
                    sections: sections
                        .map(|s| s.0)
                        .unwrap_or_default()
                        .into_iter()
                        .filter_map(|s| serde_json::from_value::<CvSection>(s).ok())
                        .collect(),
                    language,
                    titles,
                    skills,
                },
            )
        },
    ))
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
                sqlx::query(
                    "UPDATE gui.profiles SET profile_embedded_at = now()
                     WHERE user_id = $1 AND matches_invalidated_at IS NOT DISTINCT FROM $2",
                )
                .bind(user)
                .bind(as_of)
                .execute(&state.db)
                .await?;
                return Ok(false);
            }
        }
    };
    let (vector, model) = embedding.unzip();
    let written = sqlx::query(
        "UPDATE gui.profiles SET profile_embedding = $3, embedding_model = coalesce($4, embedding_model),
             profile_embedded_at = now()
         WHERE user_id = $1 AND matches_invalidated_at IS NOT DISTINCT FROM $2",
    )
    .bind(user)
    .bind(as_of)
    .bind(vector)
    .bind(model)
    .execute(&state.db)
    .await?;
    Ok(written.rows_affected() == 1)
}

/// Marks the cached matches out of date (the profile changed), re-embeds the profile and
/// sends the browser back to the section it changed.
async fn changed(state: &AppState, user: Uuid, section: Section) -> Result<Response, PageError> {
    sqlx::query("UPDATE gui.profiles SET updated_at = now(), matches_invalidated_at = now() WHERE user_id = $1")
        .bind(user)
        .execute(&state.db)
        .await?;
    refresh_embedding(state, user, None).await?;
    Ok(section.redirect(""))
}

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

/// How many rows the candidate declared in `table` (skills or experiences).
async fn declared(db: &PgPool, user: Uuid, table: Declared) -> Result<i64, sqlx::Error> {
    let sql = match table {
        Declared::Skills => {
            "SELECT count(*) FROM gui.profile_skills WHERE user_id = $1 AND source = 'declared'"
        }
        Declared::Experiences => {
            "SELECT count(*) FROM gui.profile_experiences WHERE user_id = $1 AND source = 'declared'"
        }
    };
    sqlx::query_scalar(sql).bind(user).fetch_one(db).await
}

#[derive(Clone, Copy)]
enum Declared {
    Skills,
    Experiences,
}

/// A profile row, for a candidate who edits before giving a CV.
async fn ensure_profile(db: &PgPool, user: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO gui.profiles (user_id) VALUES ($1) ON CONFLICT DO NOTHING")
        .bind(user)
        .execute(db)
        .await?;
    Ok(())
}

#[derive(Deserialize)]
struct SkillForm {
    csrf: String,
    label: String,
}

async fn add_skill(
    State(state): State<AppState>,
    SignedIn { session, user }: SignedIn,
    Form(form): Form<SkillForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&form.csrf)?;
    allow_edit(&state, user.id).await?;
    let label = form.label.trim();
    let refusal = if declared(&state.db, user.id, Declared::Skills).await? >= MAX_DECLARED_SKILLS {
        Some("Vous avez ajouté le nombre maximal de compétences : retirez-en avant d’en ajouter d’autres.")
    } else if label.is_empty() || label.chars().count() > shared::MAX_PROFILE_SKILL_CHARS {
        Some("Indiquez une compétence (200 caractères au plus).")
    } else {
        None
    };
    if let Some(message) = refusal {
        return refuse(
            &state,
            &session,
            &user,
            Refusal {
                section: Section::Skills,
                message,
                typed: vec![("label".into(), form.label.clone())],
            },
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    ensure_profile(&state.db, user.id).await?;
    sqlx::query(
        "INSERT INTO gui.profile_skills (user_id, label, source) VALUES ($1, $2, 'declared')
         ON CONFLICT (user_id, label) DO UPDATE SET source = 'declared'",
    )
    .bind(user.id)
    .bind(label)
    .execute(&state.db)
    .await?;
    changed(&state, user.id, Section::Skills).await
}

async fn remove_skill(
    State(state): State<AppState>,
    SignedIn { session, user }: SignedIn,
    Form(form): Form<SkillForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&form.csrf)?;
    allow_edit(&state, user.id).await?;
    sqlx::query("DELETE FROM gui.profile_skills WHERE user_id = $1 AND label = $2")
        .bind(user.id)
        .bind(&form.label)
        .execute(&state.db)
        .await?;
    changed(&state, user.id, Section::Skills).await
}

#[derive(Deserialize)]
struct ExperienceForm {
    csrf: String,
    title: String,
    employer: String,
    /// `YYYY-MM` (an `<input type="month">`), optional.
    start: String,
    end: String,
}

async fn add_experience(
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
    let too_many =
        declared(&state.db, user.id, Declared::Experiences).await? >= MAX_DECLARED_EXPERIENCES;
    if title.is_empty()
        || title.chars().count() > shared::MAX_PROFILE_TITLE_CHARS
        || form.employer.trim().chars().count() > shared::MAX_PROFILE_TITLE_CHARS
        || bad_dates
        || too_many
    {
        return refuse(
            &state,
            &session,
            &user,
            Refusal {
                section: Section::Experiences,
                message: if too_many {
                    "Vous avez ajouté le nombre maximal d’expériences : retirez-en avant d’en ajouter d’autres."
                } else {
                    "Indiquez l’intitulé du poste (200 caractères au plus), et des dates au format mois/année, la fin après le début."
                },
                typed: vec![
                    ("title".into(), form.title.clone()),
                    ("employer".into(), form.employer.clone()),
                    ("start".into(), form.start.clone()),
                    ("end".into(), form.end.clone()),
                ],
            },
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    ensure_profile(&state.db, user.id).await?;
    let employer = Some(form.employer.trim()).filter(|e| !e.is_empty());
    sqlx::query(
        "INSERT INTO gui.profile_experiences (id, user_id, title, employer, start_date, end_date, source, position)
         VALUES ($1, $2, $3, $4, $5, $6, 'declared', (SELECT coalesce(max(position), -1) + 1 FROM gui.profile_experiences WHERE user_id = $2))",
    )
    .bind(Uuid::now_v7())
    .bind(user.id)
    .bind(title)
    .bind(employer)
    .bind(start)
    .bind(end)
    .execute(&state.db)
    .await?;
    changed(&state, user.id, Section::Experiences).await
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
struct RemoveExperienceForm {
    csrf: String,
    id: Uuid,
}

async fn remove_experience(
    State(state): State<AppState>,
    SignedIn { session, user }: SignedIn,
    Form(form): Form<RemoveExperienceForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&form.csrf)?;
    allow_edit(&state, user.id).await?;
    sqlx::query("DELETE FROM gui.profile_experiences WHERE user_id = $1 AND id = $2")
        .bind(user.id)
        .bind(form.id)
        .execute(&state.db)
        .await?;
    changed(&state, user.id, Section::Experiences).await
}

/// Place, radius and contract preferences. Checkboxes arrive as `contract_<CODE>`.
async fn save_preferences(
    State(state): State<AppState>,
    SignedIn { session, user }: SignedIn,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, PageError> {
    session.check_csrf(form.get("csrf").map_or("", String::as_str))?;
    allow_edit(&state, user.id).await?;
    let place = form.get("place").map_or("", |p| p.trim());
    let commune = if place.is_empty() {
        None
    } else {
        match places::find(&state.communes, place) {
            Some(c) => Some(c),
            None => {
                return refuse(
                    &state,
                    &session,
                    &user,
                    Refusal {
                        section: Section::Preferences,
                        message: "Commune inconnue : indiquez un nom de commune ou un code postal.",
                        typed: form
                            .iter()
                            .filter(|(name, _)| *name != "csrf")
                            .map(|(name, value)| (name.clone(), value.clone()))
                            .collect(),
                    },
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await
            }
        }
    };
    let radius: Option<f64> = form
        .get("radius_km")
        .and_then(|r| r.parse::<u32>().ok())
        .filter(|r| RADII_KM.contains(r))
        .map(f64::from);
    let contracts: Vec<&str> = CONTRACTS
        .iter()
        .map(|(code, _)| *code)
        .filter(|code| form.contains_key(&format!("contract_{code}")))
        .collect();
    ensure_profile(&state.db, user.id).await?;
    sqlx::query(
        // Place and contracts are filters, not part of the embedding: an embedding that
        // was up to date stays so.
        "UPDATE gui.profiles SET place_label = $2, latitude = $3, longitude = $4, radius_km = $5, contract_types = $6,
             profile_embedded_at = CASE WHEN profile_embedded_at >= coalesce(matches_invalidated_at, '-infinity')
                 THEN now() ELSE profile_embedded_at END,
             updated_at = now(), matches_invalidated_at = now()
         WHERE user_id = $1",
    )
    .bind(user.id)
    .bind(commune.map(|c| c.name.clone()))
    .bind(commune.map(|c| c.latitude))
    .bind(commune.map(|c| c.longitude))
    .bind(commune.and(radius))
    .bind(&contracts)
    .execute(&state.db)
    .await?;
    Ok(Section::Preferences.redirect("?enregistre=1"))
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
