//! Notifications recorded for a candidate (as the events worker does) are counted in
//! the navigation's badge and listed on their page, whose button marks them read.

use reqwest::StatusCode;

use crate::common::*;

#[tokio::test]
async fn notifications_show_in_the_badge_and_on_their_page() {
    let app = app().await;
    let mut browser = Browser::new(&app);
    browser.signed_in("eva@exemple.fr").await;
    assert!(browser
        .page("/notifications")
        .await
        .contains("Aucune notification"));
    sqlx::query(
        "INSERT INTO gui.notifications (id, user_id, offer_external_id, score, message)
         SELECT gen_random_uuid(), id, offer, 0.93, message FROM gui.users,
             (VALUES ('G001', 'Nouvelle offre : Développeur Rust à Lyon (93 %)'), (NULL, 'Bienvenue sur jobmatch')) AS n(offer, message)",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    let profile = browser.page("/profil").await;
    assert!(
        profile.contains("<span class=\"badge\">2<span class=\"visually-hidden\"> non lues</span>"),
        "the badge counts them"
    );
    let page = browser.page("/notifications").await;
    assert!(page
        .contains("<a href=\"/offres/G001\">Nouvelle offre : Développeur Rust à Lyon (93 %)</a>"));
    assert!(page.contains("Bienvenue sur jobmatch") && page.contains("(nouveau)"));
    let unread = "SELECT count(*) FROM gui.notifications WHERE read_at IS NULL";
    assert_eq!(
        count(&app, unread).await,
        2,
        "reading the page changes nothing"
    );
    let response = mark_read(&mut browser, &page).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        count(&app, unread).await,
        0,
        "marked read by the page's button"
    );
    assert!(!browser.page("/profil").await.contains("non lues"));
    assert!(!browser
        .page("/notifications")
        .await
        .contains("Marquer comme lues"));
}

/// "Marquer comme lues" marks read what the page showed and nothing else: notifications
/// past its length, and one recorded after it was shown, stay unread and counted.
#[tokio::test]
async fn only_the_notifications_shown_are_marked_read() {
    let app = app().await;
    let mut browser = Browser::new(&app);
    browser.signed_in("noe@exemple.fr").await;
    // 103 unread, a minute apart: the page shows the 100 newest.
    sqlx::query(
        "INSERT INTO gui.notifications (id, user_id, message, created_at)
         SELECT gen_random_uuid(), u.id, 'Offre ' || i, now() - i * interval '1 minute'
         FROM gui.users u, generate_series(1, 103) AS i",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    let page = browser.page("/notifications").await;
    assert_eq!(page.matches("(nouveau)").count(), 100);
    assert!(page.contains("Offre 100") && !page.contains("Offre 101"));
    // The worker records one more while the candidate reads.
    sqlx::query(
        "INSERT INTO gui.notifications (id, user_id, message) SELECT gen_random_uuid(), id, 'Offre 0' FROM gui.users",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        mark_read(&mut browser, &page).await.status(),
        StatusCode::SEE_OTHER
    );
    let unread: Vec<String> = sqlx::query_scalar(
        "SELECT message FROM gui.notifications WHERE read_at IS NULL ORDER BY created_at DESC",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(unread, ["Offre 0", "Offre 101", "Offre 102", "Offre 103"]);
    let again = browser.page("/notifications").await;
    assert!(
        again.contains("<span class=\"badge\">4<span class=\"visually-hidden\"> non lues</span>"),
        "the badge counts those left unread"
    );
    assert_eq!(again.matches("(nouveau)").count(), 1, "the new one, on top");
}

/// Posts the page's "Marquer comme lues" form as a browser does: its hidden fields.
async fn mark_read(browser: &mut Browser<'_>, page: &str) -> reqwest::Response {
    let ids: Vec<String> = page
        .split("name=\"id\" value=\"")
        .skip(1)
        .map(|rest| rest[..rest.find('"').unwrap()].to_owned())
        .collect();
    assert!(
        !ids.is_empty(),
        "the form lists the unread notifications shown"
    );
    let csrf = csrf_of(page);
    let mut form = vec![("csrf", csrf.as_str())];
    form.extend(ids.iter().map(|id| ("id", id.as_str())));
    browser.post("/notifications/lues", &form).await
}
