//! What every service must do the same way, checked over real HTTP: problem+json on
//! every error, request ids, health, metrics behind the service token, a valid OpenAPI
//! document and browsable docs, and a start-up that names a bad variable.

use std::collections::BTreeSet;
use std::process::Command;

use reqwest::header::{CONTENT_TYPE, WWW_AUTHENTICATE};
use reqwest::{Method, Response, StatusCode};
use serde_json::Value;

use crate::TestServer;

/// Asserts `response` is a complete problem+json of `status` and returns its body.
pub async fn assert_problem(response: Response, status: StatusCode, path: &str) -> Value {
    assert_eq!(response.status(), status, "status of {path}");
    let content_type = response.headers()[CONTENT_TYPE]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        content_type, "application/problem+json",
        "content type of {path}"
    );
    let request_id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let body: Value = response.json().await.expect("problem body is JSON");
    assert_eq!(body["status"], status.as_u16(), "{body}");
    assert!(
        body["type"].as_str().is_some_and(|t| !t.is_empty()),
        "{body}"
    );
    assert!(
        body["title"].as_str().is_some_and(|t| !t.is_empty()),
        "{body}"
    );
    assert!(
        body["detail"].as_str().is_some_and(|t| !t.is_empty()),
        "{body}"
    );
    assert_eq!(body["instance"], path, "{body}");
    assert_eq!(body["request_id"], request_id.as_str(), "{body}");
    body
}

/// Who may read a service's API docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Docs {
    /// Anyone (an internal service, on the internal network).
    Public,
    /// Callers with a token only (a public service: `ServiceApp::private_docs`).
    Private,
}

/// Runs every platform check against a running service.
pub async fn check_platform(server: &TestServer, service: &str, body_limit: usize) {
    check_platform_with(server, service, body_limit, Docs::Public).await;
}

/// [`check_platform`], with docs served to `docs`.
pub async fn check_platform_with(
    server: &TestServer,
    service: &str,
    body_limit: usize,
    docs: Docs,
) {
    check_health_live(server).await;
    check_request_id(server).await;
    check_not_found(server).await;
    check_method_not_allowed(server).await;
    check_body_limit(server, body_limit).await;
    check_metrics(server, service).await;
    if docs == Docs::Private {
        for path in ["/openapi.json", "/docs", "/docs/assets/swagger-ui.css"] {
            let response = server.get(path).send().await.unwrap();
            assert_problem(response, StatusCode::UNAUTHORIZED, path).await;
        }
    }
    check_openapi(server, service, docs).await;
    check_docs(server, docs).await;
}

/// GET `path`, with the service token when the docs are private.
async fn get_docs(server: &TestServer, path: &str, docs: Docs) -> reqwest::Response {
    match docs {
        Docs::Public => server.get(path),
        Docs::Private => server.authed(Method::GET, path),
    }
    .send()
    .await
    .unwrap()
}

async fn check_health_live(server: &TestServer) {
    let response = server.get("/health/live").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok");
}

async fn check_request_id(server: &TestServer) {
    let sent = format!("conformance-{}", uuid::Uuid::new_v4());
    let response = server
        .get("/health/live")
        .header("x-request-id", &sent)
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], sent.as_str(), "kept");
    let response = server.get("/health/live").send().await.unwrap();
    let generated = response.headers()["x-request-id"].to_str().unwrap();
    assert!(
        uuid::Uuid::parse_str(generated).is_ok(),
        "generated: {generated}"
    );
}

async fn check_not_found(server: &TestServer) {
    let response = server.get("/no/such/route").send().await.unwrap();
    let body = assert_problem(response, StatusCode::NOT_FOUND, "/no/such/route").await;
    assert!(
        body["detail"].as_str().unwrap().contains("/no/such/route"),
        "{body}"
    );
}

async fn check_method_not_allowed(server: &TestServer) {
    let response = server
        .request(Method::DELETE, "/health/live")
        .send()
        .await
        .unwrap();
    let allow = response.headers()["allow"].to_str().unwrap().to_owned();
    assert!(allow.contains("GET"), "Allow header kept: {allow}");
    assert_problem(response, StatusCode::METHOD_NOT_ALLOWED, "/health/live").await;
}

async fn check_body_limit(server: &TestServer, body_limit: usize) {
    let response = server
        .post("/health/live")
        .body(vec![b'x'; body_limit + 1])
        .send()
        .await
        .unwrap();
    let body = assert_problem(response, StatusCode::PAYLOAD_TOO_LARGE, "/health/live").await;
    let limit = body_limit.to_string();
    assert!(
        body["detail"].as_str().unwrap().contains(&limit),
        "names the limit: {body}"
    );
}

async fn check_metrics(server: &TestServer, service: &str) {
    let response = server.get("/metrics").send().await.unwrap();
    assert!(response.headers().contains_key(WWW_AUTHENTICATE));
    assert_problem(response, StatusCode::UNAUTHORIZED, "/metrics").await;
    let response = server
        .get("/metrics")
        .bearer_auth("not-the-token-but-long-enough")
        .send()
        .await
        .unwrap();
    assert_problem(response, StatusCode::UNAUTHORIZED, "/metrics").await;

    // Invented methods: each would be a series of its own if counted by name.
    for invented in ["BREW", "PROPFIND"] {
        let method = Method::from_bytes(invented.as_bytes()).unwrap();
        server.authed(method, "/health/live").send().await.unwrap();
    }
    let response = server.authed(Method::GET, "/metrics").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.unwrap();
    assert!(
        text.contains(r#"method="other""#) && !text.contains("BREW") && !text.contains("PROPFIND"),
        "methods outside the standard ones are counted under one label:\n{text}"
    );
    let live_ok = format!(
        r#"http_requests_total{{service="{service}",route="/health/live",method="GET",status="200"}}"#
    );
    assert!(text.contains(&live_ok), "missing {live_ok} in:\n{text}");
    assert!(
        text.contains(r#"route="unmatched",method="GET",status="404""#),
        "unknown paths are counted under one label:\n{text}"
    );
    assert!(
        text.contains("http_request_duration_seconds_bucket{"),
        "{text}"
    );
    assert!(text.trim_end().ends_with("# EOF"), "complete exposition");
}

async fn check_openapi(server: &TestServer, service: &str, docs: Docs) {
    let response = get_docs(server, "/openapi.json", docs).await;
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.unwrap();
    assert_valid_openapi(&text, service);
}

/// Parses the document with an independent OpenAPI 3.1 model and checks that every
/// `$ref` points at something that exists.
pub fn assert_valid_openapi(text: &str, service: &str) {
    let spec = oas3::from_json(text).unwrap_or_else(|e| panic!("not OpenAPI 3.1: {e}\n{text}"));
    spec.validate_version().expect("supported OpenAPI version");
    assert!(spec.openapi.starts_with("3."), "version {}", spec.openapi);
    assert!(
        spec.info.title.contains(service),
        "title {}",
        spec.info.title
    );
    let paths: BTreeSet<String> = spec.paths.iter().flat_map(|p| p.keys().cloned()).collect();
    for platform_path in ["/health/live", "/health/ready", "/metrics"] {
        assert!(
            paths.contains(platform_path),
            "{platform_path} documented: {paths:?}"
        );
    }
    let doc: Value = serde_json::from_str(text).unwrap();
    let mut refs = Vec::new();
    collect_refs(&doc, &mut refs);
    for reference in refs {
        let pointer = reference
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("external $ref {reference}"));
        assert!(doc.pointer(pointer).is_some(), "dangling $ref {reference}");
    }
}

fn collect_refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                match (key.as_str(), v) {
                    ("$ref", Value::String(s)) => out.push(s.clone()),
                    _ => collect_refs(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

async fn check_docs(server: &TestServer, docs: Docs) {
    let response = get_docs(server, "/docs", docs).await;
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "API docs viewer missing: run `make setup` (it installs Swagger UI under {})",
        crate::docs_assets_dir().display()
    );
    let html = response.text().await.unwrap();
    assert!(html.contains("/openapi.json"), "{html}");
    for asset in ["swagger-ui-bundle.js", "swagger-ui.css"] {
        assert!(html.contains(asset), "{html}");
        let response = get_docs(server, &format!("/docs/assets/{asset}"), docs).await;
        assert_eq!(response.status(), StatusCode::OK, "{asset}");
        let size = response.bytes().await.unwrap().len();
        assert!(size > 10_000, "{asset} is only {size} bytes");
    }
}

/// Starts the service binary with `env` (nothing else of the process environment but
/// PATH) and asserts that it refuses to start, exit code 2, with one line on stderr
/// naming `variable`.
pub fn check_binary_config_error(binary: &str, env: &[(&str, &str)], variable: &str) {
    let output = Command::new(binary)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env.iter().copied())
        .output()
        .expect("cannot run the service binary");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "exit code; stderr: {stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line: {stderr}");
    assert!(lines[0].contains(variable), "names {variable}: {stderr}");
    assert!(output.stdout.is_empty(), "nothing on stdout");
}

/// Fuzzes every operation of the service's OpenAPI with schemathesis (which `make test`'s
/// set-up installs): generated valid and invalid requests alike, with the service token,
/// must never get a 5xx; the service still answers afterwards.
pub async fn fuzz_openapi(server: &TestServer, max_examples: u32) {
    let st = crate::cache_dir().join("venv-schemathesis/bin/st");
    assert!(
        st.exists(),
        "{} missing: run `make test` (its set-up installs schemathesis)",
        st.display()
    );
    let schema = server.url("/openapi.json");
    let authorization = format!("Authorization: Bearer {}", crate::SERVICE_TOKEN);
    // Its working files (a cache of crashes) go to a scratch dir, not the crate's.
    let scratch = tempfile::TempDir::new().expect("a scratch dir for schemathesis");
    let workdir = scratch.path().to_owned();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(st)
            .current_dir(workdir)
            .arg("run")
            .arg(&schema)
            .args(["--checks", "not_a_server_error"])
            .args(["--max-examples", &max_examples.to_string()])
            .args(["--seed", "20261205", "--workers", "1", "--no-color"])
            .args(["--generation-database", "none", "--request-timeout", "30"])
            .args(["-H", &authorization])
            .output()
            .expect("cannot run schemathesis")
    })
    .await
    .unwrap();
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "schemathesis found failures:\n{report}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // "Test cases: N generated, N passed": the run really sent requests.
    let generated: u32 = report
        .split_once("Test cases:")
        .and_then(|(_, tail)| tail.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(generated >= 10, "only {generated} test cases:\n{report}");
    let live = server.get("/health/live").send().await.unwrap();
    assert_eq!(live.status(), StatusCode::OK, "still up after the fuzzing");
}
