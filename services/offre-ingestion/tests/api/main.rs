//! offre-ingestion's tests, in one binary (linked once, not once per file); each file is
//! a module: `cargo nextest run -p offre-ingestion -E 'test(pipeline::)'` runs one.

mod commands;
mod common;
mod demo;
mod embed_cli;
mod france_travail;
mod kill;
mod offers_api;
mod outbox;
mod pipeline;
mod platform;
