//! The active offers, indexed in memory for hybrid ranking ([`ranking::Index`]), and
//! kept in step with offre-ingestion's tables.
//!
//! The first load reads every active offer; afterwards a refresh reads the offers written
//! and the tombstones of offers deleted by transactions that the previous load's snapshot
//! did not see (`offers.changed_xid`, `offers.deleted_offers`), which misses none even
//! when ingestion transactions commit out of order. A refresh
//! runs when a statement that changed offers commits (`NOTIFY offers_changed`), and every
//! `MATCH_INDEX_POLL_SECS` in case a notification was lost. So an ingestion run's offers
//! are searchable by every signal a moment after its transaction commits: the time of a
//! refresh, which is reading the changed rows and rebuilding the snapshot (tens of
//! milliseconds per 10,000 offers, see services/matching/README.md). Refreshes are
//! spaced by at least twice the last rebuild's time, so that a long ingestion cannot keep
//! a core busy.

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
        let old = self
            .current
            .write()
            .expect("the index lock is never poisoned")
            .replace(Arc::new(index));
        // The old snapshot is freed here, out of the lock, unless a search still holds it.
        drop(old);
    }

    /// Loads the offers, then follows their changes until the pool closes. Errors
    /// (database down) are logged and retried; searches keep the last snapshot.
    pub async fn follow(self, db: PgPool, poll: Duration) {
        let mut loader = Loader::new();
        let mut listener: Option<PgListener> = None;
        let mut backoff = Duration::from_millis(500);
        while !db.is_closed() {
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
                Ok(None) => backoff = Duration::from_millis(500),
                Err(e) => {
                    tracing::warn!(error = %e, "offers index not refreshed; retrying");
                    listener = None;
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(30));
                    continue;
                }
            }
            match &mut listener {
                Some(l) => {
                    // A notification, a reconnection (which may have lost some: read
                    // anyway) or the poll's time: then one refresh for all that came.
                    match tokio::time::timeout(poll, l.try_recv()).await {
                        Ok(Ok(_)) | Err(_) => {}
                        Ok(Err(e)) => {
                            tracing::warn!(error = %e, "{CHANNEL} listener lost");
                            listener = None;
                        }
                    }
                    if let Some(l) = &mut listener {
                        while l.next_buffered().is_some() {}
                    }
                }
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

/// An offer as the index reads it.
struct OfferRow {
    id: String,
    title: String,
    appellation_label: Option<String>,
    rome_code: Option<String>,
    rome_label: Option<String>,
    description: Option<String>,
    company_name: Option<String>,
    location_label: Option<String>,
    contract_type: Option<String>,
    published_at: Option<DateTime<Utc>>,
    latitude: Option<f64>,
    longitude: Option<f64>,
    archived: bool,
}

/// A skill of an offer: offer id, label, required.
type SkillRow = (String, String, Option<bool>);

/// `offer_rows!(condition, binds)`: the [`OfferRow`]s of the offers that meet `condition`
/// (a literal: `sqlx::query_as!` takes only literals).
macro_rules! offer_rows {
    ($condition:literal $(, $bind:expr)*) => {
        sqlx::query_as!(
            OfferRow,
            r#"SELECT o.id, o.title, o.appellation_label, o.rome_code, o.rome_label, o.description,
                o.company_name, o.location_label, o.contract_type, o.published_at, o.latitude,
                o.longitude, o.archived_at IS NOT NULL AS "archived!"
             FROM offers.offers o WHERE "# + $condition
            $(, $bind)*
        )
    };
}

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
        sqlx::query!("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .execute(&mut *tx)
            .await?;
        // In a repeatable-read transaction every statement sees this snapshot.
        let snapshot = sqlx::query_scalar!(r#"SELECT pg_current_snapshot()::text AS "snapshot!""#)
            .fetch_one(&mut *tx)
            .await?;
        let (rows, skills, deleted): (Vec<OfferRow>, Vec<SkillRow>, Vec<String>) =
            match &self.snapshot {
                None => (
                    offer_rows!("o.archived_at IS NULL")
                        .fetch_all(&mut *tx)
                        .await?,
                    sqlx::query!(
                        "SELECT s.offer_id, s.label, s.required FROM offers.offer_skills s
                         JOIN offers.offers o ON o.id = s.offer_id AND o.archived_at IS NULL
                         ORDER BY s.offer_id, s.position"
                    )
                    .fetch_all(&mut *tx)
                    .await?
                    .into_iter()
                    .map(|r| (r.offer_id, r.label, r.required))
                    .collect(),
                    Vec::new(),
                ),
                Some(seen) => {
                    // Rows written by transactions that the snapshot `$1` did not see.
                    let rows = offer_rows!(
                        "o.changed_xid >= pg_snapshot_xmin($1::text::pg_snapshot)
                         AND NOT pg_visible_in_snapshot(o.changed_xid, $1::text::pg_snapshot)",
                        seen
                    )
                    .fetch_all(&mut *tx)
                    .await?;
                    let active: Vec<&str> = rows
                        .iter()
                        .filter(|r| !r.archived)
                        .map(|r| r.id.as_str())
                        .collect();
                    let skills = sqlx::query!(
                        "SELECT offer_id, label, required FROM offers.offer_skills
                         WHERE offer_id = ANY($1) ORDER BY offer_id, position",
                        &active as &[&str]
                    )
                    .fetch_all(&mut *tx)
                    .await?
                    .into_iter()
                    .map(|r| (r.offer_id, r.label, r.required))
                    .collect();
                    let deleted = sqlx::query_scalar!(
                        "SELECT offer_id FROM offers.deleted_offers
                         WHERE deleted_xid >= pg_snapshot_xmin($1::text::pg_snapshot)
                            AND NOT pg_visible_in_snapshot(deleted_xid, $1::text::pg_snapshot)",
                        seen
                    )
                    .fetch_all(&mut *tx)
                    .await?;
                    (rows, skills, deleted)
                }
            };
        tx.commit().await?;
        let first = self.snapshot.is_none();
        if rows.is_empty() && deleted.is_empty() && !first {
            self.snapshot = Some(snapshot);
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
        let indexed = tokio::task::spawn_blocking(move || {
            for id in &deleted {
                builder.remove(id);
            }
            for row in rows {
                if row.archived {
                    builder.remove(&row.id);
                    continue;
                }
                let skills = skills_of.remove(row.id.as_str()).unwrap_or_default();
                builder.upsert(&OfferDoc {
                    meta: OfferMeta {
                        contract_type: row.contract_type,
                        rome_code: row.rome_code.clone(),
                        published_at: row.published_at,
                        latitude: row.latitude,
                        longitude: row.longitude,
                    },
                    id: row.id,
                    title: row.title,
                    appellation: row.appellation_label,
                    rome_code: row.rome_code,
                    rome_label: row.rome_label,
                    skills,
                    description: row.description,
                    company: row.company_name,
                    location: row.location_label,
                });
            }
            let index = builder.snapshot();
            (builder, index)
        })
        .await;
        match indexed {
            Ok((builder, index)) => {
                self.builder = builder;
                self.snapshot = Some(snapshot);
                Ok(Some(index))
            }
            Err(e) => {
                // The offers read so far went with the task: start again from nothing
                // (the next refresh is a first load).
                self.snapshot = None;
                Err(sqlx::Error::Protocol(format!(
                    "indexing the offers failed: {e}"
                )))
            }
        }
    }
}
