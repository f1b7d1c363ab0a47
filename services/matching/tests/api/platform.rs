//! matching on the platform: conformance, configuration, readiness, least privilege.

use std::io::Write;

use matching::{AppState, Config, NAME};
use reqwest::{Method, StatusCode};
use testkit::{conformance, TcpProxy, TestDb};

/// matching started, once ready: its offers index loaded (at once here, the databases
/// being empty).
async fn start(env: platform::Env) -> (Config, testkit::TestServer) {
    let config = Config::from_env(&env).expect("valid test configuration");
    let state = AppState::connect(&config).unwrap();
    let server = testkit::spawn(matching::router(&config, state)).await;
    let started = std::time::Instant::now();
    while server.get("/health/ready").send().await.unwrap().status() != StatusCode::OK {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "matching never ready"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    (config, server)
}

#[tokio::test]
async fn serves_the_platform_routes_as_the_read_only_role() {
    let db = TestDb::new().await;
    let env = testkit::env().with("DATABASE_URL", db.url_as(schemas::MATCHING_ROLE));
    let (config, server) = start(env).await;
    let ready = server.get("/health/ready").send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    conformance::check_platform(&server, NAME, config.service.body_limit).await;
}

/// Generated requests (embeddings of every size, profiles, filters) never get a 5xx.
#[tokio::test]
async fn its_openapi_fuzzed_never_gets_a_server_error() {
    let db = TestDb::new().await;
    let env = testkit::env().with("DATABASE_URL", db.url_as(schemas::MATCHING_ROLE));
    let (_, server) = start(env).await;
    conformance::fuzz_openapi(&server, 100).await;
}

#[tokio::test]
async fn readiness_follows_the_database() {
    let db = TestDb::new().await;
    let proxy = TcpProxy::start(db.server_addr()).await;
    let env = testkit::env()
        .with(
            "DATABASE_URL",
            db.url_as_via(schemas::MATCHING_ROLE, proxy.addr),
        )
        .with("DATABASE_ACQUIRE_TIMEOUT_SECS", "1");
    let (_, server) = start(env).await;

    let ready = server.get("/health/ready").send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);

    proxy.set_up(false);
    let ready = server.get("/health/ready").send().await.unwrap();
    let body =
        conformance::assert_problem(ready, StatusCode::SERVICE_UNAVAILABLE, "/health/ready").await;
    assert_eq!(
        body["detail"], "not ready: database",
        "which dependency, never its error's text (readiness is public on the GUI)"
    );
    let live = server.get("/health/live").send().await.unwrap();
    assert_eq!(live.status(), StatusCode::OK, "still alive while not ready");

    proxy.set_up(true);
    let ready = server.get("/health/ready").send().await.unwrap();
    assert_eq!(
        ready.status(),
        StatusCode::OK,
        "ready again with the database back"
    );
}

#[tokio::test]
async fn secrets_are_read_from_files() {
    let db = TestDb::new().await;
    let mut token_file = tempfile::NamedTempFile::new().unwrap();
    writeln!(token_file, "a-token-that-lives-in-a-file-0123").unwrap();
    let mut url_file = tempfile::NamedTempFile::new().unwrap();
    writeln!(url_file, "{}", db.url_as(schemas::MATCHING_ROLE)).unwrap();
    let env = testkit::env()
        .without("SERVICE_TOKEN")
        .with("SERVICE_TOKEN_FILE", token_file.path().to_str().unwrap())
        .with("DATABASE_URL_FILE", url_file.path().to_str().unwrap());
    let (_, server) = start(env).await;

    let ready = server.get("/health/ready").send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK, "DATABASE_URL_FILE used");
    let metrics = server
        .request(Method::GET, "/metrics")
        .bearer_auth("a-token-that-lives-in-a-file-0123")
        .send()
        .await
        .unwrap();
    assert_eq!(metrics.status(), StatusCode::OK, "SERVICE_TOKEN_FILE used");
    let old = server.authed(Method::GET, "/metrics").send().await.unwrap();
    assert_eq!(old.status(), StatusCode::UNAUTHORIZED);
}

#[test]
fn configuration_errors_name_the_variable() {
    let env = testkit::env().with("DATABASE_URL", "postgres://x@127.0.0.1/db");
    assert!(Config::from_env(&env).is_ok());
    for (broken, var) in [
        (env.clone().without("SERVICE_TOKEN"), "SERVICE_TOKEN"),
        (env.clone().with("SERVICE_TOKEN", "short"), "SERVICE_TOKEN"),
        (env.clone().without("DATABASE_URL"), "DATABASE_URL"),
        (
            env.clone().with("DATABASE_URL", "mysql://x/y"),
            "DATABASE_URL",
        ),
        (env.clone().with("BIND_ADDR", "localhost-ish"), "BIND_ADDR"),
        (
            env.clone().with("REQUEST_TIMEOUT_SECS", "soon"),
            "REQUEST_TIMEOUT_SECS",
        ),
        (
            env.clone().with("SERVICE_TOKEN_FILE", "/nonexistent/token"),
            "SERVICE_TOKEN",
        ),
        (
            env.clone().with("MATCH_WEIGHT_TITLE", "-0.5"),
            "MATCH_WEIGHT_TITLE",
        ),
        (
            env.clone().with("MATCH_WEIGHT_JOB", "beaucoup"),
            "MATCH_WEIGHT_JOB",
        ),
        (
            ranking::Weights::NAMES
                .iter()
                .fold(env.clone(), |env, name| {
                    env.with(format!("MATCH_WEIGHT_{}", name.to_uppercase()), "0")
                }),
            "MATCH_WEIGHT_*",
        ),
        (
            env.clone().with("MATCH_INDEX_POLL_SECS", "0"),
            "MATCH_INDEX_POLL_SECS",
        ),
    ] {
        let err = Config::from_env(&broken).unwrap_err();
        assert_eq!(err.var, var, "{err}");
        assert!(err.to_string().starts_with(var), "{err}");
    }
}

#[test]
fn the_binary_refuses_to_start_naming_the_variable() {
    let binary = env!("CARGO_BIN_EXE_matching");
    conformance::check_binary_config_error(binary, &[], "SERVICE_TOKEN");
    conformance::check_binary_config_error(
        binary,
        &[("SERVICE_TOKEN", testkit::SERVICE_TOKEN)],
        "DATABASE_URL",
    );
    conformance::check_binary_config_error(
        binary,
        &[
            ("SERVICE_TOKEN", testkit::SERVICE_TOKEN),
            ("DATABASE_URL", "postgres://x@127.0.0.1/db"),
            ("LOG_FORMAT", "yaml"),
        ],
        "LOG_FORMAT",
    );
}

#[tokio::test]
async fn the_read_only_role_cannot_write() {
    let db = TestDb::new().await;
    let pool = sqlx::PgPool::connect(&db.url_as(schemas::MATCHING_ROLE))
        .await
        .unwrap();
    for statement in [
        "UPDATE offers.offers SET title = 'x'",
        "DELETE FROM offers.offer_skills",
        "CREATE TABLE offers.intruder (id int)",
        "CREATE TABLE public.intruder (id int)",
        "CREATE SCHEMA intruder",
    ] {
        let err = sqlx::query(statement).execute(&pool).await.unwrap_err();
        assert!(
            err.to_string().contains("permission denied"),
            "{statement}: {err}"
        );
    }
    let err = sqlx::query("SELECT count(*) FROM gui._sqlx_migrations")
        .execute(&pool)
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("permission denied"),
        "gui schema closed: {err}"
    );
}

/// One embedding length: MATCH_DIM must be the stored vectors' (`vector(384)`).
#[tokio::test]
async fn a_dimension_other_than_the_stored_vectors_is_refused_at_start() {
    let db = TestDb::new().await;
    let pool = db.pool().await;
    matching::check_dimension(&pool, 384).await.unwrap();
    let refused = matching::check_dimension(&pool, 768)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        refused.contains("MATCH_DIM is 768") && refused.contains("vector(384)"),
        "{refused}"
    );
    // The binary says so and stops.
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_matching"))
        .env_clear()
        .env("SERVICE_TOKEN", testkit::SERVICE_TOKEN)
        .env("DATABASE_URL", db.url_as(schemas::MATCHING_ROLE))
        .env("BIND_ADDR", "127.0.0.1:0")
        .env("MATCH_DIM", "768")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("MATCH_DIM is 768"), "{stderr}");
}
