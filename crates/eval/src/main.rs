use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

/// Ranking quality of jobmatch on evaluation sets (folders with offers.json.gz, cvs/,
/// qrels.tsv), measured through the services, beside score.py's BM25 baseline.
#[derive(Parser)]
#[command(name = "jobmatch-eval")]
struct Args {
    /// Set folders, e.g. ../shared/eval-dev/fr ../shared/eval-dev/en.
    #[arg(required = true)]
    sets: Vec<PathBuf>,
    /// Write each variant's run ({"cv_0001.txt": [offer ids, best first], ...}) to
    /// DIR/<set>/<variant>.json (with --tune, also each CV's 100 best hybrid hits and
    /// their signals: DIR/<set>/hybrid-100-signals.json).
    #[arg(long, value_name = "DIR")]
    runs: Option<PathBuf>,
    /// Also search for better signal weights and print them.
    #[arg(long)]
    tune: bool,
    /// Also compare ways of making the profile's embedding.
    #[arg(long)]
    embedding_variants: bool,
    /// Also train the learned re-ranker on every CV of every set given and write it to
    /// OUT.json (its id: the file's name, e.g. models/rerankers/linear-2026-12-06.json).
    #[arg(long, value_name = "OUT.json")]
    train_reranker: Option<PathBuf>,
    /// A superuser connection to the PostgreSQL cluster for the scratch databases.
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    admin_url: String,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let bin_dir = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(PathBuf::from))
        .unwrap_or_default();
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let outcome = runtime.block_on(eval::run::run(eval::run::Options {
        sets: args.sets,
        runs_dir: args.runs,
        bin_dir,
        admin_url: args.admin_url,
        tune: args.tune,
        embedding_variants: args.embedding_variants,
        train_reranker: args.train_reranker,
    }));
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("eval: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
