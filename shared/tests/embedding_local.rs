//! The in-process model equals Python sentence-transformers on the reference fixture,
//! is loaded once per process, and never stalls the async runtime.
//! Needs `make setup` (model files, ONNX Runtime) and its env file sourced: `make test`
//! does both.

use std::sync::Arc;

use settings::Env;
use shared::embedding::{self, cosine, Embedder, EmbeddingConfig, DEFAULT_MODEL};

fn config() -> EmbeddingConfig {
    EmbeddingConfig::from_env(&Env::from_process())
        .unwrap_or_else(|e| panic!("embedding configuration: {e}"))
}

async fn embedder() -> Arc<dyn Embedder> {
    embedding::from_config(&config())
        .await
        .expect("model loads")
}

struct Reference {
    text: String,
    n_tokens: usize,
    embedding: Vec<f32>,
}

fn reference() -> Vec<Reference> {
    let path = std::env::var("JOBMATCH_SHARED")
        .map(|dir| format!("{dir}/fixtures/minilm_reference.json"))
        .unwrap_or_else(|_| {
            // Read when the test runs: a binary built in another clone (shared target
            // dir) must read this clone's neighbour.
            let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo");
            format!("{manifest}/../../shared/fixtures/minilm_reference.json")
        });
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["model"], DEFAULT_MODEL);
    doc["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| Reference {
            text: item["text"].as_str().unwrap().to_owned(),
            n_tokens: item["n_tokens"].as_u64().unwrap() as usize,
            embedding: serde_json::from_value(item["embedding"].clone()).unwrap(),
        })
        .collect()
}

#[tokio::test]
async fn every_reference_item_matches_sentence_transformers() {
    let embedder = embedder().await;
    assert_eq!(embedder.model_id(), DEFAULT_MODEL);
    assert_eq!(embedder.dim(), 384);
    let items = reference();
    assert!(
        items.iter().any(|i| i.text.is_empty()),
        "the fixture has the empty text"
    );
    assert!(
        items.iter().any(|i| i.n_tokens >= 256),
        "and one past the 256-token limit"
    );
    let texts: Vec<String> = items.iter().map(|i| i.text.clone()).collect();

    // All at once: sorted by length and padded inside batches.
    let batched = embedder.embed(&texts).await.unwrap();
    assert_eq!(batched.len(), items.len());
    for (item, vector) in items.iter().zip(&batched) {
        let similarity = cosine(vector, &item.embedding);
        assert!(similarity >= 0.9999, "{similarity} for {:?}", item.text);
        let norm: f64 = vector
            .iter()
            .map(|x| f64::from(*x).powi(2))
            .sum::<f64>()
            .sqrt();
        assert!((norm - 1.0).abs() < 1e-5, "unit vector, norm {norm}");
    }
    // One at a time: no padding at all; the same vectors.
    for (item, from_batch) in items.iter().zip(&batched) {
        let alone = embedder
            .embed(std::slice::from_ref(&item.text))
            .await
            .unwrap();
        assert!(cosine(&alone[0], from_batch) >= 0.99999, "{:?}", item.text);
    }
}

#[tokio::test]
async fn the_model_is_loaded_once_per_process() {
    let first = embedder().await;
    let second = embedder().await;
    assert!(Arc::ptr_eq(&first, &second), "one model shared");
    assert!(first.embed(&[]).await.unwrap().is_empty());
}

#[tokio::test(flavor = "current_thread")]
async fn a_long_batch_never_stalls_the_runtime() {
    let embedder = embedder().await;
    let long =
        "Développeur Rust confirmé, PostgreSQL et Kubernetes, télétravail partiel. ".repeat(40);
    let texts: Vec<String> = (0..16).map(|i| format!("{i} {long}")).collect();
    let job = tokio::spawn(async move { embedder.embed(&texts).await.map(|v| v.len()) });
    // One thread runs this runtime: had the embedding blocked it, the job would be done
    // by the time these ticks run.
    for _ in 0..5 {
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    assert!(
        !job.is_finished(),
        "the runtime kept running while the model worked"
    );
    assert_eq!(job.await.unwrap().unwrap(), 16);
}

/// A caller that stops waiting (a request past its timeout) cancels its work: the model
/// drops the job between two batches instead of embedding it for nobody, and the next
/// caller is served.
#[tokio::test]
async fn a_job_whose_caller_is_gone_is_dropped() {
    let embedder = embedder().await;
    let long =
        "Développeur Rust confirmé, PostgreSQL et Kubernetes, télétravail partiel. ".repeat(40);
    // Hundreds of long texts: minutes of work at this machine's pace.
    let texts: Vec<String> = (0..2000).map(|i| format!("{i} {long}")).collect();
    let gave_up = tokio::time::timeout(
        std::time::Duration::from_millis(300),
        embedder.embed(&texts),
    )
    .await;
    assert!(gave_up.is_err(), "still running when its caller left");
    let next = embedder
        .embed(&["Aide-soignante en EHPAD".to_owned()])
        .await
        .unwrap();
    assert_eq!(next.len(), 1);
    assert_eq!(embedder.abandoned(), 1, "the abandoned job was dropped");
}

/// The queue is bounded: past it, a caller is told to come back (a 503 upstream)
/// instead of waiting behind work the model cannot reach for minutes.
#[tokio::test]
async fn a_full_queue_says_busy() {
    use shared::embedding::EmbeddingError;
    let embedder = embedder().await;
    let long =
        "Développeur Rust confirmé, PostgreSQL et Kubernetes, télétravail partiel. ".repeat(40);
    let texts: Vec<String> = (0..2000).map(|i| format!("{i} {long}")).collect();
    let busy_model = embedder.clone();
    let running = tokio::spawn(async move { busy_model.embed(&texts).await.map(|v| v.len()) });
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    // While the model works, 70 callers queue one short text each (a single poll each:
    // queued, or told the queue is full).
    let one = vec!["Aide-soignante".to_owned()];
    let mut busy = 0;
    for _ in 0..70 {
        if let Ok(Err(EmbeddingError::Busy(64))) =
            tokio::time::timeout(std::time::Duration::ZERO, embedder.embed(&one)).await
        {
            busy += 1;
        }
    }
    assert_eq!(
        busy,
        70 - 64,
        "64 wait, the others are told the queue is full"
    );
    // Everyone gives up: the model drops all of it, and serves the next caller.
    running.abort();
    let served = loop {
        match embedder.embed(&one).await {
            Err(EmbeddingError::Busy(_)) => {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            other => break other.unwrap(),
        }
    };
    assert_eq!(served.len(), 1);
    assert_eq!(embedder.abandoned(), 65);
}
