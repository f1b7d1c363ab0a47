//! Pages: askama templates rendered as HTML, and the French error page every failure
//! of a page becomes (never a stack of JSON for a person).

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};

/// Renders `page` as a 200 HTML response.
pub fn render(page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => PageError::Internal(e.to_string()).into_response(),
    }
}

/// Why a page could not be shown, each with a French message.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    /// A form without the browser's CSRF token (forged, or from a stale page).
    #[error("csrf token mismatch")]
    Csrf,
    /// Too many attempts from this address or on this account.
    #[error("rate limited")]
    TooManyAttempts,
    /// The page needs a signed-in candidate.
    #[error("not signed in")]
    NotSignedIn,
    #[error("not found")]
    NotFound,
    /// A service the page needs does not answer.
    #[error("a service is unavailable")]
    Unavailable,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error("{0}")]
    Internal(String),
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    title: &'static str,
    message: &'static str,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (status, title, message) = match &self {
            Self::NotSignedIn => return Redirect::to("/connexion").into_response(),
            Self::Csrf => (
                StatusCode::FORBIDDEN,
                "Formulaire expiré",
                "Ce formulaire n’est plus valable. Rechargez la page, puis réessayez.",
            ),
            Self::NotFound => (
                StatusCode::NOT_FOUND,
                "Page introuvable",
                "Cette page n’existe pas, ou l’offre n’est plus publiée.",
            ),
            Self::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "Service indisponible",
                "Cette information n’est pas disponible pour l’instant. Réessayez dans quelques minutes.",
            ),
            Self::TooManyAttempts => (
                StatusCode::TOO_MANY_REQUESTS,
                "Trop de tentatives",
                "Trop de tentatives en peu de temps. Patientez quelques minutes, puis réessayez.",
            ),
            Self::Database(_) | Self::Internal(_) => {
                tracing::error!(error = %self, "page failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Erreur",
                    "Une erreur est survenue de notre côté. Réessayez dans un instant.",
                )
            }
        };
        let html = ErrorPage { title, message }
            .render()
            .unwrap_or_else(|_| message.to_owned());
        (status, Html(html)).into_response()
    }
}

/// Paths no page serves: a French page for a browser, problem+json for the rest.
pub async fn not_found(request: axum::extract::Request) -> Response {
    let wants_page = request
        .headers()
        .get(axum::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"));
    if wants_page {
        PageError::NotFound.into_response()
    } else {
        platform::problem::not_found(request).await.into_response()
    }
}
