//! Demo offers: real referentials, the shapes of real offers (measured against real
//! offers), deterministic. Needs `make setup`'s referentials (make test sources its env
//! file) and the French development set's offers (`JOBMATCH_SHARED`).

use std::collections::HashSet;
use std::process::Command;

use chrono::TimeZone;
use offre_ingestion::demo::{self, DemoConfig, Referentials};
use offre_ingestion::ingest::ingest_file;
use offre_ingestion::normalize::{normalize, Offer};
use platform::config::Env;
use testkit::TestDb;

use crate::common::*;

fn referentials() -> Referentials {
    let config =
        DemoConfig::from_env(&Env::from_process()).expect("make test sources REFERENTIALS_DIR");
    Referentials::load(&config).unwrap()
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

    let communes: std::collections::HashMap<&str, &demo::Commune> =
        refs.communes.iter().map(|c| (c.code.as_str(), c)).collect();
    let jobs: std::collections::HashMap<(&str, &str), &demo::Job> = refs
        .jobs
        .iter()
        .map(|j| ((j.rome_code.as_str(), j.rome_label.as_str()), j))
        .collect();
    for offer in &offers {
        let normalized = normalize(offer).unwrap_or_else(|e| panic!("{e}: {offer}"));
        let job = jobs[&(
            offer["romeCode"].as_str().unwrap(),
            offer["romeLibelle"].as_str().unwrap(),
        )];
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
        if let Some(code) = offer["lieuTravail"]["commune"].as_str() {
            let commune = communes[code];
            let postal = offer["lieuTravail"]["codePostal"].as_str().unwrap();
            assert!(
                commune.postal_codes.iter().any(|p| p == postal),
                "{postal} is a postal code of {}",
                commune.name
            );
            assert!(normalized.latitude.is_some() && normalized.longitude.is_some());
        }
        let description = normalized.description.unwrap();
        assert!(
            !description.contains("&eacute;") && !description.contains("&nbsp;"),
            "entities are decoded: {description}"
        );
        let created = normalized.published_at.unwrap();
        assert!(created <= now && created > now - chrono::Duration::days(31));
    }
    // Measured alike on real offers: each share within what two samples of these sizes
    // can differ by (three standard deviations of the difference, at least 2 points).
    let real = real_offers();
    let (demo, market) = (Shape::of(&offers), Shape::of(&real));
    let mut off = Vec::new();
    for ((what, seen, n_demo), (_, expected, n_real)) in
        demo.shares().into_iter().zip(market.shares())
    {
        let spread = (expected * (1.0 - expected) * (1.0 / n_demo + 1.0 / n_real)).sqrt();
        let tolerance = (3.0 * spread).max(0.02);
        println!("{what:<28} demo {seen:.3}  real {expected:.3}  (±{tolerance:.3})");
        if (seen - expected).abs() > tolerance {
            off.push(format!("{what}: demo {seen:.3}, real {expected:.3}"));
        }
    }
    assert!(off.is_empty(), "demo offers unlike real ones: {off:?}");
}

/// Real France Travail offers: the French development set's (`JOBMATCH_SHARED`, else
/// `../shared` beside the clone, as `make setup` reads it).
fn real_offers() -> Vec<serde_json::Value> {
    let shared = std::env::var_os("JOBMATCH_SHARED")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| testkit::repo_dir().join("../shared"));
    let path = shared.join("eval-dev/fr/offers.json.gz");
    let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let answer: serde_json::Value =
        serde_json::from_reader(flate2::read::GzDecoder::new(file)).unwrap();
    let offers = answer["resultats"].as_array().unwrap().clone();
    assert!(offers.len() > 5000, "{} real offers", offers.len());
    offers
}

/// What a set of offers looks like: shares of the cases a parser meets, and of the
/// market's main ROME domains.
struct Shape {
    /// What, how many offers show it, among how many.
    counts: Vec<(&'static str, usize, usize)>,
}

impl Shape {
    fn of(offers: &[serde_json::Value]) -> Self {
        let pairs: Vec<_> = offers
            .iter()
            .map(|o| (o, normalize(o).unwrap_or_else(|e| panic!("{e}: {o}"))))
            .collect();
        let count = |what: &'static str, test: &dyn Fn(&serde_json::Value, &Offer) -> bool| {
            let n = pairs.iter().filter(|(o, n)| test(o, n)).count();
            (what, n, pairs.len())
        };
        let mut counts = vec![
            count("partner offers (numeric id)", &|o, _| {
                let id = o["id"].as_str().unwrap_or("");
                id.len() == 7 && id.bytes().all(|b| b.is_ascii_digit())
            }),
            count("place without a commune", &|o, _| {
                o["lieuTravail"]["commune"].as_str().is_none()
            }),
            count("with skills", &|_, n| !n.skills.is_empty()),
            count("without a company name", &|_, n| n.company_name.is_none()),
            count("without a salary", &|_, n| n.salary_label.is_none()),
            count("CDI", &|o, _| o["typeContrat"] == "CDI"),
            count("HTML entities in the text", &|o, _| {
                let text = o["description"].as_str().unwrap_or("");
                ["&eacute;", "&nbsp;", "&#039;", "&amp;", "&lt;"]
                    .iter()
                    .any(|e| text.contains(e))
            }),
        ];
        // The market's main domains (services to people, industry, construction,
        // support functions, retail, transport, maintenance, hotels and restaurants),
        // among the offers other than IT development's (M18xx): one source of the real
        // offers saved those alone (`notes/france-travail-data.md`), which would make the
        // market look like IT's.
        let market: Vec<&serde_json::Value> = offers
            .iter()
            .filter(|o| !o["romeCode"].as_str().unwrap_or("").starts_with("M18"))
            .collect();
        for (domain, what) in [
            ('K', "domain K"),
            ('H', "domain H"),
            ('F', "domain F"),
            ('M', "domain M"),
            ('D', "domain D"),
            ('N', "domain N"),
            ('I', "domain I"),
            ('G', "domain G"),
        ] {
            let n = market
                .iter()
                .filter(|o| {
                    o["romeCode"]
                        .as_str()
                        .is_some_and(|c| c.starts_with(domain))
                })
                .count();
            counts.push((what, n, market.len()));
        }
        Self { counts }
    }

    /// What, its share, and the sample's size.
    fn shares(&self) -> Vec<(&'static str, f64, f64)> {
        self.counts
            .iter()
            .map(|&(what, n, of)| (what, n as f64 / of as f64, of as f64))
            .collect()
    }
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
