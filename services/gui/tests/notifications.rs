//! Notifications recorded for a candidate (as the events worker does) are counted in
//! the navigation's badge and listed on their page, which marks them read.

mod common;

use common::*;

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
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM gui.notifications WHERE read_at IS NULL"
        )
        .await,
        0,
        "read once shown"
    );
    assert!(!browser.page("/profil").await.contains("non lues"));
}

/// The page marks read what it shows and nothing else: notifications past its length
/// stay unread and counted, and the badge says so on the page itself.
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
    let unread: Vec<String> = sqlx::query_scalar(
        "SELECT message FROM gui.notifications WHERE read_at IS NULL ORDER BY created_at DESC",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(unread, ["Offre 101", "Offre 102", "Offre 103"]);
    assert!(
        page.contains("<span class=\"badge\">3<span class=\"visually-hidden\"> non lues</span>"),
        "the page's own badge counts those left unread"
    );
    // A second visit shows the same hundred, read now, and still marks nothing it does
    // not show.
    let again = browser.page("/notifications").await;
    assert_eq!(again.matches("(nouveau)").count(), 0);
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM gui.notifications WHERE read_at IS NULL"
        )
        .await,
        3
    );
}
