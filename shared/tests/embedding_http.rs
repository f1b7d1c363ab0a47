//! The OpenAI-compatible provider against a local server speaking that API, faults
//! included: batch splitting, retries with backoff on 429/5xx (Retry-After honoured),
//! refusal on other 4xx, dimension and shape checks, timeouts.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};
use settings::Env;
use shared::embedding::{self, Embedder, EmbeddingConfig, EmbeddingError};

/// What the server does with the next request.
#[derive(Clone)]
enum Reply {
    Vectors,
    Status(u16, Option<&'static str>),
    WrongDim,
    Sleep(Duration),
}

#[derive(Default)]
struct Server {
    script: Mutex<VecDeque<Reply>>,
    seen: Mutex<Vec<(Option<String>, Vec<String>)>>,
}

const DIM: usize = 4;

/// A deterministic, non-normalised vector for a text.
fn vector_for(text: &str, dim: usize) -> Vec<f32> {
    (0..dim).map(|i| (text.len() + i + 1) as f32).collect()
}

async fn embeddings(
    State(server): State<Arc<Server>>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let input: Vec<String> = serde_json::from_value(body["input"].clone()).unwrap();
    let auth = headers
        .get("authorization")
        .map(|v| v.to_str().unwrap().to_owned());
    server.seen.lock().unwrap().push((auth, input.clone()));
    let reply = server
        .script
        .lock()
        .unwrap()
        .pop_front()
        .unwrap_or(Reply::Vectors);
    let dim = match reply {
        Reply::Status(code, retry_after) => {
            let mut response =
                (StatusCode::from_u16(code).unwrap(), "scripted failure").into_response();
            if let Some(secs) = retry_after {
                response
                    .headers_mut()
                    .insert("retry-after", secs.parse().unwrap());
            }
            return response;
        }
        Reply::Sleep(d) => {
            tokio::time::sleep(d).await;
            DIM
        }
        Reply::WrongDim => DIM + 1,
        Reply::Vectors => DIM,
    };
    // Items in reverse order: the client must put them back by index.
    let data: Vec<Value> = input
        .iter()
        .enumerate()
        .rev()
        .map(|(i, t)| json!({"object": "embedding", "index": i, "embedding": vector_for(t, dim)}))
        .collect();
    Json(json!({"object": "list", "data": data, "model": body["model"]})).into_response()
}

async fn start(script: Vec<Reply>) -> (Arc<Server>, Arc<dyn Embedder>) {
    let server = Arc::new(Server {
        script: Mutex::new(script.into()),
        ..Default::default()
    });
    let app = Router::new()
        .route("/v1/embeddings", post(embeddings))
        .with_state(server.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let env = Env::from_pairs([
        ("EMBEDDING_PROVIDER", "http".to_owned()),
        ("EMBEDDING_URL", format!("http://{addr}/v1")),
        ("EMBEDDING_MODEL", "text-embedding-test".to_owned()),
        ("EMBEDDING_DIM", DIM.to_string()),
        ("EMBEDDING_BATCH_SIZE", "3".to_owned()),
        ("EMBEDDING_MAX_RETRIES", "2".to_owned()),
        ("EMBEDDING_TIMEOUT_SECS", "1".to_owned()),
        ("EMBEDDING_API_KEY", "sk-test-key".to_owned()),
    ]);
    let config = EmbeddingConfig::from_env(&env).unwrap();
    (server, embedding::from_config(&config).await.unwrap())
}

fn texts(n: usize) -> Vec<String> {
    (0..n).map(|i| "x".repeat(i + 1)).collect()
}

#[tokio::test]
async fn splits_batches_keeps_order_and_normalises() {
    let (server, embedder) = start(vec![]).await;
    assert_eq!(embedder.model_id(), "text-embedding-test");
    let input = texts(7);
    let vectors = embedder.embed(&input).await.unwrap();
    assert_eq!(vectors.len(), 7);
    for (text, vector) in input.iter().zip(&vectors) {
        let expected = embedding::normalized(vector_for(text, DIM)).unwrap();
        assert_eq!(vector, &expected, "{text}");
    }
    let seen = server.seen.lock().unwrap();
    let sizes: Vec<usize> = seen.iter().map(|(_, batch)| batch.len()).collect();
    assert_eq!(sizes, [3, 3, 1]);
    assert!(seen
        .iter()
        .all(|(auth, _)| auth.as_deref() == Some("Bearer sk-test-key")));
}

#[tokio::test]
async fn retries_server_errors_with_backoff() {
    let (server, embedder) = start(vec![Reply::Status(500, None), Reply::Status(502, None)]).await;
    let vectors = embedder.embed(&texts(2)).await.unwrap();
    assert_eq!(vectors.len(), 2);
    assert_eq!(
        server.seen.lock().unwrap().len(),
        3,
        "two failures, then success"
    );
}

#[tokio::test]
async fn honours_retry_after_on_429() {
    let (server, embedder) = start(vec![Reply::Status(429, Some("1"))]).await;
    let started = Instant::now();
    embedder.embed(&texts(1)).await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited as the server asked"
    );
    assert_eq!(server.seen.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn gives_up_after_the_configured_retries() {
    let script = vec![Reply::Status(503, None); 5];
    let (server, embedder) = start(script).await;
    let err = embedder.embed(&texts(1)).await.unwrap_err();
    assert!(matches!(err, EmbeddingError::Unavailable(_)), "{err}");
    assert!(err.to_string().contains("3 attempts"), "{err}");
    assert_eq!(server.seen.lock().unwrap().len(), 3);
}

#[tokio::test]
async fn a_refused_request_is_not_retried() {
    let (server, embedder) = start(vec![Reply::Status(400, None)]).await;
    let err = embedder.embed(&texts(1)).await.unwrap_err();
    match err {
        EmbeddingError::Rejected { status, detail } => {
            assert_eq!(status, 400);
            assert!(detail.contains("scripted failure"));
        }
        other => panic!("expected Rejected, got {other}"),
    }
    assert_eq!(server.seen.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_wrong_dimension_is_an_error() {
    let (_, embedder) = start(vec![Reply::WrongDim]).await;
    let err = embedder.embed(&texts(1)).await.unwrap_err();
    assert!(matches!(err, EmbeddingError::InvalidOutput(_)), "{err}");
    assert!(err.to_string().contains("EMBEDDING_DIM"), "{err}");
}

#[tokio::test]
async fn a_slow_answer_times_out_and_is_retried() {
    let (server, embedder) = start(vec![Reply::Sleep(Duration::from_secs(3))]).await;
    let vectors = embedder.embed(&texts(1)).await.unwrap();
    assert_eq!(vectors.len(), 1);
    assert_eq!(
        server.seen.lock().unwrap().len(),
        2,
        "timed out once, then answered"
    );
}
