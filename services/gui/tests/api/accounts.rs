//! Accounts over real HTTP with the real database: sign-up, log-in, log-out, CSRF,
//! rate limits, generic messages, the data download and the deletion of an account.

use reqwest::StatusCode;

use crate::common::*;

#[tokio::test]
async fn sign_up_then_log_in_and_out() {
    let app = app().await;
    let mut browser = Browser::new(&app);
    let response = browser.sign_up("Camille.Rouviere@exemple.fr").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        location(&response),
        "/profil?bienvenue=1#section-cv",
        "a new candidate is taken to the CV form"
    );
    assert!(
        browser.cookies.contains_key("__Host-jm_session"),
        "and is signed in"
    );
    let welcome = browser.page("/profil?bienvenue=1").await;
    assert!(
        welcome.contains("Votre compte est créé. Déposez votre CV")
            && welcome.contains("action=\"/profil/cv\""),
        "{welcome}"
    );
    let response = browser.submit("/", "/deconnexion", &[]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let hash: String = sqlx::query_scalar("SELECT password_hash FROM gui.users")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert!(!hash.contains(PASSWORD));

    let response = browser
        .log_in("camille.rouviere@exemple.fr", PASSWORD)
        .await;
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "the address is matched regardless of case"
    );
    assert_eq!(location(&response), "/");
    let token = browser.cookies["__Host-jm_session"].clone();
    let stored: Vec<u8> = sqlx::query_scalar("SELECT token_hash FROM gui.sessions")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(
        stored,
        <sha2::Sha256 as sha2::Digest>::digest(token.as_bytes()).to_vec(),
        "only the token's digest is stored"
    );
    let home = browser.page("/").await;
    assert!(
        home.contains("Vous êtes connecté avec l’adresse Camille.Rouviere@exemple.fr"),
        "{home}"
    );
    assert!(home.contains("<main") && home.contains("lang=\"fr\""));

    // The session's last visit is written at most once a minute, not on every page.
    sqlx::query("UPDATE gui.sessions SET last_seen_at = now() - interval '2 minutes'")
        .execute(&app.pool)
        .await
        .unwrap();
    browser.page("/").await;
    let seen: chrono::DateTime<chrono::Utc> =
        sqlx::query_scalar("SELECT last_seen_at FROM gui.sessions")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert!(
        chrono::Utc::now() - seen < chrono::TimeDelta::seconds(30),
        "touched after a minute"
    );
    browser.page("/").await;
    let again: chrono::DateTime<chrono::Utc> =
        sqlx::query_scalar("SELECT last_seen_at FROM gui.sessions")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(again, seen, "not written again within the minute");

    let response = browser.submit("/", "/deconnexion", &[]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(count(&app, "SELECT count(*) FROM gui.sessions").await, 0);
    assert!(!browser.cookies.contains_key("__Host-jm_session"));
    // The old cookie opens nothing any more.
    browser.cookies.insert("__Host-jm_session".into(), token);
    assert!(browser.page("/").await.contains("Créer un compte"));
    assert_eq!(browser.get("/compte").await.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn messages_never_tell_whether_an_account_exists() {
    let app = app().await;
    let mut browser = Browser::new(&app);
    let first = browser.sign_up("lea@exemple.fr").await;
    let mut someone_else = Browser::new(&app);
    let again = someone_else.sign_up("LEA@exemple.fr").await;
    assert_eq!(
        (again.status(), location(&again)),
        (first.status(), location(&first)),
        "same answer as a new address"
    );
    assert!(
        !someone_else.cookies.contains_key("__Host-jm_session"),
        "but no session for the account's owner's address"
    );
    let onward = someone_else.get("/profil?bienvenue=1").await;
    assert_eq!(
        (onward.status(), location(&onward)),
        (StatusCode::SEE_OTHER, "/connexion")
    );
    assert_eq!(count(&app, "SELECT count(*) FROM gui.users").await, 1);
    assert_eq!(count(&app, "SELECT count(*) FROM gui.sessions").await, 1);
    let response = browser.submit("/", "/deconnexion", &[]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);

    let wrong_password = browser
        .log_in("lea@exemple.fr", "not the password at all")
        .await;
    assert_eq!(wrong_password.status(), StatusCode::UNAUTHORIZED);
    let wrong_password = wrong_password.text().await.unwrap();
    let unknown = browser.log_in("nobody@exemple.fr", PASSWORD).await;
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    let unknown = unknown.text().await.unwrap();
    let message = "Adresse e-mail ou mot de passe incorrect.";
    assert!(wrong_password.contains(message) && unknown.contains(message));
    assert_eq!(count(&app, "SELECT count(*) FROM gui.sessions").await, 0);
}

#[tokio::test]
async fn bad_sign_ups_say_what_is_wrong_and_create_nothing() {
    let app = app().await;
    let mut browser = Browser::new(&app);
    for (email, password, confirm, message) in [
        (
            "not-an-address",
            PASSWORD,
            PASSWORD,
            "adresse e-mail n’est pas valide",
        ),
        ("a@exemple.fr", "short", "short", "au moins 12 caractères"),
        (
            "a@exemple.fr",
            PASSWORD,
            "another password!",
            "pas identiques",
        ),
    ] {
        let response = browser
            .submit(
                "/inscription",
                "/inscription",
                &[
                    ("email", email),
                    ("password", password),
                    ("confirm", confirm),
                ],
            )
            .await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = response.text().await.unwrap();
        assert!(html.contains(message), "{html}");
        assert!(html.contains("role=\"alert\""));
    }
    assert_eq!(count(&app, "SELECT count(*) FROM gui.users").await, 0);
}

#[tokio::test]
async fn forms_without_the_browsers_csrf_token_are_refused() {
    let app = app().await;
    let mut browser = Browser::new(&app);
    browser.sign_up("paul@exemple.fr").await;
    browser.page("/connexion").await;
    let form = |csrf: &'static str| {
        [
            ("csrf", csrf),
            ("email", "paul@exemple.fr"),
            ("password", PASSWORD),
        ]
    };
    for csrf in ["", "forged-token"] {
        let response = browser.post("/connexion", &form(csrf)).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        assert!(response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
        assert!(response.text().await.unwrap().contains("Formulaire expiré"));
    }
    // Another site's page cannot post with a token of its own browser either.
    let mut attacker = Browser::new(&app);
    let attackers_token = csrf_of(&attacker.page("/connexion").await);
    let response = browser
        .post(
            "/connexion",
            &[
                ("csrf", attackers_token.as_str()),
                ("email", "paul@exemple.fr"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        count(&app, "SELECT count(*) FROM gui.sessions").await,
        1,
        "the sign-up's session only"
    );
}

#[tokio::test]
async fn every_form_refuses_a_forged_token_and_changes_nothing() {
    let app = app().await;
    let mut browser = Browser::new(&app);
    browser.signed_in("rose@exemple.fr").await;
    let forged = ("csrf", "forged-token");
    let forms: [(&str, &[(&str, &str)]); 13] = [
        (
            "/inscription",
            &[
                forged,
                ("email", "x@exemple.fr"),
                ("password", PASSWORD),
                ("confirm", PASSWORD),
            ],
        ),
        (
            "/connexion",
            &[forged, ("email", "rose@exemple.fr"), ("password", PASSWORD)],
        ),
        ("/deconnexion", &[forged]),
        ("/compte/suppression", &[forged, ("password", PASSWORD)]),
        ("/profil/competences", &[forged, ("label", "Rust")]),
        (
            "/profil/competences/supprimer",
            &[forged, ("label", "Rust")],
        ),
        (
            "/profil/experiences",
            &[
                forged,
                ("title", "Soudeuse"),
                ("employer", ""),
                ("start", ""),
                ("end", ""),
            ],
        ),
        (
            "/profil/experiences/supprimer",
            &[forged, ("id", "00000000-0000-0000-0000-000000000000")],
        ),
        (
            "/profil/preferences",
            &[forged, ("place", "Lyon"), ("radius_km", "30")],
        ),
        ("/offres/actualiser", &[forged]),
        ("/offres/G000/enregistrer", &[forged]),
        ("/offres/G000/postule", &[forged]),
        ("/offres/G000/temps", &[forged, ("seconds", "30")]),
    ];
    for (action, fields) in forms {
        let response = browser.post(action, fields).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{action}");
    }
    let form = reqwest::multipart::Form::new()
        .text("csrf", "forged-token")
        .part(
            "cv",
            reqwest::multipart::Part::bytes(b"Rose, soudeuse".to_vec()).file_name("cv.txt"),
        );
    let request = browser
        .http
        .post(app.server.url("/profil/cv"))
        .multipart(form);
    assert_eq!(browser.send(request).await.status(), StatusCode::FORBIDDEN);
    for table in [
        "profiles",
        "profile_skills",
        "profile_experiences",
        "offer_interactions",
    ] {
        assert_eq!(
            count(&app, &format!("SELECT count(*) FROM gui.{table}")).await,
            0,
            "{table}"
        );
    }
    assert_eq!(count(&app, "SELECT count(*) FROM gui.users").await, 1);
    assert_eq!(
        count(&app, "SELECT count(*) FROM gui.sessions").await,
        1,
        "still signed in"
    );
}

#[tokio::test]
async fn log_ins_and_sign_ups_are_rate_limited() {
    let app = app().await;
    let mut browser = Browser::new(&app);
    browser.sign_up("zoe@exemple.fr").await;
    // Five wrong passwords from one address keep that address out of the account...
    for _ in 0..5 {
        assert_eq!(
            browser
                .log_in("zoe@exemple.fr", "wrong password here")
                .await
                .status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let response = browser.log_in("zoe@exemple.fr", PASSWORD).await;
    assert_eq!(
        response.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "even with the right password, for now"
    );
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("Trop de tentatives"));
    // ... not its owner, from another address: no lock-out by a stranger.
    let mut owner = Browser::from_address(&app, "127.0.0.2".parse().unwrap());
    assert_eq!(
        owner.log_in("zoe@exemple.fr", PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
    // Per client address: 20 log-ins in 15 minutes, whatever the accounts.
    for i in 0..14 {
        assert_eq!(
            browser
                .log_in(&format!("nobody{i}@exemple.fr"), "wrong password here")
                .await
                .status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let before = count(&app, "SELECT count(*) FROM gui.rate_limits").await;
    assert_eq!(
        browser
            .log_in("someone-else@exemple.fr", "wrong password here")
            .await
            .status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        count(&app, "SELECT count(*) FROM gui.rate_limits").await,
        before,
        "a blocked address writes no counter for the accounts it tries"
    );

    for i in 0..4 {
        assert_eq!(
            browser
                .sign_up(&format!("user{i}@exemple.fr"))
                .await
                .status(),
            StatusCode::SEE_OTHER
        );
    }
    assert_eq!(
        browser.sign_up("one-more@exemple.fr").await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(count(&app, "SELECT count(*) FROM gui.users").await, 5);
}

/// Old windows go on a schedule, through an index: however many keys were counted, the
/// table holds about a day of them.
#[tokio::test]
async fn rate_limit_counters_are_cleaned_by_window() {
    let app = app().await;
    sqlx::query(
        "INSERT INTO gui.rate_limits (key, window_start, attempts)
         SELECT 'log-in:from:10.0.' || (i / 256) || '.' || (i % 256), now() - interval '2 days', 1
         FROM generate_series(1, 20000) AS i",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    let mut browser = Browser::new(&app);
    browser.sign_up("yann@exemple.fr").await;
    assert_eq!(
        gui::rate_limit::clean(&app.pool).await.unwrap(),
        20000,
        "the old windows, and only them"
    );
    assert_eq!(count(&app, "SELECT count(*) FROM gui.rate_limits").await, 1);
    let index: String = sqlx::query_scalar(
        "SELECT indexdef FROM pg_indexes WHERE schemaname = 'gui' AND indexname = 'rate_limits_window'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert!(index.ends_with("(window_start)"), "{index}");
}

#[tokio::test]
async fn a_candidate_downloads_their_data_and_deletes_the_account() {
    let app = app().await;
    let mut browser = Browser::new(&app);
    browser.sign_up("ines@exemple.fr").await;
    // A candidate with something in every table (as the pages and the worker write it).
    for sql in [
        "INSERT INTO gui.profiles (user_id, cv_text) SELECT id, 'Ines, soudeuse' FROM gui.users",
        "INSERT INTO gui.profile_skills (user_id, label, source) SELECT id, 'Soudure TIG', 'declared' FROM gui.users",
        "INSERT INTO gui.profile_experiences (id, user_id, title, position) SELECT gen_random_uuid(), id, 'Soudeuse', 0 FROM gui.users",
        "INSERT INTO gui.match_results (user_id, offer_external_id, score) SELECT id, 'X1', 0.8 FROM gui.users",
        "INSERT INTO gui.offer_interactions (user_id, offer_external_id, applied) SELECT id, 'X1', true FROM gui.users",
        "INSERT INTO gui.notifications (id, user_id, offer_external_id, score, message) SELECT gen_random_uuid(), id, 'X1', 0.93, 'Une offre à 93 %' FROM gui.users",
    ] {
        sqlx::query(sql).execute(&app.pool).await.unwrap();
    }
    let response = browser.get("/compte/donnees").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment"));
    let text = response.text().await.unwrap();
    assert!(
        !text.contains("argon2") && !text.contains("token"),
        "{text}"
    );
    let data: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(data["account"]["email"], "ines@exemple.fr");
    assert_eq!(data["profile"]["cv_text"], "Ines, soudeuse");
    for part in [
        "skills",
        "experiences",
        "matches",
        "interactions",
        "notifications",
        "sessions",
    ] {
        assert_eq!(data[part].as_array().unwrap().len(), 1, "{part}: {data}");
    }

    let response = browser
        .submit(
            "/compte",
            "/compte/suppression",
            &[("password", "not my password!")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        count(&app, "SELECT count(*) FROM gui.users").await,
        1,
        "nothing deleted"
    );

    // Another account's attempts, which the deletion must leave alone.
    sqlx::query("INSERT INTO gui.rate_limits (key, window_start, attempts) VALUES ('log-in:account:0123', now(), 3)")
        .execute(&app.pool)
        .await
        .unwrap();
    let response = browser
        .submit("/compte", "/compte/suppression", &[("password", PASSWORD)])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM gui.rate_limits WHERE key = 'log-in:account:0123'"
        )
        .await,
        1,
        "another account's counter stays"
    );
    // Nothing of the candidate is left in any table that names a candidate, nor in the
    // attempt counters.
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.columns
         WHERE table_schema = 'gui' AND column_name = 'user_id' ORDER BY 1",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert!(tables.len() >= 7, "{tables:?}");
    for table in tables.iter().chain([&"users".to_owned()]) {
        let left = count(&app, &format!("SELECT count(*) FROM gui.{table}")).await;
        assert_eq!(left, 0, "{table}");
    }
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM gui.rate_limits WHERE key <> 'log-in:account:0123' AND (key LIKE '%:account:%' OR key LIKE '%:candidate:%')"
        )
        .await,
        0
    );
    assert_eq!(browser.get("/compte").await.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        browser.log_in("ines@exemple.fr", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn unknown_pages_are_french_pages_for_browsers_and_problems_for_programs() {
    let app = app().await;
    let page = app
        .server
        .get("/nulle-part")
        .header("accept", "text/html,application/xhtml+xml")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::NOT_FOUND);
    assert!(page.text().await.unwrap().contains("Page introuvable"));
    let problem = app.server.get("/nulle-part").send().await.unwrap();
    assert_eq!(problem.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        problem.headers()["content-type"],
        "application/problem+json"
    );

    // What the platform refuses before a page runs is a French page for a browser too:
    // a file over the body limit, a form the page did not send.
    let mut browser = Browser::new(&app);
    browser.signed_in("yann@exemple.fr").await;
    let request = browser
        .http
        .post(app.server.url("/profil/cv"))
        .header("accept", "text/html")
        .header("content-type", "multipart/form-data; boundary=x")
        .body(vec![b'a'; 12 * 1024 * 1024]);
    let too_large = browser.send(request).await;
    assert_eq!(too_large.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(too_large.headers().contains_key("content-security-policy"));
    assert!(too_large
        .text()
        .await
        .unwrap()
        .contains("Fichier trop volumineux"));
    // An upload whose multipart body is cut short is said to be incomplete, not taken
    // for a form without its token or its file.
    let request = browser
        .http
        .post(app.server.url("/profil/cv"))
        .header("accept", "text/html")
        .header("content-type", "multipart/form-data; boundary=x")
        .body("--x\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\nabc");
    let cut = browser.send(request).await;
    assert_eq!(cut.status(), StatusCode::BAD_REQUEST);
    assert!(cut.text().await.unwrap().contains("Formulaire incomplet"));
    let request = browser
        .http
        .post(app.server.url("/profil/competences"))
        .header("accept", "text/html")
        .form(&[("csrf", "x")]);
    let incomplete = browser.send(request).await;
    assert_eq!(incomplete.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(incomplete.headers()["hx-retarget"], "main");
    assert!(incomplete
        .text()
        .await
        .unwrap()
        .contains("Formulaire incomplet"));
    // The page keeps what the answer said beside its body: a 405 names what is allowed.
    let request = browser
        .http
        .get(app.server.url("/profil/cv"))
        .header("accept", "text/html");
    let wrong_method = browser.send(request).await;
    assert_eq!(wrong_method.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(wrong_method.headers()["allow"], "POST");
    assert!(wrong_method
        .text()
        .await
        .unwrap()
        .contains("Page introuvable"));
}

#[tokio::test]
async fn pages_carry_security_headers_and_errors_replace_the_whole_content_under_htmx() {
    let app = app().await;
    let mut browser = Browser::new(&app);
    let page = browser.get("/connexion").await;
    let headers = page.headers();
    let policy = headers["content-security-policy"].to_str().unwrap();
    assert!(
        policy.contains("script-src 'self'") && policy.contains("frame-ancestors 'none'"),
        "{policy}"
    );
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(
        headers["strict-transport-security"],
        "max-age=31536000; includeSubDomains"
    );
    assert_eq!(headers["referrer-policy"], "same-origin");
    assert_eq!(
        headers["cache-control"], "no-store",
        "pages hold personal data"
    );
    assert!(
        !headers.contains_key("hx-redirect"),
        "a browser's own visit"
    );
    let script = browser.get("/static/app.js").await;
    assert_eq!(script.headers()["cache-control"], "public, max-age=3600");
    assert!(script.text().await.unwrap().contains("sendBeacon"));
    let missing = app
        .server
        .get("/nulle-part")
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert!(missing.headers().contains_key("content-security-policy"));

    // A section sent by htmx that meets an error page: the page says to replace the
    // whole content, not the section.
    browser.signed_in("lea@exemple.fr").await;
    let refused = browser
        .post(
            "/profil/competences",
            &[("csrf", "forged"), ("label", "Rust")],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(refused.headers()["hx-retarget"], "main");
    assert_eq!(refused.headers()["hx-reselect"], "main");
    // The session ended: htmx followed the redirect to the log-in page, which sends
    // the whole browser there.
    let login = app
        .server
        .get("/connexion")
        .header("hx-request", "true")
        .send()
        .await
        .unwrap();
    assert_eq!(login.headers()["hx-redirect"], "/connexion");
}

#[tokio::test]
async fn the_deletion_form_guesses_passwords_no_faster_than_the_log_in() {
    let app = app().await;
    let mut browser = Browser::new(&app);
    browser.signed_in("ugo@exemple.fr").await;
    // Two wrong passwords at log-in and three in the deletion form: the same counter.
    let mut other_tab = Browser::new(&app);
    for _ in 0..2 {
        assert_eq!(
            other_tab
                .log_in("ugo@exemple.fr", "not my password!")
                .await
                .status(),
            StatusCode::UNAUTHORIZED
        );
    }
    for _ in 0..3 {
        let response = browser
            .submit(
                "/compte",
                "/compte/suppression",
                &[("password", "not my password!")],
            )
            .await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    let response = browser
        .submit("/compte", "/compte/suppression", &[("password", PASSWORD)])
        .await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(count(&app, "SELECT count(*) FROM gui.users").await, 1);
}

#[tokio::test]
async fn a_browser_that_lost_its_csrf_cookie_gets_a_new_one_on_any_page() {
    let app = app().await;
    let mut browser = Browser::new(&app);
    browser.signed_in("vera@exemple.fr").await;
    browser.cookies.remove("__Host-jm_csrf");
    let page = browser.get("/profil").await;
    let set = page
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect::<Vec<_>>();
    assert!(
        set.iter().any(|c| c.starts_with("__Host-jm_csrf=")),
        "{set:?}"
    );
    assert!(browser.cookies.contains_key("__Host-jm_csrf"));
    let response = browser.add_skill("Rust").await;
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "the form works again"
    );
    // Static files, cached publicly, never set a cookie.
    browser.cookies.remove("__Host-jm_csrf");
    let css = browser.get("/static/app.css").await;
    assert!(css.headers().get("set-cookie").is_none());
}

/// A session ends after 30 minutes unused, and 12 hours after log-in at most.
#[tokio::test]
async fn sessions_end_when_idle_and_at_their_absolute_end() {
    let app = app().await;
    let mut browser = Browser::new(&app);
    browser.signed_in("ada@exemple.fr").await;
    let expires: chrono::DateTime<chrono::Utc> =
        sqlx::query_scalar("SELECT expires_at FROM gui.sessions")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    let lifetime = expires - chrono::Utc::now();
    assert!(
        lifetime <= chrono::TimeDelta::hours(12) && lifetime > chrono::TimeDelta::hours(11),
        "{lifetime}"
    );
    // Used 29 minutes ago: still on, and seen now.
    sqlx::query("UPDATE gui.sessions SET last_seen_at = now() - interval '29 minutes'")
        .execute(&app.pool)
        .await
        .unwrap();
    assert_eq!(browser.get("/compte").await.status(), StatusCode::OK);
    // Left 31 minutes: over, and a visit does not bring it back.
    sqlx::query("UPDATE gui.sessions SET last_seen_at = now() - interval '31 minutes'")
        .execute(&app.pool)
        .await
        .unwrap();
    for _ in 0..2 {
        let response = browser.get("/compte").await;
        assert_eq!(
            (response.status(), location(&response)),
            (StatusCode::SEE_OTHER, "/connexion")
        );
    }
    // Past its absolute end, however recently used.
    let mut again = Browser::new(&app);
    again.log_in("ada@exemple.fr", PASSWORD).await;
    sqlx::query(
        "UPDATE gui.sessions SET expires_at = now() - interval '1 second', last_seen_at = now()",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    assert_eq!(again.get("/compte").await.status(), StatusCode::SEE_OTHER);
}

/// The account page lists the candidate's sessions; a password change (given the current
/// one, refusing common ones) ends the others, and "log out everywhere" ends them all.
#[tokio::test]
async fn passwords_change_and_sessions_end_everywhere() {
    let app = app().await;
    let mut phone = Browser::new(&app);
    phone.signed_in("lina@exemple.fr").await;
    let mut laptop = Browser::new(&app);
    assert_eq!(
        laptop.log_in("lina@exemple.fr", PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
    let page = laptop.page("/compte").await;
    assert_eq!(page.matches("Ouverte le ").count(), 2, "{page}");
    assert_eq!(page.matches("(celle-ci)").count(), 1);

    let change = |current: &'static str, new: &'static str, confirm: &'static str| {
        [
            ("current", current),
            ("password", new),
            ("confirm", confirm),
        ]
    };
    for (form, message) in [
        (
            change(
                "not the password!",
                "a brand new sentence",
                "a brand new sentence",
            ),
            "Le mot de passe actuel est incorrect.",
        ),
        (
            change(PASSWORD, "Azertyuiop2024!", "Azertyuiop2024!"),
            "fait partie des plus utilisés",
        ),
        (
            change(PASSWORD, "a brand new sentence", "another sentence!"),
            "ne sont pas identiques",
        ),
    ] {
        let response = laptop
            .submit("/compte", "/compte/mot-de-passe", &form)
            .await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            response.text().await.unwrap().contains(message),
            "{message}"
        );
    }
    let response = laptop
        .submit(
            "/compte",
            "/compte/mot-de-passe",
            &change(PASSWORD, "a brand new sentence", "a brand new sentence"),
        )
        .await;
    assert_eq!(
        (response.status(), location(&response)),
        (StatusCode::SEE_OTHER, "/compte?mot_de_passe=1")
    );
    assert!(laptop
        .page("/compte?mot_de_passe=1")
        .await
        .contains("vos autres sessions sont fermées"));
    assert_eq!(
        phone.get("/compte").await.status(),
        StatusCode::SEE_OTHER,
        "the other session ended"
    );
    let mut anyone = Browser::from_address(&app, "127.0.0.3".parse().unwrap());
    assert_eq!(
        anyone.log_in("lina@exemple.fr", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED,
        "the old password no longer works"
    );
    assert_eq!(
        phone
            .log_in("lina@exemple.fr", "a brand new sentence")
            .await
            .status(),
        StatusCode::SEE_OTHER
    );

    // Log out everywhere: both sessions end.
    let response = laptop.submit("/compte", "/compte/sessions", &[]).await;
    assert_eq!(
        (response.status(), location(&response)),
        (StatusCode::SEE_OTHER, "/connexion")
    );
    assert_eq!(count(&app, "SELECT count(*) FROM gui.sessions").await, 0);
    assert_eq!(phone.get("/compte").await.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_common_password_is_refused_at_sign_up() {
    let app = app().await;
    let mut browser = Browser::new(&app);
    for password in ["motdepasse123", "Password1234!", "qwertyuiop12"] {
        let response = browser
            .submit(
                "/inscription",
                "/inscription",
                &[
                    ("email", "noe@exemple.fr"),
                    ("password", password),
                    ("confirm", password),
                ],
            )
            .await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{password}"
        );
        assert!(response
            .text()
            .await
            .unwrap()
            .contains("fait partie des plus utilisés"));
    }
    assert_eq!(count(&app, "SELECT count(*) FROM gui.users").await, 0);
}

/// A form is a few fields: a body over 16 KiB is refused before it is read (413, a
/// French page), except on the CV upload, which takes a CV of up to 10 MiB.
#[tokio::test]
async fn forms_take_a_few_kib_and_the_cv_upload_its_megabytes() {
    let app = app().await;
    let mut browser = Browser::new(&app);
    browser.signed_in("max@exemple.fr").await;
    let big = "x".repeat(20 * 1024);
    let csrf = csrf_of(&browser.page("/profil").await);
    let request = browser
        .http
        .post(app.server.url("/profil/competences"))
        .header("accept", "text/html")
        .form(&[("csrf", csrf.as_str()), ("label", big.as_str())]);
    let response = browser.send(request).await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert_eq!(
        count(&app, "SELECT count(*) FROM gui.profile_skills").await,
        0
    );
    let response = browser
        .submit(
            "/connexion",
            "/connexion",
            &[("email", big.as_str()), ("password", "x")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // 2 MiB on the CV upload's route: past the forms' limit, read (and refused by the
    // CV reader this app has none of, not by the size).
    let response = browser
        .upload_cv(vec![b'a'; 2 * 1024 * 1024], "cv.txt")
        .await;
    assert_ne!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

/// Rate limits count a client by the address `X-Forwarded-For` gives only when the
/// request comes from a configured reverse proxy (`TRUSTED_PROXIES`); anyone else's
/// header is ignored.
#[tokio::test]
async fn forwarded_addresses_are_trusted_from_configured_proxies_only() {
    for (trusted, counted_as) in [(None, "127.0.0.1"), (Some("127.0.0.0/8"), "203.0.113.9")] {
        let app = app_with(|env| match trusted {
            Some(proxies) => env.with("TRUSTED_PROXIES", proxies),
            None => env,
        })
        .await;
        let mut browser = Browser::new(&app);
        let csrf = csrf_of(&browser.page("/connexion").await);
        let request = browser
            .http
            .post(app.server.url("/connexion"))
            .header("x-forwarded-for", "203.0.113.9")
            .form(&[
                ("csrf", csrf.as_str()),
                ("email", "nobody@exemple.fr"),
                ("password", "wrong password here"),
            ]);
        assert_eq!(
            browser.send(request).await.status(),
            StatusCode::UNAUTHORIZED
        );
        let keys: Vec<String> =
            sqlx::query_scalar("SELECT key FROM gui.rate_limits WHERE key LIKE 'log-in:from:%'")
                .fetch_all(&app.pool)
                .await
                .unwrap();
        assert_eq!(keys, [format!("log-in:from:{counted_as}")], "{trusted:?}");
    }
}

/// A signed-in candidate's forms carry a token bound to the session: the browser's own
/// CSRF cookie does not pass for it, and the token changes at each log-in.
#[tokio::test]
async fn the_csrf_token_is_bound_to_the_session_and_new_at_log_in() {
    let app = app().await;
    let mut browser = Browser::new(&app);
    browser.sign_up("rose@exemple.fr").await;
    let first = csrf_of(&browser.page("/compte").await);
    let cookie = browser.cookies["__Host-jm_csrf"].clone();
    assert_ne!(first, cookie, "not the double-submit cookie");
    let response = browser
        .post(
            "/profil/competences",
            &[("csrf", cookie.as_str()), ("label", "Soudure")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let response = browser
        .post(
            "/profil/competences",
            &[("csrf", first.as_str()), ("label", "Soudure")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    // Log out, log in: a new session, a new token; the old one opens nothing.
    browser.submit("/", "/deconnexion", &[]).await;
    browser.log_in("rose@exemple.fr", PASSWORD).await;
    let second = csrf_of(&browser.page("/compte").await);
    assert_ne!(second, first);
    let response = browser
        .post(
            "/profil/competences",
            &[("csrf", first.as_str()), ("label", "TIG")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        count(&app, "SELECT count(*) FROM gui.profile_skills").await,
        1
    );
}

/// The limits the pages state are the ones the code applies, from the same constants.
#[tokio::test]
async fn the_pages_state_the_limits_the_code_applies() {
    let app = app().await;
    let mut browser = Browser::new(&app);
    let min = gui::accounts::MIN_PASSWORD_CHARS;
    let sign_up = browser.page("/inscription").await;
    assert!(
        sign_up.contains(&format!("({min} caractères au moins)"))
            && sign_up.contains(&format!("minlength=\"{min}\"")),
        "{sign_up}"
    );
    browser.signed_in("limites@exemple.fr").await;
    let profile = browser.page("/profil").await;
    let label = gui::profile::cv_max_label();
    assert_eq!(label, "10 Mo");
    assert!(
        profile.contains(&format!("{label} au plus"))
            && profile.contains(&format!(
                "data-max-bytes=\"{}\"",
                gui::profile::CV_MAX_BYTES
            )),
        "{profile}"
    );
    let account = browser.page("/compte").await;
    assert!(
        account.contains(&format!("minlength=\"{min}\"")),
        "{account}"
    );
}
