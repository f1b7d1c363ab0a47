//! The matches page with all four services really running (in-process, real HTTP, one
//! real database) and the real model: the cache policy row by row, and the stale mode
//! with matching cut off.

use std::time::Duration;

use reqwest::StatusCode;
use testkit::documents::{self, Font};
use testkit::offers::Offer;

use crate::common;
use crate::common::suite::suite;
use crate::common::*;

async fn matched_at(app: &App) -> chrono::DateTime<chrono::Utc> {
    sqlx::query_scalar("SELECT matched_at FROM gui.profiles")
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

/// Uploads the test CV (`cv_html`, a developer's), made by LibreOffice as `format`
/// (`pdf`, `docx`), from the profile page.
async fn upload_the_cv(browser: &mut Browser<'_>, format: &str) {
    let cv = documents::from_html(&cv_html(), format, Font::Times);
    let response = browser.upload_cv(cv, &format!("cv.{format}")).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "{format}");
}

/// A candidate signed in as `email`, with the test CV, whose first view of the matches
/// page searched and cached 20 offers.
async fn candidate_with_matches<'a>(app: &'a App, email: &str) -> Browser<'a> {
    let mut browser = Browser::new(app);
    browser.signed_in(email).await;
    upload_the_cv(&mut browser, "pdf").await;
    let html = browser.page("/offres").await;
    assert_eq!(listed(&html).len(), 20, "{html}");
    browser
}

/// The value of `series` (`name{labels}`) in the GUI's metrics, 0 when absent.
async fn metric(app: &App, series: &str) -> u64 {
    app.server
        .metrics()
        .await
        .lines()
        .find_map(|line| line.strip_prefix(&format!("{series} ")))
        .map_or(0, |n| n.parse().unwrap())
}

/// How many views of the matches page had `outcome` (`refreshed`, `hit`,
/// `refresh_failed`, `embedding_behind`).
async fn page_cache(app: &App, outcome: &str) -> u64 {
    metric(
        app,
        &format!(r#"matches_page_cache_total{{service="gui",outcome="{outcome}"}}"#),
    )
    .await
}

/// How many times the matches were searched again for `reason` (`empty`, `expired`,
/// `profile_changed`, `new_offers`, `asked`).
async fn refreshes(app: &App, reason: &str) -> u64 {
    metric(
        app,
        &format!(r#"matches_refreshes_total{{service="gui",outcome="{reason}"}}"#),
    )
    .await
}

#[tokio::test]
async fn a_cv_gets_twenty_offers_by_score_each_saying_why() {
    let suite = suite().await;
    let app = &suite.app;
    let mut browser = Browser::new(app);
    browser.signed_in("camille@exemple.fr").await;
    let html = browser.page("/offres").await;
    assert!(html.contains("Déposez votre CV"), "no profile yet");

    upload_the_cv(&mut browser, "pdf").await;
    let html = browser.page("/offres").await;
    let offers = listed(&html);
    assert_eq!(offers.len(), 20, "{html}");
    assert!(
        offers.windows(2).all(|w| w[0].1 >= w[1].1),
        "best first: {offers:?}"
    );
    assert!(
        offers[0].0.starts_with("Développeur backend"),
        "a developer's CV: {offers:?}"
    );
    // Each score also as a bar, of the same value.
    for (_, percent) in &offers {
        assert!(
            html.contains(&format!("<meter min=\"0\" max=\"100\" value=\"{percent}\"")),
            "a bar for {percent} %"
        );
    }
    assert!(
        html.contains("Vous avez : Docker, PostgreSQL, Python"),
        "why: the offer's skills the profile has"
    );
    let why = html
        .lines()
        .find(|l| l.contains("Pourquoi : "))
        .expect("why the first offer matches");
    assert!(
        (why.contains("intitulé proche") || why.contains("même métier"))
            && why.contains("3 compétences en commun")
            && why.contains("mots-clés : Docker"),
        "why it matches, as matching says: {why}"
    );
    assert!(
        html.contains("Entreprise")
            && html.contains("Mensuel de 2500 Euros")
            && html.contains("CDI")
    );
    assert!(
        ["Soins infirmiers", "Permis CE", "Comptabilité"]
            .iter()
            .any(|lacking| html.contains(&format!("À acquérir : {lacking}"))),
        "why: the offer's skills the profile lacks"
    );
    let best: f64 = sqlx::query_scalar("SELECT max(score) FROM gui.match_results")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(
        offers[0].1,
        (best * 100.0).round() as u32,
        "the score as a percentage"
    );
    assert!(!html.contains("peuvent ne pas être à jour"));
}

/// Results of the last 24 hours are shown as they are, without asking matching
/// (counted as a refresh the first time, a hit after); "Actualiser" searches anyway.
#[tokio::test]
async fn fresh_results_come_from_the_cache_until_actualiser_forces_a_search() {
    let suite = suite().await;
    let app = &suite.app;
    let mut browser = candidate_with_matches(app, "camille@exemple.fr").await;
    let first = matched_at(app).await;

    // Fresh: served from the cache, even with matching cut off.
    suite.matching_proxy.set_up(false);
    let html = browser.page("/offres").await;
    assert_eq!(listed(&html).len(), 20);
    assert!(!html.contains("peuvent ne pas être à jour"));
    assert_eq!(matched_at(app).await, first, "no new search");
    // The metrics tell both accesses apart: a refresh (never matched), then a hit.
    assert_eq!(refreshes(app, "empty").await, 1);
    assert_eq!(page_cache(app, "refreshed").await, 1);
    assert_eq!(page_cache(app, "hit").await, 1);

    // "Actualiser" forces a search.
    suite.matching_proxy.set_up(true);
    let response = browser.submit("/offres", "/offres/actualiser", &[]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(matched_at(app).await > first);
    assert_eq!(refreshes(app, "asked").await, 1);
}

/// The policy's first row: results older than 24 h are re-matched at the next access.
#[tokio::test]
async fn results_older_than_24_hours_are_rematched_at_the_next_access() {
    let suite = suite().await;
    let app = &suite.app;
    let mut browser = candidate_with_matches(app, "camille@exemple.fr").await;
    let first = matched_at(app).await;

    // Older than 24 h, and nothing else changed since.
    sqlx::query("UPDATE gui.profiles SET matched_at = now() - interval '25 hours'")
        .execute(&app.pool)
        .await
        .unwrap();
    sqlx::query(
        "UPDATE gui.profiles SET matches_invalidated_at = now() - interval '26 hours',
             profile_embedded_at = now() - interval '26 hours'",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    browser.page("/offres").await;
    let after_expiry = matched_at(app).await;
    assert!(after_expiry > first);
    assert_eq!(refreshes(app, "expired").await, 1);
    browser.page("/offres").await;
    assert_eq!(matched_at(app).await, after_expiry, "then cached again");
}

/// The policy's second row: a new CV makes the cached results out of date at once; the
/// next access re-matches.
#[tokio::test]
async fn a_new_cv_invalidates_the_cached_matches_at_once() {
    let suite = suite().await;
    let app = &suite.app;
    let mut browser = candidate_with_matches(app, "camille@exemple.fr").await;
    let first = matched_at(app).await;

    upload_the_cv(&mut browser, "docx").await;
    let html = browser.page("/offres").await;
    assert_eq!(listed(&html).len(), 20);
    assert!(matched_at(app).await > first);
    assert_eq!(refreshes(app, "profile_changed").await, 1, "the CV changed");
}

/// The policy's third row: a profile edit (a skill added) makes the cached results out
/// of date at once; the next access re-matches.
#[tokio::test]
async fn a_profile_change_invalidates_the_cached_matches_at_once() {
    let suite = suite().await;
    let app = &suite.app;
    let mut browser = candidate_with_matches(app, "camille@exemple.fr").await;
    let first = matched_at(app).await;

    let response = browser.add_skill("Soudure TIG").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let html = browser.page("/offres").await;
    assert_eq!(listed(&html).len(), 20);
    assert!(!html.contains("peuvent ne pas être à jour"));
    assert!(matched_at(app).await > first);
    assert_eq!(
        refreshes(app, "profile_changed").await,
        1,
        "the profile changed"
    );
}

/// The policy's fourth row: offers ingested since (the marker the events worker sets
/// from the event, see `worker`) re-match at the next access, not before.
#[tokio::test]
async fn new_offers_ingested_are_rematched_lazily_at_the_next_access() {
    let suite = suite().await;
    let app = &suite.app;
    let mut browser = candidate_with_matches(app, "camille@exemple.fr").await;
    let first = matched_at(app).await;

    tokio::time::sleep(Duration::from_millis(10)).await;
    sqlx::query("INSERT INTO gui.offers_marker (ingested_at) VALUES (now()) ON CONFLICT (singleton) DO UPDATE SET ingested_at = now()")
        .execute(&app.pool)
        .await
        .unwrap();
    browser.page("/offres").await;
    let after_new_offers = matched_at(app).await;
    assert!(after_new_offers > first);
    assert_eq!(refreshes(app, "new_offers").await, 1);
    browser.page("/offres").await;
    assert_eq!(matched_at(app).await, after_new_offers, "then cached again");
}

/// The policy's last row: results out of date (the profile changed) while matching, or
/// offre-ingestion, is down: the cached results with the notice, never an error page;
/// once both are back, the next access re-matches. (`Actualiser` with either service
/// down or hanging: `slow_or_unreachable_services_give_the_cached_results_with_the_notice`.)
#[tokio::test]
async fn matching_or_offre_ingestion_down_shows_the_cached_results_marked_stale() {
    let suite = suite().await;
    let app = &suite.app;
    let mut browser = candidate_with_matches(app, "camille@exemple.fr").await;
    let first = matched_at(app).await;

    let response = browser.add_skill("Soudure TIG").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    for (service, proxy) in [
        ("matching", &suite.matching_proxy),
        ("offre-ingestion", &suite.offers_proxy),
    ] {
        proxy.set_up(false);
        let html = browser.page("/offres").await;
        assert_eq!(listed(&html).len(), 20, "{service}");
        assert!(
            html.contains("Les résultats peuvent ne pas être à jour"),
            "{service}"
        );
        assert_eq!(matched_at(app).await, first, "{service}: nothing stored");
        proxy.set_up(true);
    }
    assert_eq!(page_cache(app, "refresh_failed").await, 2);
    let html = browser.page("/offres").await;
    assert!(!html.contains("peuvent ne pas être à jour"));
    assert!(
        matched_at(app).await > first,
        "re-matched once both are back"
    );
}

/// The contract preference keeps the offers of that contract only. Place and radius:
/// every offer is in Lyon; from Brest within 50 km there is none, from Lyon's 7th
/// arrondissement within 30 km there are, each with its distance.
#[tokio::test]
async fn the_contract_place_and_radius_preferences_filter_the_matches() {
    let suite = suite().await;
    let app = &suite.app;
    let mut browser = candidate_with_matches(app, "camille@exemple.fr").await;

    browser
        .submit(
            "/profil",
            "/profil/preferences",
            &[("place", ""), ("contract_CDI", "on")],
        )
        .await;
    let html = browser.page("/offres").await;
    let cdd = count(app, "SELECT count(*) FROM gui.match_results m LEFT JOIN gui.job_offers o ON o.external_id = m.offer_external_id WHERE o.contract_type IS DISTINCT FROM 'CDI'").await;
    assert_eq!(cdd, 0, "{html}");
    assert_eq!(listed(&html).len(), 20, "24 CDI offers, 20 shown");

    browser
        .submit(
            "/profil",
            "/profil/preferences",
            &[("place", "Brest"), ("radius_km", "50")],
        )
        .await;
    let html = browser.page("/offres").await;
    assert_eq!(listed(&html).len(), 0);
    assert!(html.contains("Aucune offre ne correspond pour l’instant"));
    let searched = matched_at(app).await;
    browser.page("/offres").await;
    assert_eq!(
        matched_at(app).await,
        searched,
        "nothing found is cached too"
    );
    browser
        .submit(
            "/profil",
            "/profil/preferences",
            &[("place", "69007"), ("radius_km", "30")],
        )
        .await;
    let html = browser.page("/offres").await;
    assert_eq!(listed(&html).len(), 20);
    // Each offer says how far it is from the place the candidate gave.
    let distances: Vec<u32> = html
        .match_indices("(à ")
        .map(|(at, _)| html[at + 4..].split(' ').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(distances.len(), 20, "{distances:?}");
    assert!(distances.iter().all(|&km| km <= 30), "{distances:?}");
    // And, with no place given, no distance.
    browser
        .submit("/profil", "/profil/preferences", &[("place", "")])
        .await;
    let html = browser.page("/offres").await;
    assert_eq!(listed(&html).len(), 20);
    assert!(!html.contains(" km)"), "{html}");
}

#[tokio::test]
async fn opening_an_offer_from_the_list_keeps_the_score_it_had_then() {
    let suite = suite().await;
    let app = &suite.app;
    let mut browser = candidate_with_matches(app, "camille@exemple.fr").await;

    let (best, score): (String, f64) = sqlx::query_as(
        "SELECT offer_external_id, score FROM gui.match_results ORDER BY score DESC LIMIT 1",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let page = browser.page(&format!("/offres/{best}")).await;
    let view = browser
        .post(
            &format!("/offres/{best}/vue"),
            &[("csrf", csrf_of(&page).as_str())],
        )
        .await;
    assert_eq!(view.status(), StatusCode::NO_CONTENT);
    let kept: f64 = sqlx::query_scalar("SELECT match_score FROM gui.offer_interactions")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!((kept - score).abs() < 1e-9, "{kept} vs {score}");
}

#[tokio::test]
async fn slow_or_unreachable_services_give_the_cached_results_with_the_notice() {
    let suite = suite().await;
    let app = &suite.app;
    let mut browser = candidate_with_matches(app, "lou@exemple.fr").await;
    let first = matched_at(app).await;

    // "Actualiser" while a service hangs (past DOWNSTREAM_TIMEOUT_SECS) or is down: the
    // page answers with the cached results and the notice, never an error page.
    for (service, proxy) in [
        ("matching", &suite.matching_proxy),
        ("offre-ingestion", &suite.offers_proxy),
    ] {
        for hanging in [true, false] {
            if hanging {
                proxy.hang();
            } else {
                proxy.set_up(false);
            }
            let response = browser.submit("/offres", "/offres/actualiser", &[]).await;
            assert_eq!(
                response.status(),
                StatusCode::OK,
                "{service}, hanging: {hanging}"
            );
            let html = response.text().await.unwrap();
            assert_eq!(listed(&html).len(), 20, "{service}, hanging: {hanging}");
            assert!(
                html.contains("Les résultats peuvent ne pas être à jour"),
                "{service}, hanging: {hanging}"
            );
            assert_eq!(matched_at(app).await, first, "nothing stored");
        }
        proxy.set_up(true);
    }
    let response = browser.submit("/offres", "/offres/actualiser", &[]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(matched_at(app).await > first, "both back: searched again");
}

#[tokio::test]
async fn an_embedding_behind_its_profile_says_so_until_it_catches_up() {
    let suite = suite().await;
    let app = &suite.app;
    let mut browser = Browser::new(app);
    browser.signed_in("yuna@exemple.fr").await;
    upload_the_cv(&mut browser, "pdf").await;

    // A skill added while cv-ingestion is down, before any search: the profile is
    // matched with the embedding it has, and the page says it may be out of date, at
    // this view and the next (which does not search again).
    suite.cv_proxy.set_up(false);
    browser.add_skill("Soudure TIG").await;
    let html = browser.page("/offres").await;
    assert_eq!(listed(&html).len(), 20);
    assert!(html.contains("Les résultats peuvent ne pas être à jour"));
    let first = matched_at(app).await;
    let html = browser.page("/offres").await;
    assert!(html.contains("Les résultats peuvent ne pas être à jour"));
    assert_eq!(matched_at(app).await, first);

    // cv-ingestion back: the embedding catches up and the profile is matched again.
    suite.cv_proxy.set_up(true);
    let html = browser.page("/offres").await;
    assert!(!html.contains("peuvent ne pas être à jour"));
    let caught_up = matched_at(app).await;
    assert!(caught_up > first);

    // Once matched, a skill added while cv-ingestion is down: the page shows the cached
    // results with the notice rather than matching the old embedding as if it were new;
    // once cv-ingestion is back, the page re-embeds the profile and re-matches.
    suite.cv_proxy.set_up(false);
    let response = browser.add_skill("Gestion de la paie").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let html = browser.page("/offres").await;
    assert_eq!(listed(&html).len(), 20);
    assert!(html.contains("Les résultats peuvent ne pas être à jour"));
    assert_eq!(
        matched_at(app).await,
        caught_up,
        "no search with the old embedding"
    );
    suite.cv_proxy.set_up(true);
    let html = browser.page("/offres").await;
    assert!(!html.contains("peuvent ne pas être à jour"));
    let rematched = matched_at(app).await;
    assert!(rematched > caught_up, "re-embedded and re-matched");
    let embedded: bool = sqlx::query_scalar(
        "SELECT profile_embedded_at >= matches_invalidated_at FROM gui.profiles",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert!(embedded);

    // Place and contracts are filters, not part of the embedding: changed while
    // cv-ingestion is down, they apply at the next view, with no notice.
    suite.cv_proxy.set_up(false);
    browser
        .submit(
            "/profil",
            "/profil/preferences",
            &[("place", ""), ("contract_CDD", "on")],
        )
        .await;
    let html = browser.page("/offres").await;
    assert!(!html.contains("peuvent ne pas être à jour"), "{html}");
    assert!(matched_at(app).await > rematched);
    let not_cdd = count(app, "SELECT count(*) FROM gui.match_results m LEFT JOIN gui.job_offers o ON o.external_id = m.offer_external_id WHERE o.contract_type IS DISTINCT FROM 'CDD'").await;
    assert_eq!(not_cdd, 0);
}

#[tokio::test]
async fn an_offer_is_viewed_saved_applied_and_followed_up() {
    let suite = suite().await;
    let app = &suite.app;
    let mut browser = Browser::new(app);
    browser.signed_in("nina@exemple.fr").await;

    // Not in the local cache yet: fetched from offre-ingestion, then kept.
    let html = browser.page("/offres/G000").await;
    for shown in [
        "Développeur backend Rust et Python 0",
        "Entreprise 0",
        "Compétences exigées",
        "<li>PostgreSQL</li>",
        "Compétences souhaitées",
        "<li>Terraform</li>",
        "Mensuel de 2500 Euros",
        "Voir l’offre d’origine",
        "Pas encore de suivi",
    ] {
        assert!(html.contains(shown), "{shown} missing");
    }
    // The link to the original offer: an https:// URL from the feed, never another
    // scheme (a `javascript:` URL would run in the candidate's page).
    for (url, link) in [
        (
            "https://partenaire.example/offres/G000",
            "https://partenaire.example/offres/G000",
        ),
        (
            "javascript:alert(document.cookie)",
            "https://candidat.francetravail.fr/offres/recherche/detail/G000",
        ),
    ] {
        sqlx::query("UPDATE gui.job_offers SET url = $1 WHERE external_id = 'G000'")
            .bind(url)
            .execute(&app.pool)
            .await
            .unwrap();
        let html = browser.page("/offres/G000").await;
        assert!(html.contains(&format!("<a href=\"{link}\"")), "{url}");
        assert!(!html.contains("javascript:"));
    }
    // Reading the page changed nothing; the page records the view by POST (its script).
    assert_eq!(
        common::count(app, "SELECT count(*) FROM gui.offer_interactions").await,
        0
    );
    let csrf = csrf_of(&html);
    let view = browser
        .post("/offres/G000/vue", &[("csrf", csrf.as_str())])
        .await;
    assert_eq!(view.status(), StatusCode::NO_CONTENT);
    let unknown = browser
        .post("/offres/NOPE404/vue", &[("csrf", csrf.as_str())])
        .await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    let forged = browser
        .post("/offres/G000/vue", &[("csrf", "forged")])
        .await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let (viewed, viewed_at): (bool, Option<chrono::DateTime<chrono::Utc>>) =
        sqlx::query_as("SELECT viewed, viewed_at FROM gui.offer_interactions")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert!(viewed && viewed_at.is_some());
    // The local copy keeps the offer's skills, exigence E as required, S as wished.
    let skills: Vec<(String, bool)> = sqlx::query_as(
        "SELECT name, is_required FROM gui.job_offer_skills WHERE offer_external_id = 'G000' ORDER BY name",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        skills,
        [
            ("Docker".to_owned(), true),
            ("PostgreSQL".to_owned(), true),
            ("Python".to_owned(), true),
            ("Terraform".to_owned(), false)
        ]
    );

    // The beacon adds the time spent, at most an hour a visit.
    for seconds in ["42", "999999"] {
        let response = browser
            .post(
                "/offres/G000/temps",
                &[("csrf", csrf.as_str()), ("seconds", seconds)],
            )
            .await;
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
    }
    let spent: i32 = sqlx::query_scalar("SELECT time_spent_seconds FROM gui.offer_interactions")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(spent, 42 + 3600);

    assert_eq!(
        browser
            .submit("/offres/G000", "/offres/G000/enregistrer", &[])
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    assert!(browser
        .page("/favoris")
        .await
        .contains("Développeur backend Rust et Python 0"));
    assert_eq!(
        browser
            .submit("/offres/G000", "/offres/G000/postule", &[])
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    let applications = browser.page("/candidatures").await;
    assert!(
        applications.contains("Développeur backend Rust et Python 0")
            && applications.contains("Postulé le"),
        "{applications}"
    );
    browser
        .submit("/offres/G000", "/offres/G000/entretien", &[])
        .await;
    assert!(browser
        .page("/candidatures")
        .await
        .contains("Entretien obtenu"));
    browser
        .submit("/offres/G000", "/offres/G000/embauche", &[])
        .await;
    assert!(browser
        .page("/candidatures")
        .await
        .contains("Embauche obtenue"));
    browser
        .submit("/offres/G000", "/offres/G000/retirer", &[])
        .await;
    assert!(!browser.page("/favoris").await.contains("G000"));
    let rows: (i64, bool, bool, bool) = sqlx::query_as(
        "SELECT count(*), bool_and(applied AND applied_at IS NOT NULL), bool_and(got_interview), bool_and(got_hired) FROM gui.offer_interactions",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        rows,
        (1, true, true, true),
        "one row per candidate and offer"
    );

    // With htmx, a tracking button gets its section back, not a redirect.
    let csrf = csrf_of(&browser.page("/offres/G000").await);
    let request = browser
        .http
        .post(app.server.url("/offres/G000/enregistrer"))
        .header("hx-request", "true")
        .form(&[("csrf", csrf.as_str())]);
    let response = browser.send(request).await;
    assert_eq!(response.status(), StatusCode::OK);
    let section = response.text().await.unwrap();
    assert!(
        section.starts_with("<section id=\"suivi-offre\"") && !section.contains("<html"),
        "{section}"
    );
    assert!(section.contains("Retirer des offres enregistrées"));
    let htmx = browser.get("/static/htmx.min.js").await;
    assert_eq!(htmx.status(), StatusCode::OK);
    assert!(htmx.text().await.unwrap().starts_with("var htmx="));

    let missing = browser.get("/offres/NOPE404").await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert!(missing.text().await.unwrap().contains("Page introuvable"));
    let forged = browser
        .post("/offres/G000/enregistrer", &[("csrf", "forged")])
        .await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
}

/// Candidates whose refreshes share offers store their local copies at the same time
/// without deadlocking (`make bench-load` found one under 8 candidates): each writes the
/// rows in the order of their ids, whatever the order of its matches.
#[tokio::test]
async fn concurrent_refreshes_sharing_offers_never_deadlock() {
    let db = testkit::TestDb::new().await;
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(8)
        .connect(&db.url_as(schemas::GUI.role))
        .await
        .unwrap();
    let offers: Vec<shared::OfferDetail> = (0..20)
        .map(|i| {
            Offer::new(format!("D{i:03}"), format!("Offre {i}"))
                .required("Rigueur")
                .skill(serde_json::json!({ "libelle": format!("Outil {i}") }))
                .detail()
        })
        .collect();
    let tasks: Vec<_> = (0..8)
        .map(|task| {
            let pool = pool.clone();
            let mut mine = offers.clone();
            tokio::spawn(async move {
                for round in 0..15 {
                    // Each candidate's matches in an order of its own.
                    mine.rotate_left((task * 3 + round) % 20);
                    if (task + round) % 2 == 0 {
                        mine.reverse();
                    }
                    gui::matches::store_offers(&pool, &mine).await?;
                }
                Ok::<_, sqlx::Error>(())
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().expect("no deadlock");
    }
    let skills: i64 = sqlx::query_scalar("SELECT count(*) FROM gui.job_offer_skills")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(skills, 40);
}
