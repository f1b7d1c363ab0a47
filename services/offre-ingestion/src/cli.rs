//! Operator commands of offre-ingestion.

use std::io::Write;

use chrono::{NaiveDate, Utc};
use shared::embedding::{self, EmbeddingConfig};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, BufWriter};

use crate::demo::{self, DemoConfig, Referentials};

/// Lines embedded per model call: enough to fill the model's batches, small enough that
/// output starts at once.
const LINES_PER_CALL: usize = 64;

/// `offre-ingestion embed`: one text per line of stdin in, one JSON array per line out
/// (for debugging and the benchmarks). An empty line is the empty text.
pub async fn embed_lines(config: EmbeddingConfig) -> anyhow::Result<()> {
    let embedder = embedding::from_config(&config).await?;
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let mut out = BufWriter::new(tokio::io::stdout());
    let mut pending = Vec::with_capacity(LINES_PER_CALL);
    loop {
        let line = lines.next_line().await?;
        let end = line.is_none();
        pending.extend(line);
        if pending.len() == LINES_PER_CALL || (end && !pending.is_empty()) {
            for vector in embedder.embed(&pending).await? {
                out.write_all(serde_json::to_string(&vector)?.as_bytes())
                    .await?;
                out.write_all(b"\n").await?;
            }
            out.flush().await?;
            pending.clear();
        }
        if end {
            return Ok(());
        }
    }
}

/// `offre-ingestion demo-data`: `count` demo offers as JSON lines on stdout,
/// deterministic for `seed` and `date` (offers are created in the 30 days before noon of
/// `date`, UTC; today when absent).
pub async fn demo_data(
    config: DemoConfig,
    count: usize,
    seed: u64,
    date: Option<NaiveDate>,
) -> anyhow::Result<()> {
    let date = date.unwrap_or_else(|| Utc::now().date_naive());
    let now = date.and_hms_opt(12, 0, 0).expect("noon exists").and_utc();
    // Reading the referentials and writing the lines are blocking: off the runtime.
    tokio::task::spawn_blocking(move || {
        let refs = Referentials::load(&config)?;
        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
        for offer in demo::generate(&refs, seed, now).take(count) {
            serde_json::to_writer(&mut out, &offer)?;
            out.write_all(b"\n")?;
        }
        out.flush()?;
        Ok(())
    })
    .await?
}
