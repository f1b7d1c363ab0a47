//! The remote provider: an OpenAI-compatible `POST {url}/embeddings` endpoint
//! (`{"model", "input": [...]}` in, `{"data": [{"index", "embedding"}]}` out), as spoken by
//! most embedding servers and gateways in front of managed models.

use std::time::Duration;

use reqwest::header::RETRY_AFTER;
use reqwest::{StatusCode, Url};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::{normalized, EmbedFuture, Embedder, Embedding, EmbeddingError};

/// First retry delay; it doubles at each retry.
const BACKOFF_START: Duration = Duration::from_millis(200);
/// No wait between two attempts is longer, whatever `Retry-After` says.
const BACKOFF_CAP: Duration = Duration::from_secs(30);

#[derive(Debug, Clone)]
pub(super) struct Settings {
    pub model_id: String,
    pub url: Url,
    pub api_key: Option<SecretString>,
    pub dim: usize,
    pub batch_size: usize,
    pub timeout: Duration,
    pub max_retries: u32,
}

pub struct HttpEmbedder {
    http: reqwest::Client,
    endpoint: Url,
    settings: Settings,
}

#[derive(Serialize)]
struct Request<'a> {
    model: &'a str,
    input: &'a [String],
}

#[derive(Deserialize)]
struct Response {
    data: Vec<Item>,
}

#[derive(Deserialize)]
struct Item {
    index: usize,
    embedding: Vec<f32>,
}

/// What one attempt came to.
enum Attempt {
    Done(Vec<Embedding>),
    /// Worth another try, after at least this long when the server said so.
    Retry(String, Option<Duration>),
    Fail(EmbeddingError),
}

impl HttpEmbedder {
    pub(super) fn new(settings: Settings) -> Result<Self, EmbeddingError> {
        let mut base = settings.url.clone();
        if !base.path().ends_with('/') {
            base.set_path(&format!("{}/", base.path()));
        }
        let endpoint = base
            .join("embeddings")
            .map_err(|e| EmbeddingError::Load(format!("EMBEDDING_URL: {e}")))?;
        let http = reqwest::Client::builder()
            .timeout(settings.timeout)
            .build()
            .map_err(|e| EmbeddingError::Load(e.to_string()))?;
        Ok(Self {
            http,
            endpoint,
            settings,
        })
    }

    async fn embed_batch(&self, texts: &[String]) -> Result<Vec<Embedding>, EmbeddingError> {
        let mut delay = BACKOFF_START;
        let mut attempt = 0;
        loop {
            match self.attempt(texts).await {
                Attempt::Done(vectors) => return Ok(vectors),
                Attempt::Fail(error) => return Err(error),
                Attempt::Retry(reason, _) if attempt >= self.settings.max_retries => {
                    return Err(EmbeddingError::Unavailable(format!(
                        "{reason} (after {} attempts)",
                        attempt + 1
                    )))
                }
                Attempt::Retry(reason, asked) => {
                    let wait = asked.unwrap_or(delay).min(BACKOFF_CAP);
                    tracing::warn!(
                        reason,
                        wait_ms = wait.as_millis() as u64,
                        "embedding request retried"
                    );
                    tokio::time::sleep(wait).await;
                    delay = (delay * 2).min(BACKOFF_CAP);
                    attempt += 1;
                }
            }
        }
    }

    async fn attempt(&self, texts: &[String]) -> Attempt {
        let mut request = self.http.post(self.endpoint.clone()).json(&Request {
            model: &self.settings.model_id,
            input: texts,
        });
        if let Some(key) = &self.settings.api_key {
            request = request.bearer_auth(key.expose_secret());
        }
        let response = match request.send().await {
            Ok(response) => response,
            Err(e) => return Attempt::Retry(format!("request failed: {e}"), None),
        };
        let status = response.status();
        if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
            let asked = response
                .headers()
                .get(RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            return Attempt::Retry(format!("status {status}"), asked);
        }
        if !status.is_success() {
            let detail: String = response
                .text()
                .await
                .unwrap_or_default()
                .chars()
                .take(500)
                .collect();
            return Attempt::Fail(EmbeddingError::Rejected {
                status: status.as_u16(),
                detail,
            });
        }
        match response.json::<Response>().await {
            Ok(body) => match self.check(body, texts.len()) {
                Ok(vectors) => Attempt::Done(vectors),
                Err(e) => Attempt::Fail(e),
            },
            Err(e) => Attempt::Fail(EmbeddingError::InvalidOutput(format!(
                "unreadable body: {e}"
            ))),
        }
    }

    /// One finite vector of the configured length per text, put in input order.
    fn check(&self, body: Response, expected: usize) -> Result<Vec<Embedding>, EmbeddingError> {
        let invalid = EmbeddingError::InvalidOutput;
        if body.data.len() != expected {
            return Err(invalid(format!(
                "{} vectors for {expected} texts",
                body.data.len()
            )));
        }
        let mut out: Vec<Option<Embedding>> = vec![None; expected];
        for item in body.data {
            if item.embedding.len() != self.settings.dim {
                return Err(invalid(format!(
                    "a vector of {} values; EMBEDDING_DIM is {}",
                    item.embedding.len(),
                    self.settings.dim
                )));
            }
            let slot = out
                .get_mut(item.index)
                .ok_or_else(|| invalid(format!("index {} out of range", item.index)))?;
            *slot = Some(
                normalized(item.embedding)
                    .ok_or_else(|| invalid("a zero or non-finite vector".into()))?,
            );
        }
        out.into_iter()
            .enumerate()
            .map(|(i, v)| v.ok_or_else(|| invalid(format!("no vector for index {i}"))))
            .collect()
    }
}

impl Embedder for HttpEmbedder {
    fn model_id(&self) -> &str {
        &self.settings.model_id
    }

    fn dim(&self) -> usize {
        self.settings.dim
    }

    fn embed<'a>(&'a self, texts: &'a [String]) -> EmbedFuture<'a> {
        Box::pin(async move {
            let mut out = Vec::with_capacity(texts.len());
            for batch in texts.chunks(self.settings.batch_size) {
                out.extend(self.embed_batch(batch).await?);
            }
            Ok(out)
        })
    }
}
