//! A router served in-process on an ephemeral port, with a real HTTP client.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use reqwest::{Method, RequestBuilder};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::SERVICE_TOKEN;

pub struct TestServer {
    pub addr: SocketAddr,
    pub http: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
}

/// Serves `router` on `127.0.0.1:0` through the platform's server (graceful shutdown
/// included), as `main` would.
pub async fn spawn(router: Router) -> TestServer {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("cannot bind an ephemeral port");
    let addr = listener
        .local_addr()
        .expect("bound listener has an address");
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(platform::serve(
        listener,
        router,
        async move {
            let _ = stopped.await;
        },
        Duration::from_secs(5),
    ));
    TestServer {
        addr,
        http: reqwest::Client::new(),
        stop: Some(stop),
        task,
    }
}

impl TestServer {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// The server's base URL, for a service client.
    pub fn base_url(&self) -> reqwest::Url {
        reqwest::Url::parse(&self.url("/")).expect("valid URL")
    }

    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.http.request(method, self.url(path))
    }

    pub fn get(&self, path: &str) -> RequestBuilder {
        self.request(Method::GET, path)
    }

    pub fn post(&self, path: &str) -> RequestBuilder {
        self.request(Method::POST, path)
    }

    /// A request carrying the test service token.
    pub fn authed(&self, method: Method, path: &str) -> RequestBuilder {
        self.request(method, path).bearer_auth(SERVICE_TOKEN)
    }

    /// The service's `/metrics` text (with the service token).
    pub async fn metrics(&self) -> String {
        self.authed(Method::GET, "/metrics")
            .send()
            .await
            .expect("GET /metrics")
            .text()
            .await
            .expect("the metrics' text")
    }

    /// Waits until `/health/ready` answers 200 (matching, for one, is ready once its
    /// offers index has loaded); 30 s is a deadline for a failure, not a measure.
    pub async fn wait_ready(&self) {
        let started = std::time::Instant::now();
        loop {
            let ready = self
                .get("/health/ready")
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if ready {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "{} never ready",
                self.addr
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Stops the server gracefully and waits for it.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        (&mut self.task)
            .await
            .expect("server task panicked")
            .expect("server failed");
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
