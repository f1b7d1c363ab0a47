//! Internal routes take one token per caller, each opening only its scopes, and the
//! caller is named in the request's log span.

use axum::routing::get;
use axum::Router;
use platform::config::{ServiceConfig, ServiceDefaults};
use platform::ServiceApp;
use reqwest::{Method, StatusCode};
use testkit::conformance::assert_problem;

const GUI_TOKEN: &str = "gui-token-0123456789abcdef";
const MONITORING_TOKEN: &str = "monitoring-token-0123456789";

#[tokio::test]
async fn each_caller_opens_only_its_scopes() {
    let logs = testkit::logs::capture();
    let env = testkit::env().with(
        "SERVICE_CALLERS",
        format!("gui:api:{GUI_TOKEN}\nmonitoring:metrics:{MONITORING_TOKEN}"),
    );
    let defaults = ServiceDefaults {
        name: "callers-probe",
        port: 0,
        body_limit: 4096,
    };
    let config = ServiceConfig::from_env(&env, defaults).unwrap();
    let routes = Router::new().route("/api", get(|| async { "answer" }));
    let app = ServiceApp::new(&config, utoipa::openapi::OpenApiBuilder::new().build())
        .internal(routes)
        .into_router();
    let server = testkit::spawn(app).await;

    let call = |path: &'static str, token: &'static str| {
        server
            .request(Method::GET, path)
            .bearer_auth(token)
            .header("x-request-id", format!("{path}-{}", &token[..3]))
            .send()
    };
    assert_eq!(
        call("/api", GUI_TOKEN).await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(
        call("/metrics", MONITORING_TOKEN).await.unwrap().status(),
        StatusCode::OK
    );
    let forbidden = assert_problem(
        call("/metrics", GUI_TOKEN).await.unwrap(),
        StatusCode::FORBIDDEN,
        "/metrics",
    )
    .await;
    assert!(
        forbidden["detail"].as_str().unwrap().contains("gui"),
        "{forbidden}"
    );
    assert_problem(
        call("/api", MONITORING_TOKEN).await.unwrap(),
        StatusCode::FORBIDDEN,
        "/api",
    )
    .await;
    // The service's own token no longer opens anything once callers are listed.
    assert_problem(
        call("/api", testkit::SERVICE_TOKEN).await.unwrap(),
        StatusCode::UNAUTHORIZED,
        "/api",
    )
    .await;

    let lines = logs.request_lines("callers-probe", "/api-gui");
    assert!(
        lines.iter().any(|line| line["spans"]
            .as_array()
            .unwrap()
            .iter()
            .any(|span| span["caller"] == "gui")),
        "{lines:?}"
    );
}
