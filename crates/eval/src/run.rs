//! `make eval`: each set's offers ingested by `offre-ingestion ingest` into a scratch
//! database of their own (kept, so that a re-run embeds nothing new), matching and
//! cv-ingestion started from their release binaries, and each CV sent the way the GUI
//! sends it: the file to `POST /cv`, the profile made from the analysis
//! ([`shared::profile::CandidateProfile`], the GUI's own code) embedded through
//! `POST /cv`, then the GUI's `POST /match`, and the same request in other ranking
//! variants. Each variant is scored with score.py's metrics beside score.py's BM25
//! baseline, computed in the same run.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::Context;
use ranking::rerank;
use ranking::Weights;
use reqwest::multipart::{Form, Part};
use shared::profile::CandidateProfile;
use shared::{CvAnalysis, MatchHit, MatchProfile, MatchRequest, SignalWeights};
use tokio::process::{Child, Command};

use crate::baseline;
use crate::metrics::{self, Scores};
use crate::set::{EvalSet, RunFile};

pub struct Options {
    pub sets: Vec<PathBuf>,
    /// Where each variant's run is written (`<dir>/<set>/<variant>.json`).
    pub runs_dir: Option<PathBuf>,
    /// The directory of the release binaries (`offre-ingestion`, `matching`,
    /// `cv-ingestion`).
    pub bin_dir: PathBuf,
    /// A superuser connection to the cluster the scratch databases are made in.
    pub admin_url: String,
    /// Search for better signal weights on the sets' hybrid candidates and print them.
    pub tune: bool,
    /// Also compare ways of making the profile's embedding (vector-only ranking).
    pub embedding_variants: bool,
    /// Train a re-ranker on every set's candidates and write it here (its id: the file's
    /// name without `.json`).
    pub train_reranker: Option<PathBuf>,
}

/// A ranking variant: the GUI's request, or the same with other weights or no profile.
struct Variant {
    name: String,
    slug: String,
    profile: Profile,
    weights: Option<Weights>,
}

/// What of the profile a variant's request carries.
#[derive(Clone, Copy, PartialEq)]
enum Profile {
    None,
    Whole,
    WithoutTitles,
    WithoutSkills,
}

fn variants() -> Vec<Variant> {
    let default = Weights::default();
    let mut variants = vec![
        Variant {
            name: "vector only (the source design's request)".into(),
            slug: "vector".into(),
            profile: Profile::None,
            weights: None,
        },
        Variant {
            name: "**hybrid (the GUI's request)**".into(),
            slug: "hybrid".into(),
            profile: Profile::Whole,
            weights: None,
        },
        // Titles and skills also weigh through `job` and the feedback offer: leaving
        // them out of the profile shows all they bring.
        Variant {
            name: "hybrid, the profile without its titles".into(),
            slug: "hybrid-no-titles".into(),
            profile: Profile::WithoutTitles,
            weights: None,
        },
        Variant {
            name: "hybrid, the profile without its skills".into(),
            slug: "hybrid-no-skills".into(),
            profile: Profile::WithoutSkills,
            weights: None,
        },
    ];
    for (i, name) in Weights::NAMES.iter().enumerate() {
        let mut without = default.as_array();
        without[i] = 0.0;
        variants.push(Variant {
            name: format!("hybrid without {name}"),
            slug: format!("hybrid-without-{name}"),
            profile: Profile::Whole,
            weights: Some(Weights::from_array(without)),
        });
    }
    for (i, name) in Weights::NAMES.iter().enumerate() {
        let mut alone = [0.0; ranking::search::SIGNALS];
        alone[i] = 1.0;
        variants.push(Variant {
            name: format!("{name} alone"),
            slug: format!("{name}-alone"),
            profile: Profile::Whole,
            weights: Some(Weights::from_array(alone)),
        });
    }
    variants
}

pub async fn run(options: Options) -> anyhow::Result<()> {
    let reranker_id = match &options.train_reranker {
        Some(path) => Some(reranker_id(path)?),
        None => None,
    };
    let token = format!("jobmatch-eval-token-{}-{}", std::process::id(), now_nanos());
    let logs = tempfile_dir()?;
    let cv = Service::start(&options.bin_dir, "cv-ingestion", &token, &logs, &[]).await?;
    let mut tuning = Vec::new();
    let mut candidates = Vec::new();
    for dir in &options.sets {
        let set = EvalSet::load(dir)?;
        let database = scratch_database(&options.admin_url, &set).await?;
        ingest(&options.bin_dir, &database.owner_url, &set).await?;
        let password_file = matching_password_file();
        let mut matching_env = vec![("DATABASE_URL", database.matching_url.as_str())];
        if let Some(file) = password_file.as_deref().and_then(Path::to_str) {
            matching_env.push(("DATABASE_PASSWORD_FILE", file));
        }
        let matching =
            Service::start(&options.bin_dir, "matching", &token, &logs, &matching_env).await?;
        let report = evaluate(&set, &cv, &matching, &options).await?;
        report.print(&set);
        if options.tune {
            tuning.push(report.tuning);
        }
        candidates.push(report.candidates);
        matching.stop().await;
    }
    cv.stop().await;
    let training = rerank::Training::default();
    let comparisons = crate::rerank::cross_validate(&candidates, &training);
    crate::rerank::print(&comparisons, &training);
    if let Some(dir) = &options.runs_dir {
        for c in &comparisons {
            let path = dir.join(&c.set).join("reranker-cross-validated.json");
            std::fs::write(&path, serde_json::to_vec_pretty(&c.run)?)?;
        }
    }
    if let (Some(path), Some(id)) = (&options.train_reranker, reranker_id) {
        let model = crate::rerank::train_all(&candidates, &id, &training, &comparisons)?;
        std::fs::write(path, model.to_json())
            .with_context(|| format!("cannot write {}", path.display()))?;
        println!(
            "\nre-ranker `{id}` trained on every CV of {} set(s), written to {}: pairwise accuracy on its training candidates {:.3}",
            candidates.len(),
            path.display(),
            crate::rerank::pairwise_accuracy(&model, &candidates)
        );
    }
    if options.tune {
        crate::tune::print_best(&tuning);
    }
    Ok(())
}

/// The id of a re-ranker written to `path`: the file's name without `.json`, checked
/// before the run rather than after it.
fn reranker_id(path: &Path) -> anyhow::Result<String> {
    let id = path
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_suffix(".json"))
        .with_context(|| {
            format!(
                "--train-reranker {}: expected a file name ending in .json (its id is the name without it)",
                path.display()
            )
        })?;
    // The id is checked as a model's file would be.
    ranking::Reranker::new(id, vec![ranking::Feature::Signal(0)], vec![1.0], 0.0, None)
        .map_err(|e| anyhow::anyhow!("--train-reranker {}: {e}", path.display()))?;
    Ok(id.to_owned())
}

fn now_nanos() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}

fn tempfile_dir() -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("jobmatch-eval-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// A service run from its release binary on a free port.
struct Service {
    child: Child,
    base: String,
    http: reqwest::Client,
    token: String,
}

impl Service {
    async fn start(
        bin_dir: &Path,
        name: &str,
        token: &str,
        logs: &Path,
        env: &[(&str, &str)],
    ) -> anyhow::Result<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let log_path = logs.join(format!("{name}.log"));
        let log = std::fs::File::create(&log_path)?;
        let mut command = Command::new(bin_dir.join(name));
        command
            .env("BIND_ADDR", format!("127.0.0.1:{port}"))
            .env("SERVICE_TOKEN", token)
            .env("LOG_FORMAT", "text")
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true);
        // The service's defaults, whatever this shell has set.
        for (key, _) in std::env::vars() {
            if key.starts_with("MATCH_") {
                command.env_remove(key);
            }
        }
        for (key, value) in env {
            command.env(key, value);
        }
        let child = command
            .spawn()
            .with_context(|| format!("cannot start {}", bin_dir.join(name).display()))?;
        let service = Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(120))
                .build()?,
            token: token.to_owned(),
        };
        let started = Instant::now();
        eprintln!("eval: starting {name} (log: {})", log_path.display());
        let mut service = service;
        loop {
            if let Some(status) = service.child.try_wait()? {
                anyhow::bail!(
                    "{name} stopped ({status}): {}",
                    std::fs::read_to_string(&log_path)
                        .unwrap_or_default()
                        .trim()
                );
            }
            let ready = service
                .http
                .get(format!("{}/health/ready", service.base))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if ready {
                break;
            }
            anyhow::ensure!(
                started.elapsed() < Duration::from_secs(600),
                "{name} not ready after 10 minutes; see {}",
                log_path.display()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        Ok(service)
    }

    fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
    }

    async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

struct ScratchDatabase {
    owner_url: String,
    matching_url: String,
}

/// The name of a set's scratch database: `jobmatch_eval_<set>_<hash of its path>`.
pub fn scratch_name(set: &EvalSet) -> String {
    let digest = set
        .dir
        .to_string_lossy()
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        });
    let plain: String = set
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .take(20)
        .collect();
    format!("jobmatch_eval_{plain}_{:08x}", digest as u32)
}

/// The set's own database, made once ([`scratch_name`]).
async fn scratch_database(admin_url: &str, set: &EvalSet) -> anyhow::Result<ScratchDatabase> {
    use sqlx::Connection;
    let name = scratch_name(set);
    let mut admin = sqlx::PgConnection::connect(admin_url)
        .await
        .with_context(|| format!("cannot connect to PostgreSQL at {admin_url}"))?;
    let exists = sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1) AS "exists!""#,
        name
    )
    .fetch_one(&mut admin)
    .await?;
    if !exists {
        sqlx::raw_sql(&format!(r#"CREATE DATABASE "{name}""#))
            .execute(&mut admin)
            .await?;
    }
    let mut url = reqwest::Url::parse(admin_url)?;
    url.set_path(&name);
    let owner_url = url.to_string();
    url.set_username(schemas::MATCHING_ROLE)
        .map_err(|()| anyhow::anyhow!("{admin_url}: not a URL with a user"))?;
    url.set_password(None).ok();
    Ok(ScratchDatabase {
        owner_url,
        matching_url: url.to_string(),
    })
}

/// The password `make setup` gave matching's role (`$JOBMATCH_CACHE/secrets`), which a
/// cluster asks for over TCP.
fn matching_password_file() -> Option<std::path::PathBuf> {
    let cache = std::env::var_os("JOBMATCH_CACHE")
        .map_or_else(|| "/var/cache/jobmatch".into(), std::path::PathBuf::from);
    let file = cache
        .join("secrets")
        .join(format!("{}.password", schemas::MATCHING_ROLE));
    file.exists().then_some(file)
}

/// `offre-ingestion ingest --file offers.json.gz`, keeping offers of any age (the sets'
/// are from 2022–2025).
async fn ingest(bin_dir: &Path, database_url: &str, set: &EvalSet) -> anyhow::Result<()> {
    eprintln!(
        "eval: {}: ingesting {}",
        set.name,
        set.offers_path().display()
    );
    let output = Command::new(bin_dir.join("offre-ingestion"))
        .args(["ingest", "--file"])
        .arg(set.offers_path())
        .env("DATABASE_URL", database_url)
        .env("OFFER_MAX_AGE_DAYS", "0")
        .stderr(Stdio::inherit())
        .output()
        .await
        .context("cannot run offre-ingestion")?;
    anyhow::ensure!(output.status.success(), "offre-ingestion ingest failed");
    let report: serde_json::Value =
        serde_json::from_slice(&output.stdout).context("offre-ingestion's report")?;
    eprintln!("eval: {}: ingestion {}", set.name, report["counts"]);
    Ok(())
}

/// What one set measured.
pub struct SetReport {
    offers: usize,
    rows: Vec<(String, Scores)>,
    baseline: Scores,
    /// Milliseconds per CV: the file read, the profile embedded, the hybrid match, the
    /// vector-only match, and the three GUI calls together.
    timings: BTreeMap<&'static str, Vec<f64>>,
    pub tuning: crate::tune::SetSignals,
    /// Each CV's 100 best hybrid hits, for the re-ranker.
    pub candidates: crate::rerank::SetCandidates,
    /// Vector-only scores of other profile embeddings.
    embeddings: Vec<(&'static str, Scores)>,
    /// What each notification threshold would do (hybrid scores).
    firings: Vec<crate::notify::Firing>,
    /// The built-in re-rankers as the service applies them.
    shipped: Vec<Shipped>,
}

/// A built-in re-ranker, applied by the service to the GUI's request.
struct Shipped {
    id: String,
    /// Trained on these very CVs: in-sample, not a measure.
    scores: Scores,
    /// CVs whose answer equals this crate's re-ranking of the same candidates.
    same: usize,
    cvs: usize,
}

async fn evaluate(
    set: &EvalSet,
    cv: &Service,
    matching: &Service,
    options: &Options,
) -> anyhow::Result<SetReport> {
    let offers = set.offers()?;
    let texts: Vec<(String, String)> = set
        .qrels
        .keys()
        .filter_map(|name| {
            set.cvs
                .get(name)
                .map(|bytes| (name.clone(), String::from_utf8_lossy(bytes).into_owned()))
        })
        .collect();
    let baseline = metrics::score(
        &baseline::bm25_run(&offers, &texts, baseline::is_french(&offers)),
        &set.qrels,
    );
    let variants = variants();
    let mut runs: Vec<RunFile> = vec![RunFile::new(); variants.len()];
    let mut timings: BTreeMap<&'static str, Vec<f64>> = BTreeMap::new();
    let mut tuning = crate::tune::SetSignals::new(&set.qrels, baseline.ndcg);
    let mut reranking = crate::rerank::SetCandidates::new(&set.name, &set.qrels);
    // The built-in re-rankers, applied by the service to the GUI's request: its answer
    // compared with this crate's re-ranking of the same candidates.
    let shipped = rerank::shipped();
    let mut shipped_runs: Vec<RunFile> = vec![RunFile::new(); shipped.len()];
    let mut shipped_same: Vec<usize> = vec![0; shipped.len()];
    let mut embedding_runs: Vec<RunFile> = vec![RunFile::new(); EMBEDDING_VARIANTS.len()];
    let mut candidates: BTreeMap<String, Vec<MatchHit>> = BTreeMap::new();
    // The hybrid hits' scores, for the notification threshold.
    let mut scored: BTreeMap<String, Vec<(String, f64)>> = BTreeMap::new();
    for (done, name) in set.qrels.keys().enumerate() {
        let Some(bytes) = set.cvs.get(name) else {
            eprintln!("eval: {}: {name} is in qrels.tsv but not in cvs/", set.name);
            continue;
        };
        let started = Instant::now();
        let analysis: CvAnalysis = send(cv.post("/cv").multipart(
            Form::new().part("file", Part::bytes(bytes.clone()).file_name(name.clone())),
        ))
        .await
        .with_context(|| format!("POST /cv with {name}"))?;
        timings
            .entry("POST /cv (the file)")
            .or_default()
            .push(ms(started));
        let candidate = CandidateProfile::from_analysis(&analysis);
        let at = Instant::now();
        let profile: CvAnalysis = send(
            cv.post("/cv")
                .json(&serde_json::json!({ "text": candidate.embedding_text() })),
        )
        .await
        .with_context(|| format!("POST /cv with {name}'s profile"))?;
        timings
            .entry("POST /cv (the profile's embedding)")
            .or_default()
            .push(ms(at));
        let request = |variant: &Variant, limit: u32| MatchRequest {
            cv_embedding: profile.embedding.clone(),
            limit: Some(limit),
            filters: None,
            model: Some(profile.embedding_model.clone()),
            profile: match variant.profile {
                Profile::None => None,
                Profile::Whole => Some(candidate.match_profile()),
                Profile::WithoutTitles => Some(MatchProfile {
                    titles: Vec::new(),
                    ..candidate.match_profile()
                }),
                Profile::WithoutSkills => Some(MatchProfile {
                    skills: Vec::new(),
                    ..candidate.match_profile()
                }),
            },
            weights: variant.weights.map(SignalWeights::from),
            reranker: None,
        };
        for (variant, run) in variants.iter().zip(&mut runs) {
            let at = Instant::now();
            let hits: Vec<MatchHit> = send(matching.post("/match").json(&request(variant, 20)))
                .await
                .with_context(|| format!("POST /match ({}) for {name}", variant.slug))?;
            match variant.slug.as_str() {
                "hybrid" => {
                    scored.insert(
                        name.clone(),
                        hits.iter().map(|h| (h.id.clone(), h.score)).collect(),
                    );
                    timings
                        .entry("POST /match, hybrid")
                        .or_default()
                        .push(ms(at));
                    timings
                        .entry("the three calls of the GUI")
                        .or_default()
                        .push(ms(started));
                }
                "vector" => timings
                    .entry("POST /match, vector only")
                    .or_default()
                    .push(ms(at)),
                _ => {}
            }
            run.insert(name.clone(), hits.into_iter().map(|h| h.id).collect());
        }
        if options.embedding_variants {
            for (i, vector) in embedding_variants(cv, &candidate)
                .await?
                .into_iter()
                .enumerate()
            {
                let hits: Vec<MatchHit> = send(matching.post("/match").json(&MatchRequest {
                    cv_embedding: vector,
                    limit: Some(20),
                    filters: None,
                    model: Some(profile.embedding_model.clone()),
                    profile: None,
                    weights: None,
                    reranker: None,
                }))
                .await?;
                embedding_runs[i].insert(name.clone(), hits.into_iter().map(|h| h.id).collect());
            }
        }
        // The list a re-ranker re-orders: the hybrid request's best 100.
        let hybrid = &variants[1];
        let hits: Vec<MatchHit> = send(
            matching
                .post("/match")
                .json(&request(hybrid, rerank::CANDIDATES as u32)),
        )
        .await
        .with_context(|| format!("POST /match (hybrid, limit 100) for {name}"))?;
        reranking.add(name, &hits);
        if options.tune {
            tuning.add(name, &hits);
        }
        for (i, model) in shipped.iter().enumerate() {
            let at = Instant::now();
            let body = MatchRequest {
                reranker: Some(model.id().to_owned()),
                ..request(hybrid, 20)
            };
            let served: Vec<MatchHit> = send(matching.post("/match").json(&body))
                .await
                .with_context(|| format!("POST /match (re-ranker {}) for {name}", model.id()))?;
            if i == 0 {
                timings
                    .entry("POST /match, hybrid re-ranked")
                    .or_default()
                    .push(ms(at));
            }
            let served: Vec<String> = served.into_iter().map(|h| h.id).collect();
            let own = crate::rerank::reranked(model, reranking.candidates(name).unwrap_or(&[]));
            if served == own {
                shipped_same[i] += 1;
            }
            shipped_runs[i].insert(name.clone(), served);
        }
        candidates.insert(name.clone(), hits);
        if (done + 1) % 50 == 0 {
            eprintln!(
                "eval: {}: {} of {} CVs",
                set.name,
                done + 1,
                set.qrels.len()
            );
        }
    }
    if let Some(dir) = &options.runs_dir {
        let dir = dir.join(&set.name);
        std::fs::create_dir_all(&dir)?;
        for (variant, run) in variants.iter().zip(&runs) {
            std::fs::write(
                dir.join(format!("{}.json", variant.slug)),
                serde_json::to_vec_pretty(run)?,
            )?;
        }
        // The tuning's and the re-ranker's material: each CV's 100 best hybrid hits with
        // their signals.
        std::fs::write(
            dir.join("hybrid-100-signals.json"),
            serde_json::to_vec(&candidates)?,
        )?;
        eprintln!("eval: {}: runs written to {}", set.name, dir.display());
    }
    Ok(SetReport {
        firings: crate::notify::firings(&scored, &set.qrels, offers.len(), 20),
        offers: offers.len(),
        rows: variants
            .iter()
            .zip(&runs)
            .map(|(v, run)| (v.name.clone(), metrics::score(run, &set.qrels)))
            .collect(),
        baseline,
        timings,
        tuning,
        candidates: reranking,
        shipped: shipped
            .iter()
            .zip(&shipped_runs)
            .zip(shipped_same)
            .map(|((model, run), same)| Shipped {
                id: model.id().to_owned(),
                scores: metrics::score(run, &set.qrels),
                same,
                cvs: run.len(),
            })
            .collect(),
        embeddings: if options.embedding_variants {
            EMBEDDING_VARIANTS
                .iter()
                .zip(&embedding_runs)
                .map(|(name, run)| (*name, metrics::score(run, &set.qrels)))
                .collect()
        } else {
            Vec::new()
        },
    })
}

/// Ways of making the profile's embedding, compared by vector-only ranking. Each piece
/// is embedded by `POST /cv` (one piece each, so the service's own weighing does not
/// apply) and the pieces are combined here.
const EMBEDDING_VARIANTS: [&str; 6] = [
    "titles, the CV's text about jobs, then the skills, pieces weighed by length (the product)",
    "the same, plain mean of the pieces",
    "the CV first, then skills and jobs, plain mean of the pieces (before)",
    "the CV's first piece alone (about 200 tokens)",
    "the titles alone",
    "the mean of the product's and the titles' embeddings",
];

async fn embedding_variants(
    cv: &Service,
    candidate: &CandidateProfile,
) -> anyhow::Result<Vec<Vec<f32>>> {
    use shared::embedding::{normalized, pieces, weighted_mean, PIECE_CHARS};
    let embed_pieces = |text: String| async move {
        let cut = pieces(&text, PIECE_CHARS);
        let mut vectors = Vec::with_capacity(cut.len());
        for piece in &cut {
            let analysis: CvAnalysis =
                send(cv.post("/cv").json(&serde_json::json!({ "text": piece }))).await?;
            vectors.push(analysis.embedding);
        }
        anyhow::Ok((cut, vectors))
    };
    let plain_mean = |vectors: &[Vec<f32>]| {
        let mut mean = vec![0f32; vectors[0].len()];
        for v in vectors {
            for (m, x) in mean.iter_mut().zip(v) {
                *m += x;
            }
        }
        normalized(mean).unwrap_or_else(|| vectors[0].clone())
    };
    let (cut, vectors) = embed_pieces(candidate.embedding_text()).await?;
    let product = weighted_mean(&cut, &vectors).unwrap_or_else(|| vectors[0].clone());
    let plain = plain_mean(&vectors);
    // The recipe before: the CV's text, then its skills and jobs.
    let mut before = candidate.cv_text.clone();
    let skills: Vec<&str> = candidate.skills.iter().map(|s| s.label.as_str()).collect();
    if !skills.is_empty() {
        before.push_str(&format!("\nCompétences : {}", skills.join(", ")));
    }
    for title in &candidate.titles {
        before.push_str(&format!("\nExpérience : {title}"));
    }
    let (_, before_vectors) = embed_pieces(before).await?;
    let first_piece = embed_pieces(pieces(&candidate.cv_text, PIECE_CHARS).swap_remove(0))
        .await?
        .1;
    let titles = candidate.titles.join(", ");
    let titles_alone = embed_pieces(if titles.is_empty() {
        candidate.text_about_jobs()
    } else {
        titles.clone()
    })
    .await?
    .1;
    let both = plain_mean(&[product.clone(), titles_alone[0].clone()]);
    Ok(vec![
        product,
        plain,
        plain_mean(&before_vectors),
        first_piece[0].clone(),
        titles_alone[0].clone(),
        both,
    ])
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1000.0
}

async fn send<T: serde::de::DeserializeOwned>(
    request: reqwest::RequestBuilder,
) -> anyhow::Result<T> {
    let response = request.send().await?;
    let status = response.status();
    if !status.is_success() {
        anyhow::bail!("{status}: {}", response.text().await.unwrap_or_default());
    }
    Ok(response.json().await?)
}

impl SetReport {
    fn print(&self, set: &EvalSet) {
        self.print_rankings(set);
        for s in &self.shipped {
            println!();
            println!(
                "The service re-ranking with `{}` (trained on these CVs, so in-sample: the cross-validated figures are at the end): NDCG@20 {:.3}, MRR@20 {:.3}, Recall@20 {:.3}; its answer equals eval's own re-ranking of the same 100 candidates for {} of {} CVs.",
                s.id, s.scores.ndcg, s.scores.mrr, s.scores.recall, s.same, s.cvs
            );
        }
        println!();
        println!(
            "| notification threshold (hybrid score) | (CV, offer) pairs at or above | share of all pairs | CVs with one | of which relevant |"
        );
        println!("|---|---|---|---|---|");
        for f in &self.firings {
            println!(
                "| {:.2} | {}{} | {:.4} % | {} | {:.0} % |",
                f.threshold,
                if f.exact { "" } else { "≥ " },
                f.pairs,
                f.share * 100.0,
                f.cvs,
                f.relevant * 100.0
            );
        }
        if !self.embeddings.is_empty() {
            println!();
            println!(
                "| the profile's embedding (vector-only ranking) | NDCG@20 | MRR@20 | Recall@20 |"
            );
            println!("|---|---|---|---|");
            for (name, s) in &self.embeddings {
                println!(
                    "| {name} | {:.3} | {:.3} | {:.3} |",
                    s.ndcg, s.mrr, s.recall
                );
            }
        }
    }

    fn print_rankings(&self, set: &EvalSet) {
        println!();
        println!(
            "### `{}`: {} CVs, {} offers",
            set.name,
            set.qrels.len(),
            self.offers
        );
        println!();
        println!("| ranking | NDCG@20 | MRR@20 | Recall@20 | Recall_any@20 | NDCG vs BM25 |");
        println!("|---|---|---|---|---|---|");
        let row = |name: &str, s: &Scores| {
            println!(
                "| {name} | {:.3} | {:.3} | {:.3} | {:.3} | {:.2}x |",
                s.ndcg,
                s.mrr,
                s.recall,
                s.recall_any,
                s.ndcg / self.baseline.ndcg.max(1e-9)
            );
        };
        row(
            "BM25 (score.py's baseline, computed in this run)",
            &self.baseline,
        );
        for (name, scores) in &self.rows {
            row(name, scores);
        }
        println!();
        println!("| time per CV (ms) | p50 | p95 | mean |");
        println!("|---|---|---|---|");
        for (what, values) in &self.timings {
            let mut sorted = values.clone();
            sorted.sort_by(f64::total_cmp);
            let at = |q: f64| sorted[((sorted.len() - 1) as f64 * q).round() as usize];
            let mean = sorted.iter().sum::<f64>() / sorted.len() as f64;
            println!(
                "| {what} | {:.1} | {:.1} | {:.1} |",
                at(0.5),
                at(0.95),
                mean
            );
        }
    }
}
