//! matching's tests, in one binary (linked once, not once per file); each file is a
//! module: `cargo nextest run -p matching -E 'test(hybrid::)'` runs one.

mod common;
mod hybrid;
mod match_api;
mod platform;
mod reranker;
