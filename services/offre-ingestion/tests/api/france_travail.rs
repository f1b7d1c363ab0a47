//! `ingest --api` against a local server that speaks the France Travail API's shapes:
//! OAuth2 client credentials, `range=` pages with 206 and `Content-Range`, the 3,150
//! results cap (400 past it), 204 when nothing matches, and faults (429 with
//! Retry-After, 5xx, a revoked token).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use offre_ingestion::france_travail::ApiConfig;
use offre_ingestion::ingest::{ingest_api, ingest_file};
use serde_json::{json, Value};
use testkit::TestDb;

use crate::common::*;

const CLIENT_ID: &str = "jobmatch-test";
const CLIENT_SECRET: &str = "s3cret-client";

#[derive(Clone, Copy)]
enum Fault {
    TooMany(u64),
    ServerError,
    RevokeToken,
}

#[derive(Default)]
struct FtState {
    offers: Vec<Value>,
    faults: Mutex<VecDeque<Fault>>,
    /// Fail every search with 503 (a dead API).
    down: bool,
    valid_token: Mutex<Option<String>>,
    tokens_issued: Mutex<u32>,
    searches: Mutex<u32>,
}

async fn token(
    State(state): State<Arc<FtState>>,
    Form(form): Form<std::collections::HashMap<String, String>>,
) -> Response {
    let ok = form.get("grant_type").map(String::as_str) == Some("client_credentials")
        && form.get("client_id").map(String::as_str) == Some(CLIENT_ID)
        && form.get("client_secret").map(String::as_str) == Some(CLIENT_SECRET)
        && form
            .get("scope")
            .is_some_and(|s| s.contains("api_offresdemploiv2"));
    if !ok {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": "invalid_client"})),
        )
            .into_response();
    }
    let mut issued = state.tokens_issued.lock().unwrap();
    *issued += 1;
    let token = format!("token-{issued}");
    *state.valid_token.lock().unwrap() = Some(token.clone());
    Json(json!({"access_token": token, "token_type": "Bearer", "expires_in": 1499, "scope": "api_offresdemploiv2 o2dsoffre"})).into_response()
}

#[derive(serde::Deserialize)]
struct SearchParams {
    range: String,
    #[serde(rename = "minCreationDate")]
    min: DateTime<Utc>,
    #[serde(rename = "maxCreationDate")]
    max: DateTime<Utc>,
    departement: Option<String>,
}

async fn search(
    State(state): State<Arc<FtState>>,
    headers: HeaderMap,
    Query(params): Query<SearchParams>,
) -> Response {
    *state.searches.lock().unwrap() += 1;
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let valid = state.valid_token.lock().unwrap().clone();
    if valid.map(|t| format!("Bearer {t}")).as_deref() != Some(bearer) {
        return (StatusCode::UNAUTHORIZED, "invalid token").into_response();
    }
    if state.down {
        return (StatusCode::SERVICE_UNAVAILABLE, "maintenance").into_response();
    }
    let fault = state.faults.lock().unwrap().pop_front();
    match fault {
        Some(Fault::TooMany(secs)) => {
            return (
                StatusCode::TOO_MANY_REQUESTS,
                [("retry-after", secs.to_string())],
                "slow down",
            )
                .into_response()
        }
        Some(Fault::ServerError) => return (StatusCode::BAD_GATEWAY, "upstream").into_response(),
        Some(Fault::RevokeToken) => {
            *state.valid_token.lock().unwrap() = None;
            return (StatusCode::UNAUTHORIZED, "token revoked").into_response();
        }
        None => {}
    }
    let (start, end) = params.range.split_once('-').unwrap();
    let (start, end): (usize, usize) = (start.parse().unwrap(), end.parse().unwrap());
    if end > 3149 || start > end || end - start >= 150 {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"message": "Valeur du paramètre « range » incorrecte."})),
        )
            .into_response();
    }
    let matching: Vec<&Value> = state
        .offers
        .iter()
        .filter(|o| {
            let created: DateTime<Utc> = o["dateCreation"].as_str().unwrap().parse().unwrap();
            let dep_ok = params
                .departement
                .as_deref()
                .is_none_or(|d| o["lieuTravail"]["commune"].as_str().unwrap().starts_with(d));
            created >= params.min && created <= params.max && dep_ok
        })
        .collect();
    let total = matching.len();
    if total == 0 {
        return StatusCode::NO_CONTENT.into_response();
    }
    let page: Vec<Value> = matching
        .iter()
        .skip(start)
        .take(end - start + 1)
        .map(|o| (*o).clone())
        .collect();
    let last = start + page.len().saturating_sub(1);
    let status = if last + 1 < total.min(3150) {
        StatusCode::PARTIAL_CONTENT
    } else {
        StatusCode::OK
    };
    let body = json!({"resultats": page, "filtresPossibles": []});
    (
        status,
        [("content-range", format!("offres {start}-{last}/{total}"))],
        Json(body),
    )
        .into_response()
}

async fn start_server(state: FtState) -> (Arc<FtState>, String) {
    let state = Arc::new(state);
    let app = Router::new()
        .route("/connexion/oauth2/access_token", post(token))
        .route("/partenaire/offresdemploi/v2/offres/search", get(search))
        .with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (state, format!("http://{addr}"))
}

fn api_config(base: &str, rate: &str) -> ApiConfig {
    let env = testkit::env()
        .with(
            "FT_TOKEN_URL",
            format!("{base}/connexion/oauth2/access_token?realm=%2Fpartenaire"),
        )
        .with("FT_API_URL", format!("{base}/partenaire/offresdemploi/v2"))
        .with("FT_CLIENT_ID", CLIENT_ID)
        .with("FT_CLIENT_SECRET", CLIENT_SECRET)
        .with("FT_REQUESTS_PER_SECOND", rate)
        .with("FT_MAX_RETRIES", "3")
        .with("FT_SYNC_DAYS", "10");
    ApiConfig::from_env(&env).unwrap()
}

/// An offer created `minutes_ago`, in a commune of `departement`.
fn api_offer(i: usize, minutes_ago: i64, departement: &str) -> Value {
    let mut offer = offer(&format!("A{i:06}"), &format!("Poste {i}"), "Description.");
    let created = Utc::now() - chrono::Duration::minutes(minutes_ago);
    offer["dateCreation"] = json!(created.to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
    offer["dateActualisation"] = offer["dateCreation"].clone();
    offer["lieuTravail"]["commune"] = json!(format!("{departement}123"));
    offer
}

#[tokio::test]
async fn a_full_pull_pages_windows_and_archives_what_the_api_no_longer_lists() {
    // 3,300 offers within one hour (past the 3,150 cap even for the smallest window: cut
    // by département), and 200 over the other days.
    let mut offers: Vec<Value> = (0..3300)
        .map(|i| api_offer(i, 30, ["69", "75", "2A"][i % 3]))
        .collect();
    offers.extend((3300..3500).map(|i| api_offer(i, 60 * 24 * (1 + (i as i64 % 8)), "13")));
    let (server, base) = start_server(FtState {
        offers,
        ..Default::default()
    })
    .await;

    let db = TestDb::new().await;
    let pool = db.pool().await;
    // An offer ingested earlier from a file, which the API does not list.
    ingest_file(
        &pool,
        &files().json_lines("old.jsonl", &[offer("GONE001", "Ancienne offre", "...")]),
        None,
        36500,
    )
    .await
    .unwrap();

    let report = ingest_api(&pool, api_config(&base, "1000"), None, 36500)
        .await
        .unwrap();
    assert_eq!(report.counts.new, 3500, "{:?}", report.counts);
    assert_eq!(report.counts.archived, 1);
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM offers.offers WHERE archived_at IS NULL"
        )
        .await,
        3500
    );
    let reason: String =
        sqlx::query_scalar("SELECT archive_reason FROM offers.offers WHERE id = 'GONE001'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(reason, "absent from the full sync");
    assert_eq!(
        *server.tokens_issued.lock().unwrap(),
        1,
        "the token is cached"
    );

    // The same pull again changes nothing.
    let again = ingest_api(&pool, api_config(&base, "1000"), None, 36500)
        .await
        .unwrap();
    assert_eq!(
        (
            again.counts.new,
            again.counts.changed,
            again.counts.archived
        ),
        (0, 0, 0)
    );
}

#[tokio::test]
async fn faults_are_retried_and_the_token_renewed() {
    let offers: Vec<Value> = (0..400)
        .map(|i| api_offer(i, 60 * (i as i64 % 48), "33"))
        .collect();
    let faults = VecDeque::from([Fault::TooMany(1), Fault::ServerError, Fault::RevokeToken]);
    let (server, base) = start_server(FtState {
        offers,
        faults: Mutex::new(faults),
        ..Default::default()
    })
    .await;
    let db = TestDb::new().await;
    let pool = db.pool().await;
    let started = Instant::now();
    let report = ingest_api(&pool, api_config(&base, "1000"), None, 36500)
        .await
        .unwrap();
    assert_eq!(report.counts.new, 400);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After honoured"
    );
    assert_eq!(
        *server.tokens_issued.lock().unwrap(),
        2,
        "renewed after the 401"
    );
}

#[tokio::test]
async fn requests_keep_to_the_configured_rate() {
    let offers: Vec<Value> = (0..600).map(|i| api_offer(i, 10, "59")).collect();
    let (server, base) = start_server(FtState {
        offers,
        ..Default::default()
    })
    .await;
    let db = TestDb::new().await;
    let pool = db.pool().await;
    let started = Instant::now();
    ingest_api(&pool, api_config(&base, "5"), None, 36500)
        .await
        .unwrap();
    let requests = *server.searches.lock().unwrap() + *server.tokens_issued.lock().unwrap();
    assert_eq!(requests, 5, "a token, then 4 pages of 150");
    let floor = Duration::from_secs_f64(f64::from(requests - 1) / 5.0);
    assert!(
        started.elapsed() >= floor,
        "{requests} requests at 5/s took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_dead_api_fails_the_run_and_archives_nothing() {
    let (_server, base) = start_server(FtState {
        offers: vec![api_offer(1, 5, "75")],
        down: true,
        ..Default::default()
    })
    .await;
    let db = TestDb::new().await;
    let pool = db.pool().await;
    ingest_file(
        &pool,
        &files().json_lines("o.jsonl", &offers(2)),
        None,
        36500,
    )
    .await
    .unwrap();
    let err = ingest_api(&pool, api_config(&base, "1000"), None, 36500)
        .await
        .unwrap_err();
    assert!(format!("{err:#}").contains("unavailable"), "{err:#}");
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM offers.offers WHERE archived_at IS NOT NULL"
        )
        .await,
        0
    );
    let status: String =
        sqlx::query_scalar("SELECT status FROM offers.ingestion_runs WHERE kind = 'api'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(status, "failed");
}
