use std::process::ExitCode;

use clap::{Parser, Subcommand};
use offre_ingestion::demo::DemoConfig;
use offre_ingestion::ingest::{self, IngestConfig};
use offre_ingestion::{cli, Config, NAME};
use platform::LogTarget;
use shared::embedding::EmbeddingConfig;

/// offre-ingestion: France Travail offers into PostgreSQL, and their details over HTTP.
/// Configuration comes from environment variables (see services/offre-ingestion/README.md).
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
    /// Print demo offers (France Travail shape, real referentials) as JSON lines.
    DemoData {
        /// How many offers.
        #[arg(long, default_value_t = 1000)]
        count: usize,
        /// Same seed and date, same offers.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Offers are created in the 30 days before this date (default: today, UTC).
        #[arg(long, value_name = "YYYY-MM-DD")]
        date: Option<chrono::NaiveDate>,
    },
    /// Ingest offers into bronze, silver and gold; prints each run's report as JSON.
    #[command(group(clap::ArgGroup::new("source").required(true).multiple(true).args(["files", "api"])))]
    Ingest {
        /// France Travail search responses, JSON arrays or JSON lines of offers (.gz too).
        #[arg(long = "file", value_name = "PATH", num_args = 1..)]
        files: Vec<std::path::PathBuf>,
        /// A full pull of the France Travail API (FT_* variables); offers it no longer
        /// lists are archived.
        #[arg(long)]
        api: bool,
        /// Store the offers without embedding them (a later run embeds what is missing).
        #[arg(long)]
        no_embed: bool,
    },
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
        Command::DemoData { count, seed, date } => {
            platform::run_main(NAME, LogTarget::Stderr, DemoConfig::from_env, |config| {
                cli::demo_data(config, count, seed, date)
            })
        }
        Command::Ingest {
            files,
            api,
            no_embed,
        } => platform::run_main(
            NAME,
            LogTarget::Stderr,
            |env| IngestConfig::from_env(env, !no_embed, api),
            |config| ingest::ingest(config, files),
        ),
    }
}
