//! Traces: one request to the GUI is one trace, whose spans come from every service it
//! calls, received on a local OTLP/HTTP receiver as an OpenTelemetry collector would
//! receive them (`OTEL_EXPORTER_OTLP_ENDPOINT`), the W3C trace context going over the
//! real HTTP calls between the services.
//!
//! A test binary of its own, not a module of `tests/api`: it installs the process's
//! tracing subscriber, which exports the spans of the whole process. Beside the other
//! tests in one process (`cargo test` runs a binary's tests in threads of one process),
//! it would receive their requests' spans too, and could take another test's
//! `GET /offres` for its own.

// The helpers of `tests/api`; this test uses only some of them.
#[allow(dead_code)]
#[path = "api/common/mod.rs"]
mod common;

use std::sync::{Arc, Mutex};

use axum::routing::post;
use axum::{Json, Router};
use common::suite::suite;
use common::*;
use platform::config::LogFormat;
use platform::telemetry::{self, Traces};
use platform::Env;
use serde_json::Value;
use testkit::documents::{self, Font};

type Received = Arc<Mutex<Vec<Value>>>;

/// An OTLP/HTTP (JSON) receiver: every export's body, kept.
async fn receiver() -> (std::net::SocketAddr, Received) {
    let received = Received::default();
    let kept = received.clone();
    let app = Router::new().route(
        "/v1/traces",
        post(move |Json(body): Json<Value>| async move {
            kept.lock().unwrap().push(body);
            Json(serde_json::json!({}))
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, received)
}

/// A span as received: its trace, its id, its parent and its attributes.
#[derive(Debug)]
struct Span {
    trace: String,
    id: String,
    parent: String,
    name: String,
    attributes: Vec<(String, String)>,
}

impl Span {
    fn attribute(&self, key: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

fn spans(received: &Received) -> Vec<Span> {
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    let mut spans = Vec::new();
    for export in received.lock().unwrap().iter() {
        for resource in export["resourceSpans"].as_array().into_iter().flatten() {
            for scope in resource["scopeSpans"].as_array().into_iter().flatten() {
                for span in scope["spans"].as_array().into_iter().flatten() {
                    spans.push(Span {
                        trace: text(&span["traceId"]),
                        id: text(&span["spanId"]),
                        parent: text(&span["parentSpanId"]),
                        name: text(&span["name"]),
                        attributes: span["attributes"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .map(|a| (text(&a["key"]), text(&a["value"]["stringValue"])))
                            .collect(),
                    });
                }
            }
        }
    }
    spans
}

#[test]
fn one_gui_request_is_one_trace_through_the_services_it_calls() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (addr, received) = runtime.block_on(receiver());
    // As a service's main does: the export is made outside the async runtime.
    let env = Env::from_pairs([("OTEL_EXPORTER_OTLP_ENDPOINT", format!("http://{addr}/"))]);
    let traces = Arc::new(Traces::from_env(&env, "jobmatch-tests").unwrap().unwrap());
    telemetry::init_with_writer(LogFormat::Json, std::io::sink, Some(&traces)).unwrap();

    runtime.block_on(async {
        let suite = suite().await;
        let mut browser = Browser::new(&suite.app);
        browser.signed_in("trace@exemple.fr").await;
        browser
            .upload_cv(
                documents::from_html(&cv_html(), "pdf", Font::Times),
                "cv.pdf",
            )
            .await;
        // The profile changes while cv-ingestion is cut off: its embedding is behind,
        // so the next matches page re-embeds it (cv-ingestion), matches it (matching)
        // and fetches the offers' details (offre-ingestion), all in one request.
        suite.cv_proxy.set_up(false);
        browser.add_skill("Soudure TIG").await;
        suite.cv_proxy.set_up(true);
        let html = browser.page("/offres").await;
        assert_eq!(html.matches("<h2 id=\"offre-").count(), 20, "{html}");
        let flushing = traces.clone();
        tokio::task::spawn_blocking(move || flushing.flush())
            .await
            .unwrap();
    });

    let spans = spans(&received);
    let page = spans
        .iter()
        .rev()
        .find(|s| {
            s.name == "request"
                && s.attribute("service") == Some("gui")
                && s.attribute("route") == Some("/offres")
                && s.attribute("method") == Some("GET")
        })
        .unwrap_or_else(|| panic!("the GUI's span of GET /offres among {spans:#?}"));
    assert_eq!(page.trace.len(), 32, "a W3C trace id: {page:?}");
    let in_trace: Vec<&Span> = spans.iter().filter(|s| s.trace == page.trace).collect();
    for (service, route) in [
        ("matching", "/match"),
        ("offre-ingestion", "/offers"),
        ("cv-ingestion", "/cv"),
    ] {
        let call = in_trace
            .iter()
            .find(|s| s.name == "request" && s.attribute("service") == Some(service))
            .unwrap_or_else(|| panic!("no {service} span in the page's trace: {in_trace:#?}"));
        assert_eq!(call.attribute("route"), Some(route), "{call:?}");
        // Its parent is the GUI's request span, known from the traceparent header only
        // (the called service's span starts on its own connection's task).
        assert_eq!(call.parent, page.id, "{service}: {call:?}");
    }
    // Another request of the same session is another trace.
    let others = spans
        .iter()
        .filter(|s| s.name == "request" && s.attribute("service") == Some("gui"))
        .filter(|s| s.trace != page.trace)
        .count();
    assert!(
        others >= 3,
        "sign-up, upload and profile edit are traces of their own"
    );
}
