//! Learning from candidates, through the GUI and the four services: a scripted history
//! of acts on the matches shown becomes the training export (exact contents,
//! pseudonymised, without deleted accounts) and the variants' report (exact counts);
//! each candidate keeps their ranking variant across sessions and restarts.

use reqwest::StatusCode;
use serde_json::{json, Value};
use testkit::documents::{self, Font};

use crate::common::suite::suite;
use crate::common::*;

/// The offers' ids in the order the matches page lists them.
fn listed_ids(html: &str) -> Vec<String> {
    html.split("<article")
        .skip(1)
        .map(|article| {
            let link = &article[article.find("<a href=\"/offres/").unwrap() + 17..];
            link[..link.find('"').unwrap()].to_owned()
        })
        .collect()
}

async fn act(browser: &mut Browser<'_>, offer: &str, action: &str, fields: &[(&str, &str)]) {
    let page = format!("/offres/{offer}");
    let response = browser
        .submit(&page, &format!("{page}/{action}"), fields)
        .await;
    assert!(
        response.status().is_success() || response.status() == StatusCode::SEE_OTHER,
        "{action} {offer}: {}",
        response.status()
    );
}

fn lines(dir: &std::path::Path, file: &str) -> Vec<Value> {
    std::fs::read_to_string(dir.join(file))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test]
async fn a_scripted_history_is_exported_graded_pseudonymised_and_reported() {
    let suite = suite().await;
    let app = &suite.app;
    let mut camille = Browser::new(app);
    camille.signed_in("camille.rouviere@exemple.fr").await;
    let cv = documents::from_html(&cv_html(), "docx", Font::Times);
    assert_eq!(
        camille.upload_cv(cv, "cv.docx").await.status(),
        StatusCode::SEE_OTHER
    );
    let shown = listed_ids(&camille.page("/offres").await);
    assert_eq!(shown.len(), 20, "twenty matches shown");
    // Shown again: the same version of the results is not recorded twice.
    camille.page("/offres").await;

    // Rank 1: an interview; rank 2: saved; rank 3: hired; rank 4: opened 3 s (passed
    // over); rank 5: read for a minute (neither); ranks 6 to 10: not opened.
    act(&mut camille, &shown[0], "entretien", &[]).await;
    act(&mut camille, &shown[1], "enregistrer", &[]).await;
    act(&mut camille, &shown[2], "embauche", &[]).await;
    for (offer, seconds) in [(&shown[3], "3"), (&shown[4], "60")] {
        act(&mut camille, offer, "vue", &[]).await;
        act(&mut camille, offer, "temps", &[("seconds", seconds)]).await;
    }
    // Another candidate acts, then deletes their account: gone from the export.
    let mut lea = Browser::new(app);
    lea.signed_in("lea@exemple.fr").await;
    let cv = documents::from_html(&cv_html(), "docx", Font::Times);
    lea.upload_cv(cv, "cv.docx").await;
    let hers = listed_ids(&lea.page("/offres").await);
    act(&mut lea, &hers[0], "postule", &[]).await;
    let response = lea
        .submit("/compte", "/compte/suppression", &[("password", PASSWORD)])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);

    let dir = tempfile::tempdir().unwrap();
    let exported = gui::learning::export::export(&app.pool, dir.path())
        .await
        .unwrap();
    assert_eq!(
        (
            exported.candidates,
            exported.positives,
            exported.hard_negatives,
            exported.triplets
        ),
        (1, 3, 6, 15)
    );
    let graded = lines(dir.path(), "graded.jsonl");
    let candidate = graded[0]["candidate"].clone();
    assert!(
        candidate.as_str().is_some_and(|c| c.len() == 16),
        "{candidate}"
    );
    let graded_as = |offer: &str, grade: u8, label: &str, rank: u8, acts: [Value; 4]| {
        let [saved, applied, got_interview, got_hired] = acts;
        json!({
            "candidate": candidate, "offer": offer, "grade": grade, "label": label,
            "saved": saved, "applied": applied, "got_interview": got_interview,
            "got_hired": got_hired, "variant": "control", "rank": rank,
        })
    };
    // The outcomes not told are null, not false.
    assert_eq!(
        graded,
        [
            graded_as(
                &shown[0],
                3,
                "interview",
                1,
                [json!(false), json!(true), json!(true), Value::Null]
            ),
            graded_as(
                &shown[1],
                1,
                "saved",
                2,
                [json!(true), json!(false), Value::Null, Value::Null]
            ),
            graded_as(
                &shown[2],
                4,
                "hired",
                3,
                [json!(false), json!(true), json!(true), json!(true)]
            ),
        ]
    );
    let pairs = lines(dir.path(), "pairs.jsonl");
    let labels: Vec<i64> = pairs.iter().map(|p| p["label"].as_i64().unwrap()).collect();
    assert_eq!(labels, [3, 1, 4, 0, 0, 0, 0, 0, 0]);
    assert!(pairs.iter().all(|p| p["qid"] == candidate));
    // Each offer's text starts with its title.
    let titles: std::collections::HashMap<String, String> =
        sqlx::query_as("SELECT external_id, title FROM gui.job_offers")
            .fetch_all(&app.pool)
            .await
            .unwrap()
            .into_iter()
            .collect();
    let title_lines = |pairs: &[Value]| -> Vec<String> {
        pairs
            .iter()
            .map(|p| {
                p["offer"]
                    .as_str()
                    .unwrap()
                    .lines()
                    .next()
                    .unwrap()
                    .to_owned()
            })
            .collect()
    };
    // The positives in rank order, then the hard negatives: rank 4 (opened 3 s) and
    // ranks 6 to 10, in rank order.
    let expected: Vec<String> = [0, 1, 2, 3, 5, 6, 7, 8, 9]
        .iter()
        .map(|&rank| titles[&shown[rank]].clone())
        .collect();
    assert_eq!(title_lines(&pairs), expected);
    let triplets = lines(dir.path(), "triplets.jsonl");
    assert_eq!(triplets.len(), 15);
    assert_eq!(triplets[0]["negative"], pairs[3]["offer"]);
    assert_eq!(triplets[0]["positive"], pairs[0]["offer"]);

    // Pseudonymised: the anchor is the profile without the CV's header, contact details
    // or the candidate's name, and keeps what the CV says of the jobs.
    let anchor = pairs[0]["cv"].as_str().unwrap();
    assert_eq!(triplets[0]["anchor"], json!(anchor));
    for personal in [
        "Camille",
        "Rouvière",
        "rouviere",
        "Tanneurs",
        "69007",
        "06 00 00 00 00",
        "exemple.fr",
    ] {
        assert!(
            !anchor.contains(personal),
            "{personal} in the export: {anchor}"
        );
    }
    for kept in ["Rust", "PostgreSQL", "Kubernetes", "microservices"] {
        assert!(anchor.contains(kept), "{kept} missing: {anchor}");
    }
    // The list shown, in rank order, with the signals and the grades.
    let lists = lines(dir.path(), "lists.jsonl");
    assert_eq!(lists.len(), 1);
    let list = lists[0]["shown"].as_array().unwrap();
    let offers: Vec<&str> = list.iter().map(|s| s["offer"].as_str().unwrap()).collect();
    assert_eq!(offers, shown.iter().map(String::as_str).collect::<Vec<_>>());
    let grades: Vec<i64> = list.iter().map(|s| s["grade"].as_i64().unwrap()).collect();
    assert_eq!(grades[..5], [3, 1, 4, 0, 0]);
    assert!(grades[5..].iter().all(|&g| g == 0));
    assert!(
        list.iter()
            .all(|s| s["signals"]["semantic"].as_f64().is_some()),
        "{list:?}"
    );
    for file in [
        "graded.jsonl",
        "pairs.jsonl",
        "triplets.jsonl",
        "lists.jsonl",
        "manifest.json",
    ] {
        let text = std::fs::read_to_string(dir.path().join(file)).unwrap();
        assert!(
            !text.contains("lea@") && !text.contains("camille.rouviere"),
            "{file}"
        );
    }

    // Every result and impression recorded the variant it came from.
    let unrecorded =
        "SELECT (SELECT count(*) FROM gui.match_results WHERE variant IS DISTINCT FROM 'control')
        + (SELECT count(*) FROM gui.match_impressions WHERE variant <> 'control')";
    assert_eq!(count(app, unrecorded).await, 0);
    // The variants' report over the same history: 20 shown, 2 opened, 1 saved, 2
    // applications (the interview and the hire), 2 interviews.
    let counts = gui::learning::report::counts(&app.pool, &["control"])
        .await
        .unwrap();
    assert_eq!(
        counts,
        [gui::learning::report::VariantCounts {
            variant: "control".into(),
            candidates: 1,
            shown: 20,
            views: 2,
            saves: 1,
            applications: 2,
            interviews: 2,
        }]
    );
}

#[tokio::test]
async fn a_candidate_keeps_their_variant_across_sessions_and_restarts() {
    let variants = "a:50;b:50:weight.skills=1";
    let configure = |env: platform::Env| env.with("RANKING_VARIANTS", variants);
    let app = app_with(configure).await;
    sqlx::query(
        "INSERT INTO gui.job_offers (external_id, title) VALUES ('T001', 'Soudeur TIG'), ('T002', 'Comptable')",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    // Each candidate on their own machine (sign-ups are rate-limited per address).
    let emails: Vec<String> = (0..8).map(|n| format!("candidat{n}@exemple.fr")).collect();
    let address = |n: usize| format!("127.0.1.{}", n + 1).parse().unwrap();
    for (n, email) in emails.iter().enumerate() {
        let mut browser = Browser::from_address(&app, address(n));
        browser.signed_in(email).await;
        act(&mut browser, "T001", "enregistrer", &[]).await;
    }
    let assigned = gui::variants::Variants::parse(variants).unwrap();
    let recorded = |pool: sqlx::PgPool, offer: &'static str| async move {
        sqlx::query_as::<_, (uuid::Uuid, String)>(
            "SELECT user_id, variant FROM gui.offer_interactions WHERE offer_external_id = $1",
        )
        .bind(offer)
        .fetch_all(&pool)
        .await
        .unwrap()
    };
    let first = recorded(app.pool.clone(), "T001").await;
    assert_eq!(first.len(), 8);
    for (user, variant) in &first {
        assert_eq!(
            variant,
            &assigned.of(*user).name,
            "the configured shares decide"
        );
    }
    // A restart: the GUI stopped and started again on the same database; each candidate
    // logs in again (a new session) and acts on another offer.
    let App {
        _db: db, server, ..
    } = app;
    drop(server);
    let app = app_on(db, configure).await;
    for (n, email) in emails.iter().enumerate() {
        let mut browser = Browser::from_address(&app, address(n));
        assert_eq!(
            browser.log_in(email, PASSWORD).await.status(),
            StatusCode::SEE_OTHER
        );
        act(&mut browser, "T002", "enregistrer", &[]).await;
    }
    let mut again = recorded(app.pool.clone(), "T002").await;
    let mut first = first;
    first.sort();
    again.sort();
    assert_eq!(again, first, "each candidate kept their variant");
}
