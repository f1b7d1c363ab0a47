//! `jobmatch-feedback EXPORT_DIR`: does a re-ranker trained on what candidates did beat
//! the order they were shown?
//!
//! Reads `lists.jsonl` of `gui export-training-data` (per candidate, the matches shown
//! in rank order with the signals they were shown with and their grade: saved 1 <
//! applied 2 < interview 3 < hired 4, else 0), splits the candidates in two parts
//! deterministically (in `qid` order, every n-th held back: `--holdout`), trains
//! [`ranking::rerank::train`] on the training part's lists (features from the shown
//! signals, relevance the grade), and scores on the held-back part the shown order (the
//! fusion's) and the re-ranked order with `make eval`'s NDCG@20 ([`eval::metrics`]:
//! graded, gain 2^g − 1). The shown list is the top 20, so re-ranking is within it.
//!
//! With `--qrels FILE` (`qid<TAB>offer<TAB>grade`: other judgments of the same lists,
//! e.g. the development set's relevance that `scripts/simulate_feedback.py` played),
//! the held-back part is also scored against them. `--model OUT.json` writes the model
//! (its id the file's name), which matching can serve (`MATCH_RERANKERS`).
//!
//! Exit code: 0 when the re-ranker's NDCG@20 on the held-back part (by the export's
//! grades) is above the shown order's, 1 when it is not, 2 on an error.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use eval::metrics;
use eval::rerank::Changes;
use eval::set::{Qrels, RunFile};
use ranking::rerank::{self, Feature, Query, Reranker, Training};
use ranking::{Signals, Weights};

/// Trains the learned re-ranker on a training-data export and compares it with the
/// order the candidates were shown, on candidates it was not trained on.
#[derive(Parser)]
#[command(name = "jobmatch-feedback")]
struct Args {
    /// The folder `gui export-training-data DIR` wrote (its lists.jsonl is read).
    export_dir: PathBuf,
    /// The share of the candidates held back for the comparison (0 < h < 1).
    #[arg(long, default_value_t = 0.5)]
    holdout: f64,
    /// Features of the model: `signals` (the eight as shown) or `expanded` (also each
    /// over the list's best, and every product of two: the shipped model's, trained on
    /// each CV's 100 best offers), which overfits an export of a few hundred candidates.
    #[arg(long, default_value = "signals")]
    features: String,
    /// Other judgments of the same lists (`qid<TAB>offer<TAB>grade`), also scored.
    #[arg(long, value_name = "FILE")]
    qrels: Option<PathBuf>,
    /// Write the model trained on the training part to OUT.json.
    #[arg(long, value_name = "OUT.json")]
    model: Option<PathBuf>,
}

/// One candidate's list as shown: (offer, signals, grade), in rank order.
struct Shown {
    qid: String,
    offers: Vec<(String, Signals, u8)>,
}

/// The lists of `lists.jsonl`, in qid order; lists with an entry without its signals
/// are left out (their number is the second value).
fn read_lists(path: &Path) -> anyhow::Result<(Vec<Shown>, usize)> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut lists = Vec::new();
    let mut without_signals = 0;
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let at = || format!("{} line {}", path.display(), n + 1);
        let value: serde_json::Value = serde_json::from_str(line).with_context(at)?;
        let qid = value["qid"]
            .as_str()
            .with_context(|| format!("{}: no qid", at()))?
            .to_owned();
        let shown = value["shown"]
            .as_array()
            .with_context(|| format!("{}: no shown list", at()))?;
        let mut offers = Vec::with_capacity(shown.len());
        for entry in shown {
            let offer = entry["offer"]
                .as_str()
                .with_context(|| format!("{}: an entry without its offer", at()))?;
            let grade = entry["grade"]
                .as_u64()
                .and_then(|g| u8::try_from(g).ok())
                .with_context(|| format!("{}: {offer} has no grade", at()))?;
            let signals: Option<Vec<f32>> = Weights::NAMES
                .iter()
                .map(|name| entry["signals"][*name].as_f64().map(|v| v as f32))
                .collect();
            match signals {
                Some(values) => {
                    let values: [f32; ranking::search::SIGNALS] =
                        values.try_into().expect("one value per signal");
                    offers.push((offer.to_owned(), Signals::from_array(values), grade));
                }
                None => {
                    offers.clear();
                    break;
                }
            }
        }
        if offers.is_empty() {
            without_signals += 1;
        } else {
            lists.push(Shown { qid, offers });
        }
    }
    lists.sort_by(|a, b| a.qid.cmp(&b.qid));
    Ok((lists, without_signals))
}

/// Whether the list at `index` (in qid order) is held back: every 1/h-th list, spread
/// evenly, so that a share `h` of the lists is.
fn held_back(index: usize, holdout: f64) -> bool {
    ((index + 1) as f64 * holdout).floor() > (index as f64 * holdout).floor()
}

fn query(list: &Shown) -> Query {
    Query {
        signals: list.offers.iter().map(|(_, s, _)| *s).collect(),
        grades: list.offers.iter().map(|(_, _, g)| *g).collect(),
    }
}

/// The held-back lists' NDCG@20 as shown and as `model` re-orders them, against
/// `judged` (each qid's relevant offers; a list none of whose offers is relevant is
/// left out), with the lists it raised, left equal and lowered.
struct Comparison {
    lists: usize,
    shown: f64,
    reranked: f64,
    changes: Changes,
}

fn compare(model: &Reranker, lists: &[&Shown], judged: &Qrels) -> Comparison {
    let mut shown_run = RunFile::new();
    let mut reranked_run = RunFile::new();
    let mut qrels = Qrels::new();
    let mut changes = Changes::default();
    for list in lists {
        let Some(grades) = judged.get(&list.qid) else {
            continue;
        };
        if !list.offers.iter().any(|(o, _, _)| grades.contains_key(o)) {
            continue;
        }
        // Only the offers of the list count: re-ranking can reach no other.
        let grades: HashMap<String, u8> = list
            .offers
            .iter()
            .filter_map(|(o, _, _)| grades.get(o).map(|g| (o.clone(), *g)))
            .collect();
        let shown: Vec<String> = list.offers.iter().map(|(o, _, _)| o.clone()).collect();
        let signals: Vec<Signals> = list.offers.iter().map(|(_, s, _)| *s).collect();
        let reranked: Vec<String> = model
            .order(&signals)
            .into_iter()
            .map(|(i, _)| shown[i].clone())
            .collect();
        let one: Qrels = [(list.qid.clone(), grades.clone())].into_iter().collect();
        let ndcg = |order: &Vec<String>| {
            let run: RunFile = [(list.qid.clone(), order.clone())].into_iter().collect();
            metrics::score(&run, &one).ndcg
        };
        changes.add(ndcg(&reranked) - ndcg(&shown));
        shown_run.insert(list.qid.clone(), shown);
        reranked_run.insert(list.qid.clone(), reranked);
        qrels.insert(list.qid.clone(), grades);
    }
    Comparison {
        lists: qrels.len(),
        shown: metrics::score(&shown_run, &qrels).ndcg,
        reranked: metrics::score(&reranked_run, &qrels).ndcg,
        changes,
    }
}

fn print_row(lists: &str, judged_by: &str, c: &Comparison) {
    println!(
        "| {lists} | {judged_by} | {} | {:.3} | **{:.3}** | {:.3}x | {} |",
        c.lists,
        c.shown,
        c.reranked,
        c.reranked / c.shown.max(1e-9),
        c.changes
    );
}

/// Each candidate's ranking variant, from `graded.jsonl` (its positives record it), if
/// the export has the file.
fn read_variants(path: &Path) -> anyhow::Result<HashMap<String, String>> {
    let mut variants = HashMap::new();
    let Ok(text) = std::fs::read_to_string(path) else {
        return Ok(variants);
    };
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let value: serde_json::Value = serde_json::from_str(line)
            .with_context(|| format!("{} line {}", path.display(), n + 1))?;
        if let (Some(qid), Some(variant)) = (value["candidate"].as_str(), value["variant"].as_str())
        {
            variants
                .entry(qid.to_owned())
                .or_insert_with(|| variant.to_owned());
        }
    }
    Ok(variants)
}

fn run(args: &Args) -> anyhow::Result<bool> {
    anyhow::ensure!(
        args.holdout > 0.0 && args.holdout < 1.0,
        "--holdout {}: expected a share strictly between 0 and 1",
        args.holdout
    );
    let features = match args.features.as_str() {
        "expanded" => Feature::expanded(),
        "signals" => Feature::signals(),
        other => anyhow::bail!("--features {other:?}: expected expanded or signals"),
    };
    let (lists, without_signals) = read_lists(&args.export_dir.join("lists.jsonl"))?;
    let (mut held, mut trained): (Vec<&Shown>, Vec<&Shown>) = (Vec::new(), Vec::new());
    for (i, list) in lists.iter().enumerate() {
        if held_back(i, args.holdout) {
            held.push(list);
        } else {
            trained.push(list);
        }
    }
    let shown_per_list = |part: &[&Shown]| {
        part.iter().map(|l| l.offers.len()).sum::<usize>() as f64 / part.len().max(1) as f64
    };
    println!(
        "feedback: {} candidates' lists ({} left out: shown without signals); trained on {}, held back {} ({:.1} offers shown per list)",
        lists.len(),
        without_signals,
        trained.len(),
        held.len(),
        shown_per_list(&held),
    );
    anyhow::ensure!(
        !trained.is_empty() && !held.is_empty(),
        "too few lists to train on some and hold back others"
    );
    let training = Training {
        features,
        ..Training::default()
    };
    let queries: Vec<Query> = trained.iter().map(|l| query(l)).collect();
    let id = args.model.as_ref().and_then(|p| p.file_stem()).map_or_else(
        || "feedback".to_owned(),
        |s| s.to_string_lossy().into_owned(),
    );
    let about = format!(
        "Pairwise logistic regression ({} features of the shown signals) trained by jobmatch-feedback on {} candidates' lists of {}: the matches they were shown, graded by what they did (saved 1, applied 2, interview 3, hired 4).",
        training.features.len(),
        trained.len(),
        args.export_dir.display()
    );
    let model = rerank::train(&id, &queries, &training, Some(about))?;
    if let Some(path) = &args.model {
        std::fs::write(path, model.to_json())
            .with_context(|| format!("cannot write {}", path.display()))?;
        println!("feedback: the model is in {}", path.display());
    }
    let held_queries: Vec<Query> = held.iter().map(|l| query(l)).collect();
    println!(
        "feedback: pairwise accuracy (pairs of different grades ordered by grade): training {:.3}, held back {:.3}",
        model.pairwise_accuracy(&queries),
        model.pairwise_accuracy(&held_queries)
    );
    let mut weights: Vec<(String, f64)> = model
        .features()
        .iter()
        .zip(model.weights())
        .map(|(f, w)| (f.name(), *w))
        .collect();
    weights.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()));
    let largest: Vec<String> = weights
        .iter()
        .take(6)
        .map(|(n, w)| format!("{n} {w:+.2}"))
        .collect();
    println!("feedback: largest weights: {}", largest.join(", "));

    let graded: Qrels = held
        .iter()
        .map(|l| {
            let grades = l
                .offers
                .iter()
                .filter(|(_, _, g)| *g > 0)
                .map(|(o, _, g)| (o.clone(), *g))
                .collect();
            (l.qid.clone(), grades)
        })
        .collect();
    let variants = read_variants(&args.export_dir.join("graded.jsonl"))?;
    let mut names: Vec<&String> = variants.values().collect();
    names.sort();
    names.dedup();
    let mut judgments = vec![(
        "the candidates' acts (the export's grades)".to_owned(),
        graded,
    )];
    if let Some(path) = &args.qrels {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        judgments.push((format!("`{name}`"), eval::set::parse_qrels(&text)?));
    }
    println!();
    println!(
        "| held-back lists | judged by | lists | NDCG@20 as shown (the fusion) | NDCG@20 re-ranked | re-ranked vs shown | lists better / equal / worse |"
    );
    println!("|---|---|---|---|---|---|---|");
    for (judged_by, judged) in &judgments {
        print_row("all", judged_by, &compare(&model, &held, judged));
        for name in &names {
            let theirs: Vec<&Shown> = held
                .iter()
                .copied()
                .filter(|l| variants.get(&l.qid) == Some(*name))
                .collect();
            print_row(
                &format!("variant `{name}`"),
                judged_by,
                &compare(&model, &theirs, judged),
            );
        }
    }
    let by_grades = compare(&model, &held, &judgments[0].1);
    println!();
    let wins = by_grades.lists > 0 && by_grades.reranked > by_grades.shown;
    if wins {
        println!(
            "feedback: the re-ranker beats the shown order on the held-back candidates: NDCG@20 {:.3} vs {:.3} ({:.3}x)",
            by_grades.reranked,
            by_grades.shown,
            by_grades.reranked / by_grades.shown.max(1e-9)
        );
    } else {
        println!(
            "feedback: the re-ranker does NOT beat the shown order on the held-back candidates: NDCG@20 {:.3} vs {:.3}",
            by_grades.reranked, by_grades.shown
        );
    }
    Ok(wins)
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("feedback: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_held_back_share_is_spread_evenly() {
        let held = |h: f64, n: usize| (0..n).filter(|i| held_back(*i, h)).collect::<Vec<_>>();
        assert_eq!(held(0.5, 6), [1, 3, 5]);
        assert_eq!(held(0.25, 8), [3, 7]);
        assert_eq!(held(0.3, 10).len(), 3);
    }

    #[test]
    fn lists_are_read_in_qid_order_and_those_without_signals_left_out() {
        let dir = tempfile::tempdir().unwrap();
        let signals = serde_json::json!({"semantic": 0.5, "lexical": 0.25, "title": 0, "job": 1,
            "skills": 0, "keywords": 0, "family": 0.1, "similar": 0.2});
        let lines = [
            serde_json::json!({"qid": "b", "shown": [
                {"offer": "O1", "rank": 1, "score": 0.9, "signals": signals, "grade": 2},
                {"offer": "O2", "rank": 2, "score": 0.8, "signals": signals, "grade": 0}]}),
            serde_json::json!({"qid": "c", "shown": [
                {"offer": "O1", "rank": 1, "score": 0.9, "signals": null, "grade": 1}]}),
            serde_json::json!({"qid": "a", "shown": [
                {"offer": "O3", "rank": 1, "score": 0.9, "signals": signals, "grade": 0}]}),
        ];
        let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
        let path = dir.path().join("lists.jsonl");
        std::fs::write(&path, text).unwrap();
        let (lists, without) = read_lists(&path).unwrap();
        assert_eq!(without, 1);
        let qids: Vec<&str> = lists.iter().map(|l| l.qid.as_str()).collect();
        assert_eq!(qids, ["a", "b"]);
        let (offer, s, grade) = &lists[1].offers[0];
        assert_eq!((offer.as_str(), *grade), ("O1", 2));
        assert_eq!((s.job, s.lexical, s.similar), (1.0, 0.25, 0.2));
    }
}
