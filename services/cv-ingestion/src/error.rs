//! cv-ingestion's errors, each a problem+json that tells the candidate what to do.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use platform::Problem;
use shared::embedding::EmbeddingError;
use shared::CvProblem;

use crate::extract::ExtractError;
use crate::sandbox::SandboxError;

#[derive(Debug, thiserror::Error)]
pub enum CvError {
    /// A request that is not a CV upload (no `file` part, empty text...).
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// Larger than the body limit.
    #[error("{0}")]
    TooLarge(String),
    #[error(transparent)]
    Parse(#[from] SandboxError),
    #[error(transparent)]
    Embedding(#[from] EmbeddingError),
}

impl CvError {
    /// The kind of failure, for the logs: never the document's content.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::BadRequest(_) => "bad_request",
            Self::UnsupportedMediaType(_) => "unsupported",
            Self::TooLarge(_) => "too_large",
            Self::Parse(SandboxError::Document(e)) => match e {
                ExtractError::Unsupported(_) => "unsupported",
                ExtractError::Encrypted(_) => "encrypted",
                ExtractError::Scanned { .. } => "scanned",
                ExtractError::TooLarge(_) => "archive_too_large",
                ExtractError::Malformed(_) => "malformed",
                ExtractError::Empty => "empty",
                ExtractError::TextTooLong { .. } => "text_too_long",
                ExtractError::OutOfMemory => "parser_out_of_memory",
            },
            Self::Parse(SandboxError::Crashed) => "parser_crashed",
            Self::Parse(SandboxError::OutOfMemory { .. }) => "parser_out_of_memory",
            Self::Parse(SandboxError::AnswerTooLarge(_)) => "parser_answer_too_large",
            Self::Parse(SandboxError::TimedOut(_)) => "parser_timed_out",
            Self::Parse(SandboxError::Spawn(_)) => "parser_unavailable",
            Self::Embedding(_) => "embedding",
        }
    }
}

impl IntoResponse for CvError {
    fn into_response(self) -> Response {
        let unreadable = |kind: CvProblem, detail: String| {
            problem(StatusCode::UNPROCESSABLE_ENTITY, kind, detail)
        };
        let detail = self.to_string();
        match self {
            Self::BadRequest(_) => Problem::bad_request(detail),
            Self::UnsupportedMediaType(_) => unsupported(detail),
            Self::TooLarge(_) => {
                problem(StatusCode::PAYLOAD_TOO_LARGE, CvProblem::TooLarge, detail)
            }
            Self::Parse(SandboxError::Document(e)) => match e {
                ExtractError::Unsupported(_) => unsupported(detail),
                ExtractError::Encrypted(_) => unreadable(CvProblem::Encrypted, detail),
                ExtractError::Scanned { .. } => unreadable(CvProblem::Scanned, detail),
                ExtractError::TooLarge(_) => unreadable(CvProblem::InflatesTooMuch, detail),
                ExtractError::Malformed(_) => unreadable(CvProblem::Malformed, detail),
                ExtractError::Empty => unreadable(CvProblem::Empty, detail),
                ExtractError::TextTooLong { .. } => unreadable(CvProblem::TextTooLong, detail),
                ExtractError::OutOfMemory => unreadable(CvProblem::Unreadable, detail),
            },
            Self::Parse(
                SandboxError::Crashed
                | SandboxError::TimedOut(_)
                | SandboxError::OutOfMemory { .. }
                | SandboxError::AnswerTooLarge(_),
            ) => unreadable(
                CvProblem::Unreadable,
                format!("{detail}: the file may be damaged; export it again as PDF, DOCX or ODT"),
            ),
            Self::Parse(e @ SandboxError::Spawn(_)) => Problem::internal(&e),
            Self::Embedding(e) => {
                Problem::unavailable(format!("the CV could not be embedded: {e}"))
            }
        }
        .into_response()
    }
}

/// The problem+json of a [`CvProblem`].
fn problem(status: StatusCode, kind: CvProblem, detail: String) -> Problem {
    Problem::new(status, kind.slug(), kind.title()).detail(detail)
}

fn unsupported(detail: String) -> Problem {
    problem(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        CvProblem::UnsupportedFormat,
        detail,
    )
}
