//! Demo offers are drawn from real ROME jobs with the market's weights (`make run`
//! loads 3,000; here 1,500): typical CVs find offers of their own job first among them.
//!
//! A test binary of its own, not a module of `tests/api`: it embeds 1,500 offers, for
//! minutes, on its process's embedding worker (`shared::embedding` loads the model once
//! per process, and one worker serves every caller in turn). Beside the other tests in
//! one process (`cargo test` runs a binary's tests in threads of one process), their
//! embeddings (a CV uploaded, a profile edited) would wait behind it past their
//! timeouts.

// The helpers of `tests/api`; this test uses only some of them.
#[allow(dead_code)]
#[path = "api/common/mod.rs"]
mod common;

use common::suite::suite_with;
use common::{listed, Browser};
use reqwest::StatusCode;

/// CVs as candidates write them, for five of the jobs that weigh most on the market, and
/// the ROME groups a recruiter would propose for each (a care assistant's: hospital care
/// or home care).
const TYPICAL_CVS: [(&str, &str, &[&str]); 5] = [
    (
        "developpeuse@exemple.fr",
        "Camille Martin\nDéveloppeuse web\n\nExpérience\n2021 - 2024 : développeuse Python chez Axa, \
         applications web avec Django et PostgreSQL, API REST, tests, Docker et Git.\n\n\
         Compétences\nPython, Django, JavaScript, SQL, Git\n",
        &["M18"],
    ),
    (
        "aide-soignante@exemple.fr",
        "Sophie Leroy\nAide-soignante diplômée (DEAS)\n\nExpérience\n2019 - 2024 : aide-soignante en EHPAD, \
         toilettes, aide aux repas, prise des constantes, transmissions à l'équipe infirmière.\n\
         2017 - 2019 : auxiliaire de vie à domicile.\n\nCompétences\nsoins d'hygiène et de confort, \
         accompagnement des personnes âgées\n",
        &["J15", "K13"],
    ),
    (
        "chauffeur@exemple.fr",
        "Karim Benali\nChauffeur poids lourd\n\nPermis C et CE, FIMO à jour, carte conducteur.\n\n\
         Expérience\n2015 - 2024 : conducteur PL chez un transporteur régional, livraisons en messagerie, \
         chargement et déchargement, hayon, tournées de 250 km.\n",
        &["N41"],
    ),
    (
        "comptable@exemple.fr",
        "Julie Moreau\nComptable\n\nBTS Comptabilité et gestion.\n\nExpérience\n2016 - 2024 : comptable \
         en cabinet d'expertise comptable, saisie des écritures, rapprochements bancaires, déclarations \
         de TVA, bilans, logiciel Sage.\n\nCompétences\nComptabilité générale, Excel, Sage\n",
        &["M12"],
    ),
    (
        "cuisinier@exemple.fr",
        "Thomas Petit\nCuisinier\n\nCAP Cuisine.\n\nExpérience\n2018 - 2024 : commis puis cuisinier en \
         restaurant traditionnel, préparation des entrées et des plats, mise en place, respect des normes \
         HACCP, gestion des commandes.\n",
        &["G16"],
    ),
];

#[tokio::test]
async fn typical_cvs_get_offers_of_their_own_job_first_among_the_demo_offers() {
    let config = offre_ingestion::demo::DemoConfig::from_env(&platform::Env::from_process())
        .expect("make test sources REFERENTIALS_DIR");
    let refs = offre_ingestion::demo::Referentials::load(&config).unwrap();
    let now = chrono::Utc::now();
    let offers: Vec<serde_json::Value> = offre_ingestion::demo::generate(&refs, 7, now)
        .take(1500)
        .collect();
    let suite = suite_with(offers).await;
    for (email, cv, groups) in TYPICAL_CVS {
        let mut browser = Browser::new(&suite.app);
        browser.signed_in(email).await;
        let response = browser.upload_cv(cv.as_bytes().to_vec(), "cv.txt").await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{email}");
        let html = browser.page("/offres").await;
        assert_eq!(listed(&html).len(), 20, "{email}");
        let best: Vec<(String, String)> = sqlx::query_as(
            "SELECT o.title, o.rome_code FROM gui.match_results m
             JOIN gui.job_offers o ON o.external_id = m.offer_external_id
             JOIN gui.users u ON u.id = m.user_id
             WHERE u.email = $1 ORDER BY m.score DESC, o.external_id LIMIT 5",
        )
        .bind(email)
        .fetch_all(&suite.app.pool)
        .await
        .unwrap();
        assert!(
            best.iter()
                .all(|(_, rome)| groups.iter().any(|g| rome.starts_with(g))),
            "{email}: offers of {groups:?} first: {best:?}"
        );
    }
}
