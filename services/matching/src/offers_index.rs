//! The active offers, indexed in memory for hybrid ranking ([`ranking::Index`]), and
//! kept in step with offre-ingestion's tables.
//!
//! The first load reads every active offer; afterwards a refresh reads the offers written
//! by transactions that the previous load's snapshot did not see (`offers.changed_xid`),
//! which misses none even when ingestion transactions commit out of order. A refresh
//! runs when a statement that changed offers commits (`NOTIFY offers_changed`), and every
//! `MATCH_INDEX_POLL_SECS` in case a notification was lost. So an ingestion run's offers
//! are searchable by every signal a moment after its transaction commits: the time of a
//! refresh, which is reading the changed rows and rebuilding the snapshot (tens of
//! milliseconds per 10,000 offers, see the README). Refreshes are spaced by at least
//! twice the last rebuild's time, so that a long ingestion cannot keep a core busy.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use ranking::{Builder, DocSkill, FieldWeights, Index, OfferDoc, OfferMeta};
use sqlx::postgres::PgListener;
use sqlx::PgPool;

/// The channel offre-ingestion's trigger notifies.
const CHANNEL: &str = "offers_changed";

/// The index searches use, swapped whole by each refresh; None until the first load.
#[derive(Clone, Default)]
pub struct OffersIndex {
    current: Arc<RwLock<Option<Arc<Index>>>>,
}

impl OffersIndex {
    /// The latest snapshot, None while the first load runs.
    pub fn current(&self) -> Option<Arc<Index>> {
        self.current
            .read()
            .expect("the index lock is never poisoned")
            .clone()
    }

    fn publish(&self, index: Index) {
        *self
            .current
            .write()
            .expect("the index lock is never poisoned") = Some(Arc::new(index));
    }

    /// Loads the offers, then follows their changes until the process ends. Errors
    /// (database down) are logged and retried; searches keep the last snapshot.
    pub async fn follow(self, db: PgPool, poll: Duration) {
        let mut loader = Loader::new();
        let mut listener = None;
        let mut backoff = Duration::from_millis(500);
        loop {
            // Listen before reading, so that no change committed after the read is missed.
            if listener.is_none() {
                match PgListener::connect_with(&db).await {
                    Ok(mut l) => match l.listen(CHANNEL).await {
                        Ok(()) => listener = Some(l),
                        Err(e) => tracing::warn!(error = %e, "cannot listen to {CHANNEL}"),
                    },
                    Err(e) => tracing::warn!(error = %e, "cannot listen to {CHANNEL}"),
                }
            }
            let started = Instant::now();
            match loader.refresh(&db).await {
                Ok(Some(index)) => {
                    let built = started.elapsed();
                    tracing::info!(
                        offers = index.len(),
                        ms = built.as_millis() as u64,
                        "offers index refreshed"
                    );
                    self.publish(index);
                    backoff = Duration::from_millis(500);
                    // Spaced by twice the refresh's cost: at most a third of a core.
                    tokio::time::sleep(built * 2).await;
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "offers index not refreshed; retrying");
                    listener = None;
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(30));
                    continue;
                }
            }
            match &mut listener {
                Some(l) => match tokio::time::timeout(poll, l.recv()).await {
                    Ok(Ok(_)) | Err(_) => {}
                    Ok(Err(e)) => {
                        tracing::warn!(error = %e, "{CHANNEL} listener lost");
                        listener = None;
                    }
                },
                None => tokio::time::sleep(poll).await,
            }
        }
    }
}

/// The offers read so far and the snapshot they were read in.
pub struct Loader {
    builder: Builder,
    /// `pg_current_snapshot()` of the last read; None before the first.
    snapshot: Option<String>,
}

impl Default for Loader {
    fn default() -> Self {
        Self::new()
    }
}

type OfferRow = (
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<DateTime<Utc>>,
    Option<f64>,
    Option<f64>,
    bool,
);

impl Loader {
    pub fn new() -> Self {
        Self {
            builder: Builder::new(FieldWeights::default()),
            snapshot: None,
        }
    }

    /// Reads what changed since the last call; a new index when something did (always
    /// on the first call).
    pub async fn refresh(&mut self, db: &PgPool) -> Result<Option<Index>, sqlx::Error> {
        let mut tx = db.begin().await?;
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .execute(&mut *tx)
            .await?;
        // In a repeatable-read transaction every statement sees this snapshot.
        let snapshot: String = sqlx::query_scalar("SELECT pg_current_snapshot()::text")
            .fetch_one(&mut *tx)
            .await?;
        let rows: Vec<OfferRow> = sqlx::query_as(
            "SELECT id, title, appellation_label, rome_code, rome_label, description, company_name,
                 location_label, contract_type, published_at, latitude, longitude, archived_at IS NOT NULL
             FROM offers.offers
             WHERE CASE WHEN $1::pg_snapshot IS NULL THEN archived_at IS NULL
                   ELSE changed_xid >= pg_snapshot_xmin($1::pg_snapshot)
                        AND NOT pg_visible_in_snapshot(changed_xid, $1::pg_snapshot) END",
        )
        .bind(&self.snapshot)
        .fetch_all(&mut *tx)
        .await?;
        let active: Vec<&str> = rows
            .iter()
            .filter(|r| !r.12)
            .map(|r| r.0.as_str())
            .collect();
        let skills: Vec<(String, String, Option<bool>)> = sqlx::query_as(
            "SELECT offer_id, label, required FROM offers.offer_skills
             WHERE offer_id = ANY($1) ORDER BY offer_id, position",
        )
        .bind(&active)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        let first = self.snapshot.is_none();
        self.snapshot = Some(snapshot);
        if rows.is_empty() && !first {
            return Ok(None);
        }
        let mut skills_of: std::collections::HashMap<String, Vec<DocSkill>> =
            std::collections::HashMap::new();
        for (offer, label, required) in skills {
            skills_of.entry(offer).or_default().push(DocSkill {
                label,
                required: required.unwrap_or(false),
            });
        }
        let mut builder =
            std::mem::replace(&mut self.builder, Builder::new(FieldWeights::default()));
        let index = tokio::task::spawn_blocking(move || {
            for row in rows {
                let (id, title, appellation, rome_code, rome_label, description, company) =
                    (row.0, row.1, row.2, row.3, row.4, row.5, row.6);
                if row.12 {
                    builder.remove(&id);
                    continue;
                }
                let skills = skills_of.remove(id.as_str()).unwrap_or_default();
                builder.upsert(&OfferDoc {
                    meta: OfferMeta {
                        contract_type: row.8,
                        rome_code: rome_code.clone(),
                        published_at: row.9,
                        latitude: row.10,
                        longitude: row.11,
                    },
                    id,
                    title,
                    appellation,
                    rome_code,
                    rome_label,
                    skills,
                    description,
                    company,
                    location: row.7,
                });
            }
            let index = builder.snapshot();
            (builder, index)
        })
        .await
        .expect("indexing does not panic");
        self.builder = index.0;
        Ok(Some(index.1))
    }
}
