//! Helpers shared by the offre-ingestion tests.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use platform::config::Env;
use serde_json::{json, Value};
use shared::embedding::{self, Embedder, EmbeddingConfig};
use sqlx::PgPool;
use testkit::offers::Offer;

/// A France Travail offer payload with the common fields: a CDI at ACME in Lyon 3e,
/// its ROME job, salary and two skills (Rust required, SQL wished).
pub fn offer(id: &str, title: &str, description: &str) -> Value {
    Offer::new(id, title)
        .description(description)
        .updated("2026-11-25T08:00:00.000Z")
        .place("69 - LYON 03", 45.76, 4.85)
        .commune("69003", "69383")
        .rome("M1805")
        .rome_label("Études et développement informatique")
        .company("ACME")
        .contract("CDI")
        .contract_label("Contrat à durée indéterminée")
        .salary("Annuel de 40000 Euros")
        .skill(json!({"code": "100", "libelle": "Rust", "exigence": "E"}))
        .wished("SQL")
        .with("agence", json!({}))
        .json()
}

/// `n` offers with distinct ids and texts.
pub fn offers(n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| {
            offer(
                &format!("T{i:06}"),
                &format!("Développeur {i}"),
                &format!("Mission numéro {i} en équipe."),
            )
        })
        .collect()
}

/// Test input files in a temporary directory.
pub struct Files(pub tempfile::TempDir);

pub fn files() -> Files {
    Files(tempfile::tempdir().unwrap())
}

impl Files {
    pub fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.0.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    pub fn json_lines(&self, name: &str, offers: &[Value]) -> PathBuf {
        self.write(name, testkit::offers::json_lines(offers).as_bytes())
    }

    pub fn search_response(&self, name: &str, offers: &[Value]) -> PathBuf {
        let body = json!({"resultats": offers, "filtresPossibles": [{"filtre": "typeContrat", "agregation": []}]});
        self.write(
            name,
            serde_json::to_string_pretty(&body).unwrap().as_bytes(),
        )
    }

    pub fn gzip(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(bytes).unwrap();
        self.write(name, &encoder.finish().unwrap())
    }
}

pub async fn embedder() -> Arc<dyn Embedder> {
    let config =
        EmbeddingConfig::from_env(&Env::from_process()).expect("make test sources the model's env");
    embedding::from_config(&config).await.unwrap()
}

pub async fn count(db: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(db).await.unwrap()
}

/// A fingerprint of every row version of the offers tables: any insert, update or
/// delete changes it (each row version has its own xmin and ctid).
pub async fn row_versions(db: &PgPool) -> Vec<String> {
    let mut out = Vec::new();
    for table in [
        "bronze_payloads",
        "offers",
        "offer_skills",
        "quarantine",
        "embeddings",
        "outbox",
    ] {
        let sql = format!(
            "SELECT coalesce(md5(string_agg(ctid::text || ':' || xmin::text, ',' ORDER BY ctid)), '') FROM offers.{table}"
        );
        let fingerprint: String = sqlx::query_scalar(&sql).fetch_one(db).await.unwrap();
        out.push(format!("{table}:{fingerprint}"));
    }
    out
}
