//! The ingestion's metrics. Runs are one-shot processes (`offre-ingestion ingest`, a
//! schedule's job), so the service reads their totals from their lineage rows
//! (`offers.ingestion_runs`) and the backlog of embeddings as the embed step counts it
//! ([`crate::gold::pending_count`]), every [`REFRESH`], and exports them as counters and
//! gauges whoever ran them.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use sqlx::PgPool;

/// How often the totals are read again: Prometheus's scrape interval.
const REFRESH: Duration = Duration::from_secs(15);

/// The totals of every finished run, and what waits for an embedding.
#[derive(Debug, Clone, Copy)]
struct Totals {
    ingested: i64,
    quarantined: i64,
    archived: i64,
    embedded: i64,
    failed_runs: i64,
    /// Seconds since the epoch; 0 before the first success.
    last_success: f64,
    embedding_backlog: i64,
}

/// The latest totals read, shared with the registry; none before the first read (a
/// zero then would read as a counter reset).
#[derive(Debug, Clone, Default)]
pub struct IngestionMetrics(Arc<Mutex<Option<Totals>>>);

impl IngestionMetrics {
    /// Reads the totals now and then every [`REFRESH`], until its task is aborted; a
    /// failed read keeps the previous totals (the database's own health is /health/ready's).
    /// The backlog is what waits for an embedding of `model`.
    pub async fn follow(self, db: PgPool, model: String) {
        let mut tick = tokio::time::interval(REFRESH);
        loop {
            tick.tick().await;
            match read(&db, &model).await {
                Ok(totals) => *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(totals),
                Err(e) => tracing::warn!(error = %e, "ingestion metrics not refreshed"),
            }
        }
    }
}

async fn read(db: &PgPool, model: &str) -> sqlx::Result<Totals> {
    let row = sqlx::query!(
        r#"SELECT COALESCE(sum(new_count + changed_count) FILTER (WHERE status = 'succeeded'), 0)::bigint AS "ingested!",
                COALESCE(sum(quarantined_count) FILTER (WHERE status = 'succeeded'), 0)::bigint AS "quarantined!",
                COALESCE(sum(archived_count) FILTER (WHERE status = 'succeeded'), 0)::bigint AS "archived!",
                COALESCE(sum(embedded_count) FILTER (WHERE status = 'succeeded'), 0)::bigint AS "embedded!",
                count(*) FILTER (WHERE status = 'failed') AS "failed_runs!",
                COALESCE(extract(epoch FROM max(finished_at) FILTER (WHERE status = 'succeeded')), 0)::float8 AS "last_success!"
         FROM offers.ingestion_runs"#
    )
    .fetch_one(db)
    .await?;
    Ok(Totals {
        ingested: row.ingested,
        quarantined: row.quarantined,
        archived: row.archived,
        embedded: row.embedded,
        failed_runs: row.failed_runs,
        last_success: row.last_success,
        // What the next run's embed step would take on: the same rule.
        embedding_backlog: crate::gold::pending_count(db, model).await?,
    })
}

impl Collector for IngestionMetrics {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let Some(t) = *self.0.lock().unwrap_or_else(|e| e.into_inner()) else {
            return Ok(());
        };
        let counters = [
            (
                "offers_ingested",
                "Offers stored new or changed by successful ingestion runs",
                t.ingested,
            ),
            (
                "offers_quarantined",
                "Payloads set aside by successful runs (unreadable or invalid)",
                t.quarantined,
            ),
            (
                "offers_archived",
                "Offers archived by successful runs (expired or absent from a full sync)",
                t.archived,
            ),
            (
                "offers_embedded",
                "Offer embeddings computed by successful runs (rate: embeddings per second)",
                t.embedded,
            ),
            (
                "ingestion_runs_failed",
                "Ingestion runs that failed",
                t.failed_runs,
            ),
        ];
        for (name, help, value) in counters {
            let counter = ConstCounter::new(value.max(0) as u64);
            counter.encode(encoder.encode_descriptor(
                name,
                help,
                None,
                counter.metric_type(),
            )?)?;
        }
        let gauges = [
            (
                "ingestion_last_success_timestamp_seconds",
                "When the last successful ingestion run finished (0: never)",
                t.last_success,
            ),
            (
                "embedding_backlog",
                "Active offers waiting for their embedding",
                t.embedding_backlog as f64,
            ),
        ];
        for (name, help, value) in gauges {
            let gauge = ConstGauge::new(value);
            gauge.encode(encoder.encode_descriptor(name, help, None, gauge.metric_type())?)?;
        }
        Ok(())
    }
}
