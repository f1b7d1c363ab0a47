//! cv-ingestion's tests, in one binary (linked once, not once per file); each file is a
//! module: `cargo nextest run -p cv-ingestion -E 'test(cv_api::)'` runs one.

mod bad_input;
mod common;
mod cv_api;
mod platform;
