//! gui on the platform: conformance, configuration, its schema's migrations.

use gui::{AppState, Config, NAME};
use reqwest::StatusCode;
use testkit::conformance::{self, Docs};
use testkit::TestDb;

#[tokio::test]
async fn serves_the_platform_routes() {
    let db = TestDb::new().await;
    let config = Config::from_env(&testkit::env_as(&db, schemas::GUI.role)).unwrap();
    let state = AppState::connect(&config).await.unwrap();
    let server = testkit::spawn(gui::router(&config, state)).await;
    let ready = server.get("/health/ready").send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    conformance::check_platform_with(&server, NAME, config.service.body_limit, Docs::Private).await;
}

/// Its OpenAPI (the platform's routes: its pages are HTML, not an API) fuzzed: no 5xx.
#[tokio::test]
async fn its_openapi_fuzzed_never_gets_a_server_error() {
    let db = TestDb::new().await;
    let config = Config::from_env(&testkit::env_as(&db, schemas::GUI.role)).unwrap();
    let state = AppState::connect(&config).await.unwrap();
    let server = testkit::spawn(gui::router(&config, state)).await;
    conformance::fuzz_openapi(&server, 50).await;
}

#[tokio::test]
async fn migrates_the_gui_schema_into_its_own_history() {
    let db = TestDb::new().await;
    let config = Config::from_env(&testkit::env_as(&db, schemas::GUI.role)).unwrap();
    AppState::connect(&config).await.unwrap();
    let pool = db.pool().await;
    let histories: Vec<String> = sqlx::query_scalar(
        "SELECT table_schema FROM information_schema.tables WHERE table_name = '_sqlx_migrations' ORDER BY 1",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        histories,
        ["gui", "offers"],
        "one history per owning schema, none in public"
    );
}

#[test]
fn the_binary_refuses_to_start_naming_the_variable() {
    conformance::check_binary_config_error(
        env!("CARGO_BIN_EXE_gui"),
        &[
            ("SERVICE_TOKEN", testkit::SERVICE_TOKEN),
            ("DATABASE_URL", "sqlite://x"),
        ],
        "DATABASE_URL",
    );
}

#[test]
fn a_cv_timeout_that_outlasts_the_request_is_refused() {
    let config = Config::from_env(
        &testkit::env()
            .with("DATABASE_URL", "postgres://127.0.0.1/x")
            .with("CV_INGESTION_TIMEOUT_SECS", "20")
            .with("REQUEST_TIMEOUT_SECS", "30"),
    );
    let error = config.expect_err("refused").to_string();
    assert!(error.contains("CV_INGESTION_TIMEOUT_SECS"), "{error}");
}
