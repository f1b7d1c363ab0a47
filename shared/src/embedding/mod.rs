//! Text embeddings: a batch of texts in, one unit vector each out.
//!
//! Providers, chosen by configuration ([`EmbeddingConfig::from_env`]):
//! - `local` (default): a sentence-transformers BERT model (all-MiniLM-L6-v2) run
//!   in-process on CPU with ONNX Runtime, equal to Python sentence-transformers;
//! - `http`: an OpenAI-compatible `/v1/embeddings` endpoint, for managed models and
//!   scale-out.
//!
//! Every vector is stored next to its provider's [`Embedder::model_id`], so that vectors
//! of two models are never compared.

mod http;
mod local;

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;
use secrecy::SecretString;

use settings::{ConfigError, Env};

pub use http::HttpEmbedder;
pub use local::LocalEmbedder;

/// One embedding: a unit vector (L2 norm 1).
pub type Embedding = Vec<f32>;

pub use crate::DEFAULT_MODEL;

pub type EmbedFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Vec<Embedding>, EmbeddingError>> + Send + 'a>>;

/// Turns texts into unit vectors. Implementations are shared (`Arc<dyn Embedder>`) and
/// never block the async runtime.
pub trait Embedder: Send + Sync {
    /// The model's id, stored next to every vector it makes.
    fn model_id(&self) -> &str;
    /// Length of every vector.
    fn dim(&self) -> usize;
    /// One unit vector per text, in the order of `texts`. A caller that stops waiting
    /// (its future dropped) cancels its work.
    fn embed<'a>(&'a self, texts: &'a [String]) -> EmbedFuture<'a>;
    /// Requests dropped, unfinished, because their caller stopped waiting.
    fn abandoned(&self) -> u64 {
        0
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EmbeddingError {
    /// The model could not be loaded (files, runtime library).
    #[error("cannot load the embedding model: {0}")]
    Load(String),
    /// Inference failed in-process.
    #[error("embedding failed: {0}")]
    Inference(String),
    /// The remote provider refused the request (a 4xx other than 429).
    #[error("the embedding service refused the request ({status}): {detail}")]
    Rejected { status: u16, detail: String },
    /// The remote provider did not answer usefully, retries included.
    #[error("the embedding service is unavailable: {0}")]
    Unavailable(String),
    /// The provider answered with something that is not the vectors asked for.
    #[error("the embedding service answered wrongly: {0}")]
    InvalidOutput(String),
    /// Too many requests wait already: try again shortly.
    #[error("the embedding queue is full ({0} requests wait): try again shortly")]
    Busy(usize),
}

/// Which provider, and its settings.
#[derive(Debug, Clone)]
pub enum ProviderConfig {
    Local {
        /// `EMBEDDING_MODEL_DIR`: tokenizer.json, config.json and model.onnx (and
        /// model.optimized.onnx, preferred when present), installed by `make setup`.
        model_dir: PathBuf,
        /// `ORT_DYLIB_PATH`: ONNX Runtime's shared library, installed by `make setup`.
        ort_library: PathBuf,
        /// `EMBEDDING_THREADS`: ONNX Runtime intra-op threads (default: the cores).
        threads: usize,
        /// `EMBEDDING_BATCH_TOKENS` (256): padded tokens per forward pass at most.
        batch_tokens: usize,
    },
    Http {
        /// `EMBEDDING_URL`: base URL of the API (`…/v1`); requests go to `…/v1/embeddings`.
        url: Url,
        /// `EMBEDDING_API_KEY` / `EMBEDDING_API_KEY_FILE`: bearer token, if any.
        api_key: Option<SecretString>,
        /// `EMBEDDING_DIM`: the length the endpoint must return (384 by default).
        dim: usize,
        /// `EMBEDDING_TIMEOUT_SECS` (30): per request.
        timeout: Duration,
        /// `EMBEDDING_MAX_RETRIES` (4): retries on 429, 5xx and transport errors.
        max_retries: u32,
    },
}

/// `EMBEDDING_PROVIDER`, `EMBEDDING_MODEL`, `EMBEDDING_BATCH_SIZE` and the provider's own
/// settings.
#[derive(Debug, Clone)]
pub struct EmbeddingConfig {
    /// `EMBEDDING_MODEL`: the model id (default [`DEFAULT_MODEL`]).
    pub model: String,
    /// `EMBEDDING_BATCH_SIZE`: texts per inference or request at most (32 local, 64 http).
    pub batch_size: usize,
    pub provider: ProviderConfig,
}

const SETUP_HINT: &str =
    "run `make setup` and source $JOBMATCH_CACHE/env (default /var/cache/jobmatch/env)";

impl EmbeddingConfig {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let model = env.or("EMBEDDING_MODEL", DEFAULT_MODEL.to_owned())?;
        let provider_name = env.or("EMBEDDING_PROVIDER", "local".to_owned())?;
        let (provider, default_batch) = match provider_name.as_str() {
            "local" => (Self::local_from_env(env)?, 32),
            "http" => (Self::http_from_env(env)?, 64),
            other => {
                return Err(ConfigError::new(
                    "EMBEDDING_PROVIDER",
                    format!("unknown provider {other:?}: expected local or http"),
                ))
            }
        };
        let batch_size = env.at_least_one("EMBEDDING_BATCH_SIZE", default_batch)?;
        Ok(Self {
            model,
            batch_size,
            provider,
        })
    }

    fn local_from_env(env: &Env) -> Result<ProviderConfig, ConfigError> {
        let model_dir: PathBuf = env.optional("EMBEDDING_MODEL_DIR")?.ok_or_else(|| {
            ConfigError::new("EMBEDDING_MODEL_DIR", format!("missing: {SETUP_HINT}"))
        })?;
        for file in ["tokenizer.json", "config.json", "model.onnx"] {
            if !model_dir.join(file).is_file() {
                return Err(ConfigError::new(
                    "EMBEDDING_MODEL_DIR",
                    format!("{} has no {file}: {SETUP_HINT}", model_dir.display()),
                ));
            }
        }
        let ort_library: PathBuf = env
            .optional("ORT_DYLIB_PATH")?
            .ok_or_else(|| ConfigError::new("ORT_DYLIB_PATH", format!("missing: {SETUP_HINT}")))?;
        if !ort_library.is_file() {
            return Err(ConfigError::new(
                "ORT_DYLIB_PATH",
                format!("{} does not exist: {SETUP_HINT}", ort_library.display()),
            ));
        }
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let threads = env.at_least_one("EMBEDDING_THREADS", cores)?;
        let batch_tokens = env.at_least_one("EMBEDDING_BATCH_TOKENS", 256usize)?;
        Ok(ProviderConfig::Local {
            model_dir,
            ort_library,
            threads,
            batch_tokens,
        })
    }

    fn http_from_env(env: &Env) -> Result<ProviderConfig, ConfigError> {
        let url: Url = env.required("EMBEDDING_URL")?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(ConfigError::new("EMBEDDING_URL", "expected an http(s) URL"));
        }
        let dim = env.at_least_one("EMBEDDING_DIM", 384usize)?;
        Ok(ProviderConfig::Http {
            url,
            api_key: env.secret_opt("EMBEDDING_API_KEY")?,
            dim,
            timeout: env.seconds("EMBEDDING_TIMEOUT_SECS", Duration::from_secs(30))?,
            max_retries: env.or("EMBEDDING_MAX_RETRIES", 4u32)?,
        })
    }
}

/// The configured provider. A local model is loaded once per process (later calls with
/// the same model directory share it); loading runs off the async runtime.
pub async fn from_config(config: &EmbeddingConfig) -> Result<Arc<dyn Embedder>, EmbeddingError> {
    match &config.provider {
        ProviderConfig::Local {
            model_dir,
            ort_library,
            threads,
            batch_tokens,
        } => {
            let settings = local::Settings {
                model_id: config.model.clone(),
                model_dir: model_dir.clone(),
                ort_library: ort_library.clone(),
                threads: *threads,
                batch_size: config.batch_size,
                batch_tokens: *batch_tokens,
            };
            let embedder = tokio::task::spawn_blocking(move || LocalEmbedder::shared(settings))
                .await
                .map_err(|e| EmbeddingError::Load(e.to_string()))??;
            Ok(embedder)
        }
        ProviderConfig::Http {
            url,
            api_key,
            dim,
            timeout,
            max_retries,
        } => Ok(Arc::new(HttpEmbedder::new(http::Settings {
            model_id: config.model.clone(),
            url: url.clone(),
            api_key: api_key.clone(),
            dim: *dim,
            batch_size: config.batch_size,
            timeout: *timeout,
            max_retries: *max_retries,
        })?)),
    }
}

/// Longest piece of a long text (a CV) embedded at once: about 200 tokens of French,
/// under the model's 256.
pub const PIECE_CHARS: usize = 800;

/// `text` cut at line ends into pieces of at most about `max` characters (a longer line
/// is a piece of its own); one empty piece for an empty text.
pub fn pieces(text: &str, max: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut current = String::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        if !current.is_empty() && current.chars().count() + line.chars().count() > max {
            out.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push('\n');
        }
        current.push_str(line);
    }
    if !current.is_empty() || out.is_empty() {
        out.push(current);
    }
    out
}

/// The mean of the pieces' vectors, each weighed by its piece's length in characters
/// (a proxy for its tokens), made unit length; `None` when it is zero.
pub fn weighted_mean(pieces: &[String], vectors: &[Vec<f32>]) -> Option<Vec<f32>> {
    let dim = vectors.first()?.len();
    let mut mean = vec![0f32; dim];
    for (piece, v) in pieces.iter().zip(vectors) {
        let weight = piece.chars().count().max(1) as f32;
        for (m, x) in mean.iter_mut().zip(v) {
            *m += weight * x;
        }
    }
    normalized(mean)
}

/// Scales `v` to unit length; `None` for a zero or non-finite vector.
pub fn normalized(mut v: Vec<f32>) -> Option<Vec<f32>> {
    let norm = v
        .iter()
        .map(|x| f64::from(*x) * f64::from(*x))
        .sum::<f64>()
        .sqrt();
    if !norm.is_finite() || norm < 1e-12 {
        return None;
    }
    for x in &mut v {
        *x = (f64::from(*x) / norm) as f32;
    }
    Some(v)
}

/// Cosine similarity of two vectors of the same length.
pub fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let dot: f64 = a
        .iter()
        .zip(b)
        .map(|(x, y)| f64::from(*x) * f64::from(*y))
        .sum();
    let na: f64 = a.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
    let nb: f64 = b.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
    dot / (na * nb)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalized_makes_unit_vectors_and_refuses_zero() {
        let v = normalized(vec![3.0, 4.0]).unwrap();
        assert!((v[0] - 0.6).abs() < 1e-7 && (v[1] - 0.8).abs() < 1e-7);
        assert!(normalized(vec![0.0, 0.0]).is_none());
        assert!(normalized(vec![f32::NAN, 1.0]).is_none());
    }

    #[test]
    fn cosine_of_known_vectors() {
        assert!((cosine(&[1.0, 0.0], &[1.0, 0.0]) - 1.0).abs() < 1e-12);
        assert!(cosine(&[1.0, 0.0], &[0.0, 1.0]).abs() < 1e-12);
    }

    #[test]
    fn unknown_provider_and_missing_model_dir_name_their_variables() {
        let env = Env::default().with("EMBEDDING_PROVIDER", "magic");
        assert_eq!(
            EmbeddingConfig::from_env(&env).unwrap_err().var,
            "EMBEDDING_PROVIDER"
        );
        let env = Env::default();
        let err = EmbeddingConfig::from_env(&env).unwrap_err();
        assert_eq!(err.var, "EMBEDDING_MODEL_DIR");
        assert!(err.reason.contains("make setup"), "{err}");
        let env = Env::default().with("EMBEDDING_MODEL_DIR", "/nonexistent");
        let err = EmbeddingConfig::from_env(&env).unwrap_err();
        assert!(
            err.reason.contains("make setup") && err.reason.contains("/nonexistent"),
            "{err}"
        );
    }

    #[test]
    fn http_provider_needs_a_url() {
        let env = Env::default().with("EMBEDDING_PROVIDER", "http");
        assert_eq!(
            EmbeddingConfig::from_env(&env).unwrap_err().var,
            "EMBEDDING_URL"
        );
        let env = env.with("EMBEDDING_URL", "ftp://x/v1");
        assert_eq!(
            EmbeddingConfig::from_env(&env).unwrap_err().var,
            "EMBEDDING_URL"
        );
    }
}

#[cfg(test)]
mod piece_tests {
    use super::*;

    #[test]
    fn pieces_cut_at_line_ends() {
        let text = "a".repeat(500) + "\n" + &"b".repeat(500) + "\n\nc";
        let cut = pieces(&text, 800);
        assert_eq!(cut.len(), 2);
        assert_eq!(cut[1], "b".repeat(500) + "\nc");
        assert_eq!(pieces("", 800), [""]);
    }

    #[test]
    fn a_long_piece_weighs_more_than_a_short_one() {
        let cut = vec!["x".repeat(300), "y".repeat(100)];
        let mean = weighted_mean(&cut, &[vec![1.0, 0.0], vec![0.0, 1.0]]).unwrap();
        assert!(
            (mean[0] - 0.948_683).abs() < 1e-5 && (mean[1] - 0.316_228).abs() < 1e-5,
            "{mean:?}"
        );
    }
}
