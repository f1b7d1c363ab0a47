//! Notifications: what the events worker records for a candidate (a new offer that
//! matches well), listed on their page and counted in the navigation's badge (the
//! count comes with the session: `CurrentUser::unread`). Opening the page marks read
//! exactly the notifications it shows.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, Utc};

use crate::session::SignedIn;
use crate::web::{french_time, render, PageError};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/notifications", get(page))
}

#[derive(sqlx::FromRow)]
pub struct Notification {
    pub message: String,
    pub offer_external_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
}

#[derive(Template)]
#[template(path = "notifications.html")]
struct NotificationsPage {
    csrf: String,
    unread: i64,
    notifications: Vec<Notification>,
}

impl NotificationsPage {
    fn day(&self, notification: &Notification) -> String {
        french_time(notification.created_at, "%d/%m/%Y")
    }
}

async fn page(
    State(state): State<AppState>,
    SignedIn { session, user }: SignedIn,
) -> Result<Response, PageError> {
    let notifications: Vec<Notification> = sqlx::query_as(SHOW_SQL)
        .bind(user.id)
        .bind(SHOWN)
        .fetch_all(&state.db)
        .await?;
    // The badge: what stays unread once these are (older ones past the page's length).
    let unread = sqlx::query_scalar(
        "SELECT count(*) FROM gui.notifications WHERE user_id = $1 AND read_at IS NULL",
    )
    .bind(user.id)
    .fetch_one(&state.db)
    .await?;
    Ok(render(&NotificationsPage {
        csrf: session.csrf.clone(),
        unread,
        notifications,
    }))
}

/// Notifications listed on the page, newest first.
const SHOWN: i64 = 100;

/// The page's notifications, with each one's state before this visit, and exactly
/// those marked read: one statement, so that a notification recorded meanwhile (by
/// the worker) is neither shown nor marked, and is still new at the next visit.
const SHOW_SQL: &str = "WITH shown AS (
        SELECT id, message, offer_external_id, created_at, read_at FROM gui.notifications
        WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2
    ), marked AS (
        UPDATE gui.notifications n SET read_at = now()
        FROM shown WHERE n.id = shown.id AND n.read_at IS NULL
    )
    SELECT message, offer_external_id, created_at, read_at FROM shown
    ORDER BY created_at DESC, id DESC";
