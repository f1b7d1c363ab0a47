//! The learned re-ranker ([`ranking::rerank`]) judged beside the hand-tuned fusion, in
//! the same run: each CV's 100 best hybrid offers (`POST /match`, `limit` 100: the very
//! list matching re-orders), with their signals and grades, and
//! - **cross-validation**: each set's CVs in [`FOLDS`] folds (by their position in name
//!   order, so the same set always gets the same folds); for each fold, a model trained
//!   on the other folds of every set given (as the shipped model is trained on every
//!   set) re-orders that fold's CVs; the folds' runs together are scored against the
//!   fusion's order of the same candidates;
//! - **`--train-reranker OUT.json`**: a model trained on every CV of every set, written
//!   to OUT.json, its id the file's name.

use std::collections::BTreeMap;

use ranking::rerank::{self, Query, Reranker, Training};
use ranking::Signals;
use shared::MatchHit;

use crate::metrics::{self, Scores};
use crate::set::{Qrels, RunFile};

/// Folds of the cross-validation.
pub const FOLDS: usize = 5;

/// One set's CVs and their candidates, in the fused order.
pub struct SetCandidates {
    pub name: String,
    qrels: Qrels,
    /// By CV file name.
    cvs: BTreeMap<String, Vec<(String, Signals)>>,
}

impl SetCandidates {
    pub fn new(name: &str, qrels: &Qrels) -> Self {
        Self {
            name: name.to_owned(),
            qrels: qrels.clone(),
            cvs: BTreeMap::new(),
        }
    }

    /// A CV's hybrid hits (with their signals), best first.
    pub fn add(&mut self, cv: &str, hits: &[MatchHit]) {
        let hits = hits
            .iter()
            .filter_map(|h| Some((h.id.clone(), Signals::from(h.signals?))))
            .collect();
        self.cvs.insert(cv.to_owned(), hits);
    }

    pub fn candidates(&self, cv: &str) -> Option<&[(String, Signals)]> {
        self.cvs.get(cv).map(Vec::as_slice)
    }

    /// The fold of each CV: its position in name order, modulo [`FOLDS`].
    fn folds(&self) -> impl Iterator<Item = (usize, &String, &Vec<(String, Signals)>)> {
        self.cvs
            .iter()
            .enumerate()
            .map(|(i, (cv, hits))| (i % FOLDS, cv, hits))
    }

    fn query(&self, cv: &str, hits: &[(String, Signals)]) -> Query {
        let grades = self.qrels.get(cv);
        Query {
            signals: hits.iter().map(|(_, s)| *s).collect(),
            grades: hits
                .iter()
                .map(|(id, _)| grades.and_then(|g| g.get(id)).copied().unwrap_or(0))
                .collect(),
        }
    }

    fn queries(&self, keep: impl Fn(usize) -> bool) -> Vec<Query> {
        self.folds()
            .filter(|(fold, _, _)| keep(*fold))
            .map(|(_, cv, hits)| self.query(cv, hits))
            .collect()
    }
}

/// The top [`metrics::K`] of a CV's candidates as `model` re-orders them.
pub fn reranked(model: &Reranker, hits: &[(String, Signals)]) -> Vec<String> {
    let signals: Vec<Signals> = hits.iter().map(|(_, s)| *s).collect();
    model
        .order(&signals)
        .into_iter()
        .take(metrics::K)
        .map(|(i, _)| hits[i].0.clone())
        .collect()
}

/// One set's figures: the fusion's order of the candidates and the cross-validated
/// re-ranker's.
/// How many lists a re-ranking raised, left equal and lowered (NDCG@20).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Changes {
    pub better: usize,
    pub equal: usize,
    pub worse: usize,
}

impl Changes {
    /// Counts one list whose NDCG@20 changed by `delta`.
    pub fn add(&mut self, delta: f64) {
        if delta > 1e-12 {
            self.better += 1;
        } else if delta < -1e-12 {
            self.worse += 1;
        } else {
            self.equal += 1;
        }
    }
}

impl std::fmt::Display for Changes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} / {} / {}", self.better, self.equal, self.worse)
    }
}

pub struct Comparison {
    pub set: String,
    pub cvs: usize,
    pub fusion: Scores,
    pub reranker: Scores,
    /// CVs whose NDCG@20 the re-ranker raised, left equal, lowered.
    pub changes: Changes,
    /// The re-ranker's NDCG@20 minus the fusion's, fold by fold.
    pub by_fold: Vec<f64>,
    /// The re-ranker's run: each CV's top 20 by the model of the folds it was not in.
    pub run: RunFile,
}

impl Comparison {
    /// Whether the re-ranker beats the fusion on the set: a higher NDCG@20 (the metric
    /// read first).
    pub fn wins(&self) -> bool {
        self.reranker.ndcg > self.fusion.ndcg
    }
}

/// [`FOLDS`]-fold cross-validation over `sets` (see the module's documentation).
pub fn cross_validate(sets: &[SetCandidates], training: &Training) -> Vec<Comparison> {
    let mut runs: Vec<RunFile> = vec![RunFile::new(); sets.len()];
    for fold in 0..FOLDS {
        let train: Vec<Query> = sets.iter().flat_map(|s| s.queries(|f| f != fold)).collect();
        let model = match rerank::train(&format!("fold-{fold}"), &train, training, None) {
            Ok(model) => model,
            Err(e) => {
                eprintln!("eval: re-ranker, fold {fold}: {e}");
                continue;
            }
        };
        for (set, run) in sets.iter().zip(&mut runs) {
            for (_, cv, hits) in set.folds().filter(|(f, _, _)| *f == fold) {
                run.insert(cv.clone(), reranked(&model, hits));
            }
        }
    }
    sets.iter()
        .zip(&runs)
        .map(|(set, run)| compare(set, run))
        .collect()
}

fn compare(set: &SetCandidates, reranked: &RunFile) -> Comparison {
    let fusion: RunFile = set
        .cvs
        .iter()
        .map(|(cv, hits)| {
            (
                cv.clone(),
                hits.iter()
                    .take(metrics::K)
                    .map(|(id, _)| id.clone())
                    .collect(),
            )
        })
        .collect();
    // Only the CVs that have candidates: a CV whose requests failed is no one's.
    let qrels: Qrels = set
        .qrels
        .iter()
        .filter(|(cv, _)| set.cvs.contains_key(*cv))
        .map(|(cv, g)| (cv.clone(), g.clone()))
        .collect();
    let mut changes = Changes::default();
    let mut by_fold = vec![0.0; FOLDS];
    let mut in_fold = vec![0usize; FOLDS];
    for (fold, cv, _) in set.folds() {
        let Some(grades) = qrels.get(cv) else {
            continue;
        };
        let one: Qrels = [(cv.clone(), grades.clone())].into_iter().collect();
        let ndcg = |run: &RunFile| {
            let run: RunFile = run
                .get(cv)
                .map(|r| [(cv.clone(), r.clone())].into_iter().collect())
                .unwrap_or_default();
            metrics::score(&run, &one).ndcg
        };
        let delta = ndcg(reranked) - ndcg(&fusion);
        changes.add(delta);
        by_fold[fold] += delta;
        in_fold[fold] += 1;
    }
    for (d, n) in by_fold.iter_mut().zip(in_fold) {
        *d /= n.max(1) as f64;
    }
    Comparison {
        set: set.name.clone(),
        cvs: qrels.len(),
        fusion: metrics::score(&fusion, &qrels),
        reranker: metrics::score(reranked, &qrels),
        changes,
        by_fold,
        run: reranked.clone(),
    }
}

/// A model trained on every CV of every set.
pub fn train_all(
    sets: &[SetCandidates],
    id: &str,
    training: &Training,
    comparisons: &[Comparison],
) -> anyhow::Result<Reranker> {
    let queries: Vec<Query> = sets.iter().flat_map(|s| s.queries(|_| true)).collect();
    let trained_on: Vec<String> = sets
        .iter()
        .map(|s| format!("{} ({} CVs)", s.name, s.cvs.len()))
        .collect();
    let figures: Vec<String> = comparisons
        .iter()
        .map(|c| {
            format!(
                "{} {:.3} vs fusion {:.3}",
                c.set, c.reranker.ndcg, c.fusion.ndcg
            )
        })
        .collect();
    let about = format!(
        "Pairwise logistic regression (RankNet with a linear scorer, {}, L2 {}) over {} features of the fused signals, trained by `jobmatch-eval --train-reranker` on {}: each CV's {} best hybrid offers and their grades. Cross-validated NDCG@20 ({FOLDS} folds): {}. Score: σ(w·x + bias), fitted to the share of relevant candidates.",
        if training.ndcg_weighted {
            "pairs weighted by their NDCG change"
        } else {
            "each CV's pairs weighing the same"
        },
        training.l2,
        training.features.len(),
        trained_on.join(", "),
        rerank::CANDIDATES,
        figures.join("; ")
    );
    Ok(rerank::train(id, &queries, training, Some(about))?)
}

/// Pairwise accuracy of `model` on every set's candidates.
pub fn pairwise_accuracy(model: &Reranker, sets: &[SetCandidates]) -> f64 {
    let queries: Vec<Query> = sets.iter().flat_map(|s| s.queries(|_| true)).collect();
    model.pairwise_accuracy(&queries)
}

/// The cross-validation's table, one pair of rows per set.
pub fn print(comparisons: &[Comparison], training: &Training) {
    println!();
    println!(
        "### Learned re-ranker, cross-validated ({FOLDS} folds of each set's CVs; trained on the other folds of every set; {} features, each CV's {} best hybrid offers)",
        training.features.len(),
        rerank::CANDIDATES
    );
    println!();
    println!(
        "| set | ranking of the same candidates | NDCG@20 | MRR@20 | Recall@20 | NDCG vs fusion | CVs better / equal / worse | NDCG change by fold |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for c in comparisons {
        let ratio = |a: f64, b: f64| a / b.max(1e-9);
        println!(
            "| `{}` ({} CVs) | fusion (hand-tuned weights) | {:.3} | {:.3} | {:.3} | 1.00x | | |",
            c.set, c.cvs, c.fusion.ndcg, c.fusion.mrr, c.fusion.recall
        );
        let folds: Vec<String> = c.by_fold.iter().map(|d| format!("{d:+.3}")).collect();
        println!(
            "| `{}` | **re-ranker** ({}) | {:.3} | {:.3} | {:.3} | {:.3}x | {} | {} |",
            c.set,
            if c.wins() { "wins" } else { "does not win" },
            c.reranker.ndcg,
            c.reranker.mrr,
            c.reranker.recall,
            ratio(c.reranker.ndcg, c.fusion.ndcg),
            c.changes,
            folds.join(" ")
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::set::parse_qrels;

    fn hit(id: &str, job: f64, semantic: f64) -> MatchHit {
        MatchHit {
            id: id.into(),
            score: 0.0,
            signals: Some(shared::MatchSignals {
                job,
                semantic,
                ..shared::MatchSignals::default()
            }),
            reasons: None,
            duplicates: Vec::new(),
        }
    }

    /// 20 CVs: each has its grade-2 offer R (job 1.0, semantic 0.2) fused below five
    /// offers of semantic 0.9 and job 0: `job` tells the relevant one, the fusion's order
    /// does not.
    fn set(name: &str) -> SetCandidates {
        let mut qrels = String::new();
        for c in 0..20 {
            qrels.push_str(&format!("cv_{c:02}.txt\tR{c}\t2\n"));
        }
        let mut set = SetCandidates::new(name, &parse_qrels(&qrels).unwrap());
        for c in 0..20 {
            let mut hits: Vec<MatchHit> = (0..5)
                .map(|i| hit(&format!("N{c}-{i}"), 0.0, 0.9 - 0.01 * i as f64))
                .collect();
            hits.push(hit(&format!("R{c}"), 1.0, 0.2));
            set.add(&format!("cv_{c:02}.txt"), &hits);
        }
        set
    }

    #[test]
    fn cross_validation_scores_each_cv_by_a_model_that_did_not_see_it() {
        let sets = [set("a"), set("b")];
        let folds: Vec<usize> = sets[0].folds().map(|(f, _, _)| f).collect();
        assert_eq!(folds[..6], [0, 1, 2, 3, 4, 0]);
        let training = Training {
            features: ranking::Feature::signals(),
            ..Training::default()
        };
        let comparisons = cross_validate(&sets, &training);
        for c in &comparisons {
            assert_eq!(c.cvs, 20);
            // The fusion's order puts R sixth; the re-ranker first.
            assert!((c.fusion.mrr - 1.0 / 6.0).abs() < 1e-9, "{:?}", c.fusion);
            assert_eq!(c.reranker.mrr, 1.0);
            assert_eq!((c.changes.better, c.changes.worse), (20, 0));
            assert!(c.wins());
        }
        let model = train_all(&sets, "all", &training, &comparisons).unwrap();
        assert_eq!(pairwise_accuracy(&model, &sets), 1.0);
        assert!(model.weight_of("job").unwrap() > 0.0);
        assert_eq!(
            reranked(&model, sets[0].candidates("cv_03.txt").unwrap())[0],
            "R3"
        );
    }
}
