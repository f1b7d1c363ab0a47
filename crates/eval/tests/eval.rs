//! `make eval` end to end on a small set made here: the offers ingested by the real
//! pipeline into a scratch database, the services run from their binaries, the CVs sent
//! the GUI's way, and each variant's run written for any scorer.

use std::io::Write;
use std::path::PathBuf;

use eval::set::RunFile;
use serde_json::json;

fn offer(id: &str, title: &str, description: &str, rome: &str) -> serde_json::Value {
    json!({"id": id, "intitule": title, "description": description, "romeCode": rome,
           "appellationlibelle": title, "typeContrat": "CDI",
           "dateCreation": "2023-03-01T08:00:00.000Z", "dateActualisation": "2023-03-02T08:00:00.000Z"})
}

/// The binaries cargo built with the workspace's tests (target/debug).
fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(|d| d.parent()).unwrap().to_path_buf();
    for name in ["offre-ingestion", "matching", "cv-ingestion"] {
        assert!(
            dir.join(name).is_file(),
            "{name} is built with the workspace's tests (make test)"
        );
    }
    dir
}

#[tokio::test]
async fn a_set_is_ingested_matched_through_the_services_and_scored() {
    let dir = tempfile::tempdir().unwrap();
    let set = dir.path().join("mini");
    std::fs::create_dir_all(set.join("cvs")).unwrap();
    // Offers dated 2023: kept although old (the sets' offers are from 2022–2025).
    let offers = json!({"resultats": [
        offer("DEV1", "Développeur Python (H/F)", "Développement d'API en Python et Django.", "M1805"),
        offer("DEV2", "Développeur web", "Applications web en JavaScript et Python.", "M1805"),
        offer("NUR1", "Infirmier de nuit (H/F)", "Soins aux patients hospitalisés, surveillance de nuit.", "J1506"),
        offer("NUR2", "Infirmière de bloc", "Préparation du bloc opératoire et soins.", "J1506"),
        offer("DRV1", "Chauffeur poids lourd", "Livraisons régionales en semi-remorque.", "N4101"),
        offer("ACC1", "Comptable", "Tenue de la comptabilité et déclarations fiscales.", "M1203"),
    ]});
    let mut gz = flate2::write::GzEncoder::new(
        std::fs::File::create(set.join("offers.json.gz")).unwrap(),
        flate2::Compression::fast(),
    );
    gz.write_all(offers.to_string().as_bytes()).unwrap();
    gz.finish().unwrap();
    std::fs::write(
        set.join("cvs/cv_0001.txt"),
        "Développeur Python\nCompétences : Python ; Django ; API REST\n",
    )
    .unwrap();
    std::fs::write(
        set.join("cvs/cv_0002.txt"),
        "Infirmier\nCompétences : Soins infirmiers ; surveillance des patients\n",
    )
    .unwrap();
    std::fs::write(
        set.join("qrels.tsv"),
        "cv_0001.txt\tDEV1\t2\ncv_0001.txt\tDEV2\t1\ncv_0002.txt\tNUR1\t2\ncv_0002.txt\tNUR2\t1\n",
    )
    .unwrap();

    let admin_url = std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let runs = dir.path().join("runs");
    eval::run::run(eval::run::Options {
        sets: vec![set.clone()],
        runs_dir: Some(runs.clone()),
        bin_dir: bin_dir(),
        admin_url: admin_url.clone(),
        tune: false,
        embedding_variants: false,
        train_reranker: Some(dir.path().join("linear-mini.json")),
    })
    .await
    .unwrap();

    let read = |variant: &str| -> RunFile {
        serde_json::from_slice(
            &std::fs::read(runs.join("mini").join(format!("{variant}.json"))).unwrap(),
        )
        .unwrap()
    };
    let hybrid = read("hybrid");
    assert_eq!(hybrid["cv_0001.txt"][..2], ["DEV1", "DEV2"], "{hybrid:?}");
    assert_eq!(hybrid["cv_0002.txt"][..2], ["NUR1", "NUR2"], "{hybrid:?}");
    let vector = read("vector");
    assert_eq!(
        vector["cv_0001.txt"].len(),
        6,
        "every offer ranked: none archived for its age"
    );
    let qrels = eval::set::EvalSet::load(&set).unwrap().qrels;
    assert_eq!(eval::metrics::score(&hybrid, &qrels).ndcg, 1.0);
    for variant in [
        "lexical-alone",
        "hybrid-without-title",
        "reranker-cross-validated",
    ] {
        assert_eq!(read(variant).len(), 2, "{variant}");
    }
    // The re-ranker trained on the set's candidates: a model file matching reads, named
    // by its file, that orders the set's grades better than chance.
    let model = ranking::Reranker::from_json(
        &std::fs::read_to_string(dir.path().join("linear-mini.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(model.id(), "linear-mini");
    let candidates: std::collections::BTreeMap<String, Vec<shared::MatchHit>> =
        serde_json::from_slice(
            &std::fs::read(runs.join("mini").join("hybrid-100-signals.json")).unwrap(),
        )
        .unwrap();
    for (cv, best) in [("cv_0001.txt", "DEV1"), ("cv_0002.txt", "NUR1")] {
        let hits = &candidates[cv];
        assert_eq!(hits.len(), 6, "every offer a candidate: {hits:?}");
        let signals: Vec<ranking::Signals> =
            hits.iter().map(|h| h.signals.unwrap().into()).collect();
        let (first, score) = model.order(&signals)[0];
        assert_eq!(hits[first].id, best, "{cv}");
        assert!((0.0..=1.0).contains(&score));
    }

    // The scratch database is kept for re-runs; this one is the test's own.
    use sqlx::Connection;
    let mut admin = sqlx::PgConnection::connect(&admin_url).await.unwrap();
    let name = eval::run::scratch_name(&eval::set::EvalSet::load(&set).unwrap());
    sqlx::raw_sql(&format!(r#"DROP DATABASE "{name}" WITH (FORCE)"#))
        .execute(&mut admin)
        .await
        .unwrap();
}
