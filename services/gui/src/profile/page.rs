//! The profile page: what it shows, and the page again with a refused form.

use std::collections::HashSet;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use serde::Deserialize;
use shared::CvAnalysis;
use sqlx::PgPool;
use uuid::Uuid;

use super::preferences::RADII_KM;
use crate::contracts::CONTRACTS;
use crate::session::{CurrentUser, Session, SignedIn};
use crate::web::{french_time, render, PageError};
use crate::AppState;

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
pub(super) enum Section {
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
    pub(super) fn redirect(self, query: &str) -> Response {
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
pub(super) struct Refusal<'a> {
    pub(super) section: Section,
    pub(super) message: &'a str,
    pub(super) typed: Vec<(String, String)>,
}

#[derive(Deserialize)]
pub(super) struct PageQuery {
    bienvenue: Option<String>,
    cv: Option<String>,
    enregistre: Option<String>,
}

pub(super) async fn page(
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
pub(super) async fn refuse(
    state: &AppState,
    session: &Session,
    user: &CurrentUser,
    refusal: Refusal<'_>,
    status: StatusCode,
) -> Result<Response, PageError> {
    show(state, session, user, None, Some(refusal), status).await
}

/// A form refused as unprocessable (422): the page again, with `message` in `section`
/// and the fields typed given back.
pub(super) async fn refuse_form(
    state: &AppState,
    session: &Session,
    user: &CurrentUser,
    section: Section,
    message: &str,
    typed: Vec<(String, String)>,
) -> Result<Response, PageError> {
    let refusal = Refusal {
        section,
        message,
        typed,
    };
    refuse(
        state,
        session,
        user,
        refusal,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
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

/// An experience as stored.
struct ExperienceRecord {
    id: Uuid,
    title: String,
    employer: Option<String>,
    start_date: Option<NaiveDate>,
    end_date: Option<NaiveDate>,
}

pub async fn load(db: &PgPool, user: Uuid) -> Result<Profile, sqlx::Error> {
    let row = sqlx::query!(
        r#"SELECT cv_updated_at, cv_analysis AS "cv_analysis: sqlx::types::Json<CvAnalysis>",
            place_label, radius_km, contract_types
         FROM gui.profiles WHERE user_id = $1"#,
        user
    )
    .fetch_optional(db)
    .await?;
    let Some(row) = row else {
        return Ok(Profile::default());
    };
    let skills = sqlx::query!(
        "SELECT label, source FROM gui.profile_skills WHERE user_id = $1 ORDER BY source, label",
        user
    )
    .fetch_all(db)
    .await?;
    let experiences = sqlx::query_as!(
        ExperienceRecord,
        "SELECT id, title, employer, start_date, end_date FROM gui.profile_experiences WHERE user_id = $1
         ORDER BY source = 'declared', position",
        user
    )
    .fetch_all(db)
    .await?;
    let analysis = row.cv_analysis.map(|a| a.0);
    let held: HashSet<String> = skills
        .iter()
        .map(|skill| places::name_key(&skill.label))
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
            .map(|skill| (skill.label, skill.source == "declared"))
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
