//! The metrics of `../shared/eval-dev/score.py`, ported as they are written there, at
//! k = 20, averaged over every CV of the qrels (a CV missing from the run scores 0):
//! - NDCG@20, graded, gain 2^grade − 1;
//! - MRR@20, the reciprocal rank of the first grade-2 offer;
//! - Recall@20, the share of the CV's grade-2 offers in the top 20;
//! - Recall_any@20, the share of its relevant offers in the top 20, over
//!   min(20, number relevant).

use std::collections::HashSet;

use crate::set::{Qrels, RunFile};

pub const K: usize = 20;

#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Scores {
    pub ndcg: f64,
    pub mrr: f64,
    pub recall: f64,
    pub recall_any: f64,
    pub cvs: usize,
}

pub fn score(run: &RunFile, qrels: &Qrels) -> Scores {
    let mut total = Scores::default();
    for (cv, relevant) in qrels {
        let ranked: Vec<&String> = run
            .get(cv)
            .map(|r| r.iter().take(K).collect())
            .unwrap_or_default();
        let grade = |offer: &String| relevant.get(offer).copied().unwrap_or(0);
        let gain = |g: u8| 2f64.powi(i32::from(g)) - 1.0;
        let discount = |i: usize| (i as f64 + 2.0).log2();
        let dcg: f64 = ranked
            .iter()
            .enumerate()
            .map(|(i, o)| gain(grade(o)) / discount(i))
            .sum();
        let mut ideal: Vec<u8> = relevant.values().copied().collect();
        ideal.sort_unstable_by(|a, b| b.cmp(a));
        let idcg: f64 = ideal
            .iter()
            .take(K)
            .enumerate()
            .map(|(i, g)| gain(*g) / discount(i))
            .sum();
        if idcg > 0.0 {
            total.ndcg += dcg / idcg;
        }
        total.mrr += ranked
            .iter()
            .position(|o| grade(o) == 2)
            .map_or(0.0, |i| 1.0 / (i as f64 + 1.0));
        let top: HashSet<&String> = ranked.iter().copied().collect();
        let best: Vec<&String> = relevant
            .iter()
            .filter(|(_, g)| **g == 2)
            .map(|(o, _)| o)
            .collect();
        if !best.is_empty() {
            total.recall +=
                best.iter().filter(|o| top.contains(*o)).count() as f64 / best.len() as f64;
        }
        let found = relevant.keys().filter(|o| top.contains(o)).count();
        total.recall_any += found as f64 / K.min(relevant.len()) as f64;
    }
    let n = qrels.len().max(1) as f64;
    Scores {
        ndcg: total.ndcg / n,
        mrr: total.mrr / n,
        recall: total.recall / n,
        recall_any: total.recall_any / n,
        cvs: qrels.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::set::parse_qrels;

    fn run(entries: &[(&str, &[&str])]) -> RunFile {
        entries
            .iter()
            .map(|(cv, offers)| {
                (
                    cv.to_string(),
                    offers.iter().map(|o| o.to_string()).collect(),
                )
            })
            .collect()
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    /// Worked by hand. CV a: grades A=2, B=1, C=1. CV b: D=2, E=2.
    /// Run a = [X, A, C]: DCG = 3/log2(3) + 1/log2(4) = 1.892789 + 0.5;
    /// IDCG = 3 + 1/log2(3) + 1/log2(4) = 3 + 0.630930 + 0.5, NDCG 0.579237; MRR 1/2;
    /// recall 1/1; recall_any 2/3.
    /// Run b = [E]: DCG = 3; IDCG = 3 + 3/log2(3); MRR 1; recall 1/2; recall_any 1/2.
    #[test]
    fn the_port_gives_the_hand_checked_values() {
        let qrels = parse_qrels("a\tA\t2\na\tB\t1\na\tC\t1\nb\tD\t2\nb\tE\t2\n").unwrap();
        let s = score(&run(&[("a", &["X", "A", "C"]), ("b", &["E"])]), &qrels);
        let ndcg_a = (3.0 / 3f64.log2() + 0.5) / (3.0 + 1.0 / 3f64.log2() + 0.5);
        let ndcg_b = 3.0 / (3.0 + 3.0 / 3f64.log2());
        assert!(close(s.ndcg, (ndcg_a + ndcg_b) / 2.0), "{s:?}");
        // score.py says 0.5962 for this run (checked with it).
        assert!(close(ndcg_a, 0.5792374606819809), "{ndcg_a}");
        assert!((s.ndcg - 0.5962).abs() < 5e-5, "{s:?}");
        assert!(close(s.mrr, 0.75));
        assert!(close(s.recall, 0.75));
        assert!(close(s.recall_any, (2.0 / 3.0 + 0.5) / 2.0));
        assert_eq!(s.cvs, 2);
    }

    #[test]
    fn a_perfect_run_scores_one_and_a_missing_cv_zero() {
        let qrels = parse_qrels("a\tA\t2\na\tB\t1\nb\tD\t2\n").unwrap();
        let perfect = score(&run(&[("a", &["A", "B"]), ("b", &["D"])]), &qrels);
        assert_eq!(
            (
                perfect.ndcg,
                perfect.mrr,
                perfect.recall,
                perfect.recall_any
            ),
            (1.0, 1.0, 1.0, 1.0)
        );
        let half = score(&run(&[("a", &["A", "B"])]), &qrels);
        assert_eq!(
            (half.ndcg, half.mrr, half.recall, half.recall_any),
            (0.5, 0.5, 0.5, 0.5)
        );
    }

    #[test]
    fn only_the_top_20_count() {
        let qrels = parse_qrels("a\tA\t2\n").unwrap();
        let mut late: Vec<String> = (0..20).map(|i| format!("x{i}")).collect();
        late.push("A".into());
        let s = score(&[("a".to_string(), late)].into_iter().collect(), &qrels);
        assert_eq!((s.ndcg, s.mrr, s.recall), (0.0, 0.0, 0.0));
    }
}
