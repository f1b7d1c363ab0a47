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
