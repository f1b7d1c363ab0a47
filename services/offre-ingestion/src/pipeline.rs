//! The ingestion pipeline: payloads from any source into bronze, silver and the
//! quarantine, then the embeddings (gold), with one `ingestion_runs` row as lineage.
//!
//! Each chunk of payloads is one transaction, so a run killed midway leaves consistent
//! tables; as unchanged payloads cost nothing, the next run over the same input simply
//! finishes the job. Embedding is driven by a query (offers whose embedding is missing or
//! was made from another text), so it resumes wherever it stopped.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};
use serde_json::Value;
use sha2::{Digest, Sha256};
use shared::embedding::Embedder;
use shared::events::{OffersIngested, OFFERS_INGESTED};
use sqlx::{PgConnection, PgPool, Postgres, Transaction};

use crate::normalize::{self, Offer};

/// Payloads handled per transaction.
const CHUNK: usize = 500;

/// One item a source read: a JSON payload, or bytes that were not JSON.
#[derive(Debug, Clone)]
pub enum Item {
    Payload(Value),
    Unreadable { excerpt: String, reason: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    File,
    Api,
    Demo,
}

impl SourceKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::File => "file",
            Self::Api => "api",
            Self::Demo => "demo",
        }
    }
}

/// What a run is about.
#[derive(Debug, Clone)]
pub struct RunSpec {
    pub source: String,
    pub kind: SourceKind,
    /// Offers this run does not see are archived (a complete pull of the API).
    pub full_sync: bool,
}

/// The counts of a run, as recorded in `ingestion_runs`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct RunCounts {
    pub read: i32,
    pub new: i32,
    pub changed: i32,
    pub unchanged: i32,
    pub quarantined: i32,
    pub archived: i32,
    pub embedded: i32,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct RunReport {
    pub run_id: i64,
    pub counts: RunCounts,
    /// Offers created or changed by this run.
    pub new_ids: Vec<String>,
    pub changed_ids: Vec<String>,
    /// What the run did that its operator may not expect (offers archived on arrival).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// Held by the running ingestion for its whole life: runs are serialised, and a run row
/// still 'running' when a new run gets the lock belongs to a killed process.
const INGESTION_LOCK: i64 = 0x6a6d_696e_6765_7374;

/// An open run: payloads go in chunk by chunk; `finish` archives, embeds and records.
pub struct Run {
    db: PgPool,
    /// The connection holding [`INGESTION_LOCK`], out of the pool: the lock is a session
    /// lock, released when this connection closes (also when the run is dropped midway).
    _lock: PgConnection,
    spec: RunSpec,
    id: i64,
    counts: RunCounts,
    new_ids: Vec<String>,
    changed_ids: Vec<String>,
    /// Ids seen by a full sync (the others get archived at the end).
    seen: Vec<String>,
    warnings: Vec<String>,
    started: Instant,
    timings: HashMap<&'static str, u128>,
}

impl Run {
    /// Waits for any other run to end, marks runs left 'running' by killed processes as
    /// failed, and records the start of this one.
    pub async fn start(db: &PgPool, spec: RunSpec) -> sqlx::Result<Self> {
        let mut lock = db.acquire().await?.detach();
        sqlx::query!("SELECT FROM pg_advisory_lock($1)", INGESTION_LOCK)
            .execute(&mut lock)
            .await?;
        let interrupted = sqlx::query!(
            "UPDATE offers.ingestion_runs SET status = 'failed', finished_at = now(),
                error = 'interrupted: the process stopped before the run ended'
             WHERE status = 'running'"
        )
        .execute(db)
        .await?
        .rows_affected();
        if interrupted > 0 {
            tracing::warn!(
                interrupted,
                "earlier runs were interrupted; this run finishes their work"
            );
        }
        let id = sqlx::query_scalar!(
            "INSERT INTO offers.ingestion_runs (source, kind, full_sync) VALUES ($1, $2, $3) RETURNING id",
            spec.source,
            spec.kind.as_str(),
            spec.full_sync
        )
        .fetch_one(db)
        .await?;
        tracing::info!(run_id = id, source = spec.source, "ingestion run started");
        Ok(Self {
            db: db.clone(),
            _lock: lock,
            spec,
            id,
            counts: RunCounts::default(),
            new_ids: Vec::new(),
            changed_ids: Vec::new(),
            seen: Vec::new(),
            warnings: Vec::new(),
            started: Instant::now(),
            timings: HashMap::new(),
        })
    }

    /// Stores up to [`CHUNK`] items in one transaction.
    pub async fn ingest(&mut self, items: Vec<Item>) -> sqlx::Result<()> {
        let started = Instant::now();
        for chunk in items.chunks(CHUNK) {
            let mut tx = self.db.begin().await?;
            self.ingest_chunk(&mut tx, chunk).await?;
            tx.commit().await?;
        }
        *self.timings.entry("ingest").or_default() += started.elapsed().as_millis();
        Ok(())
    }

    async fn ingest_chunk(
        &mut self,
        tx: &mut Transaction<'_, Postgres>,
        items: &[Item],
    ) -> sqlx::Result<()> {
        // The last version of an offer in the chunk wins.
        let mut offers: Vec<(Offer, Value, Vec<u8>)> = Vec::new();
        let mut position: HashMap<String, usize> = HashMap::new();
        for item in items {
            self.counts.read += 1;
            match item {
                Item::Unreadable { excerpt, reason } => {
                    let hash = sha256(excerpt.as_bytes());
                    quarantine(tx, self.id, None, &hash, None, Some(excerpt), reason).await?;
                    self.counts.quarantined += 1;
                }
                Item::Payload(payload) => {
                    let hash = content_hash(payload);
                    match normalize::normalize(payload) {
                        Ok(offer) => match position.get(&offer.id) {
                            Some(&i) => offers[i] = (offer, payload.clone(), hash),
                            None => {
                                position.insert(offer.id.clone(), offers.len());
                                offers.push((offer, payload.clone(), hash));
                            }
                        },
                        Err(refusal) => {
                            let id = payload.get("id").and_then(|v| {
                                v.as_str()
                                    .map(str::to_owned)
                                    .or_else(|| v.as_i64().map(|n| n.to_string()))
                            });
                            quarantine(
                                tx,
                                self.id,
                                id.as_deref(),
                                &hash,
                                Some(payload),
                                None,
                                &refusal.0,
                            )
                            .await?;
                            self.counts.quarantined += 1;
                        }
                    }
                }
            }
        }
        if offers.is_empty() {
            return Ok(());
        }
        let ids: Vec<String> = offers.iter().map(|(o, _, _)| o.id.clone()).collect();
        let current: HashMap<String, Vec<u8>> = sqlx::query!(
            "SELECT id, content_hash FROM offers.offers WHERE id = ANY($1)",
            &ids
        )
        .fetch_all(&mut **tx)
        .await?
        .into_iter()
        .map(|row| (row.id, row.content_hash))
        .collect();
        let mut unchanged_hashes = Vec::new();
        let mut to_store = Vec::new();
        for (offer, payload, hash) in &offers {
            match current.get(&offer.id) {
                Some(existing) if existing == hash => {
                    self.counts.unchanged += 1;
                    unchanged_hashes.push(hash.clone());
                }
                existing => {
                    to_store.push((offer, payload, hash.as_slice()));
                    if existing.is_some() {
                        self.counts.changed += 1;
                        self.changed_ids.push(offer.id.clone());
                    } else {
                        self.counts.new += 1;
                        self.new_ids.push(offer.id.clone());
                    }
                }
            }
        }
        store(tx, self.id, &self.spec.source, &to_store).await?;
        // Day granularity: the same input again the same day writes nothing.
        sqlx::query!(
            "UPDATE offers.bronze_payloads SET last_seen_at = now(), last_run_id = $1
             WHERE content_hash = ANY($2) AND last_seen_at < now() - interval '1 day'",
            self.id,
            &unchanged_hashes
        )
        .execute(&mut **tx)
        .await?;
        if self.spec.full_sync {
            self.seen.extend(ids);
        }
        Ok(())
    }

    /// Archives, embeds what needs it, and records the run and its event.
    pub async fn finish(
        mut self,
        embedder: Option<&Arc<dyn Embedder>>,
        max_age_days: i64,
    ) -> anyhow::Result<RunReport> {
        if let Err(e) = self.archive_and_embed(embedder, max_age_days).await {
            let mut conn = self.db.acquire().await?;
            self.record(&mut conn, "failed", Some(format!("{e:#}")))
                .await?;
            return Err(e);
        }
        self.timings
            .insert("total", self.started.elapsed().as_millis());
        let report = RunReport {
            run_id: self.id,
            counts: self.counts.clone(),
            new_ids: std::mem::take(&mut self.new_ids),
            changed_ids: std::mem::take(&mut self.changed_ids),
            warnings: std::mem::take(&mut self.warnings),
        };
        let mut tx = self.db.begin().await?;
        self.record(&mut tx, "succeeded", None).await?;
        let c = &report.counts;
        // An event only when matches may change: a no-op run is silent.
        if c.new + c.changed + c.archived + c.embedded > 0 {
            let event = OffersIngested {
                schema_version: OffersIngested::SCHEMA_VERSION,
                run_id: report.run_id,
                new_ids: report.new_ids.clone(),
                changed_ids: report.changed_ids.clone(),
                archived: c.archived,
                embedded: c.embedded,
            };
            sqlx::query!(
                "INSERT INTO offers.outbox (stream, payload) VALUES ($1, $2)",
                OFFERS_INGESTED,
                serde_json::to_value(&event)?
            )
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        tracing::info!(run_id = self.id, counts = ?report.counts, "ingestion run succeeded");
        Ok(report)
    }

    async fn archive_and_embed(
        &mut self,
        embedder: Option<&Arc<dyn Embedder>>,
        max_age_days: i64,
    ) -> anyhow::Result<()> {
        let started = Instant::now();
        let seen = self.spec.full_sync.then_some(&self.seen);
        let archived = archive(&self.db, seen, max_age_days).await?;
        self.counts.archived += archived.len() as i32;
        let arrived: std::collections::HashSet<&String> =
            self.new_ids.iter().chain(&self.changed_ids).collect();
        let on_arrival = archived.iter().filter(|id| arrived.contains(id)).count();
        if on_arrival > 0 {
            let warning = format!(
                "{on_arrival} of the {} offers this run stored were archived on arrival: not \
                 updated for more than {max_age_days} days (OFFER_MAX_AGE_DAYS), so they are \
                 served but never matched; OFFER_MAX_AGE_DAYS=0 keeps offers of any age",
                arrived.len()
            );
            tracing::warn!(run_id = self.id, "{warning}");
            self.warnings.push(warning);
        }
        self.timings
            .insert("archive", started.elapsed().as_millis());
        if let Some(embedder) = embedder {
            let started = Instant::now();
            self.counts.embedded += crate::gold::embed_pending(&self.db, embedder.as_ref()).await?;
            self.timings.insert("embed", started.elapsed().as_millis());
        }
        Ok(())
    }

    /// Records that the run failed (what it committed stays).
    pub async fn fail(self, error: &anyhow::Error) -> sqlx::Result<()> {
        let mut conn = self.db.acquire().await?;
        self.record(&mut conn, "failed", Some(format!("{error:#}")))
            .await?;
        tracing::error!(
            run_id = self.id,
            error = format!("{error:#}"),
            "ingestion run failed"
        );
        Ok(())
    }

    /// Writes the run's outcome, counts and timings to its `ingestion_runs` row.
    async fn record(
        &self,
        conn: &mut PgConnection,
        status: &str,
        error: Option<String>,
    ) -> sqlx::Result<()> {
        let c = &self.counts;
        sqlx::query!(
            "UPDATE offers.ingestion_runs SET status = $2, error = $3, finished_at = now(),
                read_count = $4, new_count = $5, changed_count = $6, unchanged_count = $7,
                quarantined_count = $8, archived_count = $9, embedded_count = $10, timings = $11
             WHERE id = $1",
            self.id,
            status,
            error,
            c.read,
            c.new,
            c.changed,
            c.unchanged,
            c.quarantined,
            c.archived,
            c.embedded,
            serde_json::to_value(&self.timings).unwrap_or_default()
        )
        .execute(conn)
        .await?;
        Ok(())
    }
}

fn sha256(bytes: &[u8]) -> Vec<u8> {
    Sha256::digest(bytes).to_vec()
}

/// Hash of the payload's canonical form (keys sorted, no spaces): the same offer from a
/// file or from the API hashes the same.
fn content_hash(payload: &Value) -> Vec<u8> {
    sha256(&serde_json::to_vec(payload).expect("a JSON value serialises"))
}

async fn quarantine(
    tx: &mut PgConnection,
    run_id: i64,
    offer_id: Option<&str>,
    hash: &[u8],
    payload: Option<&Value>,
    excerpt: Option<&str>,
    reason: &str,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO offers.quarantine (run_id, offer_id, content_hash, payload, raw_excerpt, reason)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (content_hash) DO NOTHING",
        run_id,
        offer_id,
        hash,
        payload,
        excerpt,
        reason
    )
    .execute(tx)
    .await?;
    Ok(())
}

/// Stores new and changed offers, a chunk at a time in a few set-based statements (one
/// per table, the columns as arrays through `unnest`): their payloads (bronze), their
/// rows and skills (silver), and the filter columns of their gold rows.
async fn store(
    tx: &mut PgConnection,
    run_id: i64,
    source: &str,
    offers: &[(&Offer, &Value, &[u8])],
) -> sqlx::Result<()> {
    if offers.is_empty() {
        return Ok(());
    }
    let column = |f: &dyn Fn(&Offer) -> Option<String>| -> Vec<Option<String>> {
        offers.iter().map(|(o, _, _)| f(o)).collect()
    };
    let ids: Vec<String> = offers.iter().map(|(o, _, _)| o.id.clone()).collect();
    let hashes: Vec<Vec<u8>> = offers.iter().map(|(_, _, h)| h.to_vec()).collect();
    let payloads: Vec<Value> = offers.iter().map(|(_, p, _)| (*p).clone()).collect();
    // A payload seen before (an offer changed back) is the row already there. Each hash
    // is one offer's (the payload holds its id), so no row is met twice.
    let bronze: HashMap<Vec<u8>, i64> = sqlx::query!(
        "INSERT INTO offers.bronze_payloads (offer_id, content_hash, payload, source, first_run_id, last_run_id)
         SELECT id, hash, payload, $4, $5, $5 FROM unnest($1::text[], $2::bytea[], $3::jsonb[]) AS u(id, hash, payload)
         ON CONFLICT (content_hash) DO UPDATE SET last_seen_at = now(), last_run_id = EXCLUDED.last_run_id
         RETURNING content_hash, id",
        &ids,
        &hashes,
        &payloads,
        source,
        run_id
    )
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .map(|row| (row.content_hash, row.id))
    .collect();
    let bronze_ids: Vec<i64> = hashes.iter().map(|h| bronze[h]).collect();
    let contract_types = column(&|o| o.contract_type.clone());
    let rome_codes = column(&|o| o.rome_code.clone());
    let published: Vec<Option<DateTime<Utc>>> =
        offers.iter().map(|(o, _, _)| o.published_at).collect();
    let latitudes: Vec<Option<f64>> = offers.iter().map(|(o, _, _)| o.latitude).collect();
    let longitudes: Vec<Option<f64>> = offers.iter().map(|(o, _, _)| o.longitude).collect();
    sqlx::query!(
        "INSERT INTO offers.offers (id, bronze_id, content_hash, title, description, company_name,
            location_label, postal_code, commune_code, latitude, longitude, contract_type, contract_label,
            experience_code, experience_label, salary_label, rome_code, rome_label, appellation_label,
            sector_code, sector_label, qualification_label, working_time_label, positions, origin_url,
            published_at, source_updated_at, embedding_text_hash, last_run_id)
         SELECT *, $28 FROM unnest($1::text[], $2::int8[], $3::bytea[], $4::text[], $5::text[], $6::text[],
            $7::text[], $8::text[], $9::text[], $10::float8[], $11::float8[], $12::text[], $13::text[],
            $14::text[], $15::text[], $16::text[], $17::text[], $18::text[], $19::text[], $20::text[],
            $21::text[], $22::text[], $23::text[], $24::int4[], $25::text[], $26::timestamptz[],
            $27::timestamptz[], $29::bytea[])
         ON CONFLICT (id) DO UPDATE SET bronze_id = EXCLUDED.bronze_id, content_hash = EXCLUDED.content_hash,
            title = EXCLUDED.title, description = EXCLUDED.description, company_name = EXCLUDED.company_name,
            location_label = EXCLUDED.location_label, postal_code = EXCLUDED.postal_code,
            commune_code = EXCLUDED.commune_code, latitude = EXCLUDED.latitude, longitude = EXCLUDED.longitude,
            contract_type = EXCLUDED.contract_type, contract_label = EXCLUDED.contract_label,
            experience_code = EXCLUDED.experience_code, experience_label = EXCLUDED.experience_label,
            salary_label = EXCLUDED.salary_label, rome_code = EXCLUDED.rome_code, rome_label = EXCLUDED.rome_label,
            appellation_label = EXCLUDED.appellation_label, sector_code = EXCLUDED.sector_code,
            sector_label = EXCLUDED.sector_label, qualification_label = EXCLUDED.qualification_label,
            working_time_label = EXCLUDED.working_time_label, positions = EXCLUDED.positions,
            origin_url = EXCLUDED.origin_url, published_at = EXCLUDED.published_at,
            source_updated_at = EXCLUDED.source_updated_at, embedding_text_hash = EXCLUDED.embedding_text_hash,
            last_run_id = EXCLUDED.last_run_id, updated_at = now(),
            archived_at = NULL, archive_reason = NULL",
        &ids,
        &bronze_ids,
        &hashes,
        &offers.iter().map(|(o, _, _)| o.title.clone()).collect::<Vec<_>>(),
        &column(&|o| o.description.clone()) as &[Option<String>],
        &column(&|o| o.company_name.clone()) as &[Option<String>],
        &column(&|o| o.location_label.clone()) as &[Option<String>],
        &column(&|o| o.postal_code.clone()) as &[Option<String>],
        &column(&|o| o.commune_code.clone()) as &[Option<String>],
        &latitudes as &[Option<f64>],
        &longitudes as &[Option<f64>],
        &contract_types as &[Option<String>],
        &column(&|o| o.contract_label.clone()) as &[Option<String>],
        &column(&|o| o.experience_code.clone()) as &[Option<String>],
        &column(&|o| o.experience_label.clone()) as &[Option<String>],
        &column(&|o| o.salary_label.clone()) as &[Option<String>],
        &rome_codes as &[Option<String>],
        &column(&|o| o.rome_label.clone()) as &[Option<String>],
        &column(&|o| o.appellation_label.clone()) as &[Option<String>],
        &column(&|o| o.sector_code.clone()) as &[Option<String>],
        &column(&|o| o.sector_label.clone()) as &[Option<String>],
        &column(&|o| o.qualification_label.clone()) as &[Option<String>],
        &column(&|o| o.working_time_label.clone()) as &[Option<String>],
        &offers.iter().map(|(o, _, _)| o.positions).collect::<Vec<_>>() as &[Option<i32>],
        &column(&|o| o.origin_url.clone()) as &[Option<String>],
        &published as &[Option<DateTime<Utc>>],
        &offers.iter().map(|(o, _, _)| o.source_updated_at).collect::<Vec<_>>() as &[Option<DateTime<Utc>>],
        run_id,
        &offers.iter().map(|(o, _, _)| o.embedding_text_hash()).collect::<Vec<_>>()
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "DELETE FROM offers.offer_skills WHERE offer_id = ANY($1)",
        &ids
    )
    .execute(&mut *tx)
    .await?;
    let (mut skill_offers, mut positions, mut codes, mut labels, mut required) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (offer, _, _) in offers {
        for (position, skill) in offer.skills.iter().enumerate() {
            skill_offers.push(offer.id.clone());
            positions.push(position as i32);
            codes.push(skill.code.clone());
            labels.push(skill.label.clone());
            required.push(skill.required);
        }
    }
    if !skill_offers.is_empty() {
        sqlx::query!(
            "INSERT INTO offers.offer_skills (offer_id, position, code, label, required)
             SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::bool[])",
            &skill_offers,
            &positions,
            &codes as &[Option<String>],
            &labels,
            &required as &[Option<bool>]
        )
        .execute(&mut *tx)
        .await?;
    }
    // The gold rows' filter columns follow their offers (a vector is redone by the embed
    // step if the text changed).
    sqlx::query!(
        "UPDATE offers.embeddings e SET archived = false, contract_type = u.contract_type,
            rome_code = u.rome_code, published_at = u.published_at, latitude = u.latitude,
            longitude = u.longitude
         FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::float8[], $6::float8[])
             AS u(id, contract_type, rome_code, published_at, latitude, longitude)
         WHERE e.offer_id = u.id",
        &ids,
        &contract_types as &[Option<String>],
        &rome_codes as &[Option<String>],
        &published as &[Option<DateTime<Utc>>],
        &latitudes as &[Option<f64>],
        &longitudes as &[Option<f64>]
    )
    .execute(tx)
    .await?;
    Ok(())
}

/// Archives offers past their end (not updated for `max_age_days`, unless it is 0) and,
/// after a full sync, those it did not see; returns their ids. Archived offers stay
/// served, and are never matched.
async fn archive(
    db: &PgPool,
    seen: Option<&Vec<String>>,
    max_age_days: i64,
) -> sqlx::Result<Vec<String>> {
    let mut tx = db.begin().await?;
    let mut archived: Vec<String> = if max_age_days > 0 {
        let cutoff: DateTime<Utc> = Utc::now() - chrono::Duration::days(max_age_days);
        sqlx::query_scalar!(
            "UPDATE offers.offers SET archived_at = now(), archive_reason = 'expired'
             WHERE archived_at IS NULL AND COALESCE(source_updated_at, published_at, first_seen_at) < $1
             RETURNING id",
            cutoff
        )
        .fetch_all(&mut *tx)
        .await?
    } else {
        Vec::new()
    };
    if let Some(seen) = seen {
        archived.extend(
            sqlx::query_scalar!(
                "UPDATE offers.offers SET archived_at = now(), archive_reason = 'absent from the full sync'
                 WHERE archived_at IS NULL AND NOT (id = ANY($1)) RETURNING id",
                seen
            )
            .fetch_all(&mut *tx)
            .await?,
        );
    }
    sqlx::query!(
        "UPDATE offers.embeddings SET archived = true WHERE offer_id = ANY($1)",
        &archived
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(archived)
}
