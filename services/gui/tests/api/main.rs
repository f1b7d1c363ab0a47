//! gui's tests, in one binary (linked once, not once per file); each file is a module:
//! `cargo nextest run -p gui -E 'test(matches::)'` runs one. `tests/traces.rs` is a
//! binary of its own: it installs the process's tracing subscriber.

mod accounts;
mod browser;
mod common;
mod learning;
mod matches;
mod notifications;
mod platform;
mod profile;
mod worker;
