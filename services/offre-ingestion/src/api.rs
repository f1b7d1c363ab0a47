//! `GET /offers?ids=A,B` and `GET /offers/{id}`: offer details in the France Travail
//! shape, for the GUI. Archived offers are served too (a candidate may have applied).

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use platform::Problem;
use serde::Deserialize;
use shared::{InvalidOfferId, OfferDetail, OfferId, OfferSkill, ProblemBody, MAX_OFFER_IDS};
use sqlx::PgPool;

/// offre-ingestion's API errors, each a problem+json.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("give the offer ids as ids=A,B,C (1 to {MAX_OFFER_IDS})")]
    NoIds,
    #[error("{0} ids asked; at most {MAX_OFFER_IDS} per request")]
    TooManyIds(usize),
    /// A malformed id in the `ids` list.
    #[error("in ids: {0}")]
    InvalidIds(InvalidOfferId),
    /// A malformed id in the path.
    #[error(transparent)]
    InvalidId(InvalidOfferId),
    #[error("no offer {0}")]
    NotFound(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let detail = self.to_string();
        match self {
            Self::NoIds | Self::TooManyIds(_) | Self::InvalidIds(_) => Problem::bad_request(detail)
                .field_error("ids", "1 to 100 comma-separated offer ids"),
            Self::InvalidId(_) => Problem::bad_request(detail).field_error("id", "one offer id"),
            Self::NotFound(_) => Problem::not_found(detail),
            Self::Database(e) => Problem::internal(&e),
        }
        .into_response()
    }
}

pub fn routes(db: PgPool) -> Router {
    Router::new()
        .route("/offers", get(list))
        .route("/offers/{id}", get(one))
        .with_state(db)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct IdsQuery {
    /// Comma-separated offer ids, 1 to 100: `ids=201VPGR,201VPGQ`.
    ids: Option<String>,
}

/// Offer details in the order of `ids`; unknown ids are left out.
#[utoipa::path(get, path = "/offers", tag = "offers", params(IdsQuery),
    security(("service_token" = [])),
    responses(
        (status = 200, description = "The known offers, in the order asked", body = [OfferDetail]),
        (status = 400, description = "No ids, more than 100, or a malformed one", body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, description = "Missing or wrong service token", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn list(
    State(db): State<PgPool>,
    Query(query): Query<IdsQuery>,
) -> Result<Json<Vec<OfferDetail>>, ApiError> {
    let ids = parse_ids(query.ids.as_deref().unwrap_or(""))?;
    let mut found: HashMap<String, OfferDetail> = fetch(&db, &ids)
        .await?
        .into_iter()
        .map(|o| (o.id.clone(), o))
        .collect();
    Ok(Json(ids.iter().filter_map(|id| found.remove(id)).collect()))
}

/// One offer's details.
#[utoipa::path(get, path = "/offers/{id}", tag = "offers",
    params(("id" = String, Path, description = "France Travail offer id")),
    security(("service_token" = [])),
    responses(
        (status = 200, description = "The offer", body = OfferDetail),
        (status = 400, description = "Not an offer id (a list belongs in GET /offers?ids=)", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "Unknown offer", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn one(
    State(db): State<PgPool>,
    Path(id): Path<String>,
) -> Result<Json<OfferDetail>, ApiError> {
    let id = OfferId::parse(&id).map_err(ApiError::InvalidId)?;
    fetch(&db, &[id.as_str().to_owned()])
        .await?
        .pop()
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(id.into_string()))
}

/// Distinct, well-formed ids in the order given.
fn parse_ids(raw: &str) -> Result<Vec<String>, ApiError> {
    let mut ids: Vec<String> = Vec::new();
    for id in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let id = OfferId::parse(id)
            .map_err(ApiError::InvalidIds)?
            .into_string();
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    match ids.len() {
        0 => Err(ApiError::NoIds),
        n if n > MAX_OFFER_IDS => Err(ApiError::TooManyIds(n)),
        _ => Ok(ids),
    }
}

struct Row {
    id: String,
    title: String,
    description: Option<String>,
    company_name: Option<String>,
    location_label: Option<String>,
    contract_type: Option<String>,
    salary_label: Option<String>,
    postal_code: Option<String>,
    latitude: Option<f64>,
    longitude: Option<f64>,
    rome_code: Option<String>,
    rome_label: Option<String>,
    sector_label: Option<String>,
    experience_label: Option<String>,
    published_at: Option<DateTime<Utc>>,
    source_updated_at: Option<DateTime<Utc>>,
    origin_url: Option<String>,
    archived: bool,
    skills: sqlx::types::Json<Vec<OfferSkill>>,
}

async fn fetch(db: &PgPool, ids: &[String]) -> Result<Vec<OfferDetail>, sqlx::Error> {
    let rows = sqlx::query_as!(
        Row,
        r#"SELECT o.id, o.title, o.description, o.company_name, o.location_label, o.contract_type,
            o.salary_label, o.postal_code, o.latitude, o.longitude, o.rome_code, o.rome_label,
            o.sector_label, o.experience_label, o.published_at, o.source_updated_at, o.origin_url,
            o.archived_at IS NOT NULL AS "archived!",
            COALESCE((SELECT json_agg(json_build_object('libelle', s.label, 'exigence',
                        CASE s.required WHEN true THEN 'E' WHEN false THEN 'S' END) ORDER BY s.position)
                      FROM offers.offer_skills s WHERE s.offer_id = o.id), '[]')
                AS "skills!: sqlx::types::Json<Vec<OfferSkill>>"
         FROM offers.offers o WHERE o.id = ANY($1)"#,
        ids
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| OfferDetail {
            id: r.id,
            intitule: r.title,
            description: r.description,
            entreprise: r.company_name,
            lieu: r.location_label,
            type_contrat: r.contract_type,
            salaire: r.salary_label,
            competences: r.skills.0,
            code_postal: r.postal_code,
            latitude: r.latitude,
            longitude: r.longitude,
            rome_code: r.rome_code,
            rome_libelle: r.rome_label,
            secteur_activite_libelle: r.sector_label,
            experience_libelle: r.experience_label,
            date_creation: r.published_at,
            date_actualisation: r.source_updated_at,
            url_origine: r.origin_url,
            archived: r.archived,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_parsed_deduplicated_and_bounded() {
        assert_eq!(parse_ids(" A1, B2 ,,A1").unwrap(), ["A1", "B2"]);
        assert!(matches!(parse_ids(""), Err(ApiError::NoIds)));
        assert!(matches!(parse_ids("A1;DROP"), Err(ApiError::InvalidIds(_))));
        let many: Vec<String> = (0..101).map(|i| format!("X{i}")).collect();
        assert!(matches!(
            parse_ids(&many.join(",")),
            Err(ApiError::TooManyIds(101))
        ));
    }
}
