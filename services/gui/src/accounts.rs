//! Accounts: sign-up, log-in, log-out, the account page, the download of all of a
//! candidate's data (RGPD access) and the deletion of the account with everything
//! attached to it (RGPD erasure).
//!
//! Messages never tell whether an address has an account: a sign-up with a known
//! address gets the same answer as a new one, and a failed log-in says "address or
//! password incorrect" after the same work (an Argon2 verification) either way.

use std::net::IpAddr;
use std::sync::LazyLock;
use std::time::Duration;

use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use askama::Template;
use axum::extract::State;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;
use sqlx::PgPool;
use uuid::Uuid;

use crate::client_ip::ClientIp;
use crate::rate_limit::{self, Limit};
use crate::session::{self, CsrfForm, Session, SignedIn};
use crate::web::{render, PageError};
use crate::AppState;

/// Shortest password accepted (the forms say it, from here).
pub const MIN_PASSWORD_CHARS: usize = 12;
/// The refusal of a password shorter than [`MIN_PASSWORD_CHARS`].
static SHORT_PASSWORD: LazyLock<String> = LazyLock::new(|| {
    format!("Le mot de passe doit compter au moins {MIN_PASSWORD_CHARS} caractères.")
});
const MAX_PASSWORD_BYTES: usize = 1024;

const SIGN_UPS_PER_ADDRESS: Limit = Limit {
    max: 5,
    window: Duration::from_secs(3600),
};
const LOG_INS_PER_ADDRESS: Limit = Limit {
    max: 20,
    window: Duration::from_secs(900),
};
/// Wrong passwords for one account from one client address: past them, that address
/// waits for the next window; the account's owner, from elsewhere, does not.
const FAILURES_PER_PAIR: Limit = Limit {
    max: 5,
    window: Duration::from_secs(900),
};
/// Wrong passwords for one account from every address: past `max`, each check of its
/// password waits a little longer (never refused), so that guessing from many addresses
/// gets slow while its owner still gets in.
const ACCOUNT_FAILURES: Limit = Limit {
    max: 20,
    window: Duration::from_secs(900),
};
const SLOWDOWN_STEP: Duration = Duration::from_millis(250);
const SLOWDOWN_MAX: Duration = Duration::from_secs(3);

/// A hash verified when the address is unknown, so that both cases cost the same.
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| hash("not a real password").expect("argon2"));

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/inscription", get(sign_up_page).post(sign_up))
        .route("/connexion", get(log_in_page).post(log_in))
        .route("/deconnexion", post(log_out))
        .route("/compte", get(account_page))
        .route("/compte/donnees", get(export))
        .route("/compte/suppression", post(delete))
        .route("/compte/mot-de-passe", post(change_password))
        .route("/compte/sessions", post(log_out_everywhere))
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    csrf: String,
    email: Option<String>,
    unread: i64,
}

async fn home(session: Session) -> Response {
    let page = HomePage {
        csrf: session.csrf.clone(),
        email: session.user.as_ref().map(|u| u.email.clone()),
        unread: session.user.as_ref().map_or(0, |u| u.unread),
    };
    render(&page)
}

#[derive(Template)]
#[template(path = "signup.html")]
struct SignUpPage {
    csrf: String,
    email: String,
    error: Option<&'static str>,
}

async fn sign_up_page(session: Session) -> Response {
    let page = SignUpPage {
        csrf: session.csrf.clone(),
        email: String::new(),
        error: None,
    };
    render(&page)
}

#[derive(Deserialize)]
struct SignUpForm {
    csrf: String,
    email: String,
    password: String,
    confirm: String,
}

async fn sign_up(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    session: Session,
    Form(form): Form<SignUpForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&form.csrf)?;
    if !rate_limit::allow(
        &state.db,
        &rate_limit::client("sign-up", client),
        SIGN_UPS_PER_ADDRESS,
    )
    .await?
    {
        return Err(PageError::TooManyAttempts);
    }
    let email = form.email.trim().to_owned();
    let invalid = |error| {
        let page = SignUpPage {
            csrf: session.csrf.clone(),
            email: email.clone(),
            error: Some(error),
        };
        (axum::http::StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response()
    };
    if !plausible_email(&email) {
        return Ok(invalid("Cette adresse e-mail n’est pas valide."));
    }
    if let Some(problem) = new_password_problem(&form.password, &form.confirm) {
        return Ok(invalid(problem));
    }
    let password = form.password;
    let hashed = argon2_work(move || hash(&password))
        .await?
        .map_err(PageError::Internal)?;
    // A known address changes nothing and opens no session, and the answer is the same
    // redirection: its owner meets the log-in page there, a new candidate their CV form.
    let created: Option<Uuid> = sqlx::query_scalar!(
        "INSERT INTO gui.users (id, email, password_hash) VALUES ($1, $2, $3)
         ON CONFLICT ((lower(email))) DO NOTHING RETURNING id",
        Uuid::now_v7(),
        email,
        hashed
    )
    .fetch_optional(&state.db)
    .await?;
    let welcome = Redirect::to(WELCOME);
    match created {
        Some(id) => Ok((signed_in_cookie(&state, id).await?, welcome).into_response()),
        None => Ok(welcome.into_response()),
    }
}

/// Where a sign-up leads: the CV form, which the profile and the matches come from.
pub const WELCOME: &str = "/profil?bienvenue=1#section-cv";

/// A new session for `user`, as the cookie that carries it.
async fn signed_in_cookie(
    state: &AppState,
    user: Uuid,
) -> Result<[(axum::http::HeaderName, axum::http::HeaderValue); 1], PageError> {
    let expires = chrono::Utc::now() + state.session_ttl;
    let token = session::open(&state.db, user, expires).await?;
    Ok([session::set_cookie(
        session::session_cookie(state.cookie_secure),
        &token,
        Some(state.session_ttl.num_seconds()),
        state.cookie_secure,
    )])
}

#[derive(Template)]
#[template(path = "login.html")]
struct LogInPage {
    csrf: String,
    email: String,
    error: Option<&'static str>,
}

async fn log_in_page(session: Session, headers: axum::http::HeaderMap) -> Response {
    let page = LogInPage {
        csrf: session.csrf.clone(),
        email: String::new(),
        error: None,
    };
    let mut response = render(&page);
    // A section sent by htmx after the session ended was redirected here: the whole
    // browser goes to the log-in page, not a section of it.
    if headers.contains_key("hx-request") {
        response.headers_mut().insert(
            "hx-redirect",
            axum::http::HeaderValue::from_static("/connexion"),
        );
    }
    response
}

#[derive(Deserialize)]
struct LogInForm {
    csrf: String,
    email: String,
    password: String,
}

async fn log_in(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    session: Session,
    Form(form): Form<LogInForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&form.csrf)?;
    let email = form.email.trim().to_owned();
    // Every attempt counts per address; a blocked address writes nothing more.
    if !rate_limit::allow(
        &state.db,
        &rate_limit::client("log-in", client),
        LOG_INS_PER_ADDRESS,
    )
    .await?
    {
        return Err(PageError::TooManyAttempts);
    }
    guard_password_check(&state.db, &email, client).await?;
    let user: Option<(Uuid, String)> = sqlx::query!(
        "SELECT id, password_hash FROM gui.users WHERE lower(email) = lower($1)",
        email
    )
    .fetch_optional(&state.db)
    .await?
    .map(|row| (row.id, row.password_hash));
    let known = user.is_some();
    let (id, stored) = user.unwrap_or((Uuid::nil(), DUMMY_HASH.clone()));
    let password = form.password;
    let verified = verify(password, stored).await?;
    if !(known && verified) {
        password_failed(&state.db, &email, client).await?;
        let page = LogInPage {
            csrf: session.csrf.clone(),
            email,
            error: Some("Adresse e-mail ou mot de passe incorrect."),
        };
        return Ok((axum::http::StatusCode::UNAUTHORIZED, render(&page)).into_response());
    }
    Ok((signed_in_cookie(&state, id).await?, Redirect::to("/")).into_response())
}

async fn log_out(
    State(state): State<AppState>,
    session: Session,
    headers: axum::http::HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&form.csrf)?;
    if let Some(token) = session::cookie(&headers, session::session_cookie(state.cookie_secure)) {
        session::close(&state.db, token).await?;
    }
    let cookie = session::set_cookie(
        session::session_cookie(state.cookie_secure),
        "",
        None,
        state.cookie_secure,
    );
    Ok(([cookie], Redirect::to("/")).into_response())
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    csrf: String,
    unread: i64,
    email: String,
    /// The deletion form's refusal.
    error: Option<&'static str>,
    /// The password form's refusal, and its success.
    password_error: Option<&'static str>,
    notice: Option<&'static str>,
    sessions: Vec<session::OpenSession>,
}

impl AccountPage {
    fn when(&self, t: &chrono::DateTime<chrono::Utc>) -> String {
        crate::web::french_time(*t, "%d/%m/%Y à %H:%M")
    }
}

#[derive(Deserialize)]
struct AccountQuery {
    mot_de_passe: Option<String>,
}

async fn account_page(
    State(state): State<AppState>,
    SignedIn { session, user }: SignedIn,
    headers: axum::http::HeaderMap,
    axum::extract::Query(query): axum::extract::Query<AccountQuery>,
) -> Result<Response, PageError> {
    let notice = query
        .mot_de_passe
        .map(|_| "Votre mot de passe est changé ; vos autres sessions sont fermées.");
    let page = account(&state, &session, &user, &headers, notice, None, None).await?;
    Ok(render(&page))
}

/// The account page with the candidate's open sessions.
async fn account(
    state: &AppState,
    session: &Session,
    user: &session::CurrentUser,
    headers: &axum::http::HeaderMap,
    notice: Option<&'static str>,
    error: Option<&'static str>,
    password_error: Option<&'static str>,
) -> Result<AccountPage, PageError> {
    let current = session::cookie(headers, session::session_cookie(state.cookie_secure));
    Ok(AccountPage {
        csrf: session.csrf.clone(),
        unread: user.unread,
        email: user.email.clone(),
        error,
        password_error,
        notice,
        sessions: session::open_sessions(&state.db, user.id, current, state.session_idle).await?,
    })
}

#[derive(Deserialize)]
struct PasswordForm {
    csrf: String,
    current: String,
    password: String,
    confirm: String,
}

/// A new password, given the current one; every other session of the candidate ends.
async fn change_password(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    SignedIn { session, user }: SignedIn,
    headers: axum::http::HeaderMap,
    Form(form): Form<PasswordForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&form.csrf)?;
    let refusal = if !check_password(&state, &user, client, form.current).await? {
        Some("Le mot de passe actuel est incorrect.")
    } else {
        new_password_problem(&form.password, &form.confirm)
    };
    if let Some(message) = refusal {
        let page = account(&state, &session, &user, &headers, None, None, Some(message)).await?;
        return Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response());
    }
    let password = form.password;
    let hashed = argon2_work(move || hash(&password))
        .await?
        .map_err(PageError::Internal)?;
    sqlx::query!(
        "UPDATE gui.users SET password_hash = $2 WHERE id = $1",
        user.id,
        hashed
    )
    .execute(&state.db)
    .await?;
    session::close_all(
        &state.db,
        user.id,
        session::cookie(&headers, session::session_cookie(state.cookie_secure)),
    )
    .await?;
    Ok(Redirect::to("/compte?mot_de_passe=1").into_response())
}

/// Ends every session of the candidate, this one too.
async fn log_out_everywhere(
    State(state): State<AppState>,
    SignedIn { session, user }: SignedIn,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&form.csrf)?;
    session::close_all(&state.db, user.id, None).await?;
    let cookie = session::set_cookie(
        session::session_cookie(state.cookie_secure),
        "",
        None,
        state.cookie_secure,
    );
    Ok(([cookie], Redirect::to("/connexion")).into_response())
}

/// What is wrong with a new password, in French; None when it will do.
fn new_password_problem(password: &str, confirm: &str) -> Option<&'static str> {
    if password.chars().count() < MIN_PASSWORD_CHARS || password.len() > MAX_PASSWORD_BYTES {
        Some(SHORT_PASSWORD.as_str())
    } else if password != confirm {
        Some("Les deux mots de passe ne sont pas identiques.")
    } else if too_common(password) {
        Some("Ce mot de passe fait partie des plus utilisés (ou en dérive) : choisissez-en un autre, une phrase par exemple.")
    } else {
        None
    }
}

/// The 10,000 most used passwords (zxcvbn's list, from leaked passwords) and a few French
/// ones, lower-cased (`data/common-passwords.txt`).
static COMMON_PASSWORDS: LazyLock<std::collections::HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("../data/common-passwords.txt")
        .lines()
        .collect()
});

/// Whether `password` is a common one, or one with digits or signs added at its end
/// ("Azertyuiop2024!").
fn too_common(password: &str) -> bool {
    let lower = password.trim().to_lowercase();
    let stem = lower.trim_end_matches(|c: char| c.is_ascii_digit() || c.is_ascii_punctuation());
    COMMON_PASSWORDS.contains(lower.as_str())
        || (stem.len() >= 4 && COMMON_PASSWORDS.contains(stem))
}

/// Everything kept about the candidate, as one JSON document.
async fn export(
    State(state): State<AppState>,
    SignedIn { user, .. }: SignedIn,
) -> Result<Response, PageError> {
    // The candidate's data from every table that holds some (never the password hash or
    // session tokens).
    let data: serde_json::Value = sqlx::query_scalar!(
        r#"SELECT jsonb_build_object(
    'account', (SELECT jsonb_build_object('email', email, 'created_at', created_at) FROM gui.users WHERE id = $1),
    'profile', (SELECT to_jsonb(p) - 'user_id' - 'cv_embedding' - 'profile_embedding' FROM gui.profiles p WHERE user_id = $1),
    'skills', (SELECT coalesce(jsonb_agg(to_jsonb(s) - 'user_id'), '[]') FROM gui.profile_skills s WHERE user_id = $1),
    'experiences', (SELECT coalesce(jsonb_agg(to_jsonb(e) - 'user_id' ORDER BY position), '[]') FROM gui.profile_experiences e WHERE user_id = $1),
    'matches', (SELECT coalesce(jsonb_agg(to_jsonb(m) - 'user_id' ORDER BY score DESC), '[]') FROM gui.match_results m WHERE user_id = $1),
    'interactions', (SELECT coalesce(jsonb_agg(to_jsonb(i) - 'user_id'), '[]') FROM gui.offer_interactions i WHERE user_id = $1),
    'notifications', (SELECT coalesce(jsonb_agg(to_jsonb(n) - 'user_id' ORDER BY created_at), '[]') FROM gui.notifications n WHERE user_id = $1),
    'sessions', (SELECT coalesce(jsonb_agg(jsonb_build_object('created_at', created_at, 'last_seen_at', last_seen_at, 'expires_at', expires_at)), '[]') FROM gui.sessions WHERE user_id = $1)
) AS "data!""#,
        user.id
    )
    .fetch_one(&state.db)
    .await?;
    let body = serde_json::to_vec_pretty(&data).map_err(|e| PageError::Internal(e.to_string()))?;
    Ok((
        [
            (CONTENT_TYPE, "application/json".to_owned()),
            (
                CONTENT_DISPOSITION,
                "attachment; filename=\"jobmatch-mes-donnees.json\"".to_owned(),
            ),
        ],
        body,
    )
        .into_response())
}

#[derive(Deserialize)]
struct DeleteForm {
    csrf: String,
    password: String,
}

/// Deletes the account and, by cascade, everything attached to it.
async fn delete(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    SignedIn { session, user }: SignedIn,
    headers: axum::http::HeaderMap,
    Form(form): Form<DeleteForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&form.csrf)?;
    if !check_password(&state, &user, client, form.password).await? {
        let error = Some("Mot de passe incorrect : le compte n’est pas supprimé.");
        let page = account(&state, &session, &user, &headers, None, error, None).await?;
        return Ok((axum::http::StatusCode::UNAUTHORIZED, render(&page)).into_response());
    }
    delete_user(&state.db, user.id).await?;
    rate_limit::forget_account(&state.db, &user.email, user.id).await?;
    let cookie = session::set_cookie(
        session::session_cookie(state.cookie_secure),
        "",
        None,
        state.cookie_secure,
    );
    let csrf = session::set_cookie(
        session::csrf_cookie_name(state.cookie_secure),
        "",
        None,
        state.cookie_secure,
    );
    Ok(([cookie, csrf], Redirect::to("/")).into_response())
}

async fn delete_user(db: &PgPool, user: Uuid) -> Result<(), sqlx::Error> {
    // Every table refers to users ON DELETE CASCADE.
    sqlx::query!("DELETE FROM gui.users WHERE id = $1", user)
        .execute(db)
        .await?;
    Ok(())
}

/// Before a password of `email` is checked for a client at `ip`: refused when that
/// address failed too often for that account, slowed down when the account failed too
/// often from everywhere.
async fn guard_password_check(db: &PgPool, email: &str, ip: IpAddr) -> Result<(), PageError> {
    let pair = rate_limit::pair("password-failures", email, ip);
    if rate_limit::reached(db, &pair, FAILURES_PER_PAIR).await? {
        return Err(PageError::TooManyAttempts);
    }
    let account = rate_limit::account("password-failures", email);
    let failures = rate_limit::count(db, &account, ACCOUNT_FAILURES).await?;
    let over = failures.saturating_sub(ACCOUNT_FAILURES.max as i32).max(0) as u32;
    if over > 0 {
        tokio::time::sleep((SLOWDOWN_STEP * over).min(SLOWDOWN_MAX)).await;
    }
    Ok(())
}

/// Whether `password` is the signed-in candidate's (confirming a change or a deletion):
/// guessed no faster than at log-in, with the same counters.
async fn check_password(
    state: &AppState,
    user: &session::CurrentUser,
    ip: IpAddr,
    password: String,
) -> Result<bool, PageError> {
    guard_password_check(&state.db, &user.email, ip).await?;
    let stored: String =
        sqlx::query_scalar!("SELECT password_hash FROM gui.users WHERE id = $1", user.id)
            .fetch_one(&state.db)
            .await?;
    let verified = verify(password, stored).await?;
    if !verified {
        password_failed(&state.db, &user.email, ip).await?;
    }
    Ok(verified)
}

/// A wrong password for `email` from `ip`: counted for the pair and the account.
async fn password_failed(db: &PgPool, email: &str, ip: IpAddr) -> Result<(), sqlx::Error> {
    rate_limit::record(
        db,
        &rate_limit::pair("password-failures", email, ip),
        FAILURES_PER_PAIR,
    )
    .await?;
    rate_limit::record(
        db,
        &rate_limit::account("password-failures", email),
        ACCOUNT_FAILURES,
    )
    .await?;
    Ok(())
}

/// Whether `password` is the one `stored` (an Argon2 PHC string) was made from, checked
/// off the async runtime (it takes tens of milliseconds on purpose).
async fn verify(password: String, stored: String) -> Result<bool, PageError> {
    argon2_work(move || {
        password.len() <= MAX_PASSWORD_BYTES
            && Argon2::default()
                .verify_password(password.as_bytes(), stored.as_str())
                .is_ok()
    })
    .await
}

/// Argon2 computations at once, at most: one per core. Each takes tens of milliseconds
/// and 19 MiB on purpose; a flood of log-ins waits its turn instead of taking every
/// blocking thread and the memory with it.
static ARGON2_SLOTS: LazyLock<tokio::sync::Semaphore> = LazyLock::new(|| {
    tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(2, usize::from))
});

/// Runs an Argon2 computation off the async runtime, within [`ARGON2_SLOTS`].
async fn argon2_work<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, PageError> {
    let _slot = ARGON2_SLOTS
        .acquire()
        .await
        .map_err(|e| PageError::Internal(e.to_string()))?;
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| PageError::Internal(e.to_string()))
}

fn hash(password: &str) -> Result<String, String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// One `@` with something on both sides and a dot in the domain; the rest is the mail
/// server's business.
fn plausible_email(email: &str) -> bool {
    email.len() <= 254
        && !email.contains(char::is_whitespace)
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
        })
}
