use std::process::ExitCode;

use clap::{Parser, Subcommand};
use offre_ingestion::{cli, Config, NAME};
use platform::LogTarget;
use shared::embedding::EmbeddingConfig;

/// offre-ingestion: France Travail offers into PostgreSQL, and their details over HTTP.
/// Configuration comes from environment variables (see the README).
#[derive(Parser)]
#[command(name = NAME, version)]
struct Args {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the HTTP API (the default).
    Serve,
    /// Embed one text per line of stdin and print one JSON array per line, in order.
    Embed,
}

fn main() -> ExitCode {
    match Args::parse().command.unwrap_or(Command::Serve) {
        Command::Serve => platform::run_main(
            NAME,
            LogTarget::Stdout,
            Config::from_env,
            offre_ingestion::serve,
        ),
        Command::Embed => platform::run_main(
            NAME,
            LogTarget::Stderr,
            EmbeddingConfig::from_env,
            cli::embed_lines,
        ),
    }
}
