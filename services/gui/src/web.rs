//! Pages: askama templates rendered as HTML, and the French error page every failure
//! of a page becomes (never a stack of JSON for a person).

use std::sync::LazyLock;

use askama::Template;
use axum::http::header::{self, HeaderValue};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, Utc};

/// Scripts, styles and requests only from the GUI itself (htmx and app.js are served by
/// it; no inline script or style), no framing, forms posted only here.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The headers every answer of the GUI carries; pages also are never stored by a
/// browser or a proxy (they hold a candidate's data), unless a route said otherwise.
pub async fn security_headers(response: Response) -> Response {
    secure(response)
}

fn secure(mut response: Response) -> Response {
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
        // Browsers heed it over HTTPS only (RFC 6797): behind a TLS proxy, the GUI is
        // then never reached over plain HTTP again.
        (
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        ),
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

/// An instant as candidates read it: the time in metropolitan France (UTC+1, and UTC+2
/// from the last Sunday of March to the last Sunday of October, at 01:00 UTC both
/// times, as the EU's summer-time rule says), formatted with `format`.
pub fn french_time(t: DateTime<Utc>, format: &str) -> String {
    let last_sunday = |month: u32| {
        // March and October both have 31 days.
        let date = NaiveDate::from_ymd_opt(t.year(), month, 31).expect("a date");
        let back = date.weekday().num_days_from_sunday();
        (date - TimeDelta::days(i64::from(back)))
            .and_hms_opt(1, 0, 0)
            .expect("01:00")
            .and_utc()
    };
    let summer = t >= last_sunday(3) && t < last_sunday(10);
    let offset = TimeDelta::hours(if summer { 2 } else { 1 });
    (t + offset).naive_utc().format(format).to_string()
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
    /// A body over the GUI's limit (a CV file too large).
    #[error("request body too large")]
    TooLarge,
    /// A form the page did not send as it is (fields missing or malformed).
    #[error("malformed form")]
    BadForm,
    /// A service the page needs does not answer.
    #[error("a service is unavailable")]
    Unavailable,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error("{0}")]
    Internal(String),
}

/// A CV over the limit, with the limit (the upload page's and cv-ingestion's 413).
pub static TOO_LARGE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "Le fichier dépasse la taille permise ({}). Enregistrez votre CV dans un fichier plus léger (un PDF sans images, par exemple), puis réessayez.",
        crate::profile::cv_max_label()
    )
});

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
            Self::TooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "Fichier trop volumineux",
                TOO_LARGE.as_str(),
            ),
            Self::BadForm => (
                StatusCode::BAD_REQUEST,
                "Formulaire incomplet",
                "Ce formulaire est arrivé incomplet. Revenez à la page, vérifiez-le, puis réessayez.",
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

/// The page a browser gets for what the platform answers before or around a page (a
/// path no page serves, a CV over the body limit, a timeout, a form the extractor
/// refused, a panic): programs still get problem+json.
pub fn error_page(status: StatusCode) -> Response {
    let error = match status {
        // Internal routes (/metrics) are not advertised to people either.
        StatusCode::NOT_FOUND
        | StatusCode::METHOD_NOT_ALLOWED
        | StatusCode::UNAUTHORIZED
        | StatusCode::FORBIDDEN => PageError::NotFound,
        StatusCode::PAYLOAD_TOO_LARGE => PageError::TooLarge,
        StatusCode::SERVICE_UNAVAILABLE | StatusCode::GATEWAY_TIMEOUT => PageError::Unavailable,
        s if s.is_client_error() => PageError::BadForm,
        s => PageError::Internal(format!("the platform answered {s}")),
    };
    let mut response = secure(error.into_response());
    // The platform's status stays (a 401 from /metrics is not a form error).
    *response.status_mut() = status;
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn french_time_follows_summer_time() {
        let f = "%d/%m/%Y %H:%M";
        assert_eq!(
            french_time(utc("2026-01-15T23:30:00Z"), f),
            "16/01/2026 00:30"
        );
        assert_eq!(
            french_time(utc("2026-07-01T12:00:00Z"), f),
            "01/07/2026 14:00"
        );
        // 2026: summer time from Sunday 29 March to Sunday 25 October, 01:00 UTC.
        assert_eq!(
            french_time(utc("2026-03-29T00:59:00Z"), f),
            "29/03/2026 01:59"
        );
        assert_eq!(
            french_time(utc("2026-03-29T01:00:00Z"), f),
            "29/03/2026 03:00"
        );
        assert_eq!(
            french_time(utc("2026-10-25T00:59:00Z"), f),
            "25/10/2026 02:59"
        );
        assert_eq!(
            french_time(utc("2026-10-25T01:00:00Z"), f),
            "25/10/2026 02:00"
        );
    }
}
