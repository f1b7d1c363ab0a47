//! Errors as `application/problem+json` (RFC 9457).
//!
//! Services turn their own error enums into a [`Problem`]. The [`middleware`] then gives
//! every error response the same shape: it fills in `instance` and `request_id`, and
//! rewrites error responses that are not problem+json yet (axum's plain-text rejections,
//! 405 from the router, 413 from the body limit) so that none of them leaks. HTML error
//! pages (the GUI's, for people) are left as they are.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use shared::{FieldError, ProblemBody};

use crate::request_id::RequestId;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// Longest plain-text error body kept as a problem's detail.
const MAX_DETAIL_BYTES: usize = 2048;

/// An error response under construction.
#[derive(Debug, Clone)]
pub struct Problem(ProblemBody);

impl Problem {
    /// A problem whose status says it all (`type` is `about:blank`).
    pub fn status(status: StatusCode) -> Self {
        Self(ProblemBody {
            kind: "about:blank".into(),
            title: status.canonical_reason().unwrap_or("Error").into(),
            status: status.as_u16(),
            detail: None,
            instance: None,
            request_id: None,
            errors: Vec::new(),
        })
    }

    /// A problem of a named kind: `type` becomes `urn:jobmatch:problem:<slug>`.
    pub fn new(status: StatusCode, slug: &str, title: &str) -> Self {
        let mut problem = Self::status(status);
        problem.0.kind = format!("{}{slug}", shared::PROBLEM_TYPE_PREFIX);
        problem.0.title = title.into();
        problem
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.0.detail = Some(detail.into());
        self
    }

    pub fn field_error(mut self, field: impl Into<String>, message: impl Into<String>) -> Self {
        self.0.errors.push(FieldError {
            field: field.into(),
            message: message.into(),
        });
        self
    }

    pub fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.0.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    // Common problems.

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad-request", "Bad request").detail(detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not-found", "Not found").detail(detail)
    }

    /// 422: the request is well-formed but its content is not acceptable.
    pub fn validation(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
            "Invalid request content",
        )
        .detail(detail)
    }

    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "Service unavailable",
        )
        .detail(detail)
    }

    /// 500 with a generic detail: the cause goes to the log, not to the caller.
    pub fn internal(error: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %error, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal server error",
        )
        .detail("an unexpected error occurred; quote the request id when reporting it")
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = self.status_code();
        let body = serde_json::to_vec(&self.0).expect("a problem always serialises");
        let mut response = (status, body).into_response();
        response
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        // Kept so that the middleware can complete it without re-parsing the body.
        response.extensions_mut().insert(self);
        response
    }
}

/// A service's page for people, by status: what a browser gets instead of problem+json.
pub type ErrorPage = fn(StatusCode) -> Response;

/// What the [`middleware`] names in the details it writes, and the service's error page
/// if it has one.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub body_bytes: usize,
    pub error_page: Option<ErrorPage>,
}

/// Rewrites every error response into a complete problem+json body, or, for a browser
/// (`Accept: text/html`) of a service that has pages, into its error page.
pub async fn middleware(State(limits): State<Limits>, req: Request, next: Next) -> Response {
    let instance = req.uri().path().to_owned();
    let request_id = req.extensions().get::<RequestId>().cloned();
    let page_for_browser = limits.error_page.filter(|_| {
        req.headers()
            .get(axum::http::header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|accept| accept.contains("text/html"))
    });
    let response = next.run(req).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    // A page made for people (the GUI's French error pages) stays one.
    let is_page = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/html"));
    if is_page {
        return response;
    }
    if let Some(error_page) = page_for_browser {
        let mut page = error_page(status);
        // What the answer said beyond its body stays (Allow on 405, WWW-Authenticate on
        // 401, Retry-After, cookies), unless the page says it itself.
        let own: Vec<_> = page.headers().keys().cloned().collect();
        for (name, value) in response.headers() {
            if name != CONTENT_TYPE
                && name != axum::http::header::CONTENT_LENGTH
                && !own.contains(name)
            {
                page.headers_mut().append(name.clone(), value.clone());
            }
        }
        return page;
    }
    let (mut parts, body) = response.into_parts();
    let mut problem = match parts.extensions.remove::<Problem>() {
        Some(problem) => problem,
        None => from_plain_response(status, &parts.headers, body, limits).await,
    };
    problem.0.instance.get_or_insert(instance);
    if let Some(id) = request_id {
        problem.0.request_id.get_or_insert(id.0);
    }
    let rebuilt = problem.into_response();
    let (new_parts, new_body) = rebuilt.into_parts();
    // Keep the original headers (Allow on 405, WWW-Authenticate on 401, ...).
    parts
        .headers
        .insert(CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    parts.extensions.extend(new_parts.extensions);
    Response::from_parts(parts, new_body)
}

/// A problem from a response some other layer produced, keeping its text as detail.
async fn from_plain_response(
    status: StatusCode,
    headers: &axum::http::HeaderMap,
    body: Body,
    limits: Limits,
) -> Problem {
    let is_text = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/plain"));
    let text = if is_text {
        match http_body_util::Limited::new(body, MAX_DETAIL_BYTES)
            .collect()
            .await
        {
            Ok(collected) => String::from_utf8_lossy(&collected.to_bytes())
                .trim()
                .to_owned(),
            Err(_) => String::new(),
        }
    } else {
        String::new()
    };
    let mut problem = Problem::status(status);
    problem.0.detail = match (status, text.is_empty()) {
        // Whether the limit was seen on Content-Length or while reading, say which it is.
        (StatusCode::PAYLOAD_TOO_LARGE, _) => Some(format!(
            "the request body exceeds this service's limit of {} bytes",
            limits.body_bytes
        )),
        (_, false) => Some(text),
        (StatusCode::METHOD_NOT_ALLOWED, true) => {
            let allowed = headers
                .get(axum::http::header::ALLOW)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            Some(format!("method not allowed here; allowed: {allowed}"))
        }
        _ => None,
    };
    problem
}

/// The router's fallback: a 404 problem naming the path.
pub async fn not_found(req: Request) -> Problem {
    Problem::not_found(format!(
        "no resource at {} {}",
        req.method(),
        req.uri().path()
    ))
}
