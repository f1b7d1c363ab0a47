//! Demo offers: real referentials, the shapes of real offers, deterministic.
//! Needs `make setup`'s referentials (make test sources its env file).

use std::collections::HashSet;
use std::process::Command;

use chrono::TimeZone;
use offre_ingestion::demo::{self, DemoConfig, Referentials};
use offre_ingestion::ingest::ingest_file;
use offre_ingestion::normalize::normalize;
use shared::env::Env;
use testkit::TestDb;

use crate::common::*;

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
    assert!(refs.jobs.len() >= 60, "{} ROME jobs", refs.jobs.len());
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
    let jobs: std::collections::HashMap<(&str, &str), &demo::Job> = refs
        .jobs
        .iter()
        .map(|j| ((j.rome_code.as_str(), j.rome_label.as_str()), j))
        .collect();
    let mut domains: std::collections::HashMap<char, usize> = Default::default();
    let (mut partial, mut with_skills, mut without_company, mut without_salary, mut cdi) =
        (0, 0, 0, 0, 0);
    for offer in &offers {
        let normalized = normalize(offer).unwrap_or_else(|e| panic!("{e}: {offer}"));
        let job = jobs[&(
            offer["romeCode"].as_str().unwrap(),
            offer["romeLibelle"].as_str().unwrap(),
        )];
        *domains
            .entry(job.rome_code.chars().next().unwrap())
            .or_default() += 1;
        // Its title, text and skills are the job's own.
        let title = offer["intitule"].as_str().unwrap();
        assert!(
            job.titles.iter().any(|t| title == format!("{t} (H/F)")),
            "{title}"
        );
        let text = offer["description"].as_str().unwrap();
        // (A few carry &nbsp; for their spaces, decoded as no-break spaces.)
        let decoded = normalized
            .description
            .as_deref()
            .unwrap()
            .replace('\u{a0}', " ");
        assert!(
            job.missions
                .iter()
                .filter(|m| decoded.contains(m.as_str()))
                .count()
                >= 2,
            "two of the job's missions at least: {text}"
        );
        for skill in &normalized.skills {
            assert!(
                job.skills.contains(&skill.label),
                "{}: {skill:?}",
                job.rome_code
            );
        }
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
    // The market's shares of ROME domains (../shared/notes/france-travail-data.md):
    // services to people 22 %, industry 16 %, construction 12 %, support functions 11 %,
    // retail 10 %, transport 8 %, maintenance 8 %, hotels and restaurants 7 %.
    for (domain, expected) in [
        ('K', 0.22),
        ('H', 0.16),
        ('F', 0.12),
        ('M', 0.11),
        ('D', 0.10),
        ('N', 0.08),
        ('I', 0.08),
        ('G', 0.07),
    ] {
        let seen = share(domains.get(&domain).copied().unwrap_or(0), 2000);
        assert!(
            (seen - expected).abs() < 0.03,
            "domain {domain}: {seen:.3} of the offers, the market's {expected}"
        );
    }
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
