//! Test harness for every jobmatch service: a fresh PostgreSQL database per test, cloned
//! from a migrated template; services served in-process on port 0 over real HTTP; a TCP
//! proxy to cut a dependency off; log capture; the job offers every service's tests
//! build (`offers`); and the platform conformance checks every service passes.

pub mod conformance;
pub mod db;
pub mod documents;
pub mod logs;
pub mod offers;
pub mod proxy;
pub mod server;
pub mod webdriver;

use std::path::PathBuf;

use platform::Env;

pub use db::TestDb;
pub use logs::LogCapture;
pub use proxy::TcpProxy;
pub use server::{spawn, TestServer};

/// The service token of every service started by the tests.
pub const SERVICE_TOKEN: &str = "testkit-service-token-0123456789abcdef";

/// Where `make setup` put its files (`JOBMATCH_CACHE`, default `/var/cache/jobmatch`).
pub fn cache_dir() -> PathBuf {
    std::env::var_os("JOBMATCH_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/cache/jobmatch"))
}

/// The directory of the package under test, read when the test runs (cargo and
/// nextest set it), not when it was compiled: the target dir is shared by clones, and a
/// test binary built in another clone must read this clone's files.
pub fn manifest_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .expect("cargo sets CARGO_MANIFEST_DIR for tests and benches")
}

/// The repository's root (every package sits two levels below it), read when the test
/// runs, as [`manifest_dir`].
pub fn repo_dir() -> PathBuf {
    manifest_dir()
        .join("../..")
        .canonicalize()
        .expect("the repository's root")
}

/// The Swagger UI files installed by `make setup`.
pub fn docs_assets_dir() -> PathBuf {
    std::env::var_os("DOCS_ASSETS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| cache_dir().join("swagger-ui"))
}

/// The test Redis (`TEST_REDIS_URL`, default the machine's `redis://127.0.0.1:6379`).
pub fn redis_url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// The configuration every test service starts from. Each call gets its own Redis
/// stream prefix, so that parallel tests never read each other's events.
pub fn env() -> Env {
    // What `make setup` installed (models, referentials), as its env file says.
    let installed = ["EMBEDDING_MODEL_DIR", "ORT_DYLIB_PATH", "REFERENTIALS_DIR"]
        .into_iter()
        .filter_map(|name| std::env::var(name).ok().map(|value| (name, value)));
    let env = Env::from_pairs([
        ("SERVICE_TOKEN", SERVICE_TOKEN.to_owned()),
        ("BIND_ADDR", "127.0.0.1:0".to_owned()),
        (
            "DOCS_ASSETS_DIR",
            docs_assets_dir().to_string_lossy().into_owned(),
        ),
        ("REDIS_URL", redis_url()),
        (
            "EVENTS_STREAM_PREFIX",
            format!("test-{}:", uuid::Uuid::new_v4().simple()),
        ),
    ]);
    installed.fold(env, |env, (name, value)| env.with(name, value))
}

/// [`env`] with `DATABASE_URL` pointing at `db` as a service's `role`.
pub fn env_as(db: &TestDb, role: &str) -> Env {
    env().with("DATABASE_URL", db.url_as(role))
}

/// Lower-case hexadecimal of `bytes`.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
