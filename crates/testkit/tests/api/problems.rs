//! Every error a service can produce is problem+json, from malformed JSON to a panic.

use std::time::Duration;

use axum::body::Bytes;
use axum::routing::{get, post};
use axum::{Json, Router};
use http_body::Frame;
use http_body_util::StreamBody;
use platform::config::{ServiceConfig, ServiceDefaults};
use platform::ServiceApp;
use reqwest::{Method, StatusCode};
use shared::MatchRequest;
use testkit::conformance::assert_problem;

const BODY_LIMIT: usize = 4096;

async fn panics() -> &'static str {
    panic!("handler bug")
}

async fn probe_service() -> testkit::TestServer {
    let env = testkit::env().with("REQUEST_TIMEOUT_SECS", "1");
    let defaults = ServiceDefaults {
        name: "probe",
        port: 0,
        body_limit: BODY_LIMIT,
    };
    let config = ServiceConfig::from_env(&env, defaults).unwrap();
    let routes = Router::new()
        .route(
            "/echo",
            post(|Json(r): Json<MatchRequest>| async move { Json(r) }),
        )
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                "too late"
            }),
        )
        .route("/panic", get(panics));
    let app = ServiceApp::new(&config, utoipa::openapi::OpenApiBuilder::new().build())
        .internal(routes)
        .into_router();
    testkit::spawn(app).await
}

#[tokio::test]
async fn valid_json_goes_through() {
    let server = probe_service().await;
    let response = server
        .authed(Method::POST, "/echo")
        .json(&serde_json::json!({"cv_embedding": [0.5]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn malformed_json_is_a_400_problem() {
    let server = probe_service().await;
    let response = server
        .authed(Method::POST, "/echo")
        .header("content-type", "application/json")
        .body(r#"{"cv_embedding": [1,"#)
        .send()
        .await
        .unwrap();
    let body = assert_problem(response, StatusCode::BAD_REQUEST, "/echo").await;
    assert!(body["detail"].as_str().unwrap().contains("JSON"), "{body}");
}

#[tokio::test]
async fn json_of_the_wrong_shape_is_a_422_problem_naming_the_field() {
    let server = probe_service().await;
    let response = server
        .authed(Method::POST, "/echo")
        .json(&serde_json::json!({"cv_embedding": "not a vector"}))
        .send()
        .await
        .unwrap();
    let body = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY, "/echo").await;
    assert!(
        body["detail"].as_str().unwrap().contains("cv_embedding"),
        "{body}"
    );
}

#[tokio::test]
async fn a_body_that_is_not_json_is_a_415_problem() {
    let server = probe_service().await;
    let response = server
        .authed(Method::POST, "/echo")
        .body("cv_embedding=1")
        .send()
        .await
        .unwrap();
    assert_problem(response, StatusCode::UNSUPPORTED_MEDIA_TYPE, "/echo").await;
}

#[tokio::test]
async fn a_streamed_body_over_the_limit_is_a_413_problem() {
    let server = probe_service().await;
    // No Content-Length: the limit is enforced while the body is read.
    let chunks: Vec<Result<Frame<Bytes>, std::io::Error>> = (0..8)
        .map(|_| Ok(Frame::data(Bytes::from(vec![b' '; BODY_LIMIT / 4]))))
        .collect();
    let response = server
        .authed(Method::POST, "/echo")
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap(StreamBody::new(tokio_stream::iter(
            chunks,
        ))))
        .send()
        .await
        .unwrap();
    let body = assert_problem(response, StatusCode::PAYLOAD_TOO_LARGE, "/echo").await;
    assert!(
        body["detail"].as_str().unwrap().contains("4096 bytes"),
        "{body}"
    );
}

#[tokio::test]
async fn a_request_past_the_timeout_is_a_503_problem() {
    let server = probe_service().await;
    let response = server.authed(Method::GET, "/slow").send().await.unwrap();
    let body = assert_problem(response, StatusCode::SERVICE_UNAVAILABLE, "/slow").await;
    assert_eq!(body["type"], "urn:jobmatch:problem:timeout");
}

#[tokio::test]
async fn a_panicking_handler_is_a_500_problem_and_the_service_stays_up() {
    let server = probe_service().await;
    let response = server.authed(Method::GET, "/panic").send().await.unwrap();
    let body = assert_problem(response, StatusCode::INTERNAL_SERVER_ERROR, "/panic").await;
    assert!(
        !body["detail"].as_str().unwrap().contains("handler bug"),
        "no internals leak"
    );
    let live = server.get("/health/live").send().await.unwrap();
    assert_eq!(live.status(), StatusCode::OK);
}

#[tokio::test]
async fn internal_routes_need_the_service_token() {
    let server = probe_service().await;
    let response = server
        .post("/echo")
        .json(&serde_json::json!({"cv_embedding": [0.5]}))
        .send()
        .await
        .unwrap();
    assert_problem(response, StatusCode::UNAUTHORIZED, "/echo").await;
}
