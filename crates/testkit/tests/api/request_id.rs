//! One request id follows a request from one service to the next, in both logs.

use axum::http::HeaderMap;
use axum::routing::get;
use axum::{Json, Router};
use platform::config::{ServiceConfig, ServiceDefaults};
use platform::http_client::ServiceClient;
use platform::ServiceApp;
use reqwest::StatusCode;
use secrecy::SecretString;
use testkit::TestDb;

#[tokio::test]
async fn the_request_id_is_propagated_to_the_called_service_and_logged_by_both() {
    let logs = testkit::logs::capture();

    // The called service: the real matching service on its database.
    let db = TestDb::new().await;
    let env = testkit::env().with("DATABASE_URL", db.url_as(schemas::MATCHING_ROLE));
    let config = matching::Config::from_env(&env).unwrap();
    let state = matching::AppState::connect(&config).unwrap();
    let downstream = testkit::spawn(matching::router(&config, state)).await;
    downstream.wait_ready().await;

    // The calling service: its handler calls matching through the platform client.
    let client = ServiceClient::new(
        downstream.base_url(),
        SecretString::from(testkit::SERVICE_TOKEN),
        std::time::Duration::from_secs(5),
    )
    .unwrap();
    let caller_config = ServiceConfig::from_env(
        &testkit::env(),
        ServiceDefaults {
            name: "caller",
            port: 0,
            body_limit: 1024,
        },
    )
    .unwrap();
    let routes = Router::new().route(
        "/call",
        get(move || {
            let client = client.clone();
            async move {
                tracing::info!("calling matching");
                let response = client.get("/health/ready").unwrap().send().await.unwrap();
                let seen = response.headers()["x-request-id"]
                    .to_str()
                    .unwrap()
                    .to_owned();
                Json(serde_json::json!({"status": response.status().as_u16(), "request_id": seen}))
            }
        }),
    );
    let caller = testkit::spawn(
        ServiceApp::new(
            &caller_config,
            utoipa::openapi::OpenApiBuilder::new().build(),
        )
        .public(routes)
        .into_router(),
    )
    .await;

    let id = format!("trace-{}", uuid::Uuid::new_v4());
    let mut headers = HeaderMap::new();
    headers.insert("x-request-id", id.parse().unwrap());
    let response = caller.get("/call").headers(headers).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["x-request-id"], id.as_str());
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], 200);
    assert_eq!(
        body["request_id"],
        id.as_str(),
        "matching saw the caller's id"
    );

    let caller_lines = logs.request_lines("caller", &id);
    assert!(
        caller_lines
            .iter()
            .any(|l| l["message"] == "calling matching"),
        "the handler's own log line carries the id: {caller_lines:?}"
    );
    let matching_lines = logs.request_lines("matching", &id);
    assert!(
        matching_lines
            .iter()
            .any(|l| l["route"].is_null() && l["status"] == 200),
        "matching logged the request with the same id: {matching_lines:?}"
    );
}
