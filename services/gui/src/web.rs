//! Pages: askama templates rendered as HTML, and the French error page every failure
//! of a page becomes (never a stack of JSON for a person).

use askama::Template;
use axum::http::header::{self, HeaderValue};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};

/// Scripts, styles and requests only from the GUI itself (htmx and app.js are served by
/// it; no inline script or style), no framing, forms posted only here.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The headers every answer of the GUI carries; pages also are never stored by a
/// browser or a proxy (they hold a candidate's data), unless a route said otherwise.
pub async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    for (name, value) in [
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        // Links to France Travail's postings do not tell it which candidate came.
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ),
    ] {
        headers.insert(name, value);
    }
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}

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
        // A form sent by htmx asked for one section of a page; an error page replaces
        // the whole content instead (browsers without htmx ignore these headers).
        let htmx = [
            ("hx-retarget", "main"),
            ("hx-reselect", "main"),
            ("hx-reswap", "outerHTML"),
        ];
        (status, htmx, Html(html)).into_response()
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
