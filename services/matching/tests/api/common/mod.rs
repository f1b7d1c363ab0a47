//! Helpers shared by matching's tests.

use reqwest::Method;
use serde_json::Value;
use testkit::TestServer;

/// `POST /match` with the service token.
pub async fn post_match(server: &TestServer, body: Value) -> reqwest::Response {
    server
        .authed(Method::POST, "/match")
        .json(&body)
        .send()
        .await
        .unwrap()
}
