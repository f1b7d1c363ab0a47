//! The place, search radius and contract preferences: filters of the matches, not part
//! of the profile's embedding.

use std::collections::HashMap;

use axum::extract::State;
use axum::response::Response;
use axum::Form;

use super::page::{refuse_form, Section};
use super::{allow_edit, ensure_profile};
use crate::contracts::CONTRACTS;
use crate::session::SignedIn;
use crate::web::PageError;
use crate::AppState;

/// The search radii offered, in kilometres.
pub const RADII_KM: [u32; 6] = [5, 10, 20, 30, 50, 100];

/// Place, radius and contract preferences. Checkboxes arrive as `contract_<CODE>`.
pub(super) async fn save_preferences(
    State(state): State<AppState>,
    SignedIn { session, user }: SignedIn,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, PageError> {
    session.check_csrf(form.get("csrf").map_or("", String::as_str))?;
    allow_edit(&state, user.id).await?;
    let place = form.get("place").map_or("", |p| p.trim());
    let commune = if place.is_empty() {
        None
    } else {
        match places::find(&state.communes, place) {
            Some(c) => Some(c),
            None => {
                let typed = form
                    .iter()
                    .filter(|(name, _)| *name != "csrf")
                    .map(|(name, value)| (name.clone(), value.clone()))
                    .collect();
                let message = "Commune inconnue : indiquez un nom de commune ou un code postal.";
                return refuse_form(
                    &state,
                    &session,
                    &user,
                    Section::Preferences,
                    message,
                    typed,
                )
                .await;
            }
        }
    };
    let radius: Option<f64> = form
        .get("radius_km")
        .and_then(|r| r.parse::<u32>().ok())
        .filter(|r| RADII_KM.contains(r))
        .map(f64::from);
    let contracts: Vec<&str> = CONTRACTS
        .iter()
        .map(|(code, _)| *code)
        .filter(|code| form.contains_key(&format!("contract_{code}")))
        .collect();
    ensure_profile(&state.db, user.id).await?;
    // Place and contracts are filters, not part of the embedding: an embedding that was
    // up to date stays so.
    sqlx::query!(
        "UPDATE gui.profiles SET place_label = $2, latitude = $3, longitude = $4, radius_km = $5, contract_types = $6,
             profile_embedded_at = CASE WHEN profile_embedded_at >= coalesce(matches_invalidated_at, '-infinity')
                 THEN now() ELSE profile_embedded_at END,
             updated_at = now(), matches_invalidated_at = now()
         WHERE user_id = $1",
        user.id,
        commune.map(|c| c.name.clone()),
        commune.map(|c| c.latitude),
        commune.map(|c| c.longitude),
        commune.and(radius),
        &contracts as &[&str]
    )
    .execute(&state.db)
    .await?;
    Ok(Section::Preferences.redirect("?enregistre=1"))
}
