//! offre-ingestion on the platform: conformance, configuration, its schema's migrations.

use offre_ingestion::{AppState, Config, NAME};
use reqwest::StatusCode;
use testkit::{conformance, TestDb};

#[tokio::test]
async fn serves_the_platform_routes() {
    let db = TestDb::new().await;
    let config = Config::from_env(&testkit::env_as(&db, schemas::OFFERS.role)).unwrap();
    let state = AppState::connect(&config).await.unwrap();
    let server = testkit::spawn(offre_ingestion::router(&config, state)).await;
    let ready = server.get("/health/ready").send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    conformance::check_platform(&server, NAME, config.service.body_limit).await;
}

/// Generated requests (ids of every shape, lists) never get a 5xx.
#[tokio::test]
async fn its_openapi_fuzzed_never_gets_a_server_error() {
    let db = TestDb::new().await;
    let config = Config::from_env(&testkit::env_as(&db, schemas::OFFERS.role)).unwrap();
    let state = AppState::connect(&config).await.unwrap();
    let server = testkit::spawn(offre_ingestion::router(&config, state)).await;
    conformance::fuzz_openapi(&server, 100).await;
}

#[tokio::test]
async fn owns_and_migrates_the_offers_schema_once() {
    let db = TestDb::new().await;
    let pool = db.pool().await;
    // A database that has never seen the service: no schema at all.
    sqlx::raw_sql("DROP SCHEMA offers CASCADE")
        .execute(&pool)
        .await
        .unwrap();

    // The service's role may not make the schema: the bootstrap (a superuser) does.
    let config = Config::from_env(&testkit::env_as(&db, schemas::OFFERS.role)).unwrap();
    let refused = AppState::connect(&config)
        .await
        .err()
        .expect("no schema yet");
    assert!(format!("{refused:#}").contains("bootstrap"), "{refused:#}");
    let admin = platform::config::DatabaseConfig::from_env(
        &platform::Env::default().with("DATABASE_URL", db.url()),
    )
    .unwrap();
    platform::db::bootstrap(&admin, "test", schemas::BOOTSTRAP_SQL)
        .await
        .unwrap();
    AppState::connect(&config).await.unwrap();
    let owner: String = sqlx::query_scalar(
        "SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = 'offers.offers'::regclass",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(owner, schemas::OFFERS.role);
    let applied = || {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM offers._sqlx_migrations WHERE success")
            .fetch_one(&pool)
    };
    let first = applied().await.unwrap();
    assert_eq!(first as usize, schemas::OFFERS.migrator.iter().count());
    let vector: String =
        sqlx::query_scalar("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
            .fetch_one(&pool)
            .await
            .unwrap();
    let (major, minor) = vector.split_once('.').unwrap();
    assert!(
        (
            major.parse::<u32>().unwrap(),
            minor.split('.').next().unwrap().parse::<u32>().unwrap()
        ) >= (0, 8),
        "pgvector >= 0.8, got {vector}"
    );

    // A second start applies nothing new.
    AppState::connect(&config).await.unwrap();
    assert_eq!(applied().await.unwrap(), first);
}

#[test]
fn the_binary_refuses_to_start_naming_the_variable() {
    conformance::check_binary_config_error(
        env!("CARGO_BIN_EXE_offre-ingestion"),
        &[("SERVICE_TOKEN", testkit::SERVICE_TOKEN)],
        "DATABASE_URL",
    );
}
