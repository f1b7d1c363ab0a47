//! Sessions in PostgreSQL behind a cookie, and CSRF protection of every form.
//!
//! The session cookie holds 32 random bytes; the database keeps only their SHA-256, so a
//! leak of the table does not open sessions. CSRF: each browser gets a random token in a
//! cookie of its own, and every form carries it in a hidden field; a POST whose field
//! does not equal the cookie is refused (double submit). Both cookies are HttpOnly and
//! SameSite=Lax (Strict would drop the session on links from e-mails).

use axum::extract::{FromRequestParts, Request, State};
use axum::http::header::{CONTENT_TYPE, COOKIE, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use subtle::ConstantTimeEq;
use uuid::Uuid;

use crate::web::PageError;
use crate::AppState;

/// The session cookie's name: `__Host-` when cookies are Secure, so that browsers take
/// it only with Secure, Path=/ and no Domain (a subdomain cannot plant one).
pub fn session_cookie(secure: bool) -> &'static str {
    if secure {
        "__Host-jm_session"
    } else {
        "jm_session"
    }
}

/// The CSRF cookie's name, likewise.
pub fn csrf_cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-jm_csrf"
    } else {
        "jm_csrf"
    }
}

/// 32 random bytes, URL-safe base64.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the system's random source");
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The CSRF token of a session: an HMAC keyed by its (secret, HttpOnly) token, which no
/// other site nor another browser can compute.
fn session_csrf(session_token: &str) -> String {
    let mut mac = <hmac::Hmac<Sha256> as hmac::Mac>::new_from_slice(session_token.as_bytes())
        .expect("HMAC takes keys of any length");
    hmac::Mac::update(&mut mac, b"jobmatch csrf");
    URL_SAFE_NO_PAD.encode(hmac::Mac::finalize(mac).into_bytes())
}

fn digest(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// The value of cookie `name` in the request's headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v)
        .filter(|v| !v.is_empty())
}

/// A `Set-Cookie` header: HttpOnly, SameSite=Lax, Path=/, Secure when configured;
/// `max_age` None removes the cookie.
pub fn set_cookie(
    name: &str,
    value: &str,
    max_age: Option<i64>,
    secure: bool,
) -> (axum::http::HeaderName, HeaderValue) {
    let age = max_age.unwrap_or(0);
    let secure = if secure { "; Secure" } else { "" };
    let header = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={age}{secure}");
    (
        SET_COOKIE,
        HeaderValue::from_str(&header).expect("cookie values are base64"),
    )
}

/// A form whose only field is the CSRF token (a button: log out, save an offer...).
#[derive(serde::Deserialize)]
pub struct CsrfForm {
    pub csrf: String,
}

/// The signed-in candidate, if any.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub id: Uuid,
    pub email: String,
    /// Unread notifications, for the navigation's badge (read with the session: one
    /// query per page for both).
    pub unread: i64,
}

/// The browser's CSRF token, or a new one when it has none (its cookie is then set by
/// [`csrf_cookie`] on the page that answers).
#[derive(Debug, Clone)]
struct CsrfToken {
    value: String,
    is_new: bool,
}

/// Gives each request its CSRF token, and each page answering a browser that had none
/// the cookie, whatever page it is (not static files: they are cached publicly).
pub async fn csrf_cookie(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let token = match cookie(request.headers(), csrf_cookie_name(state.cookie_secure)) {
        Some(value) => CsrfToken {
            value: value.to_owned(),
            is_new: false,
        },
        None => CsrfToken {
            value: random_token(),
            is_new: true,
        },
    };
    request.extensions_mut().insert(token.clone());
    let mut response = next.run(request).await;
    let is_page = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if token.is_new && is_page {
        let (name, value) = set_cookie(
            csrf_cookie_name(state.cookie_secure),
            &token.value,
            Some(365 * 24 * 3600),
            state.cookie_secure,
        );
        response.headers_mut().append(name, value);
    }
    response
}

/// The request's session: the candidate (if signed in) and the CSRF token its forms
/// must carry.
#[derive(Debug, Clone)]
pub struct Session {
    pub user: Option<CurrentUser>,
    pub csrf: String,
    /// The browser had no token: no form of its can be genuine.
    csrf_is_new: bool,
}

impl Session {
    /// The form's token must be the browser's.
    pub fn check_csrf(&self, form_token: &str) -> Result<(), PageError> {
        let same: bool = self.csrf.as_bytes().ct_eq(form_token.as_bytes()).into();
        if self.csrf_is_new || !same {
            return Err(PageError::Csrf);
        }
        Ok(())
    }
}

impl FromRequestParts<AppState> for Session {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, PageError> {
        let csrf = parts
            .extensions
            .get::<CsrfToken>()
            .cloned()
            .expect("the csrf_cookie layer runs before every page");
        let token = cookie(&parts.headers, session_cookie(state.cookie_secure));
        let user = match token {
            Some(token) => user_of(&state.db, token, state.session_idle).await?,
            None => None,
        };
        // A signed-in candidate's forms carry a token bound to the session (and so new
        // at each log-in); before log-in, the browser's own.
        let (csrf, csrf_is_new) = match (&user, token) {
            (Some(_), Some(token)) => (session_csrf(token), false),
            _ => (csrf.value, csrf.is_new),
        };
        Ok(Self {
            user,
            csrf,
            csrf_is_new,
        })
    }
}

/// A request's session with its signed-in candidate: pages that need one take it, and
/// a request without one is sent to the log-in page.
pub struct SignedIn {
    pub session: Session,
    pub user: CurrentUser,
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, PageError> {
        let session = Session::from_request_parts(parts, state).await?;
        let user = session.user.clone().ok_or(PageError::NotSignedIn)?;
        Ok(Self { session, user })
    }
}

/// The candidate a session token belongs to, while the session lasts: before its
/// absolute end, and unless it was left unused for `idle`. `last_seen_at` is written at
/// most once a minute, not on every page view (and never for a session that ended).
async fn user_of(
    db: &PgPool,
    token: &str,
    idle: chrono::TimeDelta,
) -> Result<Option<CurrentUser>, sqlx::Error> {
    sqlx::query_as!(
        CurrentUser,
        r#"WITH touched AS (
             UPDATE gui.sessions SET last_seen_at = now()
             WHERE token_hash = $1 AND last_seen_at < now() - interval '1 minute'
               AND last_seen_at > now() - $2::interval AND expires_at > now()
         )
         SELECT u.id, u.email,
             (SELECT count(*) FROM gui.notifications n WHERE n.user_id = u.id AND n.read_at IS NULL)
                 AS "unread!"
         FROM gui.sessions s JOIN gui.users u ON u.id = s.user_id
         WHERE s.token_hash = $1 AND s.expires_at > now() AND s.last_seen_at > now() - $2::interval"#,
        digest(token),
        idle as chrono::TimeDelta
    )
    .fetch_optional(db)
    .await
}

/// Opens a session for `user`: the token to put in the cookie.
pub async fn open(
    db: &PgPool,
    user: Uuid,
    expires_at: DateTime<Utc>,
) -> Result<String, sqlx::Error> {
    let token = random_token();
    sqlx::query!(
        "INSERT INTO gui.sessions (token_hash, user_id, expires_at) VALUES ($1, $2, $3)",
        digest(&token),
        user,
        expires_at
    )
    .execute(db)
    .await?;
    // Expired sessions go as new ones come.
    sqlx::query!("DELETE FROM gui.sessions WHERE expires_at < now() - interval '1 day'")
        .execute(db)
        .await?;
    Ok(token)
}

/// One of a candidate's open sessions, as the account page lists them.
#[derive(Debug)]
pub struct OpenSession {
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    /// The session of the request that lists them.
    pub current: bool,
}

/// The candidate's sessions that have not ended, newest first.
pub async fn open_sessions(
    db: &PgPool,
    user: Uuid,
    current_token: Option<&str>,
    idle: chrono::TimeDelta,
) -> Result<Vec<OpenSession>, sqlx::Error> {
    sqlx::query_as!(
        OpenSession,
        r#"SELECT created_at, last_seen_at, token_hash = $2 AS "current!" FROM gui.sessions
         WHERE user_id = $1 AND expires_at > now() AND last_seen_at > now() - $3::interval
         ORDER BY created_at DESC"#,
        user,
        current_token.map(digest).unwrap_or_default(),
        idle as chrono::TimeDelta
    )
    .fetch_all(db)
    .await
}

/// Ends every session of `user` but the one of `keep`'s token (every one when None).
pub async fn close_all(db: &PgPool, user: Uuid, keep: Option<&str>) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query!(
        "DELETE FROM gui.sessions WHERE user_id = $1 AND token_hash <> $2",
        user,
        keep.map(digest).unwrap_or_default()
    )
    .execute(db)
    .await?
    .rows_affected())
}

/// Closes the session of `token`.
pub async fn close(db: &PgPool, token: &str) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "DELETE FROM gui.sessions WHERE token_hash = $1",
        digest(token)
    )
    .execute(db)
    .await?;
    Ok(())
}
