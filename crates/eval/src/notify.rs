//! The notification threshold, read on the score the matches page shows: at each
//! threshold, how many (CV, offer) pairs reach it (so how often a new offer would notify
//! a candidate), and how many of those the set judges relevant (worth opening). Each
//! CV's hybrid top 20 is read: a pair at or above a threshold is in it whenever the
//! CV's 20th score is below that threshold; otherwise the count is a lower bound.

use std::collections::BTreeMap;

use crate::set::Qrels;

/// The thresholds compared.
pub const THRESHOLDS: [f64; 8] = [0.5, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9];

/// What a threshold would do on a set.
#[derive(Debug, Clone, PartialEq)]
pub struct Firing {
    pub threshold: f64,
    /// (CV, offer) pairs at or above it.
    pub pairs: usize,
    /// Their share of every (CV, offer) pair.
    pub share: f64,
    /// The share of those pairs whose offer the set judges relevant (any grade).
    pub relevant: f64,
    /// CVs with at least one such offer.
    pub cvs: usize,
    /// Whether the counts are exact (every CV's 20th score is below the threshold).
    pub exact: bool,
}

/// Each threshold's firing, from each CV's hits (id, score, best first).
pub fn firings(
    hits: &BTreeMap<String, Vec<(String, f64)>>,
    qrels: &Qrels,
    offers: usize,
    shown: usize,
) -> Vec<Firing> {
    THRESHOLDS
        .iter()
        .map(|&threshold| {
            let (mut pairs, mut relevant, mut cvs, mut exact) = (0, 0, 0, true);
            for (cv, list) in hits {
                let above: Vec<&(String, f64)> =
                    list.iter().filter(|(_, s)| *s >= threshold).collect();
                pairs += above.len();
                cvs += usize::from(!above.is_empty());
                relevant += above
                    .iter()
                    .filter(|(id, _)| qrels.get(cv).is_some_and(|r| r.contains_key(id)))
                    .count();
                exact &= list.len() < shown || list[shown - 1].1 < threshold;
            }
            let all = (hits.len() * offers).max(1);
            Firing {
                threshold,
                pairs,
                share: pairs as f64 / all as f64,
                relevant: relevant as f64 / pairs.max(1) as f64,
                cvs,
                exact,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::set::parse_qrels;

    #[test]
    fn shares_of_pairs_and_of_relevant_ones_at_each_threshold() {
        let qrels = parse_qrels("a\tA\t2\na\tB\t1\nb\tD\t2\n").unwrap();
        let hit = |id: &str, s: f64| (id.to_owned(), s);
        let hits = BTreeMap::from([
            (
                "a".to_owned(),
                vec![hit("A", 0.92), hit("X", 0.81), hit("B", 0.72)],
            ),
            ("b".to_owned(), vec![hit("Y", 0.66), hit("Z", 0.55)]),
        ]);
        // 2 CVs x 50 offers = 100 pairs; lists of 3 shown at most.
        let f = firings(&hits, &qrels, 50, 3);
        let at = |t: f64| f.iter().find(|x| x.threshold == t).unwrap();
        assert_eq!(
            at(0.7),
            &Firing {
                threshold: 0.7,
                pairs: 3,
                share: 0.03,
                relevant: 2.0 / 3.0,
                cvs: 1,
                // a's 3rd (last shown) score, 0.72, reaches it: pairs past it may too.
                exact: false,
            }
        );
        assert_eq!((at(0.9).pairs, at(0.9).relevant), (1, 1.0));
        assert_eq!((at(0.6).pairs, at(0.6).cvs), (4, 2));
        assert!(!at(0.5).exact && at(0.75).exact);
    }
}
