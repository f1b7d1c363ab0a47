//! Notifications: what the events worker records for a candidate (a new offer that
//! matches well), listed on their page and counted in the navigation's badge (the
//! count comes with the session: `CurrentUser::unread`). Reading the page changes
//! nothing; its "Marquer comme lues" button marks read exactly those it showed.

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::session::SignedIn;
use crate::web::{french_time, render, PageError};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/notifications", get(page))
        .route("/notifications/lues", post(mark_read))
}

pub struct Notification {
    pub id: Uuid,
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

    fn any_unread_shown(&self) -> bool {
        self.shown_unread().next().is_some()
    }

    /// The unread notifications shown: those "Marquer comme lues" marks.
    fn shown_unread(&self) -> impl Iterator<Item = &Uuid> {
        self.notifications
            .iter()
            .filter(|n| n.read_at.is_none())
            .map(|n| &n.id)
    }
}

/// The candidate's notifications, newest first; reading the page changes nothing (a
/// GET never does): the page's button marks read the ones it showed.
async fn page(
    State(state): State<AppState>,
    SignedIn { session, user }: SignedIn,
) -> Result<Response, PageError> {
    let notifications: Vec<Notification> = sqlx::query_as!(
        Notification,
        "SELECT id, message, offer_external_id, created_at, read_at FROM gui.notifications
         WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2",
        user.id,
        SHOWN
    )
    .fetch_all(&state.db)
    .await?;
    Ok(render(&NotificationsPage {
        csrf: session.csrf.clone(),
        unread: user.unread,
        notifications,
    }))
}

/// Notifications listed on the page, newest first.
const SHOWN: i64 = 100;

/// Marks read exactly the notifications the page showed (its form's repeated `id`
/// fields; the candidate's own only): one recorded since by the worker stays new.
async fn mark_read(
    State(state): State<AppState>,
    SignedIn { session, user }: SignedIn,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let csrf = fields
        .iter()
        .find(|(k, _)| k == "csrf")
        .map_or("", |(_, v)| v.as_str());
    session.check_csrf(csrf)?;
    let ids: Vec<Uuid> = fields
        .iter()
        .filter(|(k, _)| k == "id")
        .filter_map(|(_, v)| v.parse().ok())
        .take(SHOWN as usize)
        .collect();
    sqlx::query!(
        "UPDATE gui.notifications SET read_at = now()
         WHERE user_id = $1 AND id = ANY($2) AND read_at IS NULL",
        user.id,
        &ids
    )
    .execute(&state.db)
    .await?;
    Ok(Redirect::to("/notifications").into_response())
}
