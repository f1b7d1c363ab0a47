//! Learning from candidates: the training data their acts make ([`export`]), and the
//! comparison of the ranking variants they were assigned to ([`report`]). Both are
//! commands of the `gui` binary, run against the GUI's database.

pub mod export;
pub mod report;

use std::path::PathBuf;
use std::process::ExitCode;

use platform::config::{DatabaseConfig, Env};

use crate::variants::Variants;

/// `gui export-training-data DIR` and `gui report-variants`; None for another command.
pub fn command(args: &[String]) -> Option<ExitCode> {
    let result = match args.first().map(String::as_str) {
        Some("export-training-data") => match args.get(1) {
            Some(dir) if args.len() == 2 => run(Command::Export(PathBuf::from(dir))),
            _ => Err(anyhow::anyhow!(
                "usage: gui export-training-data DIR (the folder to write the files in)"
            )),
        },
        Some("report-variants") if args.len() == 1 => run(Command::Report),
        Some("report-variants") => Err(anyhow::anyhow!("usage: gui report-variants")),
        _ => return None,
    };
    Some(match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gui: {e:#}");
            ExitCode::from(2)
        }
    })
}

enum Command {
    Export(PathBuf),
    Report,
}

fn run(command: Command) -> anyhow::Result<()> {
    let env = Env::from_process();
    let database = DatabaseConfig::from_env(&env)?;
    let variants = Variants::from_env(&env)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let db = platform::db::pool(&database, crate::NAME)?;
        match command {
            Command::Export(dir) => {
                let exported = export::export(&db, &dir).await?;
                println!(
                    "{} candidates, {} positives, {} hard negatives, {} triplets in {}",
                    exported.candidates,
                    exported.positives,
                    exported.hard_negatives,
                    exported.triplets,
                    dir.display()
                );
            }
            Command::Report => {
                let order: Vec<&str> = variants.all().iter().map(|v| v.name.as_str()).collect();
                print!("{}", report::render(&report::counts(&db, &order).await?));
            }
        }
        Ok(())
    })
}
