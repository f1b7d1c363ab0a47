//! A learned re-ranker: a linear model over features of the fused signals re-orders the
//! best [`CANDIDATES`] offers of hybrid ranking.
//!
//! - **Features** ([`Feature`]) are read from the candidates' [`Signals`] only, so that
//!   matching (which has them for every hit) and `make eval` (which reads them from the
//!   hits) compute the same values: a signal as it is (`job`), the product of two
//!   (`job*semantic`), or a signal relative to the best candidate's on it (`job/max`,
//!   1 for the best of the list).
//! - **Training** ([`train`]): pairwise logistic regression (RankNet with a linear
//!   scorer): for each CV, every pair of candidates of different grades should be
//!   ordered by grade; each CV weighs the same (and each of its pairs, or, as an
//!   option, each pair by how much swapping it would change the fused order's NDCG,
//!   LambdaRank's weighting, which measured worse), L2-regularised, minimised by L-BFGS
//!   on features scaled to unit variance. Deterministic: the same candidates give the
//!   same model.
//! - **Score**: the linear score is mapped to [0, 1] by a logistic function fitted on
//!   the training candidates (Platt scaling: the share of candidates of that score that
//!   are relevant), `σ(w·x + b)`; the mapping only rescales, it changes no order.
//! - **File**: JSON, `{"id", "kind": "linear", "features", "weights", "bias", "about"}`,
//!   weights of the unscaled features ([`Reranker::from_json`], [`Reranker::to_json`]).

use serde::{Deserialize, Serialize};

use crate::search::{Signals, Weights, SIGNALS};

/// How many of the fused best offers a re-ranker re-orders: the most a request may ask
/// for (`shared::MAX_MATCH_LIMIT`), so that `make eval` reads exactly the list matching
/// re-orders (`POST /match` with `limit` 100) to train and cross-validate on.
pub const CANDIDATES: usize = 100;

/// The re-rankers built into matching (besides those `MATCH_RERANKERS` names): the
/// models of `models/rerankers/` that `make eval` measured (docs/ranking.md). A model
/// trained anew is added here.
const SHIPPED: [&str; 1] = [include_str!(
    "../../../models/rerankers/linear-2026-12-06.json"
)];

/// The built-in re-rankers (see `SHIPPED`).
pub fn shipped() -> Vec<Reranker> {
    SHIPPED
        .iter()
        .map(|text| Reranker::from_json(text).expect("a shipped re-ranker is valid (tested)"))
        .collect()
}

/// A feature of one candidate, read from the signals of the whole list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feature {
    /// A signal as it is: `semantic`.
    Signal(usize),
    /// The product of two signals, `job*semantic` (a square: `job*job`): how they act
    /// together.
    Product(usize, usize),
    /// A signal divided by the list's best on it, `job/max` (0 when none has it): how
    /// near the best candidate the offer is, whatever the CV's own scale.
    Relative(usize),
}

fn signal_index(name: &str) -> Option<usize> {
    Weights::NAMES.iter().position(|n| *n == name)
}

impl Feature {
    /// The feature a name stands for: `job`, `job*title`, `job/max`.
    pub fn parse(name: &str) -> Option<Self> {
        if let Some(signal) = name.strip_suffix("/max") {
            return signal_index(signal).map(Self::Relative);
        }
        if let Some((a, b)) = name.split_once('*') {
            return Some(Self::Product(signal_index(a)?, signal_index(b)?));
        }
        signal_index(name).map(Self::Signal)
    }

    pub fn name(&self) -> String {
        let n = Weights::NAMES;
        match *self {
            Self::Signal(i) => n[i].to_owned(),
            Self::Product(i, j) => format!("{}*{}", n[i], n[j]),
            Self::Relative(i) => format!("{}/max", n[i]),
        }
    }

    /// The eight signals as they are.
    pub fn signals() -> Vec<Self> {
        (0..SIGNALS).map(Self::Signal).collect()
    }

    /// The signals, each relative to the list's best, and every product of two (squares
    /// included): 52 features, those of the shipped model (the products are what lets a
    /// linear model weigh a signal differently when another is high or low, e.g. on
    /// offers without a ROME job, where `job` is 0).
    pub fn expanded() -> Vec<Self> {
        let mut features = Self::signals();
        features.extend((0..SIGNALS).map(Self::Relative));
        for i in 0..SIGNALS {
            features.extend((i..SIGNALS).map(|j| Self::Product(i, j)));
        }
        features
    }
}

/// The features of every candidate of `list`, row by row (`list.len() × features.len()`).
pub fn feature_rows(features: &[Feature], list: &[Signals]) -> Vec<f64> {
    let signals: Vec<[f64; SIGNALS]> = list.iter().map(|s| s.as_array().map(f64::from)).collect();
    let mut max = [0f64; SIGNALS];
    for s in &signals {
        for (m, v) in max.iter_mut().zip(s) {
            *m = m.max(*v);
        }
    }
    let mut rows = Vec::with_capacity(list.len() * features.len());
    for s in &signals {
        rows.extend(features.iter().map(|f| match *f {
            Feature::Signal(i) => s[i],
            Feature::Product(i, j) => s[i] * s[j],
            Feature::Relative(i) => {
                if max[i] > 0.0 {
                    s[i] / max[i]
                } else {
                    0.0
                }
            }
        }));
    }
    rows
}

/// A re-ranker's file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ModelFile {
    /// What requests name it by (`MatchRequest::reranker`).
    id: String,
    /// `linear`, the only kind so far (a file of another kind is refused, not misread).
    #[serde(default = "linear")]
    kind: String,
    features: Vec<String>,
    /// One per feature, of the feature's own value (not scaled).
    weights: Vec<f64>,
    bias: f64,
    /// How it was trained, for whoever reads the file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    about: Option<String>,
}

fn linear() -> String {
    "linear".to_owned()
}

/// Why a re-ranker's file was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelError(pub String);

impl std::fmt::Display for ModelError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ModelError {}

/// A linear re-ranker: `σ(Σ weight × feature + bias)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Reranker {
    id: String,
    features: Vec<Feature>,
    weights: Vec<f64>,
    bias: f64,
    about: Option<String>,
}

/// The longest id a re-ranker may have.
pub const MAX_ID_CHARS: usize = 64;

impl Reranker {
    /// A model of these features' weights; the id is checked as a file's would be.
    pub fn new(
        id: &str,
        features: Vec<Feature>,
        weights: Vec<f64>,
        bias: f64,
        about: Option<String>,
    ) -> Result<Self, ModelError> {
        let file = ModelFile {
            id: id.to_owned(),
            kind: linear(),
            features: features.iter().map(Feature::name).collect(),
            weights,
            bias,
            about,
        };
        Self::from_file(file)
    }

    /// A re-ranker from its file's text; the error says what is wrong in it.
    pub fn from_json(text: &str) -> Result<Self, ModelError> {
        let file: ModelFile = serde_json::from_str(text)
            .map_err(|e| ModelError(format!("not a re-ranker's JSON: {e}")))?;
        Self::from_file(file)
    }

    fn from_file(file: ModelFile) -> Result<Self, ModelError> {
        let err = |s: String| Err(ModelError(s));
        let id_ok = !file.id.is_empty()
            && file.id.chars().count() <= MAX_ID_CHARS
            && file
                .id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !id_ok {
            return err(format!(
                "id {:?}: expected 1 to {MAX_ID_CHARS} ASCII letters, digits, '-', '_' or '.'",
                file.id
            ));
        }
        if file.kind != "linear" {
            return err(format!(
                "kind {:?}: only \"linear\" models are read",
                file.kind
            ));
        }
        if file.features.is_empty() {
            return err("features is empty: a model needs at least one".into());
        }
        if file.weights.len() != file.features.len() {
            return err(format!(
                "{} weights for {} features: expected one weight per feature",
                file.weights.len(),
                file.features.len()
            ));
        }
        let mut features = Vec::with_capacity(file.features.len());
        for name in &file.features {
            let Some(feature) = Feature::parse(name) else {
                return err(format!(
                    "feature {name:?}: expected a signal ({}), a product of two (job*title) or a signal over the list's best (job/max)",
                    Weights::NAMES.join(", ")
                ));
            };
            if features.contains(&feature) {
                return err(format!("feature {name:?} is listed twice"));
            }
            features.push(feature);
        }
        if let Some(i) = file.weights.iter().position(|w| !w.is_finite()) {
            return err(format!(
                "the weight of {:?} is not a finite number",
                file.features[i]
            ));
        }
        if !file.bias.is_finite() {
            return err("bias is not a finite number".into());
        }
        if file.weights.iter().all(|w| *w == 0.0) {
            return err("every weight is 0: the model would order nothing".into());
        }
        Ok(Self {
            id: file.id,
            features,
            weights: file.weights,
            bias: file.bias,
            about: file.about,
        })
    }

    /// The file's text (pretty JSON), which [`Reranker::from_json`] reads back.
    pub fn to_json(&self) -> String {
        let file = ModelFile {
            id: self.id.clone(),
            kind: linear(),
            features: self.features.iter().map(Feature::name).collect(),
            weights: self.weights.clone(),
            bias: self.bias,
            about: self.about.clone(),
        };
        let mut text = serde_json::to_string_pretty(&file).expect("a model is JSON");
        text.push('\n');
        text
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn features(&self) -> &[Feature] {
        &self.features
    }

    pub fn weights(&self) -> &[f64] {
        &self.weights
    }

    pub fn bias(&self) -> f64 {
        self.bias
    }

    /// The weight of the feature named `name`, if the model has it.
    pub fn weight_of(&self, name: &str) -> Option<f64> {
        let feature = Feature::parse(name)?;
        let at = self.features.iter().position(|f| *f == feature)?;
        Some(self.weights[at])
    }

    /// The linear score `w·x + b` of each candidate of `list`.
    pub fn linear_scores(&self, list: &[Signals]) -> Vec<f64> {
        let rows = feature_rows(&self.features, list);
        rows.chunks_exact(self.features.len().max(1))
            .map(|x| dot(x, &self.weights) + self.bias)
            .collect()
    }

    /// Each candidate's score in [0, 1]: `σ(w·x + b)`.
    pub fn scores(&self, list: &[Signals]) -> Vec<f32> {
        self.linear_scores(list)
            .into_iter()
            .map(|z| sigmoid(z) as f32)
            .collect()
    }

    /// The candidates of `list` re-ordered, best first: (index in `list`, score). Ties
    /// (equal linear scores) keep the list's order, so that the same list always gets
    /// the same answer.
    pub fn order(&self, list: &[Signals]) -> Vec<(usize, f32)> {
        let linear = self.linear_scores(list);
        let mut order: Vec<usize> = (0..list.len()).collect();
        order.sort_by(|a, b| linear[*b].total_cmp(&linear[*a]).then(a.cmp(b)));
        order
            .into_iter()
            .map(|i| (i, sigmoid(linear[i]) as f32))
            .collect()
    }

    /// The share of the pairs of candidates of different grades that the model orders
    /// by grade (the higher grade scored higher; a tie counts half).
    pub fn pairwise_accuracy(&self, queries: &[Query]) -> f64 {
        let (mut right, mut pairs) = (0.0, 0usize);
        for q in queries {
            let s = self.linear_scores(&q.signals);
            for a in 0..s.len() {
                for b in 0..s.len() {
                    if q.grades[a] > q.grades[b] {
                        pairs += 1;
                        right += match s[a].total_cmp(&s[b]) {
                            std::cmp::Ordering::Greater => 1.0,
                            std::cmp::Ordering::Equal => 0.5,
                            std::cmp::Ordering::Less => 0.0,
                        };
                    }
                }
            }
        }
        if pairs == 0 {
            return 0.0;
        }
        right / pairs as f64
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// `ln(1 + e^z)` without overflow.
fn softplus(z: f64) -> f64 {
    if z > 0.0 {
        z + (-z).exp().ln_1p()
    } else {
        z.exp().ln_1p()
    }
}

/// One CV's candidates, in the fused order, with their grades (0: not relevant).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Query {
    pub signals: Vec<Signals>,
    pub grades: Vec<u8>,
}

/// How a re-ranker is trained.
#[derive(Debug, Clone, PartialEq)]
pub struct Training {
    pub features: Vec<Feature>,
    /// L2 penalty on the weights of the features scaled to unit variance.
    pub l2: f64,
    /// Weigh each pair by the change of the fused order's NDCG its swap would make
    /// (otherwise every pair of a CV weighs the same).
    pub ndcg_weighted: bool,
}

impl Default for Training {
    /// What was measured best by cross-validation on the development sets
    /// (docs/ranking.md): every feature of [`Feature::expanded`], L2 1e-3, pairs
    /// unweighted.
    fn default() -> Self {
        Self {
            features: Feature::expanded(),
            l2: 1e-3,
            ndcg_weighted: false,
        }
    }
}

/// A pair of candidates (rows of the training matrix), the first of the higher grade.
struct Pair {
    better: u32,
    worse: u32,
    weight: f64,
}

/// Trains a re-ranker on `queries` (see the module's documentation). Fails when no CV
/// has two candidates of different grades, or the id is not an id.
pub fn train(
    id: &str,
    queries: &[Query],
    training: &Training,
    about: Option<String>,
) -> Result<Reranker, ModelError> {
    let d = training.features.len();
    if d == 0 {
        return Err(ModelError("no features to train on".into()));
    }
    let mut rows: Vec<f64> = Vec::new();
    let mut pairs: Vec<Pair> = Vec::new();
    let mut grades: Vec<u8> = Vec::new();
    let mut trained_queries = 0usize;
    for q in queries {
        assert_eq!(q.signals.len(), q.grades.len(), "a grade per candidate");
        let base = grades.len() as u32;
        let start = pairs.len();
        let gain = |g: u8| 2f64.powi(i32::from(g)) - 1.0;
        let discount = |rank: usize| 1.0 / (rank as f64 + 2.0).log2();
        let mut ideal: Vec<u8> = q.grades.clone();
        ideal.sort_unstable_by(|a, b| b.cmp(a));
        let idcg: f64 = ideal
            .iter()
            .enumerate()
            .map(|(r, g)| gain(*g) * discount(r))
            .sum();
        for a in 0..q.grades.len() {
            for b in 0..q.grades.len() {
                if q.grades[a] > q.grades[b] {
                    let weight = if training.ndcg_weighted {
                        (gain(q.grades[a]) - gain(q.grades[b])).abs()
                            * (discount(a) - discount(b)).abs()
                            / idcg
                    } else {
                        1.0
                    };
                    pairs.push(Pair {
                        better: base + a as u32,
                        worse: base + b as u32,
                        weight,
                    });
                }
            }
        }
        let total: f64 = pairs[start..].iter().map(|p| p.weight).sum();
        if total > 0.0 {
            trained_queries += 1;
            for p in &mut pairs[start..] {
                p.weight /= total;
            }
        } else {
            pairs.truncate(start);
        }
        rows.extend(feature_rows(&training.features, &q.signals));
        grades.extend(&q.grades);
    }
    if trained_queries == 0 {
        return Err(ModelError(
            "no CV has two candidates of different grades: nothing to learn".into(),
        ));
    }
    for p in &mut pairs {
        p.weight /= trained_queries as f64;
    }
    let n = grades.len();
    // Unit variance (no centring: pairs compare candidates of one CV, a shift cancels).
    let mut scale = vec![0f64; d];
    for (k, s) in scale.iter_mut().enumerate() {
        let mean = (0..n).map(|r| rows[r * d + k]).sum::<f64>() / n as f64;
        let var = (0..n)
            .map(|r| (rows[r * d + k] - mean).powi(2))
            .sum::<f64>()
            / n as f64;
        *s = if var > 1e-18 { 1.0 / var.sqrt() } else { 0.0 };
    }
    for r in 0..n {
        for k in 0..d {
            rows[r * d + k] *= scale[k];
        }
    }
    let l2 = training.l2;
    let mut scores = vec![0f64; n];
    let mut per_row = vec![0f64; n];
    let objective = |w: &[f64], grad: &mut [f64]| -> f64 {
        for (r, s) in scores.iter_mut().enumerate() {
            *s = dot(&rows[r * d..(r + 1) * d], w);
        }
        per_row.iter_mut().for_each(|c| *c = 0.0);
        let mut loss = 0.0;
        for p in &pairs {
            let margin = scores[p.better as usize] - scores[p.worse as usize];
            loss += p.weight * softplus(-margin);
            let slope = p.weight * sigmoid(-margin);
            per_row[p.better as usize] -= slope;
            per_row[p.worse as usize] += slope;
        }
        for (k, g) in grad.iter_mut().enumerate() {
            *g = l2 * w[k];
        }
        for (r, c) in per_row.iter().enumerate() {
            if *c != 0.0 {
                for (g, x) in grad.iter_mut().zip(&rows[r * d..(r + 1) * d]) {
                    *g += c * x;
                }
            }
        }
        loss + 0.5 * l2 * dot(w, w)
    };
    let w = lbfgs(objective, vec![0.0; d], 500);
    // Back to the features' own units, then Platt scaling of the score.
    let weights: Vec<f64> = w.iter().zip(&scale).map(|(w, s)| w * s).collect();
    for r in 0..n {
        for k in 0..d {
            if scale[k] > 0.0 {
                rows[r * d + k] /= scale[k];
            }
        }
    }
    let linear: Vec<f64> = (0..n)
        .map(|r| dot(&rows[r * d..(r + 1) * d], &weights))
        .collect();
    let relevant: Vec<bool> = grades.iter().map(|g| *g > 0).collect();
    let (a, b) = platt(&linear, &relevant);
    Reranker::new(
        id,
        training.features.clone(),
        weights.iter().map(|w| significant(w * a)).collect(),
        significant(b),
        about,
    )
}

/// `x` to 12 significant digits: what the model's file holds, read back as the same
/// number by any JSON parser (a decimal of at most 15 digits is read exactly), so that
/// the model written is the model read.
fn significant(x: f64) -> f64 {
    format!("{x:.11e}").parse().unwrap_or(x)
}

/// `(a, b)` of `P(relevant | s) = σ(a·s + b)`, by Newton's method on the log loss (a
/// little ridge keeps it finite when the scores separate the classes); `a` is kept
/// positive, so that the mapping keeps the order.
fn platt(scores: &[f64], relevant: &[bool]) -> (f64, f64) {
    const RIDGE: f64 = 1e-6;
    let loss = |a: f64, b: f64| -> f64 {
        scores
            .iter()
            .zip(relevant)
            .map(|(s, y)| {
                let z = a * s + b;
                if *y {
                    softplus(-z)
                } else {
                    softplus(z)
                }
            })
            .sum::<f64>()
            + 0.5 * RIDGE * (a * a + b * b)
    };
    let (mut a, mut b) = (1.0, 0.0);
    let mut current = loss(a, b);
    for _ in 0..100 {
        let (mut ga, mut gb, mut haa, mut hab, mut hbb) = (RIDGE * a, RIDGE * b, RIDGE, 0.0, RIDGE);
        for (s, y) in scores.iter().zip(relevant) {
            let p = sigmoid(a * s + b);
            let e = p - if *y { 1.0 } else { 0.0 };
            let v = p * (1.0 - p);
            ga += e * s;
            gb += e;
            haa += v * s * s;
            hab += v * s;
            hbb += v;
        }
        let det = haa * hbb - hab * hab;
        if det.abs() < 1e-300 {
            break;
        }
        let da = (hbb * ga - hab * gb) / det;
        let db = (haa * gb - hab * ga) / det;
        let mut step = 1.0;
        let mut improved = false;
        while step > 1e-10 {
            let (na, nb) = (a - step * da, b - step * db);
            let l = loss(na, nb);
            if l <= current {
                improved = current - l > 1e-12 * current.abs().max(1.0);
                (a, b, current) = (na, nb, l);
                break;
            }
            step *= 0.5;
        }
        if !improved {
            break;
        }
    }
    if !(a > 0.0 && a.is_finite() && b.is_finite()) {
        return (1.0, 0.0);
    }
    (a, b)
}

/// Minimises `f` (which writes its gradient into its second argument) from `x` by
/// L-BFGS (memory 10) with a backtracking line search; stops when the loss no longer
/// moves.
fn lbfgs(
    mut f: impl FnMut(&[f64], &mut [f64]) -> f64,
    mut x: Vec<f64>,
    iterations: usize,
) -> Vec<f64> {
    const MEMORY: usize = 10;
    let d = x.len();
    let mut g = vec![0.0; d];
    let mut fx = f(&x, &mut g);
    let mut history: std::collections::VecDeque<(Vec<f64>, Vec<f64>, f64)> =
        std::collections::VecDeque::new();
    let mut new_g = vec![0.0; d];
    for _ in 0..iterations {
        // Two-loop recursion: the direction -H·g.
        let mut q = g.clone();
        let mut alphas = Vec::with_capacity(history.len());
        for (s, y, rho) in history.iter().rev() {
            let alpha = rho * dot(s, &q);
            for (qi, yi) in q.iter_mut().zip(y) {
                *qi -= alpha * yi;
            }
            alphas.push(alpha);
        }
        let gamma = history
            .back()
            .map_or(1.0 / dot(&g, &g).sqrt().max(1e-12), |(s, y, _)| {
                dot(s, y) / dot(y, y)
            });
        for qi in &mut q {
            *qi *= gamma;
        }
        for ((s, y, rho), alpha) in history.iter().zip(alphas.iter().rev()) {
            let beta = rho * dot(y, &q);
            for (qi, si) in q.iter_mut().zip(s) {
                *qi += (alpha - beta) * si;
            }
        }
        let direction: Vec<f64> = q.iter().map(|v| -v).collect();
        let slope = dot(&g, &direction);
        if slope >= 0.0 {
            // Not a descent direction (rounding): start the memory again.
            if history.is_empty() {
                break;
            }
            history.clear();
            continue;
        }
        let mut step = 1.0;
        let mut accepted = None;
        while step > 1e-12 {
            let trial: Vec<f64> = x
                .iter()
                .zip(&direction)
                .map(|(xi, di)| xi + step * di)
                .collect();
            let ft = f(&trial, &mut new_g);
            if ft <= fx + 1e-4 * step * slope {
                accepted = Some((trial, ft));
                break;
            }
            step *= 0.5;
        }
        let Some((trial, ft)) = accepted else {
            break;
        };
        let s: Vec<f64> = trial.iter().zip(&x).map(|(a, b)| a - b).collect();
        let y: Vec<f64> = new_g.iter().zip(&g).map(|(a, b)| a - b).collect();
        let sy = dot(&s, &y);
        let converged = (fx - ft).abs() <= 1e-12 * fx.abs().max(1e-12);
        x = trial;
        fx = ft;
        g.copy_from_slice(&new_g);
        if sy > 1e-16 {
            if history.len() == MEMORY {
                history.pop_front();
            }
            history.push_back((s, y, 1.0 / sy));
        }
        if converged || dot(&g, &g).sqrt() < 1e-10 {
            break;
        }
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small hand-made set: `job` is the grade (0, 0.5 or 1), `lexical` noise that
    /// disagrees with it half the time, `semantic` constant.
    fn hand_made() -> Vec<Query> {
        let mut queries = Vec::new();
        for q in 0..12u32 {
            let mut query = Query::default();
            for c in 0..10u32 {
                let grade = ((c + q) % 3) as u8;
                let noise = ((c * 7 + q * 3) % 10) as f32 / 10.0;
                let mut s = [0.5f32; SIGNALS];
                s[1] = noise;
                s[3] = f32::from(grade) / 2.0;
                s[7] = 0.0;
                query.signals.push(Signals::from_array(s));
                query.grades.push(grade);
            }
            queries.push(query);
        }
        queries
    }

    #[test]
    fn training_gives_the_feature_that_is_the_relevance_the_largest_weight() {
        let queries = hand_made();
        for ndcg_weighted in [false, true] {
            let training = Training {
                features: Feature::signals(),
                l2: 1e-3,
                ndcg_weighted,
            };
            let model = train("test-1", &queries, &training, None).unwrap();
            let job = model.weight_of("job").unwrap();
            for name in Weights::NAMES.iter().filter(|n| **n != "job") {
                assert!(
                    model.weight_of(name).unwrap().abs() < job / 10.0,
                    "{name}: {:?}",
                    model.weights()
                );
            }
            assert!(job > 0.0);
            assert_eq!(model.pairwise_accuracy(&queries), 1.0);
            // The best of each CV is a grade-2 candidate, scored near 1; the grade-0
            // candidates near 0.
            for q in &queries {
                let order = model.order(&q.signals);
                assert_eq!(q.grades[order[0].0], 2);
                for (i, score) in &order {
                    assert!((0.0..=1.0).contains(score));
                    if q.grades[*i] == 0 {
                        assert!(*score < 0.2, "{score}");
                    }
                }
            }
        }
    }

    #[test]
    fn the_expanded_features_also_learn_the_order_and_features_that_never_vary_give_no_model() {
        let queries = hand_made();
        let model = train("test-2", &queries, &Training::default(), None).unwrap();
        assert_eq!(model.pairwise_accuracy(&queries), 1.0);
        // Features that are the same for every candidate cannot order them.
        let mut shuffled = queries.clone();
        for (q, query) in shuffled.iter_mut().enumerate() {
            for (c, grade) in query.grades.iter_mut().enumerate() {
                *grade = ((c * 5 + q * 11) % 7 % 3) as u8;
            }
            for s in &mut query.signals {
                s.job = 0.5;
                s.lexical = 0.5;
            }
        }
        let err = train("test-3", &shuffled, &Training::default(), None).unwrap_err();
        assert!(err.0.contains("every weight is 0"), "{err}");
    }

    #[test]
    fn a_model_that_weights_one_signal_orders_by_it_and_keeps_ties_in_order() {
        let model = Reranker::new("one", vec![Feature::Signal(3)], vec![2.0], -1.0, None).unwrap();
        let list: Vec<Signals> = [0.2, 0.9, 0.2, 0.5]
            .iter()
            .map(|job| Signals {
                job: *job,
                semantic: 1.0 - job,
                ..Signals::default()
            })
            .collect();
        let order = model.order(&list);
        let indexes: Vec<usize> = order.iter().map(|(i, _)| *i).collect();
        assert_eq!(indexes, [1, 3, 0, 2]);
        let expected = 1.0 / (1.0 + (-(2.0 * 0.9f64 - 1.0)).exp());
        assert!((f64::from(order[0].1) - expected).abs() < 1e-6);
    }

    #[test]
    fn relative_and_product_features_read_the_whole_list() {
        let list = [
            Signals {
                job: 0.5,
                title: 0.4,
                ..Signals::default()
            },
            Signals {
                job: 0.25,
                title: 1.0,
                ..Signals::default()
            },
        ];
        let features: Vec<Feature> = ["job/max", "job*title", "lexical/max"]
            .iter()
            .map(|n| Feature::parse(n).unwrap())
            .collect();
        let rows = feature_rows(&features, &list);
        let expected = [1.0, 0.2, 0.0, 0.5, 0.25, 0.0];
        for (r, e) in rows.iter().zip(expected) {
            assert!((r - e).abs() < 1e-6, "{rows:?}");
        }
    }

    #[test]
    fn the_shipped_models_read_and_are_written_back_as_they_are() {
        let shipped = shipped();
        assert_eq!(shipped.len(), SHIPPED.len());
        for (model, text) in shipped.iter().zip(SHIPPED) {
            assert_eq!(model.to_json(), text, "{}", model.id());
            assert_eq!(model.features(), Feature::expanded(), "{}", model.id());
        }
        assert_eq!(shipped[0].id(), "linear-2026-12-06");
    }

    #[test]
    fn the_file_round_trips_and_a_malformed_one_is_refused_saying_why() {
        let model = train("linear-test", &hand_made(), &Training::default(), None).unwrap();
        let text = model.to_json();
        assert_eq!(Reranker::from_json(&text).unwrap(), model);
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["id"], "linear-test");
        assert_eq!(value["kind"], "linear");
        assert_eq!(value["features"][0], "semantic");
        // The brief form, without kind or about, reads as linear.
        let minimal =
            r#"{"id": "m", "features": ["job", "semantic*job"], "weights": [1, 0.5], "bias": 0}"#;
        assert_eq!(
            Reranker::from_json(minimal).unwrap().features(),
            [Feature::Signal(3), Feature::Product(0, 3)]
        );
        let cases = [
            ("{", "not a re-ranker's JSON"),
            (
                r#"{"id": "m", "features": ["job"], "weights": [1]}"#,
                "missing field `bias`",
            ),
            (
                r#"{"id": "m", "features": ["job"], "weights": [1], "bias": 0, "speed": 1}"#,
                "unknown field `speed`",
            ),
            (
                r#"{"id": "", "features": ["job"], "weights": [1], "bias": 0}"#,
                "id \"\"",
            ),
            (
                r#"{"id": "a b", "features": ["job"], "weights": [1], "bias": 0}"#,
                "id \"a b\"",
            ),
            (
                r#"{"id": "m", "kind": "trees", "features": ["job"], "weights": [1], "bias": 0}"#,
                "kind \"trees\"",
            ),
            (
                r#"{"id": "m", "features": [], "weights": [], "bias": 0}"#,
                "features is empty",
            ),
            (
                r#"{"id": "m", "features": ["job", "title"], "weights": [1], "bias": 0}"#,
                "1 weights for 2 features",
            ),
            (
                r#"{"id": "m", "features": ["salary"], "weights": [1], "bias": 0}"#,
                "feature \"salary\"",
            ),
            (
                r#"{"id": "m", "features": ["job*speed"], "weights": [1], "bias": 0}"#,
                "feature \"job*speed\"",
            ),
            (
                r#"{"id": "m", "features": ["job", "job"], "weights": [1, 1], "bias": 0}"#,
                "listed twice",
            ),
            (
                r#"{"id": "m", "features": ["job"], "weights": [0], "bias": 0}"#,
                "every weight is 0",
            ),
            (
                r#"{"id": "m", "features": ["job"], "weights": [1], "bias": 1e999}"#,
                "not a re-ranker's JSON",
            ),
        ];
        for (text, expected) in cases {
            let err = Reranker::from_json(text).unwrap_err();
            assert!(err.0.contains(expected), "{text}: {err}");
        }
    }
}
