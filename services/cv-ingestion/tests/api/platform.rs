//! cv-ingestion on the platform: conformance and configuration.

use cv_ingestion::{Config, NAME};
use testkit::conformance;

use crate::common;

#[tokio::test]
async fn serves_the_platform_routes() {
    let env = common::env();
    let body_limit = Config::from_env(&env).unwrap().service.body_limit;
    let server = common::start(env).await;
    conformance::check_platform(&server, NAME, body_limit).await;
}

/// Generated requests (files, texts, headers) never get a 5xx.
#[tokio::test]
async fn its_openapi_fuzzed_never_gets_a_server_error() {
    let server = common::start(common::env()).await;
    conformance::fuzz_openapi(&server, 60).await;
}

#[test]
fn configuration_errors_name_the_variable() {
    for (name, value) in [
        ("CV_PARSE_TIMEOUT_SECS", "0"),
        ("CV_MAX_PAGES", "0"),
        ("CV_MAX_INFLATED_MB", "lots"),
        ("CV_PARSE_PARALLEL", "0"),
    ] {
        let error = Config::from_env(&common::env().with(name, value)).unwrap_err();
        assert!(error.to_string().contains(name), "{name}: {error}");
    }
    let error = Config::from_env(&common::env().without("REFERENTIALS_DIR")).unwrap_err();
    assert!(error.to_string().contains("make setup"), "{error}");
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
