//! cv-ingestion served in-process on a real port, parsing in real child processes (the
//! service's own binary), with the real model and skills referential.

use cv_ingestion::{AppState, Config};
use reqwest::multipart::{Form, Part};
use reqwest::{Method, Response};
use shared::CvAnalysis;
use testkit::TestServer;

/// The test configuration: the binary as parsing child (testkit::env brings what
/// `make setup` installed).
pub fn env() -> platform::Env {
    testkit::env().with("CV_PARSER", env!("CARGO_BIN_EXE_cv-ingestion"))
}

pub async fn start(env: platform::Env) -> TestServer {
    let config = Config::from_env(&env).expect("configuration");
    let state = AppState::load(&config)
        .await
        .expect("model and referential");
    testkit::spawn(cv_ingestion::router(&config, state)).await
}

/// A test CV's HTML (tests/data).
pub fn html(name: &str) -> String {
    std::fs::read_to_string(testkit::manifest_dir().join(format!("tests/data/{name}.html")))
        .expect("test CV")
}

pub async fn post_file(server: &TestServer, bytes: Vec<u8>) -> Response {
    let form = Form::new().part("file", Part::bytes(bytes).file_name("cv"));
    server
        .authed(Method::POST, "/cv")
        .multipart(form)
        .send()
        .await
        .expect("POST /cv")
}

pub async fn analysis(server: &TestServer, bytes: Vec<u8>) -> CvAnalysis {
    let response = post_file(server, bytes).await;
    let status = response.status();
    let body = response.text().await.unwrap();
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).expect("a CvAnalysis")
}
