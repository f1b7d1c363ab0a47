//! The profile with the real cv-ingestion: a real PDF CV uploaded through the page,
//! what was understood shown and editable, every change marking the matches out of
//! date and changing the profile's embedding.

use reqwest::StatusCode;
use testkit::documents::{self, Font};

use crate::common::*;

async fn embedding(app: &App) -> Vec<f32> {
    let v: pgvector::Vector = sqlx::query_scalar("SELECT profile_embedding FROM gui.profiles")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    v.to_vec()
}

async fn cv_updated_at(app: &App) -> chrono::DateTime<chrono::Utc> {
    sqlx::query_scalar("SELECT cv_updated_at FROM gui.profiles")
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

async fn invalidated_at(app: &App) -> chrono::DateTime<chrono::Utc> {
    sqlx::query_scalar("SELECT matches_invalidated_at FROM gui.profiles")
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_pdf_cv_is_read_shown_and_editable() {
    let cv = cv_ingestion().await;
    let app = app_with(|env| env.with("CV_INGESTION_URL", cv.base_url().as_str())).await;
    let mut browser = Browser::new(&app);
    browser.signed_in("camille@exemple.fr").await;

    let response = browser
        .upload_cv(
            documents::from_html(&cv_html(), "pdf", Font::Times),
            "cv.pdf",
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/profil?cv=1#section-cv");
    let page = browser.page("/profil?cv=1").await;
    for shown in [
        "Votre CV a été lu",
        "Python",
        "PostgreSQL",
        "gestion de projet",
        "Développeuse backend senior",
        "Banque Rhodanienne",
        "depuis janv. 2019",
        "Master Informatique, Université de Lyon (2014)",
        "Anglais : C1",
    ] {
        assert!(
            page.contains(shown),
            "{shown} missing from the profile page"
        );
    }
    let cv_embedding: pgvector::Vector =
        sqlx::query_scalar("SELECT cv_embedding FROM gui.profiles")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(cv_embedding.to_vec().len(), 384);
    let first = embedding(&app).await;
    assert_eq!(first.len(), 384);
    let cv_skills = count(
        &app,
        "SELECT count(*) FROM gui.profile_skills WHERE source = 'cv'",
    )
    .await;
    assert!(cv_skills > 10, "{cv_skills} skills from the CV");

    // A declared skill changes the profile's embedding and marks the matches out of date.
    let before = invalidated_at(&app).await;
    let response = browser.add_skill("Soudure TIG").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(browser.page("/profil").await.contains("Soudure TIG"));
    let second = embedding(&app).await;
    assert_ne!(first, second, "the profile's embedding follows its skills");
    assert!(invalidated_at(&app).await > before);

    let response = browser
        .submit(
            "/profil",
            "/profil/competences/supprimer",
            &[("label", "Python")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM gui.profile_skills WHERE label = 'Python'"
        )
        .await,
        0
    );
    assert_ne!(embedding(&app).await, second);

    // A skill read in the CV and removed stays offered, and one click adds it back.
    let page = browser.page("/profil").await;
    assert!(
        page.contains("Lues dans votre CV") && page.contains("aria-label=\"Ajouter Python\""),
        "Python offered again"
    );
    assert!(
        !page.contains("aria-label=\"Ajouter PostgreSQL\""),
        "held skills are not offered"
    );
    let response = browser.add_skill("Python").await;
    assert_eq!(location(&response), "/profil#section-competences");
    let page = browser.page("/profil").await;
    assert!(
        page.contains("aria-label=\"Retirer Python\"")
            && !page.contains("aria-label=\"Ajouter Python\"")
    );

    let before_experience = embedding(&app).await;
    let response = browser
        .submit(
            "/profil",
            "/profil/experiences",
            &[
                ("title", "Soudeuse"),
                ("employer", "Chantiers de l'Atlantique"),
                ("start", "2010-01"),
                ("end", "2011-06"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(browser
        .page("/profil")
        .await
        .contains("janv. 2010 – juin 2011"));
    assert_ne!(
        embedding(&app).await,
        before_experience,
        "the profile's embedding follows its experiences"
    );
    let bad = browser
        .submit(
            "/profil",
            "/profil/experiences",
            &[
                ("title", "Soudeuse"),
                ("employer", ""),
                ("start", "2012-01"),
                ("end", "2011-06"),
            ],
        )
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = bad.text().await.unwrap();
    assert!(html.contains("id=\"erreur-experiences\""));
    assert!(
        html.contains("value=\"2012-01\"") && html.contains("value=\"2011-06\""),
        "what was typed is given back"
    );

    // A new CV replaces what the previous one said, not what the candidate added.
    let from_cv = "SELECT count(*) FROM gui.profile_experiences WHERE source = 'cv'";
    let jobs_read = count(&app, from_cv).await;
    let before = cv_updated_at(&app).await;
    let response = browser
        .upload_cv(
            documents::from_html(&cv_html(), "odt", Font::Times),
            "cv.odt",
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(cv_updated_at(&app).await > before, "the new CV was read");
    assert_eq!(count(&app, from_cv).await, jobs_read);
    let page = browser.page("/profil").await;
    assert!(
        page.contains("Soudeuse") && page.contains("Soudure TIG"),
        "kept"
    );

    // Removing an experience: gone, and the embedding follows.
    let id: uuid::Uuid =
        sqlx::query_scalar("SELECT id FROM gui.profile_experiences WHERE title = 'Soudeuse'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    let before = embedding(&app).await;
    let response = browser
        .submit(
            "/profil",
            "/profil/experiences/supprimer",
            &[("id", id.to_string().as_str())],
        )
        .await;
    assert_eq!(location(&response), "/profil#section-experiences");
    assert!(!browser.page("/profil").await.contains("Soudeuse"));
    assert_ne!(embedding(&app).await, before);
}

#[tokio::test]
async fn cv_uploads_are_rate_limited_per_candidate() {
    let app = app().await;
    let mut browser = Browser::new(&app);
    browser.signed_in("theo@exemple.fr").await;
    // Empty uploads count as attempts too (the limit comes before reading the file),
    // and cost no call to cv-ingestion.
    for _ in 0..20 {
        let response = browser.upload_cv(Vec::new(), "cv.pdf").await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }
    let response = browser
        .upload_cv(b"Theo, boulanger".to_vec(), "cv.txt")
        .await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("Trop de tentatives"));
    // Per candidate: another one from the same address still may.
    let mut other = Browser::new(&app);
    other.signed_in("ines@exemple.fr").await;
    let response = other.upload_cv(Vec::new(), "cv.pdf").await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn place_radius_and_contracts_are_kept() {
    let app = app().await;
    let mut browser = Browser::new(&app);
    browser.signed_in("leo@exemple.fr").await;
    let response = browser
        .submit(
            "/profil",
            "/profil/preferences",
            &[
                ("place", "69007"),
                ("radius_km", "30"),
                ("contract_CDI", "on"),
                ("contract_MIS", "on"),
            ],
        )
        .await;
    assert_eq!(
        location(&response),
        "/profil?enregistre=1#section-preferences"
    );
    assert!(browser
        .page("/profil?enregistre=1")
        .await
        .contains("Vos préférences sont enregistrées."));
    let (place, lat, radius, contracts): (String, f64, f64, Vec<String>) =
        sqlx::query_as("SELECT place_label, latitude, radius_km, contract_types FROM gui.profiles")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(
        (place.as_str(), radius, contracts),
        ("Lyon", 30.0, vec!["CDI".to_owned(), "MIS".to_owned()])
    );
    assert!((lat - 45.76).abs() < 0.1);
    let page = browser.page("/profil").await;
    assert!(page.contains("value=\"Lyon\"") && page.contains("<option value=\"30\" selected>"));

    let response = browser
        .submit(
            "/profil",
            "/profil/preferences",
            &[("place", "Atlantis"), ("radius_km", "30")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = response.text().await.unwrap();
    // The refusal is shown in the section of the form that was sent.
    assert!(
        page.contains("id=\"erreur-preferences\">Commune inconnue"),
        "{page}"
    );
    assert!(
        page.contains("value=\"Atlantis\""),
        "what was typed is given back"
    );
    let place: String = sqlx::query_scalar("SELECT place_label FROM gui.profiles")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(place, "Lyon", "kept");
}

#[tokio::test]
async fn an_unreadable_cv_or_a_missing_service_says_what_to_do_in_french() {
    let cv = cv_ingestion().await;
    let app = app_with(|env| env.with("CV_INGESTION_URL", cv.base_url().as_str())).await;
    let mut browser = Browser::new(&app);
    browser.signed_in("ana@exemple.fr").await;
    let encrypted = documents::encrypt_pdf(
        &documents::from_html(&cv_html(), "pdf", Font::Times),
        "s3cret",
    );
    let response = browser.upload_cv(encrypted, "cv.pdf").await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("protégé par un mot de passe"));
    let response = browser
        .upload_cv(b"\x89PNG\r\n\x1a\n\x00\x00".to_vec(), "photo.png")
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("format n’est pas pris en charge"));
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM gui.profiles WHERE cv_text IS NOT NULL"
        )
        .await,
        0
    );

    let app = app_with(|env| env.with("CV_INGESTION_URL", "http://127.0.0.1:9")).await;
    let mut browser = Browser::new(&app);
    browser.signed_in("ana@exemple.fr").await;
    let response = browser
        .upload_cv(b"Jean Martin, soudeur".to_vec(), "cv.txt")
        .await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(response.text().await.unwrap().contains("ne répond pas"));
}

/// Each profile edit re-embeds the profile: edits are capped (lengths, how many skills
/// and experiences) and limited per candidate (120 an hour), with clear answers.
#[tokio::test]
async fn profile_edits_are_capped_and_rate_limited_per_candidate() {
    let app = app().await;
    let mut browser = Browser::new(&app);
    browser.signed_in("zelie@exemple.fr").await;
    let long = "x".repeat(201);
    let response = browser
        .submit(
            "/profil",
            "/profil/competences",
            &[("label", long.as_str())],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let response = browser
        .submit(
            "/profil",
            "/profil/experiences",
            &[
                ("title", "Soudeuse"),
                ("employer", long.as_str()),
                ("start", ""),
                ("end", ""),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        count(&app, "SELECT count(*) FROM gui.profile_experiences").await,
        0
    );
    // A hundred declared skills: the next one is refused, saying why.
    sqlx::query("INSERT INTO gui.profiles (user_id) SELECT id FROM gui.users")
        .execute(&app.pool)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO gui.profile_skills (user_id, label, source)
         SELECT id, 'Compétence ' || i, 'declared' FROM gui.users, generate_series(1, 100) AS i",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    let response = browser.add_skill("Soudure TIG").await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("le nombre maximal de compétences"));
    // Three edits so far (refused ones count: the limit comes first); 117 more pass
    // (removals of skills the profile does not hold), the next is refused.
    for i in 1..=117 {
        let label = format!("Compétence {}", 100 + i);
        let response = browser
            .submit(
                "/profil",
                "/profil/competences/supprimer",
                &[("label", label.as_str())],
            )
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "edit {i}");
    }
    let response = browser
        .submit(
            "/profil",
            "/profil/competences/supprimer",
            &[("label", "Compétence 1")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM gui.profile_skills WHERE label = 'Compétence 1'"
        )
        .await,
        1,
        "the refused edit changed nothing"
    );
}
