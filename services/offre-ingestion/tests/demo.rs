//! Demo offers: real referentials, the shapes of real offers, deterministic.
//! Needs `make setup`'s referentials (make test sources its env file).

mod common;

use std::collections::HashSet;
use std::process::Command;

use chrono::TimeZone;
use common::*;
use offre_ingestion::demo::{self, DemoConfig, Referentials};
use offre_ingestion::ingest::ingest_file;
use offre_ingestion::normalize::normalize;
use shared::env::Env;
use testkit::TestDb;

fn referentials() -> Referentials {
    let config =
        DemoConfig::from_env(&Env::from_process()).expect("make test sources REFERENTIALS_DIR");
    Referentials::load(&config).unwrap()
}

fn share(part: usize, total: usize) -> f64 {
    part as f64 / total as f64
}

#[test]
fn demo_offers_look_like_real_ones() {
    let refs = referentials();
    assert!(
        refs.communes.len() > 5000,
        "{} communes with coordinates",
        refs.communes.len()
    );
    assert!(refs.jobs.len() > 1000, "{} ROME jobs", refs.jobs.len());
    let now = chrono::Utc
        .with_ymd_and_hms(2026, 11, 27, 12, 0, 0)
        .unwrap();
    let offers: Vec<_> = demo::generate(&refs, 42, now).take(2000).collect();

    let ids: HashSet<&str> = offers.iter().map(|o| o["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 2000, "unique ids");
    let numeric = ids
        .iter()
        .filter(|id| id.len() == 7 && id.bytes().all(|b| b.is_ascii_digit()))
        .count();
    assert!(
        (0.02..0.10).contains(&share(numeric, 2000)),
        "partner ids: {numeric}"
    );

    let communes: std::collections::HashMap<&str, &demo::Commune> =
        refs.communes.iter().map(|c| (c.code.as_str(), c)).collect();
    let jobs: HashSet<(&str, &str)> = refs
        .jobs
        .iter()
        .map(|j| (j.rome_code.as_str(), j.rome_label.as_str()))
        .collect();
    let (mut partial, mut with_skills, mut without_company, mut without_salary, mut cdi) =
        (0, 0, 0, 0, 0);
    for offer in &offers {
        let normalized = normalize(offer).unwrap_or_else(|e| panic!("{e}: {offer}"));
        assert!(jobs.contains(&(
            offer["romeCode"].as_str().unwrap(),
            offer["romeLibelle"].as_str().unwrap()
        )));
        match offer["lieuTravail"]["commune"].as_str() {
            Some(code) => {
                let commune = communes[code];
                let postal = offer["lieuTravail"]["codePostal"].as_str().unwrap();
                assert!(
                    commune.postal_codes.iter().any(|p| p == postal),
                    "{postal} is a postal code of {}",
                    commune.name
                );
                assert!(normalized.latitude.is_some() && normalized.longitude.is_some());
            }
            None => partial += 1,
        }
        with_skills += usize::from(!normalized.skills.is_empty());
        without_company += usize::from(normalized.company_name.is_none());
        without_salary += usize::from(normalized.salary_label.is_none());
        cdi += usize::from(normalized.contract_type.as_deref() == Some("CDI"));
        let description = normalized.description.unwrap();
        assert!(
            !description.contains("&eacute;") && !description.contains("&nbsp;"),
            "entities are decoded: {description}"
        );
        let created = normalized.published_at.unwrap();
        assert!(created <= now && created > now - chrono::Duration::days(31));
    }
    assert!(
        (0.04..0.13).contains(&share(partial, 2000)),
        "partial places: {partial}"
    );
    assert!(
        (0.30..0.50).contains(&share(with_skills, 2000)),
        "with skills: {with_skills}"
    );
    assert!(
        (0.12..0.25).contains(&share(without_company, 2000)),
        "no company: {without_company}"
    );
    assert!(
        (0.20..0.45).contains(&share(without_salary, 2000)),
        "no salary: {without_salary}"
    );
    assert!((0.45..0.65).contains(&share(cdi, 2000)), "CDI: {cdi}");
    let raw = offers
        .iter()
        .filter(|o| o["description"].as_str().unwrap().contains("&eacute;"))
        .count();
    assert!(raw > 0, "some raw descriptions carry HTML entities");
}

#[test]
fn the_same_seed_and_date_give_the_same_offers() {
    let refs = referentials();
    let now = chrono::Utc
        .with_ymd_and_hms(2026, 11, 27, 12, 0, 0)
        .unwrap();
    let first: Vec<_> = demo::generate(&refs, 1, now).take(50).collect();
    let again: Vec<_> = demo::generate(&refs, 1, now).take(50).collect();
    let other: Vec<_> = demo::generate(&refs, 2, now).take(50).collect();
    assert_eq!(first, again);
    assert_ne!(first, other);
}

#[tokio::test]
async fn the_command_prints_offers_that_ingest() {
    let output = Command::new(env!("CARGO_BIN_EXE_offre-ingestion"))
        .args(["demo-data", "--count", "60", "--seed", "5"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(output.stdout.iter().filter(|&&b| b == b'\n').count(), 60);
    let db = TestDb::new().await;
    let pool = db.pool().await;
    let files = files();
    let path = files.write("demo.jsonl", &output.stdout);
    let report = ingest_file(&pool, &path, None, 60).await.unwrap();
    assert_eq!((report.counts.new, report.counts.quarantined), (60, 0));
}

#[test]
fn without_referentials_the_command_says_to_run_make_setup() {
    let output = Command::new(env!("CARGO_BIN_EXE_offre-ingestion"))
        .args(["demo-data", "--count", "1"])
        .env_clear()
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("REFERENTIALS_DIR") && stderr.contains("make setup"),
        "{stderr}"
    );
}
