//! Gold: the offers' embeddings, one per offer and model, made from the text their
//! silver row says (`embedding_text_hash`). What needs embedding is a query, so the step
//! resumes wherever an earlier run stopped.

use pgvector::Vector;
use platform::progress::{Progress, Unit};
use shared::embedding::Embedder;
use sqlx::PgPool;

use crate::normalize;

/// `$query!(select + pending offers + tail, args)`: a statement over the active offers
/// without an embedding of model `$1` made from their current text. One rule for the
/// backlog and the embed step; a macro because `sqlx::query!` takes only literals.
macro_rules! pending {
    ($($query:ident)::+, $select:literal, $tail:literal $(, $arg:expr)*) => {
        $($query)::+!(
            $select
                + " FROM offers.offers o
                    JOIN offers.bronze_payloads b ON b.id = o.bronze_id
                    LEFT JOIN offers.embeddings e ON e.offer_id = o.id AND e.model = $1
                    WHERE o.archived_at IS NULL
                        AND (e.offer_id IS NULL OR e.text_hash <> o.embedding_text_hash) "
                + $tail
            $(, $arg)*
        )
    };
}

/// Offers embedded and stored per transaction.
const BATCH: i64 = 128;

/// The gold table's vector length.
pub const GOLD_DIM: usize = 384;

/// Active offers waiting for an embedding of `model`: none yet, or their text changed
/// since.
pub async fn pending_count(db: &PgPool, model: &str) -> sqlx::Result<i64> {
    pending!(
        sqlx::query_scalar,
        r#"SELECT count(*) AS "count!""#,
        "",
        model
    )
    .fetch_one(db)
    .await
}

/// Embeds every active offer whose embedding for the embedder's model is missing or was
/// made from another text; returns how many were embedded.
pub async fn embed_pending(db: &PgPool, embedder: &dyn Embedder) -> anyhow::Result<i32> {
    if embedder.dim() != GOLD_DIM {
        anyhow::bail!(
            "the gold table holds {GOLD_DIM}-dimension vectors; model {} makes {}",
            embedder.model_id(),
            embedder.dim()
        );
    }
    let model = embedder.model_id();
    let total = pending_count(db, model).await?;
    let mut progress = Progress::new("embedding offers", Unit::Items("offers"), total as u64);
    let mut done = 0i32;
    loop {
        let rows = pending!(
            sqlx::query,
            "SELECT o.id, b.payload, o.embedding_text_hash",
            "ORDER BY o.id LIMIT $2",
            model,
            BATCH
        )
        .fetch_all(db)
        .await?;
        if rows.is_empty() {
            break;
        }
        // The text is rebuilt from bronze with the same recipe that hashed it.
        let mut texts = Vec::with_capacity(rows.len());
        for row in &rows {
            let id = &row.id;
            let offer = normalize::normalize(&row.payload)
                .map_err(|e| anyhow::anyhow!("offer {id} no longer normalises: {e}"))?;
            texts.push(offer.embedding_text());
        }
        let vectors = embedder.embed(&texts).await?;
        let mut tx = db.begin().await?;
        for (row, vector) in rows.iter().zip(vectors) {
            sqlx::query!(
                "INSERT INTO offers.embeddings (offer_id, model, embedding, text_hash, archived,
                    contract_type, rome_code, published_at, latitude, longitude)
                 SELECT o.id, $2, $3, $4, o.archived_at IS NOT NULL, o.contract_type, o.rome_code,
                    o.published_at, o.latitude, o.longitude
                 FROM offers.offers o WHERE o.id = $1
                 ON CONFLICT (offer_id, model) DO UPDATE SET embedding = EXCLUDED.embedding,
                    text_hash = EXCLUDED.text_hash, embedded_at = now(), archived = EXCLUDED.archived,
                    contract_type = EXCLUDED.contract_type, rome_code = EXCLUDED.rome_code,
                    published_at = EXCLUDED.published_at, latitude = EXCLUDED.latitude,
                    longitude = EXCLUDED.longitude",
                row.id,
                model,
                Vector::from(vector) as Vector,
                row.embedding_text_hash
            )
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        done += rows.len() as i32;
        progress.update(done as u64);
    }
    progress.finish(done as u64);
    if done >= ANALYZE_AFTER {
        // Fresh statistics, so that matching's planner knows the table's size and picks
        // the HNSW index over an exact scan (which a bulk load's stale statistics make
        // look cheaper).
        sqlx::query!("ANALYZE offers.embeddings")
            .execute(db)
            .await?;
    }
    Ok(done)
}

/// Embeddings written by a run past which the gold table's statistics are refreshed.
const ANALYZE_AFTER: i32 = 500;
