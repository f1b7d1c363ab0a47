//! `make eval ARGS=--tune`: better signal weights, searched on the sets' hybrid
//! candidates. Each CV's 100 best offers under the current weights, with every signal's
//! part, are re-ranked by other weights (coordinate ascent). The objective is the
//! weakest set's NDCG@20 relative to its BM25 baseline, plus a tenth of the sets' mean
//! NDCG@20: weights that serve every set, not the easiest one. It approximates (a new
//! weighting would also change which offers are candidates), so the weights it prints
//! are checked by running `make eval` with them.

use ranking::{Signals, Weights};
use shared::MatchHit;

use crate::metrics;
use crate::set::{Qrels, RunFile};

/// One set's CVs and the signals of their candidates.
pub struct SetSignals {
    qrels: Qrels,
    /// The BM25 baseline's NDCG@20 on the set.
    baseline: f64,
    cvs: Vec<(String, Vec<(String, Signals)>)>,
}

impl SetSignals {
    pub fn new(qrels: &Qrels, baseline: f64) -> Self {
        Self {
            qrels: qrels.clone(),
            baseline,
            cvs: Vec::new(),
        }
    }

    pub fn add(&mut self, cv: &str, hits: &[MatchHit]) {
        let hits = hits
            .iter()
            .filter_map(|h| Some((h.id.clone(), Signals::from(h.signals?))))
            .collect();
        self.cvs.push((cv.to_owned(), hits));
    }

    fn ndcg(&self, weights: &Weights) -> f64 {
        let run: RunFile = self
            .cvs
            .iter()
            .map(|(cv, hits)| {
                let mut scored: Vec<(f32, &String)> =
                    hits.iter().map(|(id, s)| (s.fused(weights), id)).collect();
                scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
                (
                    cv.clone(),
                    scored
                        .into_iter()
                        .take(metrics::K)
                        .map(|(_, id)| id.clone())
                        .collect(),
                )
            })
            .collect();
        metrics::score(&run, &self.qrels).ndcg
    }
}

fn objective(sets: &[SetSignals], weights: &Weights) -> f64 {
    let ndcg: Vec<f64> = sets.iter().map(|s| s.ndcg(weights)).collect();
    let weakest = sets
        .iter()
        .zip(&ndcg)
        .map(|(s, n)| n / s.baseline.max(1e-9))
        .fold(f64::INFINITY, f64::min);
    weakest + 0.1 * ndcg.iter().sum::<f64>() / ndcg.len().max(1) as f64
}

/// Coordinate ascent from the current weights; prints what it finds.
pub fn print_best(sets: &[SetSignals]) {
    let mut best = Weights::default().as_array();
    let mut best_score = objective(sets, &Weights::from_array(best));
    println!(
        "\ntuning: current weights {best:?}: objective {best_score:.4} (re-ranked candidates)"
    );
    for _round in 0..8 {
        let mut improved = false;
        for i in 0..best.len() {
            for factor in [0.0, 0.5, 0.75, 0.9, 1.1, 1.33, 2.0] {
                let mut trial = best;
                trial[i] = if best[i] == 0.0 {
                    0.05 * factor
                } else {
                    best[i] * factor
                };
                if trial.iter().all(|w| *w == 0.0) {
                    continue;
                }
                let score = objective(sets, &Weights::from_array(trial));
                if score > best_score + 1e-5 {
                    best = trial;
                    best_score = score;
                    improved = true;
                }
            }
        }
        if !improved {
            break;
        }
    }
    let total: f32 = best.iter().sum();
    let normalized: Vec<f32> = best
        .iter()
        .map(|w| (w / total * 1000.0).round() / 1000.0)
        .collect();
    println!("tuning: best weights found, objective {best_score:.4} (re-ranked candidates):");
    for (name, w) in Weights::NAMES.iter().zip(&normalized) {
        println!("  MATCH_WEIGHT_{}={w}", name.to_uppercase());
    }
    for set in sets {
        println!(
            "  NDCG@20 {:.4} (BM25 {:.4})",
            set.ndcg(&Weights::from_array(
                normalized
                    .clone()
                    .try_into()
                    .expect("every signal's weight")
            )),
            set.baseline
        );
    }
}
