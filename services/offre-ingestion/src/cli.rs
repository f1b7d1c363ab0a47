//! Operator commands of offre-ingestion.

use shared::embedding::{self, EmbeddingConfig};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, BufWriter};

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
