//! cv-ingestion on the platform: conformance and configuration.

use cv_ingestion::{Config, NAME};
use testkit::conformance;

#[tokio::test]
async fn serves_the_platform_routes() {
    let config = Config::from_env(&testkit::env()).unwrap();
    let server = testkit::spawn(cv_ingestion::router(&config)).await;
    conformance::check_platform(&server, NAME, config.service.body_limit).await;
}

#[test]
fn the_binary_refuses_to_start_naming_the_variable() {
    conformance::check_binary_config_error(
        env!("CARGO_BIN_EXE_cv-ingestion"),
        &[
            ("SERVICE_TOKEN", testkit::SERVICE_TOKEN),
            ("BODY_LIMIT_BYTES", "ten megabytes"),
        ],
        "BODY_LIMIT_BYTES",
    );
}
