//! The suite-wide tests, in one binary (linked once, not once per file); each file is a
//! module: `cargo nextest run -p testkit -E 'test(compose::)'` runs one.
//! `tests/shutdown.rs` is a binary of its own: it sends SIGTERM to its whole process.

mod callers;
mod compose;
mod database_roles;
mod documents;
mod observability;
mod problems;
mod request_id;
mod setup;
mod webdriver;
mod workspace;
