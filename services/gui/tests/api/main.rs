//! gui's tests, in one binary (linked once, not once per file); each file is a module:
//! `cargo nextest run -p gui -E 'test(matches::)'` runs one. Two tests are binaries of
//! their own, each saying why at its top: `tests/traces.rs` (it installs the process's
//! tracing subscriber) and `tests/demo_offers.rs` (it keeps the process's embedding
//! worker busy for minutes).

mod accounts;
mod browser;
mod common;
mod learning;
mod matches;
mod notifications;
mod platform;
mod profile;
mod worker;
