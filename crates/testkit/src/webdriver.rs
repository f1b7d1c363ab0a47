//! A real browser for GUI tests: Debian's headless Chromium driven by its chromedriver
//! over the W3C WebDriver protocol (JSON over HTTP), which is small enough to speak
//! here rather than pull a client crate and its dependency tree.

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use base64::Engine;
use serde_json::{json, Value};

/// chromedriver on a free port, and one headless Chromium session through it.
pub struct Browser {
    _driver: Driver,
    http: reqwest::Client,
    session: String,
}

/// A page element, by its WebDriver reference.
pub struct Element<'a> {
    browser: &'a Browser,
    id: String,
}

const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";
/// WebDriver's Tab and Enter keys, for [`Browser::press`].
pub const TAB: &str = "\u{E004}";
pub const ENTER: &str = "\u{E007}";

impl Browser {
    /// Starts chromedriver and a Chromium session (French, 1280 px wide).
    pub async fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Driver(
            Command::new("chromedriver")
                .arg(format!("--port={port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                // A process group of its own, which Chromium's processes join: ended
                // together with the browser.
                .process_group(0)
                .spawn()
                .expect("chromedriver is installed by `make test` (scripts/setup.sh --for-tests)"),
        );
        let http = reqwest::Client::new();
        let capabilities = json!({"capabilities": {"alwaysMatch": {"goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1280,2000", "--lang=fr-FR"]},
            "goog:loggingPrefs": {"browser": "SEVERE"}}}});
        let base = format!("http://127.0.0.1:{port}");
        for _ in 0..100 {
            if let Ok(response) = http
                .post(format!("{base}/session"))
                .json(&capabilities)
                .send()
                .await
            {
                let body: Value = response.json().await.expect("chromedriver answers JSON");
                let session = body["value"]["sessionId"]
                    .as_str()
                    .unwrap_or_else(|| panic!("no Chromium session: {body}"))
                    .to_owned();
                let browser = Self {
                    _driver: driver,
                    http,
                    session: format!("{base}/session/{session}"),
                };
                // Elements are waited for (up to 5 s) while a page loads.
                browser
                    .call(
                        reqwest::Method::POST,
                        "/timeouts",
                        Some(json!({"implicit": 5000})),
                    )
                    .await;
                return browser;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("chromedriver did not start");
    }

    /// The process group of chromedriver and its Chromium.
    pub fn process_group(&self) -> u32 {
        self._driver.0.id()
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self.http.request(method, format!("{}{path}", self.session));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response: Value = request
            .send()
            .await
            .expect("chromedriver")
            .json()
            .await
            .expect("JSON");
        if let Some(error) = response["value"]["error"].as_str() {
            panic!(
                "WebDriver {path}: {error}: {}",
                response["value"]["message"]
            );
        }
        response["value"].clone()
    }

    /// Loads `url` and waits for the page.
    pub async fn goto(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", Some(json!({ "url": url })))
            .await;
    }

    /// The first element matching the CSS `selector`.
    pub async fn find(&self, selector: &str) -> Element<'_> {
        let value = self
            .call(
                reqwest::Method::POST,
                "/element",
                Some(json!({"using": "css selector", "value": selector})),
            )
            .await;
        let id = value[ELEMENT_KEY]
            .as_str()
            .unwrap_or_else(|| panic!("{selector}: {value}"));
        Element {
            browser: self,
            id: id.to_owned(),
        }
    }

    /// Every element matching the CSS `selector`.
    pub async fn find_all(&self, selector: &str) -> Vec<Element<'_>> {
        let value = self
            .call(
                reqwest::Method::POST,
                "/elements",
                Some(json!({"using": "css selector", "value": selector})),
            )
            .await;
        value
            .as_array()
            .expect("a list")
            .iter()
            .map(|e| Element {
                browser: self,
                id: e[ELEMENT_KEY].as_str().expect("an element").to_owned(),
            })
            .collect()
    }

    /// The text of the first element matching `selector`, or None while there is none
    /// (or the page is being replaced: its elements are then stale).
    pub async fn text_of(&self, selector: &str) -> Option<String> {
        let find = self
            .http
            .post(format!("{}/element", self.session))
            .json(&json!({"using": "css selector", "value": selector}))
            .send()
            .await
            .ok()?;
        let found: Value = find.json().await.ok()?;
        let id = found["value"][ELEMENT_KEY].as_str()?;
        let text: Value = self
            .http
            .get(format!("{}/element/{id}/text", self.session))
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        text["value"].as_str().map(str::to_owned)
    }

    /// Runs `script` in the page; what it returns.
    pub async fn execute(&self, script: &str) -> Value {
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({"script": script, "args": []})),
        )
        .await
    }

    /// Presses keys as a person would, on whatever has the focus: text, or WebDriver's
    /// special keys such as [`TAB`] and [`ENTER`].
    pub async fn press(&self, keys: &str) {
        let actions: Vec<Value> = keys
            .chars()
            .flat_map(|key| {
                [
                    json!({"type": "keyDown", "value": key.to_string()}),
                    json!({"type": "keyUp", "value": key.to_string()}),
                ]
            })
            .collect();
        self.call(
            reqwest::Method::POST,
            "/actions",
            Some(json!({"actions": [{"type": "key", "id": "keyboard", "actions": actions}]})),
        )
        .await;
    }

    /// Resizes the window, to see a page as a phone does.
    pub async fn resize(&self, width: u32, height: u32) {
        self.call(
            reqwest::Method::POST,
            "/window/rect",
            Some(json!({"width": width, "height": height})),
        )
        .await;
    }

    /// The messages the page wrote to the console at level SEVERE since the last call
    /// (script errors, refused resources, Content-Security-Policy violations).
    pub async fn console_errors(&self) -> Vec<String> {
        let value = self
            .call(
                reqwest::Method::POST,
                "/se/log",
                Some(json!({"type": "browser"})),
            )
            .await;
        value
            .as_array()
            .expect("a list of log entries")
            .iter()
            .filter(|entry| entry["level"] == "SEVERE")
            .map(|entry| entry["message"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// The page's violations of WCAG 2.x A and AA and of axe's best practices (one main
    /// landmark, content in landmarks, heading order...) found by axe-core (installed by
    /// `make test`), one line each: rule, help, number of elements.
    pub async fn accessibility_violations(&self) -> Vec<String> {
        let axe_path = crate::cache_dir().join("axe-core/axe.min.js");
        let axe = std::fs::read_to_string(&axe_path)
            .unwrap_or_else(|e| panic!("{}: {e} (installed by `make test`)", axe_path.display()));
        self.execute(&axe).await;
        let script = "const done = arguments[arguments.length - 1];
            axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']})
               .then(r => done(r.violations.map(v => v.id + ': ' + v.help + ' (' + v.nodes.length + ')')))
               .catch(e => done(['axe failed: ' + e]));";
        let value = self
            .call(
                reqwest::Method::POST,
                "/execute/async",
                Some(json!({"script": script, "args": []})),
            )
            .await;
        value
            .as_array()
            .expect("a list of violations")
            .iter()
            .map(|v| v.as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// A PNG of the window.
    pub async fn screenshot(&self) -> Vec<u8> {
        let value = self.call(reqwest::Method::GET, "/screenshot", None).await;
        base64::engine::general_purpose::STANDARD
            .decode(value.as_str().expect("base64"))
            .expect("a PNG")
    }
}

impl Element<'_> {
    pub async fn click(&self) {
        self.browser
            .call(
                reqwest::Method::POST,
                &format!("/element/{}/click", self.id),
                Some(json!({})),
            )
            .await;
    }

    /// Types `text` (a file path, for a file input).
    pub async fn send_keys(&self, text: &str) {
        self.browser
            .call(
                reqwest::Method::POST,
                &format!("/element/{}/value", self.id),
                Some(json!({ "text": text })),
            )
            .await;
    }

    pub async fn clear(&self) {
        self.browser
            .call(
                reqwest::Method::POST,
                &format!("/element/{}/clear", self.id),
                Some(json!({})),
            )
            .await;
    }

    /// The rendered text.
    pub async fn text(&self) -> String {
        let value = self
            .browser
            .call(
                reqwest::Method::GET,
                &format!("/element/{}/text", self.id),
                None,
            )
            .await;
        value.as_str().unwrap_or_default().to_owned()
    }
}

/// The chromedriver process and the Chromium it started, stopped with the browser,
/// also when a test fails (drop runs while a panic unwinds): killing chromedriver alone
/// left Chromium's process tree running.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        if let Some(group) = rustix::process::Pid::from_raw(self.0.id() as i32) {
            rustix::process::kill_process_group(group, rustix::process::Signal::KILL).ok();
        }
        self.0.kill().ok();
        self.0.wait().ok();
    }
}
