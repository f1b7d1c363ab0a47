//! Each service's database role (migrations/bootstrap.sql) can do what its service needs
//! and nothing else, and gives its password on a TCP connection. The test databases are
//! made as in production: the bootstrap as a superuser, each schema migrated by its role.

use platform::Env;
use schemas::{GUI, MATCHING_ROLE, OFFERS};
use sqlx::{Connection, PgConnection};
use testkit::TestDb;

/// Runs `sql` as `role` in a transaction rolled back: its error, if any.
async fn attempt(db: &TestDb, role: &str, sql: &str) -> Result<(), String> {
    let mut conn = PgConnection::connect(&db.url_as(role))
        .await
        .unwrap_or_else(|e| panic!("{role} connects: {e}"));
    let mut tx = conn.begin().await.unwrap();
    let outcome = sqlx::raw_sql(sql)
        .execute(&mut *tx)
        .await
        .map(drop)
        .map_err(|e| e.to_string());
    tx.rollback().await.ok();
    outcome
}

#[tokio::test]
async fn each_role_does_its_services_work_and_nothing_else() {
    let db = TestDb::new().await;
    let admin = db.pool().await;
    // (Privileges are checked whether or not a row matches.)

    let needs: [(&str, &[&str]); 3] = [
        (
            OFFERS.role,
            &[
                "SELECT count(*) FROM offers.offers",
                "UPDATE offers.offers SET title = 'Soudeur TIG' WHERE title = 'Soudeur'",
                "DELETE FROM offers.offers WHERE title = 'Soudeur'",
                // Its later migrations: new tables in its own schema.
                "CREATE TABLE offers.scratch (id int)",
            ],
        ),
        (
            GUI.role,
            &[
                "SELECT count(*) FROM gui.users",
                "DELETE FROM gui.sessions",
                "CREATE TABLE gui.scratch (id int)",
            ],
        ),
        (
            MATCHING_ROLE,
            &[
                "SELECT count(*) FROM offers.embeddings",
                "SELECT count(*) FROM offers.offers",
                "SELECT count(*) FROM offers.offer_skills",
                "SELECT count(*) FROM offers.deleted_offers",
            ],
        ),
    ];
    for (role, statements) in needs {
        for sql in statements {
            attempt(&db, role, sql)
                .await
                .unwrap_or_else(|e| panic!("{role} must be able to run {sql}: {e}"));
        }
    }

    let beyond_everyone = [
        "CREATE SCHEMA intruder",
        "CREATE TABLE public.intruder (id int)",
        "CREATE ROLE intruder",
        "ALTER ROLE CURRENT_USER SUPERUSER",
        "SELECT pg_read_file('/etc/passwd')",
        "COPY (SELECT 1) TO '/tmp/jobmatch-intruder'",
    ];
    let refused: [(&str, &[&str]); 3] = [
        (
            OFFERS.role,
            &["SELECT count(*) FROM gui.users", "DELETE FROM gui.sessions"],
        ),
        (
            GUI.role,
            &[
                "SELECT count(*) FROM offers.offers",
                "SELECT count(*) FROM offers.embeddings",
                "DELETE FROM offers.offers",
            ],
        ),
        (
            MATCHING_ROLE,
            &[
                "UPDATE offers.offers SET title = title",
                "DELETE FROM offers.embeddings",
                "INSERT INTO offers.deleted_offers SELECT * FROM offers.deleted_offers",
                "CREATE TABLE offers.scratch (id int)",
                "SELECT count(*) FROM gui.users",
            ],
        ),
    ];
    for (role, statements) in refused {
        for sql in statements.iter().chain(&beyond_everyone) {
            let error = attempt(&db, role, sql)
                .await
                .expect_err(&format!("{role} must not run {sql}"));
            assert!(
                error.contains("permission denied") || error.contains("must be superuser"),
                "{role}, {sql}: {error}"
            );
        }
    }

    // None of them holds a privilege of its own beyond logging in.
    let powers: Vec<(String, bool)> = sqlx::query_as(
        "SELECT rolname::text, rolsuper OR rolcreaterole OR rolcreatedb OR rolreplication OR rolbypassrls
         FROM pg_roles WHERE rolname = ANY($1) ORDER BY rolname",
    )
    .bind([OFFERS.role, GUI.role, MATCHING_ROLE])
    .fetch_all(&admin)
    .await
    .unwrap();
    assert_eq!(
        powers,
        [
            ("jobmatch_gui".to_owned(), false),
            ("jobmatch_matching".to_owned(), false),
            ("jobmatch_offers".to_owned(), false),
        ]
    );
}

/// Over TCP a service's role gives its password (scram-sha-256), which a service reads
/// from `DATABASE_PASSWORD_FILE`.
#[tokio::test]
async fn roles_give_their_password_over_tcp() {
    let db = TestDb::new().await;
    let mut url = reqwest::Url::parse(&db.url_as(GUI.role)).unwrap();
    url.set_password(None).unwrap();
    let refused = PgConnection::connect(url.as_str()).await.unwrap_err();
    assert!(
        refused.to_string().contains("password"),
        "without its password: {refused}"
    );

    let password_file = testkit::db::role_password_file(GUI.role);
    let env = Env::default()
        .with("DATABASE_URL", url.as_str())
        .with("DATABASE_PASSWORD_FILE", password_file.to_str().unwrap());
    let config = platform::config::DatabaseConfig::from_env(&env).unwrap();
    let pool = platform::db::pool(&config, "test").unwrap();
    let users: i64 = sqlx::query_scalar("SELECT count(*) FROM gui.users")
        .fetch_one(&pool)
        .await
        .expect("connected with the password from its file");
    assert_eq!(users, 0);
}
