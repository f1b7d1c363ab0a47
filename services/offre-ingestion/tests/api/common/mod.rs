//! Helpers shared by the offre-ingestion tests.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use platform::config::Env;
use serde_json::{json, Value};
use shared::embedding::{self, Embedder, EmbeddingConfig};
use sqlx::PgPool;

/// A France Travail offer payload with the common fields.
pub fn offer(id: &str, title: &str, description: &str) -> Value {
    json!({
        "id": id,
        "intitule": title,
        "description": description,
        "dateCreation": "2026-11-20T08:00:00.000Z",
        "dateActualisation": "2026-11-25T08:00:00.000Z",
        "lieuTravail": {"libelle": "69 - LYON 03", "latitude": 45.76, "longitude": 4.85, "codePostal": "69003", "commune": "69383"},
        "romeCode": "M1805", "romeLibelle": "Études et développement informatique",
        "entreprise": {"nom": "ACME"}, "typeContrat": "CDI", "typeContratLibelle": "Contrat à durée indéterminée",
        "salaire": {"libelle": "Annuel de 40000 Euros"},
        "competences": [{"code": "100", "libelle": "Rust", "exigence": "E"}, {"libelle": "SQL", "exigence": "S"}],
        "agence": {}
    })
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
        let mut text = String::new();
        for offer in offers {
            text.push_str(&offer.to_string());
            text.push('\n');
        }
        self.write(name, text.as_bytes())
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
