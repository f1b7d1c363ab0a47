//! The in-process provider: a sentence-transformers BERT model (all-MiniLM-L6-v2) on ONNX
//! Runtime, CPU. Same output as Python sentence-transformers: WordPiece tokenisation from
//! `tokenizer.json`, truncation to `max_seq_length` tokens (256, [CLS]/[SEP] included),
//! token_type_ids 0, mean pooling over the attention mask, L2 normalisation.
//!
//! ONNX Runtime's `Session::run` needs exclusive access, and inference is CPU-bound: one
//! worker thread owns the session and serves a queue, using every core through ONNX
//! Runtime's intra-op threads. Async callers await a reply and never block the runtime.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex, OnceLock};

use ort::environment::Environment;
use ort::session::builder::GraphOptimizationLevel;
use ort::session::Session;
use ort::value::Tensor;
use tokenizers::{Tokenizer, TruncationDirection, TruncationParams, TruncationStrategy};
use tokio::sync::oneshot;

use super::{normalized, EmbedFuture, Embedder, Embedding, EmbeddingError};

/// The graph `make setup` fuses for ONNX Runtime (attention, layer norms, GELU); the plain
/// `model.onnx` is the fallback.
const OPTIMIZED_GRAPH: &str = "model.optimized.onnx";
const PLAIN_GRAPH: &str = "model.onnx";

/// sentence-transformers' default when `sentence_bert_config.json` does not say.
const DEFAULT_MAX_SEQ_LENGTH: usize = 256;

#[derive(Debug, Clone)]
pub(super) struct Settings {
    pub model_id: String,
    pub model_dir: PathBuf,
    pub ort_library: PathBuf,
    pub threads: usize,
    pub batch_size: usize,
    pub batch_tokens: usize,
}

struct Job {
    texts: Vec<String>,
    reply: oneshot::Sender<Result<Vec<Embedding>, EmbeddingError>>,
}

pub struct LocalEmbedder {
    model_id: String,
    dim: usize,
    /// Bounded ([`QUEUE`]): past it, callers are told to come back (503 upstream)
    /// rather than pile up work the model cannot reach for minutes.
    jobs: mpsc::SyncSender<Job>,
    /// Jobs dropped because their caller was gone.
    abandoned: Arc<AtomicU64>,
}

/// Requests waiting for the model, at most.
const QUEUE: usize = 64;

/// Why a job stopped between batches: its caller was gone.
const ABANDONED: &str = "abandoned by its caller";

/// Models loaded in this process, by model directory and id: loaded once, shared.
static LOADED: Mutex<Vec<(PathBuf, String, Arc<LocalEmbedder>)>> = Mutex::new(Vec::new());

/// ONNX Runtime's one environment per process.
static ORT_ENVIRONMENT: OnceLock<Result<Environment, String>> = OnceLock::new();

impl LocalEmbedder {
    /// The model of `settings`, loaded on first use and shared afterwards. Blocking.
    pub(super) fn shared(settings: Settings) -> Result<Arc<dyn Embedder>, EmbeddingError> {
        let mut loaded = LOADED.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, _, embedder)) = loaded
            .iter()
            .find(|(dir, id, _)| *dir == settings.model_dir && *id == settings.model_id)
        {
            return Ok(embedder.clone());
        }
        let embedder = Arc::new(Self::load(&settings)?);
        loaded.push((settings.model_dir, settings.model_id, embedder.clone()));
        Ok(embedder)
    }

    fn load(settings: &Settings) -> Result<Self, EmbeddingError> {
        let environment = ort_environment(&settings.ort_library)?;
        let dir = &settings.model_dir;
        let dim = hidden_size(dir)?;
        let tokenizer = load_tokenizer(dir, max_seq_length(dir)?)?;
        let graph = [OPTIMIZED_GRAPH, PLAIN_GRAPH]
            .into_iter()
            .map(|name| dir.join(name))
            .find(|path| path.is_file())
            .ok_or_else(|| {
                EmbeddingError::Load(format!("{} has no {PLAIN_GRAPH}", dir.display()))
            })?;
        let session = open_session(environment, &graph, settings.threads)
            .map_err(|e| EmbeddingError::Load(format!("{}: {e}", graph.display())))?;
        let with_token_types = session
            .inputs()
            .iter()
            .any(|i| i.name() == "token_type_ids");
        tracing::info!(
            model = settings.model_id,
            graph = %graph.display(),
            threads = settings.threads,
            batch_size = settings.batch_size,
            batch_tokens = settings.batch_tokens,
            "embedding model loaded"
        );
        let (jobs, queue) = mpsc::sync_channel::<Job>(QUEUE);
        let abandoned = Arc::new(AtomicU64::new(0));
        let mut worker = Worker {
            abandoned: abandoned.clone(),
            session,
            tokenizer,
            dim,
            batch_size: settings.batch_size,
            batch_tokens: settings.batch_tokens,
            with_token_types,
        };
        std::thread::Builder::new()
            .name("embedding".into())
            .spawn(move || worker.serve(queue))
            .map_err(|e| EmbeddingError::Load(format!("cannot start the embedding thread: {e}")))?;
        Ok(Self {
            model_id: settings.model_id.clone(),
            dim,
            jobs,
            abandoned,
        })
    }
}

impl Embedder for LocalEmbedder {
    fn model_id(&self) -> &str {
        &self.model_id
    }

    fn dim(&self) -> usize {
        self.dim
    }

    fn embed<'a>(&'a self, texts: &'a [String]) -> EmbedFuture<'a> {
        Box::pin(async move {
            if texts.is_empty() {
                return Ok(Vec::new());
            }
            let (reply, answer) = oneshot::channel();
            let stopped = || EmbeddingError::Inference("the embedding thread has stopped".into());
            self.jobs
                .try_send(Job {
                    texts: texts.to_vec(),
                    reply,
                })
                .map_err(|e| match e {
                    mpsc::TrySendError::Full(_) => EmbeddingError::Busy(QUEUE),
                    mpsc::TrySendError::Disconnected(_) => stopped(),
                })?;
            answer.await.map_err(|_| stopped())?
        })
    }

    fn abandoned(&self) -> u64 {
        self.abandoned.load(Ordering::Relaxed)
    }
}

fn ort_environment(library: &Path) -> Result<&'static Environment, EmbeddingError> {
    ORT_ENVIRONMENT
        .get_or_init(|| {
            let builder =
                ort::init_from(library).map_err(|e| format!("{}: {e}", library.display()))?;
            builder
                .with_name("jobmatch")
                .build()
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| EmbeddingError::Load(e.clone()))
}

fn open_session(environment: &Environment, graph: &Path, threads: usize) -> ort::Result<Session> {
    Session::builder(environment)?
        .with_optimization_level(GraphOptimizationLevel::Level3)?
        .with_intra_threads(threads)?
        .commit_from_file(graph)
}

fn read_json(path: &Path) -> Result<serde_json::Value, EmbeddingError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| EmbeddingError::Load(format!("{}: {e}", path.display())))?;
    serde_json::from_str(&text)
        .map_err(|e| EmbeddingError::Load(format!("{}: {e}", path.display())))
}

/// The vectors' length, from the model's `config.json`.
fn hidden_size(dir: &Path) -> Result<usize, EmbeddingError> {
    let config = read_json(&dir.join("config.json"))?;
    config["hidden_size"]
        .as_u64()
        .map(|n| n as usize)
        .ok_or_else(|| EmbeddingError::Load("config.json has no hidden_size".into()))
}

/// sentence-transformers truncates at `max_seq_length` of `sentence_bert_config.json`,
/// not at the tokenizer's `model_max_length` (512): longer texts would differ.
fn max_seq_length(dir: &Path) -> Result<usize, EmbeddingError> {
    let path = dir.join("sentence_bert_config.json");
    if !path.is_file() {
        return Ok(DEFAULT_MAX_SEQ_LENGTH);
    }
    Ok(read_json(&path)?["max_seq_length"]
        .as_u64()
        .map_or(DEFAULT_MAX_SEQ_LENGTH, |n| n as usize))
}

fn load_tokenizer(dir: &Path, max_length: usize) -> Result<Tokenizer, EmbeddingError> {
    let path = dir.join("tokenizer.json");
    let mut tokenizer = Tokenizer::from_file(&path)
        .map_err(|e| EmbeddingError::Load(format!("{}: {e}", path.display())))?;
    // tokenizer.json ships with fixed padding and truncation at 128: replace both. Padding
    // is done per batch, to the batch's longest text.
    tokenizer
        .with_truncation(Some(TruncationParams {
            max_length,
            strategy: TruncationStrategy::LongestFirst,
            stride: 0,
            direction: TruncationDirection::Right,
        }))
        .map_err(|e| EmbeddingError::Load(format!("truncation: {e}")))?;
    tokenizer.with_padding(None);
    Ok(tokenizer)
}

struct Worker {
    session: Session,
    tokenizer: Tokenizer,
    dim: usize,
    batch_size: usize,
    batch_tokens: usize,
    with_token_types: bool,
    abandoned: Arc<AtomicU64>,
}

impl Worker {
    fn serve(&mut self, queue: mpsc::Receiver<Job>) {
        while let Ok(job) = queue.recv() {
            // A caller gone (a request past its timeout, a client that hung up) costs
            // nothing more: its job is dropped before it starts, or between batches.
            let gone = || job.reply.is_closed();
            if gone() {
                self.abandoned.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            // A bug on one input must not take the model down for every later caller.
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                self.embed_all(&job.texts, &gone)
            }))
            .unwrap_or_else(|_| {
                Err(EmbeddingError::Inference(
                    "the model panicked on this input".into(),
                ))
            });
            match result {
                Err(EmbeddingError::Inference(reason)) if reason == ABANDONED => {
                    self.abandoned.fetch_add(1, Ordering::Relaxed);
                }
                result => {
                    let _ = job.reply.send(result);
                }
            }
        }
    }

    /// Embeds `texts` by batches of similar lengths (less padding), in their order.
    ///
    /// A batch holds at most `batch_size` texts and `batch_tokens` padded tokens: short
    /// texts share a forward pass, long ones run alone. On CPU, long texts gain nothing
    /// from batching (no padding is saved, activations grow): measured here, texts at the
    /// 256-token limit run at 9.5/s alone and 8.0/s by eights.
    fn embed_all(
        &mut self,
        texts: &[String],
        gone: &dyn Fn() -> bool,
    ) -> Result<Vec<Embedding>, EmbeddingError> {
        let mut token_ids = Vec::with_capacity(texts.len());
        for (i, text) in texts.iter().enumerate() {
            // Tokenising thousands of long texts takes seconds too.
            if i % 64 == 63 && gone() {
                return Err(EmbeddingError::Inference(ABANDONED.into()));
            }
            let encoding = self
                .tokenizer
                .encode(text.as_str(), true)
                .map_err(|e| EmbeddingError::Inference(format!("tokenisation: {e}")))?;
            token_ids.push(
                encoding
                    .get_ids()
                    .iter()
                    .map(|&id| i64::from(id))
                    .collect::<Vec<i64>>(),
            );
        }
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| token_ids[i].len());
        let mut out: Vec<Option<Embedding>> = vec![None; texts.len()];
        let mut start = 0;
        while start < order.len() {
            // Sorted by length: the last text of a batch sets its padded length.
            let mut end = start + 1;
            while end < order.len()
                && end - start < self.batch_size
                && (end - start + 1) * token_ids[order[end]].len() <= self.batch_tokens
            {
                end += 1;
            }
            if gone() {
                return Err(EmbeddingError::Inference(ABANDONED.into()));
            }
            let chunk = &order[start..end];
            let batch: Vec<&[i64]> = chunk.iter().map(|&i| token_ids[i].as_slice()).collect();
            for (&i, vector) in chunk.iter().zip(self.run_batch(&batch)?) {
                out[i] = Some(vector);
            }
            start = end;
        }
        Ok(out
            .into_iter()
            .map(|v| v.expect("every text embedded"))
            .collect())
    }

    /// One forward pass over texts padded to the longest, then mean pooling and
    /// normalisation.
    fn run_batch(&mut self, batch: &[&[i64]]) -> Result<Vec<Embedding>, EmbeddingError> {
        let rows = batch.len();
        let seq = batch.iter().map(|ids| ids.len()).max().unwrap_or(0).max(1);
        let mut ids = vec![0i64; rows * seq];
        let mut mask = vec![0i64; rows * seq];
        for (row, tokens) in batch.iter().enumerate() {
            ids[row * seq..row * seq + tokens.len()].copy_from_slice(tokens);
            mask[row * seq..row * seq + tokens.len()].fill(1);
        }
        let shape = [rows, seq];
        let inference = |e: ort::Error| EmbeddingError::Inference(e.to_string());
        let mut inputs = ort::inputs![
            "input_ids" => Tensor::from_array((shape, ids)).map_err(inference)?,
            "attention_mask" => Tensor::from_array((shape, mask)).map_err(inference)?,
        ];
        if self.with_token_types {
            let types = Tensor::from_array((shape, vec![0i64; rows * seq])).map_err(inference)?;
            inputs.push(("token_type_ids".into(), types.into()));
        }
        let outputs = self.session.run(inputs).map_err(inference)?;
        let (out_shape, hidden) = outputs["last_hidden_state"]
            .try_extract_tensor::<f32>()
            .map_err(inference)?;
        if out_shape.as_ref() != [rows as i64, seq as i64, self.dim as i64] {
            return Err(EmbeddingError::Inference(format!(
                "unexpected output shape {out_shape:?}"
            )));
        }
        batch
            .iter()
            .enumerate()
            .map(|(row, tokens)| {
                // Right padding: the attention mask is the first `tokens.len()` positions.
                let mut sum = vec![0f32; self.dim];
                for t in 0..tokens.len() {
                    let start = (row * seq + t) * self.dim;
                    for (acc, x) in sum.iter_mut().zip(&hidden[start..start + self.dim]) {
                        *acc += x;
                    }
                }
                let count = tokens.len() as f32;
                let mean = sum.into_iter().map(|x| x / count).collect();
                normalized(mean).ok_or_else(|| EmbeddingError::Inference("zero vector".into()))
            })
            .collect()
    }
}
