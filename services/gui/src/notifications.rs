//! Notifications: what the events worker records for a candidate (a new offer that
//! matches well), listed on their page and counted in the navigation's badge (the
//! count comes with the session: `CurrentUser::unread`). Opening the page marks them
//! read.

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
    let notifications: Vec<Notification> = sqlx::query_as(
        "SELECT message, offer_external_id, created_at, read_at FROM gui.notifications
         WHERE user_id = $1 ORDER BY created_at DESC LIMIT 100",
    )
    .bind(user.id)
    .fetch_all(&state.db)
    .await?;
    sqlx::query(
        "UPDATE gui.notifications SET read_at = now() WHERE user_id = $1 AND read_at IS NULL",
    )
    .bind(user.id)
    .execute(&state.db)
    .await?;
    Ok(render(&NotificationsPage {
        csrf: session.csrf.clone(),
        unread: 0,
        notifications,
    }))
}
