//! `POST /cv`: a CV file (multipart `file`) or its text (JSON `{"text": ...}`) in, what
//! was understood of it out.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use shared::embedding::{pieces, weighted_mean, Embedder, PIECE_CHARS};
use shared::{CvAnalysis, ProblemBody};
use utoipa::ToSchema;

use crate::analysis::{analyze, Referential};
use crate::error::CvError;
use crate::extract::{check_length, normalize, Format};
use crate::sandbox::{Sandbox, SandboxError};

#[derive(Clone)]
pub struct Cv {
    pub sandbox: Sandbox,
    /// `CV_MAX_TEXT_CHARS`: more text is refused (422).
    pub max_text_chars: usize,
    pub referential: Arc<Referential>,
    pub embedder: Arc<dyn Embedder>,
}

/// The JSON form of `POST /cv`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CvText {
    /// The CV's text.
    pub text: String,
}

/// The multipart form of `POST /cv`.
#[derive(ToSchema)]
pub struct CvUpload {
    /// The CV file: PDF, DOCX, ODT, RTF, text or Markdown (told by its content).
    #[schema(format = Binary, content_media_type = "application/octet-stream")]
    pub file: String,
}

pub fn routes(cv: Cv) -> Router {
    Router::new().route("/cv", post(analyze_cv)).with_state(cv)
}

/// Reads a CV: its text in reading order, sections, jobs, diplomas, languages, skills
/// and embedding. Nothing is stored.
#[utoipa::path(post, path = "/cv", tag = "cv", security(("service_token" = [])),
    request_body(description = "A CV file, or its text", content(
        (CvUpload = "multipart/form-data"),
        (CvText = "application/json"))),
    responses(
        (status = 200, description = "What was understood of the CV", body = CvAnalysis),
        (status = 400, description = "No `file` part, or empty text", body = ProblemBody, content_type = "application/problem+json"),
        (status = 413, description = "Larger than the limit (10 MB by default)", body = ProblemBody, content_type = "application/problem+json"),
        (status = 415, description = "Not a PDF, DOCX, ODT, RTF, text or Markdown document", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "Password-protected, scanned (no text), damaged, too large once unpacked, more text than CV_MAX_TEXT_CHARS, or a file the parser failed on", body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, description = "Missing or wrong service token", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn analyze_cv(
    State(cv): State<Cv>,
    request: Request,
) -> Result<Json<CvAnalysis>, CvError> {
    let started = Instant::now();
    let outcome = read(&cv, request).await;
    match &outcome {
        // Sizes, kinds and counts only: a CV's content never goes to the logs.
        Ok((format, analysis)) => tracing::info!(
            format = ?format, chars = analysis.text.len(), skills = analysis.skills.len(),
            jobs = analysis.experiences.len(), ms = started.elapsed().as_millis() as u64,
            "CV read"
        ),
        Err(e) => tracing::info!(
            error = e.kind(),
            ms = started.elapsed().as_millis() as u64,
            "CV refused"
        ),
    }
    outcome.map(|(_, analysis)| Json(analysis))
}

async fn read(cv: &Cv, request: Request) -> Result<(Format, CvAnalysis), CvError> {
    let content_type = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let (format, text) = if content_type.starts_with("multipart/form-data") {
        let document = file_part(request).await?;
        let extracted = cv.sandbox.extract(&document).await?;
        (extracted.format, extracted.text)
    } else if content_type.starts_with("application/json") {
        let Json(CvText { text }) =
            Json::<CvText>::from_request(request, &())
                .await
                .map_err(|e| match e.status() {
                    StatusCode::PAYLOAD_TOO_LARGE => CvError::TooLarge(e.body_text()),
                    _ => CvError::BadRequest(e.body_text()),
                })?;
        let text = normalize(&text);
        if text.is_empty() {
            return Err(CvError::BadRequest("text is empty".into()));
        }
        // A file's text is measured by the parsing child, with the same limit.
        check_length(&text, cv.max_text_chars).map_err(SandboxError::from)?;
        (Format::Text, text)
    } else {
        return Err(CvError::UnsupportedMediaType(format!(
            "content type {content_type:?}: send the CV as multipart/form-data (a `file` part) or as JSON {{\"text\": ...}}"
        )));
    };

    let referential = cv.referential.clone();
    let today = chrono::Utc::now().date_naive();
    let (text, analysis) = tokio::task::spawn_blocking(move || {
        let analysis = analyze(&text, &referential, today);
        (text, analysis)
    })
    .await
    .expect("analysis does not panic");
    let embedding = embed(cv.embedder.as_ref(), &text).await?;
    Ok((
        format,
        CvAnalysis {
            language: analysis.language,
            sections: analysis.sections,
            skills: analysis.skills,
            experiences: analysis.experiences,
            titles: analysis.titles,
            education: analysis.education,
            languages: analysis.languages,
            total_experience_years: analysis.total_experience_years,
            embedding,
            embedding_model: cv.embedder.model_id().to_owned(),
            text,
        },
    ))
}

/// The bytes of the `file` part.
async fn file_part(request: Request) -> Result<Vec<u8>, CvError> {
    let multipart_error = |e: axum::extract::multipart::MultipartError| match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => CvError::TooLarge(format!(
            "the CV is larger than the limit ({})",
            e.body_text()
        )),
        _ => CvError::BadRequest(format!(
            "the multipart body cannot be read: {}",
            e.body_text()
        )),
    };
    let mut form = Multipart::from_request(request, &())
        .await
        .map_err(|e| CvError::BadRequest(e.body_text()))?;
    while let Some(field) = form.next_field().await.map_err(multipart_error)? {
        if field.name() == Some("file") {
            let bytes = field.bytes().await.map_err(multipart_error)?;
            if bytes.is_empty() {
                return Err(CvError::BadRequest("the `file` part is empty".into()));
            }
            return Ok(bytes.to_vec());
        }
    }
    Err(CvError::BadRequest(
        "no `file` part in the form: send the CV as the part named `file`".into(),
    ))
}

/// The CV's embedding: the mean of its pieces' embeddings (a CV is longer than the
/// model's 256 tokens), each weighed by its length, so that a short trailing piece
/// (hobbies, contact details) does not count as much as a whole experience section.
async fn embed(embedder: &dyn Embedder, text: &str) -> Result<Vec<f32>, CvError> {
    let pieces = pieces(text, PIECE_CHARS);
    let vectors = embedder.embed(&pieces).await?;
    weighted_mean(&pieces, &vectors).ok_or_else(|| {
        CvError::Embedding(shared::embedding::EmbeddingError::InvalidOutput(
            "a zero vector".into(),
        ))
    })
}
