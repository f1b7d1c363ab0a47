//! The candidates' main flow in real headless Chromium (Debian's chromium and
//! chromedriver, installed by `make test`, driven over WebDriver), with all four
//! services running: sign up, upload a real PDF CV, see 20 matches by score, open one,
//! apply, find it on the applications page; a failed log-in; a forged form refused.
//! Screenshots of the main pages go to `<target>/screenshots/`; each of those pages is
//! audited by axe-core (WCAG 2.1 A and AA, and axe's best practices) and must log no error in the console (a
//! script refused by the Content-Security-Policy would). A second walk does it by
//! keyboard, on a phone-sized window, with htmx updating sections in place.

use std::path::PathBuf;

use testkit::documents::{self, Font};
use testkit::webdriver::{Browser, ENTER, TAB};

use crate::common;
use crate::common::suite::suite;

/// Where screenshots go: `<target>/screenshots`.
fn screenshots() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .join("screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn fill(browser: &Browser, css: &str, text: &str) {
    let field = browser.find(css).await;
    field.clear().await;
    field.send_keys(text).await;
}

async fn click(browser: &Browser, css: &str) {
    browser.find(css).await.click().await;
}

async fn text(browser: &Browser) -> String {
    browser.find("main").await.text().await
}

/// The page's text once it contains `needle` (a form's answer may still be loading
/// when the click returns), or as it is after 10 s.
async fn text_with(browser: &Browser, needle: &str) -> String {
    let mut text = String::new();
    for _ in 0..100 {
        text = browser.text_of("main").await.unwrap_or_default();
        if text.contains(needle) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    text
}

/// Saves a screenshot of the page, then checks it: no WCAG 2.1 A/AA or best-practice
/// violation found by axe-core, nothing written to the console at error level since the
/// last check (but the 401, 403 and 422 of refused forms, which the tests expect and
/// assert).
async fn screenshot(browser: &Browser, name: &str) {
    std::fs::write(
        screenshots().join(format!("{name}.png")),
        browser.screenshot().await,
    )
    .unwrap();
    let violations = browser.accessibility_violations().await;
    assert!(violations.is_empty(), "{name}: {violations:?}");
    let errors: Vec<String> = browser
        .console_errors()
        .await
        .into_iter()
        .filter(|e| {
            !["401", "403", "422"].iter().any(|status| {
                e.contains(&format!("the server responded with a status of {status}"))
            })
        })
        .collect();
    assert!(errors.is_empty(), "{name}: {errors:?}");
}

/// What has the keyboard focus: its id, or else its text.
async fn focused(browser: &Browser) -> String {
    browser
        .execute("const e = document.activeElement; return e.id || e.textContent.trim();")
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// Waits until `script` returns true (an htmx answer is applied after the click
/// returns); false after 10 s.
async fn until(browser: &Browser, script: &str) -> bool {
    for _ in 0..100 {
        if browser.execute(script).await == serde_json::Value::Bool(true) {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    false
}

#[tokio::test]
async fn a_candidate_signs_up_uploads_a_cv_and_applies() {
    let suite = suite().await;
    let gui = suite.app.server.url("");
    let browser = Browser::start().await;
    let page = |path: &str| format!("{gui}{path}");

    browser.goto(&page("/")).await;
    screenshot(&browser, "accueil").await;
    click(&browser, "a.button[href='/inscription']").await;
    fill(&browser, "#email", "camille@exemple.fr").await;
    fill(&browser, "#password", "correct horse battery").await;
    fill(&browser, "#confirm", "correct horse battery").await;
    screenshot(&browser, "inscription").await;
    click(&browser, "form[action='/inscription'] button").await;
    // Signed in, at the CV form.
    assert!(text_with(&browser, "Votre compte est créé")
        .await
        .contains("Déposez votre CV"));
    browser.find("#fichier-cv").await;
    screenshot(&browser, "bienvenue").await;
    click(&browser, "form[action='/deconnexion'] button").await;
    text_with(&browser, "Trouvez les offres").await;
    browser.goto(&page("/connexion")).await;

    // A wrong password first: a clear message, no session.
    fill(&browser, "#email", "camille@exemple.fr").await;
    fill(&browser, "#password", "not the password at all").await;
    click(&browser, "form[action='/connexion'] button").await;
    assert!(
        text_with(&browser, "Adresse e-mail ou mot de passe incorrect.")
            .await
            .contains("Adresse e-mail ou mot de passe incorrect.")
    );
    screenshot(&browser, "connexion-echec").await;
    fill(&browser, "#email", "camille@exemple.fr").await;
    fill(&browser, "#password", "correct horse battery").await;
    click(&browser, "form[action='/connexion'] button").await;
    assert!(text_with(&browser, "Vous êtes connecté")
        .await
        .contains("Vous êtes connecté"));

    // Upload a real PDF CV from the profile page.
    let cv_html = common::cv_html();
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("cv-camille.pdf");
    std::fs::write(&pdf, documents::from_html(&cv_html, "pdf", Font::Times)).unwrap();
    browser.goto(&page("/profil")).await;
    browser
        .find("#fichier-cv")
        .await
        .send_keys(pdf.to_str().unwrap())
        .await;
    click(&browser, "form[action='/profil/cv'] button").await;
    let profile = text_with(&browser, "Votre CV a été lu").await;
    assert!(
        profile.contains("Votre CV a été lu") && profile.contains("Développeuse backend senior"),
        "{profile}"
    );
    screenshot(&browser, "profil").await;

    // 20 matches, best first.
    browser.goto(&page("/offres")).await;
    let scores: Vec<u32> = {
        let mut scores = Vec::new();
        for element in browser.find_all(".matches .score strong").await {
            scores.push(
                element
                    .text()
                    .await
                    .trim_end_matches('%')
                    .trim()
                    .parse()
                    .unwrap(),
            );
        }
        scores
    };
    assert_eq!(scores.len(), 20, "{scores:?}");
    assert!(
        scores.windows(2).all(|w| w[0] >= w[1]),
        "sorted by score: {scores:?}"
    );
    screenshot(&browser, "offres").await;

    // Open the best one and apply.
    let first = browser.find(".matches article h2 a").await;
    let title = first.text().await;
    first.click().await;
    // The offer's own page (the list has the title too, not this link).
    let offer = text_with(&browser, "Voir l’offre d’origine").await;
    assert!(
        offer.contains(&title) && offer.contains("Voir l’offre d’origine"),
        "{offer}"
    );
    screenshot(&browser, "offre").await;
    // The page recorded the view (by POST from its script), with the offer's score then.
    let mut views = 0;
    for _ in 0..50 {
        views = common::count(
            &suite.app,
            "SELECT count(*) FROM gui.offer_interactions WHERE viewed AND match_score IS NOT NULL",
        )
        .await;
        if views > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(views, 1, "the view of the offer's page");
    click(&browser, "form[action$='/postule'] button").await;
    assert!(text_with(&browser, "Vous avez postulé.")
        .await
        .contains("Vous avez postulé."));
    // htmx replaced the tracking section; the page's live region reads the new status.
    assert!(
        until(
            &browser,
            "return document.getElementById('annonce').textContent === 'Vous avez postulé.';"
        )
        .await
    );
    // Leaving the page sends the time spent on it (the beacon).
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    browser.goto(&page("/candidatures")).await;
    let mut spent = 0;
    for _ in 0..50 {
        spent = common::count(
            &suite.app,
            "SELECT coalesce(sum(time_spent_seconds), 0) FROM gui.offer_interactions",
        )
        .await;
        if spent > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(spent >= 1, "time spent on the offer: {spent} s");
    let applications = text(&browser).await;
    assert!(
        applications.contains(&title) && applications.contains("Postulé le"),
        "{applications}"
    );
    screenshot(&browser, "candidatures").await;

    // A form whose CSRF token was tampered with is refused.
    browser.goto(&page("/profil")).await;
    browser
        .execute("document.querySelector(\"form[action='/profil/competences'] input[name=csrf]\").value = 'forged';")
        .await;
    fill(&browser, "#nouvelle-competence", "Soudure TIG").await;
    click(&browser, "form[action='/profil/competences'] button").await;
    assert!(text_with(&browser, "Formulaire expiré")
        .await
        .contains("Formulaire expiré"));
    let skills = common::count(
        &suite.app,
        "SELECT count(*) FROM gui.profile_skills WHERE label = 'Soudure TIG'",
    )
    .await;
    assert_eq!(skills, 0);

    // The audit itself finds what it should: an image without a text alternative.
    browser
        .execute("document.querySelector('main').appendChild(document.createElement('img'));")
        .await;
    let violations = browser.accessibility_violations().await;
    assert!(
        violations.iter().any(|v| v.starts_with("image-alt")),
        "{violations:?}"
    );
}

#[tokio::test]
async fn by_keyboard_on_a_phone_with_sections_updated_in_place() {
    let suite = suite().await;
    let gui = suite.app.server.url("");
    let browser = Browser::start().await;
    let page = |path: &str| format!("{gui}{path}");
    browser.resize(390, 844).await;

    browser.goto(&page("/inscription")).await;
    assert_eq!(
        browser.execute("return window.innerWidth;").await,
        390,
        "a phone-sized window"
    );
    fill(&browser, "#email", "noa@exemple.fr").await;
    fill(&browser, "#password", "correct horse battery").await;
    fill(&browser, "#confirm", "correct horse battery").await;
    click(&browser, "form[action='/inscription'] button").await;
    text_with(&browser, "Votre compte est créé").await;
    click(&browser, "form[action='/deconnexion'] button").await;
    text_with(&browser, "Trouvez les offres").await;

    // Log in with the keyboard alone: the skip link comes first and leads to the
    // content, whose first stop is the form, in reading order.
    browser.goto(&page("/connexion")).await;
    browser.press(TAB).await;
    assert_eq!(focused(&browser).await, "Aller au contenu");
    browser.press(ENTER).await;
    assert_eq!(focused(&browser).await, "contenu");
    browser.press(TAB).await;
    assert_eq!(focused(&browser).await, "email");
    browser.press("noa@exemple.fr").await;
    browser.press(TAB).await;
    assert_eq!(focused(&browser).await, "password");
    browser.press("correct horse battery").await;
    browser.press(TAB).await;
    assert_eq!(focused(&browser).await, "Se connecter");
    browser.press(ENTER).await;
    assert!(text_with(&browser, "Vous êtes connecté")
        .await
        .contains("Vous êtes connecté"));

    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("cv-noa.pdf");
    std::fs::write(
        &pdf,
        documents::from_html(&common::cv_html(), "pdf", Font::Times),
    )
    .unwrap();
    browser.goto(&page("/profil")).await;
    browser
        .find("#fichier-cv")
        .await
        .send_keys(pdf.to_str().unwrap())
        .await;
    click(&browser, "form[action='/profil/cv'] button").await;
    text_with(&browser, "Votre CV a été lu").await;

    // htmx: a skill added with Enter, then removed, without reloading the page; the
    // focus stays in the section.
    browser.execute("window.notReloaded = true;").await;
    fill(&browser, "#nouvelle-competence", "Soudure TIG").await;
    browser.press(ENTER).await;
    assert!(
        until(
            &browser,
            "return document.querySelector('#section-competences').textContent.includes('Soudure TIG');"
        )
        .await
    );
    click(&browser, "button[aria-label='Retirer Soudure TIG']").await;
    assert!(
        until(
            &browser,
            "return !document.querySelector('#section-competences').textContent.includes('Soudure TIG');"
        )
        .await
    );
    // app.js moves it once htmx has settled the new section, just after the swap.
    assert!(
        until(
            &browser,
            "return document.activeElement.id === 'competences';"
        )
        .await,
        "focus on the section's heading, not {:?}",
        focused(&browser).await
    );
    // A refused form shows its error in its section, still in place.
    fill(&browser, "#commune", "Atlantis").await;
    click(&browser, "form[action='/profil/preferences'] button").await;
    assert!(
        until(
            &browser,
            "return document.querySelector('#section-preferences').textContent.includes('Commune inconnue');"
        )
        .await
    );
    assert_eq!(
        browser.execute("return window.notReloaded === true;").await,
        true,
        "no page was reloaded"
    );
    let skills = common::count(
        &suite.app,
        "SELECT count(*) FROM gui.profile_skills WHERE label = 'Soudure TIG'",
    )
    .await;
    assert_eq!(skills, 0);

    // A form the platform refuses before the page runs (a field missing) answers an
    // htmx request with the French error page in place of the content.
    browser
        .execute("document.querySelector('#nouvelle-competence').remove();")
        .await;
    click(
        &browser,
        "form[action='/profil/competences']:not(.inline) button",
    )
    .await;
    assert!(
        until(
            &browser,
            "return document.querySelector('main').textContent.includes('Formulaire incomplet');"
        )
        .await
    );

    // "Actualiser" replaces the results in place.
    browser.goto(&page("/offres")).await;
    browser.execute("window.notReloaded = true;").await;
    browser
        .execute("document.querySelector('.matches').dataset.old = 'yes';")
        .await;
    click(&browser, "#actualiser").await;
    assert!(
        until(
            &browser,
            "return document.querySelectorAll('.matches article').length === 20 && !document.querySelector('.matches').dataset.old;"
        )
        .await,
        "fresh results"
    );
    assert_eq!(
        browser.execute("return window.notReloaded === true;").await,
        true
    );

    // A notification (as the events worker writes them), so that the badge is on the
    // pages audited below.
    sqlx::query(
        "INSERT INTO gui.notifications (id, user_id, offer_external_id, score, message)
         SELECT gen_random_uuid(), id, 'G000', 0.93, 'Nouvelle offre : Développeur backend (93 %)' FROM gui.users",
    )
    .execute(&suite.app.pool)
    .await
    .unwrap();
    // Each page fits a phone's width: nothing to scroll sideways.
    let offer = browser.find(".matches article h2 a").await.text().await;
    assert!(!offer.is_empty());
    for (path, name) in [
        ("/", "telephone-accueil"),
        ("/profil", "telephone-profil"),
        ("/offres", "telephone-offres"),
        ("/offres/G000", "telephone-offre"),
        ("/candidatures", "telephone-candidatures"),
        ("/compte", "telephone-compte"),
        ("/notifications", "telephone-notifications"),
    ] {
        browser.goto(&page(path)).await;
        if path == "/" {
            let badge = browser.text_of(".badge").await.unwrap_or_default();
            assert!(
                badge.starts_with('1') && badge.ends_with("non lues"),
                "the unread badge, read out as \"1 non lues\": {badge:?}"
            );
        }
        let width = browser
            .execute("return [document.documentElement.scrollWidth, document.documentElement.clientWidth];")
            .await;
        assert!(
            width[0].as_u64() <= width[1].as_u64(),
            "{path} is wider than the phone: {width}"
        );
        screenshot(&browser, name).await;
    }
}
