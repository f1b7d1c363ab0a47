//! Wire contracts between the services: the source design's (`POST /match
//! {cv_embedding}` → `[{id, score}]`, `GET /offers?ids=`), extended compatibly; each
//! service's README (services/*/README.md) describes its own. Field names and shapes are
//! the contract: the offer detail keeps France Travail's camelCase, the rest is
//! snake_case.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Default and ceiling of `MatchRequest::limit`.
pub const DEFAULT_MATCH_LIMIT: u32 = 20;
pub const MAX_MATCH_LIMIT: u32 = 100;
/// Ceiling of `GET /offers?ids=`.
pub const MAX_OFFER_IDS: usize = 100;

/// A France Travail offer id, checked the same way by every service that takes one
/// (ingestion, `GET /offers`, the GUI's offer pages): 1 to [`OfferId::MAX_CHARS`] ASCII
/// letters and digits (`201VPGR`, or a partner's 7-digit id).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OfferId(String);

/// Why a text is not an [`OfferId`]; it holds the text, cut at 64 characters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a France Travail offer id (1 to 64 letters and digits)")]
pub struct InvalidOfferId(pub String);

impl OfferId {
    pub const MAX_CHARS: usize = 64;

    /// The id in `raw`, surrounding white space aside.
    pub fn parse(raw: &str) -> Result<Self, InvalidOfferId> {
        let id = raw.trim();
        if id.is_empty()
            || id.len() > Self::MAX_CHARS
            || !id.chars().all(|c| c.is_ascii_alphanumeric())
        {
            return Err(InvalidOfferId(id.chars().take(Self::MAX_CHARS).collect()));
        }
        Ok(Self(id.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// `POST /match` body: a CV embedding and optional limit and filters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MatchRequest {
    /// Unit vector from the same model as the offers' embeddings (384 values for
    /// all-MiniLM-L6-v2).
    pub cv_embedding: Vec<f32>,
    /// Number of hits, 1 to 100; 20 when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filters: Option<MatchFilters>,
    /// Model the embedding was made with; the service's default model when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// What else is known of the candidate. With it, offers are ranked by every signal
    /// (words, job titles, ROME jobs, skills and the embedding) and each hit says why it
    /// matches; without it, by the embedding's cosine alone, as the source design does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<MatchProfile>,
    /// The signals' weights for this request, instead of the service's (`MATCH_WEIGHT_*`):
    /// for evaluation and ranking variants. Only with `profile`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weights: Option<SignalWeights>,
    /// A learned re-ranker, by its id (e.g. `linear-2026-12-06`): the 100 best offers of
    /// hybrid ranking are re-ordered by that model, and each hit's `score` is then the
    /// model's, in [0, 1] (`signals` and `reasons` are kept). Only with `profile`; an id
    /// the service has not loaded gets a 400 naming it. Absent: the fused order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "linear-2026-12-06")]
    pub reranker: Option<String>,
}

impl MatchRequest {
    pub fn effective_limit(&self) -> u32 {
        self.limit.unwrap_or(DEFAULT_MATCH_LIMIT)
    }
}

/// Ceilings of `MatchProfile`: what a CV or profile holds, with a wide margin.
pub const MAX_PROFILE_TEXT_CHARS: usize = 20_000;
pub const MAX_PROFILE_TITLES: usize = 20;
pub const MAX_PROFILE_TITLE_CHARS: usize = 200;
pub const MAX_PROFILE_SKILLS: usize = 200;
pub const MAX_PROFILE_SKILL_CHARS: usize = 200;

/// What the GUI knows of a candidate, for hybrid ranking. Every field may be empty; an
/// empty field is no signal, not an error.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MatchProfile {
    /// The CV's (or profile's) text, at most 20,000 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Job titles, most telling first (the CV's headline, then its jobs, the latest
    /// first); at most 20 of at most 200 characters.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub titles: Vec<String>,
    /// Skills, at most 200.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skills: Vec<ProfileSkill>,
    /// `fr` or `en`; told from the text when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

/// A skill of the candidate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileSkill {
    /// As the candidate or cv-ingestion wrote it, at most 200 characters.
    pub label: String,
    /// Referential code (an ESCO URI from cv-ingestion), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

/// Weights of the ranking signals; a signal left out weighs 0. At least one must be
/// above 0.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignalWeights {
    #[serde(default)]
    pub semantic: f64,
    #[serde(default)]
    pub lexical: f64,
    #[serde(default)]
    pub title: f64,
    #[serde(default)]
    pub job: f64,
    #[serde(default)]
    pub skills: f64,
    #[serde(default)]
    pub keywords: f64,
    #[serde(default)]
    pub family: f64,
    #[serde(default)]
    pub similar: f64,
}

/// Each signal's part of a hit, each in [0, 1]; `score` is their weighted mean.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MatchSignals {
    /// Cosine of the CV's and the offer's embeddings.
    pub semantic: f64,
    /// BM25F of the profile's words over the offer's title, skills and description,
    /// relative to the best offer's.
    pub lexical: f64,
    /// Closeness of one of the candidate's job titles to the offer's title or ROME
    /// appellation.
    pub title: f64,
    /// How well the candidate's titles fit the offer's ROME job.
    pub job: f64,
    /// Share of the offer's listed skills the candidate has (required ones count double).
    pub skills: f64,
    /// The candidate's skills found in the offer's text (saturating).
    pub keywords: f64,
    /// Likeness to the offers that fit best on words, titles and skills (the jobs next
    /// to the candidate's).
    #[serde(default)]
    pub family: f64,
    /// Cosine of the offer's embedding to those of the offers that fit best on words,
    /// titles and skills.
    #[serde(default)]
    pub similar: f64,
}

/// Why an offer matches, in words the candidate can read.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MatchReasons {
    /// The offer's listed skills the candidate has.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skills: Vec<String>,
    /// The candidate's skills (or words) the offer's text uses.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keywords: Vec<String>,
}

/// Optional restrictions of a match; every field narrows the result.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MatchFilters {
    /// France Travail contract codes (CDI, CDD, MIS, SAI, LIB, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract_types: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub near: Option<GeoFilter>,
    /// ROME job codes, e.g. M1805.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rome_codes: Option<Vec<String>>,
    /// Only offers published on or after this instant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published_after: Option<DateTime<Utc>>,
}

/// A circle around a point.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GeoFilter {
    pub lat: f64,
    pub lon: f64,
    pub radius_km: f64,
}

/// One `POST /match` hit; the response is an array of them, best first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MatchHit {
    /// France Travail offer id.
    pub id: String,
    /// In [0, 1], higher is better. Without a profile: the cosine similarity of the two
    /// embeddings (1 − cosine distance). With one: the weighted mean of the signals; with
    /// a `reranker`, that model's score, σ(w·x + b) of its features.
    pub score: f64,
    /// With a profile: each signal's part.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signals: Option<MatchSignals>,
    /// With a profile: why it matches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasons: Option<MatchReasons>,
    /// With a profile: the other ids of the same job posted several times (same title,
    /// company, place and text), listed once under this hit.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub duplicates: Vec<String>,
}

impl MatchHit {
    /// A hit of the embedding alone.
    pub fn cosine(id: String, score: f64) -> Self {
        Self {
            id,
            score,
            signals: None,
            reasons: None,
            duplicates: Vec::new(),
        }
    }
}

/// One skill of an offer: `exigence` is `E` (exigée) or `S` (souhaitée).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OfferSkill {
    pub libelle: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exigence: Option<String>,
}

/// `GET /offers` item: an offer's details in the France Travail shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OfferDetail {
    pub id: String,
    pub intitule: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub entreprise: Option<String>,
    #[serde(default)]
    pub lieu: Option<String>,
    #[serde(default)]
    pub type_contrat: Option<String>,
    #[serde(default)]
    pub salaire: Option<String>,
    #[serde(default)]
    pub competences: Vec<OfferSkill>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_postal: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latitude: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub longitude: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rome_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rome_libelle: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secteur_activite_libelle: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub experience_libelle: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_creation: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_actualisation: Option<DateTime<Utc>>,
    /// Link to the original posting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url_origine: Option<String>,
    /// True once the offer left the source; still served, never matched.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub archived: bool,
}

/// `POST /cv` response: what was understood of a CV.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CvAnalysis {
    /// The CV's text, in reading order.
    pub text: String,
    /// `fr` or `en`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// The sections found, in the order of the text.
    #[serde(default)]
    pub sections: Vec<CvSection>,
    #[serde(default)]
    pub skills: Vec<CvSkill>,
    #[serde(default)]
    pub experiences: Vec<CvExperience>,
    /// Job titles the CV states outside its dated jobs: its headline's, then those its
    /// sentences name ("I have worked as …", "j'ai travaillé comme …").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub titles: Vec<String>,
    #[serde(default)]
    pub education: Vec<CvEducation>,
    #[serde(default)]
    pub languages: Vec<CvLanguage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_experience_years: Option<f64>,
    pub embedding: Vec<f32>,
    /// Model id of `embedding`; vectors of two models are never compared.
    pub embedding_model: String,
}

/// A section of a CV, found by its heading.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CvSection {
    pub kind: CvSectionKind,
    /// The heading as written.
    pub heading: String,
    /// Byte offsets of the section's body in `CvAnalysis::text`.
    pub start: usize,
    pub end: usize,
}

/// What a CV section holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CvSectionKind {
    Summary,
    Experience,
    Education,
    Skills,
    Languages,
    Certifications,
    Projects,
    Interests,
    Contact,
    /// "Informations complémentaires", "More about me": what says little of the jobs.
    Additional,
}

/// A skill found in a CV, normalised against the skills referential.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CvSkill {
    /// Referential label.
    pub label: String,
    /// Referential code, when the referential has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The text that evidences the skill.
    pub evidence: String,
    /// Byte offsets of `evidence` in `CvAnalysis::text`.
    pub start: usize,
    pub end: usize,
}

/// A job held, as read from the CV.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CvExperience {
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub employer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<NaiveDate>,
    /// None while the job is current.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub months: Option<u32>,
}

/// A diploma or training, as read from the CV.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CvEducation {
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub institution: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub year: Option<i32>,
}

/// A spoken language and its level, as read from the CV.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CvLanguage {
    pub language: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
}

/// What precedes a problem's slug in its `type`: `urn:jobmatch:problem:<slug>`.
pub const PROBLEM_TYPE_PREFIX: &str = "urn:jobmatch:problem:";

/// The problems cv-ingestion answers about a CV it cannot read, named by the slug of
/// their `type`: cv-ingestion answers them, the GUI tells the candidate what to do about
/// each. One list for both sides, so that a new kind cannot reach the GUI unnamed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CvProblem {
    /// Larger than the body limit (413).
    TooLarge,
    /// Not a format cv-ingestion reads (415).
    UnsupportedFormat,
    /// Password-protected.
    Encrypted,
    /// A PDF of images only (a scan).
    Scanned,
    /// An archive (DOCX, ODT) that would inflate past the limit.
    InflatesTooMuch,
    /// Damaged.
    Malformed,
    /// Without any text.
    Empty,
    /// More text than a CV has.
    TextTooLong,
    /// The parser failed on it (crashed, ran out of time or memory).
    Unreadable,
}

impl CvProblem {
    pub const ALL: [CvProblem; 9] = [
        CvProblem::TooLarge,
        CvProblem::UnsupportedFormat,
        CvProblem::Encrypted,
        CvProblem::Scanned,
        CvProblem::InflatesTooMuch,
        CvProblem::Malformed,
        CvProblem::Empty,
        CvProblem::TextTooLong,
        CvProblem::Unreadable,
    ];

    /// The slug of its `type`.
    pub fn slug(self) -> &'static str {
        match self {
            CvProblem::TooLarge => "too-large",
            CvProblem::UnsupportedFormat => "unsupported-format",
            CvProblem::Encrypted => "encrypted-document",
            CvProblem::Scanned => "scanned-document",
            CvProblem::InflatesTooMuch => "document-too-large",
            CvProblem::Malformed => "malformed-document",
            CvProblem::Empty => "empty-document",
            CvProblem::TextTooLong => "text-too-long",
            CvProblem::Unreadable => "unreadable-document",
        }
    }

    /// Its `title`.
    pub fn title(self) -> &'static str {
        match self {
            CvProblem::TooLarge => "CV too large",
            CvProblem::UnsupportedFormat => "Unsupported CV format",
            CvProblem::Encrypted => "Password-protected CV",
            CvProblem::Scanned => "CV without text (scan)",
            CvProblem::InflatesTooMuch => "CV too large once unpacked",
            CvProblem::Malformed => "Damaged CV file",
            CvProblem::Empty => "CV without text",
            CvProblem::TextTooLong => "CV text too long",
            CvProblem::Unreadable => "CV file that cannot be read",
        }
    }

    /// The kind of `problem`, when it is one of these.
    pub fn of(problem: &ProblemBody) -> Option<Self> {
        let slug = problem.kind.strip_prefix(PROBLEM_TYPE_PREFIX)?;
        Self::ALL.into_iter().find(|kind| kind.slug() == slug)
    }
}

/// RFC 9457 problem details, the body of every error response
/// (`application/problem+json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ProblemBody {
    /// URI naming the kind of problem; `about:blank` when the status says it all.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The request path the problem occurred on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// The request's `x-request-id`, to find it in the logs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// Per-field messages for validation failures.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// One invalid field of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FieldError {
    /// JSON pointer or parameter name, e.g. `/cv_embedding` or `ids`.
    pub field: String,
    pub message: String,
}

#[cfg(test)]
mod offer_id_tests {
    use super::*;

    #[test]
    fn offer_ids_are_letters_and_digits_up_to_64() {
        assert_eq!(OfferId::parse(" 201VPGR ").unwrap().as_str(), "201VPGR");
        assert_eq!(OfferId::parse("1234567").unwrap().into_string(), "1234567");
        assert!(OfferId::parse(&"A".repeat(64)).is_ok());
        for bad in ["", "   ", "A1,B2", "A1;DROP", "ÉTÉ1", &"A".repeat(65)] {
            let error = OfferId::parse(bad).unwrap_err();
            assert!(error.0.chars().count() <= 64, "{bad:?}");
            assert!(error.to_string().contains("not a France Travail offer id"));
        }
    }
}
