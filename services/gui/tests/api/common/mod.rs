//! The GUI served in-process on a real port with a fresh database, and a browser that
//! keeps its cookies and submits forms with their CSRF token.

pub mod suite;

use std::collections::HashMap;

use gui::{AppState, Config};
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::{Response, StatusCode};
use testkit::{TestDb, TestServer};

pub const PASSWORD: &str = "correct horse battery";

pub struct App {
    pub _db: TestDb,
    pub pool: sqlx::PgPool,
    pub server: TestServer,
}

pub async fn app() -> App {
    app_with(|env| env).await
}

/// The GUI with its configuration changed by `configure`.
pub async fn app_with(configure: impl FnOnce(platform::Env) -> platform::Env) -> App {
    app_on(TestDb::new().await, configure).await
}

/// The GUI on `db`, with its configuration changed by `configure`.
pub async fn app_on(db: TestDb, configure: impl FnOnce(platform::Env) -> platform::Env) -> App {
    let env = configure(testkit::env_as(&db, schemas::GUI.role));
    let config = Config::from_env(&env).unwrap();
    let state = AppState::connect(&config).await.unwrap();
    let server = testkit::spawn(gui::router(&config, state)).await;
    App {
        pool: db.pool().await,
        _db: db,
        server,
    }
}

/// A browser: keeps its cookies, does not follow redirects.
pub struct Browser<'a> {
    pub app: &'a App,
    pub http: reqwest::Client,
    pub cookies: HashMap<String, String>,
}

impl<'a> Browser<'a> {
    pub fn new(app: &'a App) -> Self {
        Self::from_address(app, "127.0.0.1".parse().unwrap())
    }

    /// A browser on another machine: its requests come from `ip` (any 127.0.0.0/8
    /// address reaches the test server).
    pub fn from_address(app: &'a App, ip: std::net::IpAddr) -> Self {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .local_address(ip)
            .build()
            .unwrap();
        Self {
            app,
            http,
            cookies: HashMap::new(),
        }
    }

    pub fn keep_cookies(&mut self, response: &Response) {
        for header in response.headers().get_all(SET_COOKIE) {
            let header = header.to_str().unwrap();
            let (pair, attributes) = header.split_once(';').unwrap_or((header, ""));
            let (name, value) = pair.split_once('=').unwrap();
            assert!(
                attributes.contains("HttpOnly")
                    && attributes.contains("SameSite=Lax")
                    && attributes.contains("Secure"),
                "{header}"
            );
            if value.is_empty() {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// Sends `request` (made from `self.http`) with the browser's cookies, and keeps
    /// those the answer sets.
    pub async fn send(&mut self, request: reqwest::RequestBuilder) -> Response {
        let response = request
            .header(COOKIE, self.cookie_header())
            .send()
            .await
            .unwrap();
        self.keep_cookies(&response);
        response
    }

    pub async fn get(&mut self, path: &str) -> Response {
        let request = self.http.get(self.app.server.url(path));
        self.send(request).await
    }

    pub async fn page(&mut self, path: &str) -> String {
        let response = self.get(path).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        response.text().await.unwrap()
    }

    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Response {
        let request = self.http.post(self.app.server.url(path)).form(form);
        self.send(request).await
    }

    /// Submits a form the way a person does: the page first, then the form with the
    /// page's CSRF token.
    pub async fn submit(&mut self, page: &str, action: &str, fields: &[(&str, &str)]) -> Response {
        let html = self.page(page).await;
        let csrf = csrf_of(&html);
        let mut form = vec![("csrf", csrf.as_str())];
        form.extend_from_slice(fields);
        self.post(action, &form).await
    }

    pub async fn sign_up(&mut self, email: &str) -> Response {
        self.submit(
            "/inscription",
            "/inscription",
            &[
                ("email", email),
                ("password", PASSWORD),
                ("confirm", PASSWORD),
            ],
        )
        .await
    }

    pub async fn log_in(&mut self, email: &str, password: &str) -> Response {
        self.submit(
            "/connexion",
            "/connexion",
            &[("email", email), ("password", password)],
        )
        .await
    }
}

pub fn csrf_of(html: &str) -> String {
    let at = html
        .find("name=\"csrf\" value=\"")
        .expect("a form with its CSRF token")
        + 19;
    html[at..at + html[at..].find('"').unwrap()].to_owned()
}

pub fn location(response: &Response) -> &str {
    response.headers()[LOCATION].to_str().unwrap()
}

/// The offers of the matches page, in order, with their percentages.
pub fn listed(html: &str) -> Vec<(String, u32)> {
    html.split("<article")
        .skip(1)
        .map(|article| {
            let link = &article[article.find("<a href=\"/offres/").unwrap()..];
            let title = link[link.find('>').unwrap() + 1..link.find("</a>").unwrap()].to_owned();
            let percent = article
                .split("<strong>")
                .nth(1)
                .unwrap()
                .split(' ')
                .next()
                .unwrap()
                .parse()
                .unwrap();
            (title, percent)
        })
        .collect()
}

pub async fn count(app: &App, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&app.pool).await.unwrap()
}

/// The French test CV's HTML (cv-ingestion's tests/data).
pub fn cv_html() -> String {
    std::fs::read_to_string(testkit::manifest_dir().join("../cv-ingestion/tests/data/cv-fr.html"))
        .expect("cv-ingestion's test CV")
}

/// cv-ingestion served in-process, parsing with its real binary (built by `make test`
/// with the whole workspace).
pub async fn cv_ingestion() -> TestServer {
    let deps = std::env::current_exe().unwrap();
    let parser = deps
        .parent()
        .and_then(|d| d.parent())
        .unwrap()
        .join("cv-ingestion");
    assert!(
        parser.is_file(),
        "{} is built by `make test` (cargo builds every binary of the workspace)",
        parser.display()
    );
    let env = testkit::env().with("CV_PARSER", parser.to_str().unwrap());
    let config = cv_ingestion::Config::from_env(&env).unwrap();
    let state = cv_ingestion::AppState::load(&config).await.unwrap();
    testkit::spawn(cv_ingestion::router(&config, state)).await
}

impl Browser<'_> {
    /// Signs up, which signs in.
    pub async fn signed_in(&mut self, email: &str) {
        assert_eq!(self.sign_up(email).await.status(), StatusCode::SEE_OTHER);
        assert!(
            self.cookies.contains_key("__Host-jm_session"),
            "{email} signed in"
        );
    }

    /// Adds a skill from the profile page's form.
    pub async fn add_skill(&mut self, label: &str) -> Response {
        self.submit("/profil", "/profil/competences", &[("label", label)])
            .await
    }

    /// Uploads a CV from the profile page's form.
    pub async fn upload_cv(&mut self, bytes: Vec<u8>, file_name: &str) -> Response {
        let csrf = csrf_of(&self.page("/profil").await);
        let form = reqwest::multipart::Form::new().text("csrf", csrf).part(
            "cv",
            reqwest::multipart::Part::bytes(bytes).file_name(file_name.to_owned()),
        );
        let request = self
            .http
            .post(self.app.server.url("/profil/cv"))
            .multipart(form);
        self.send(request).await
    }
}

/// The `q` quantile of `times` (0.5 for the median), in milliseconds: the benches' figure.
// Used by the benches only (they include this module).
#[allow(dead_code)]
pub fn quantile_ms(mut times: Vec<std::time::Duration>, q: f64) -> f64 {
    times.sort();
    times[((times.len() as f64 * q) as usize).min(times.len() - 1)].as_secs_f64() * 1000.0
}
