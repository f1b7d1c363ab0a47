//! `jobmatch-feedback` as a process, on hand-made exports: when the grade is one of the
//! signals and the shown order ignores it, the re-ranker trained on half the candidates
//! beats the shown order on the other half (exit 0); when the shown order is already
//! the grades' order, it cannot (exit 1).
//!
//! (Its own test binary, not a module of `tests/eval.rs`: it needs no services, and runs
//! in a second.)

use std::path::Path;
use std::process::{Command, Output};

use serde_json::json;

const NAMES: [&str; 8] = [
    "semantic", "lexical", "title", "job", "skills", "keywords", "family", "similar",
];

/// A small deterministic generator (64-bit LCG), values in [0, 1).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// `candidates` lists of 20 offers: the grade (0–4) is `job` × 4 rounded, the other
/// signals noise; listed by `semantic` (noise) unless `shown_by_grade`.
fn export(dir: &Path, candidates: usize, shown_by_grade: bool) {
    let mut rng = Lcg(7);
    let mut lines = String::new();
    for c in 0..candidates {
        let mut shown: Vec<(serde_json::Value, f64, u8)> = (0..20)
            .map(|o| {
                let values: Vec<f64> = NAMES.iter().map(|_| rng.next()).collect();
                let grade = (values[3] * 4.0).round() as u8;
                let signals: serde_json::Map<String, serde_json::Value> = NAMES
                    .iter()
                    .zip(&values)
                    .map(|(n, v)| (n.to_string(), json!(v)))
                    .collect();
                (
                    json!({"offer": format!("O{c}-{o}"), "signals": signals}),
                    values[0],
                    grade,
                )
            })
            .collect();
        if shown_by_grade {
            shown.sort_by_key(|entry| std::cmp::Reverse(entry.2));
        } else {
            shown.sort_by(|a, b| b.1.total_cmp(&a.1));
        }
        let shown: Vec<serde_json::Value> = shown
            .into_iter()
            .enumerate()
            .map(|(rank, (mut entry, score, grade))| {
                entry["rank"] = json!(rank + 1);
                entry["score"] = json!(score);
                entry["grade"] = json!(grade);
                entry
            })
            .collect();
        lines.push_str(&json!({"qid": format!("q{c:03}"), "shown": shown}).to_string());
        lines.push('\n');
    }
    std::fs::write(dir.join("lists.jsonl"), lines).unwrap();
    // The variants, as graded.jsonl records them: a for q000, q001, q004, q005..., b for
    // the others.
    let graded: String = (0..candidates)
        .map(|c| {
            let variant = if c % 4 < 2 { "a" } else { "b" };
            format!(
                "{}\n",
                json!({"candidate": format!("q{c:03}"), "variant": variant})
            )
        })
        .collect();
    std::fs::write(dir.join("graded.jsonl"), graded).unwrap();
}

fn feedback(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_jobmatch-feedback"))
        .args(args)
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn a_reranker_trained_on_the_grades_beats_a_shown_order_that_ignores_them() {
    let dir = tempfile::tempdir().unwrap();
    export(dir.path(), 40, false);
    let model = dir.path().join("from-feedback.json");
    let output = feedback(&[
        dir.path().to_str().unwrap(),
        "--holdout",
        "0.5",
        "--features",
        "signals",
        "--model",
        model.to_str().unwrap(),
    ]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(
        text.contains(
            "40 candidates' lists (0 left out: shown without signals); trained on 20, held back 20"
        ),
        "{text}"
    );
    assert!(text.contains("beats the shown order"), "{text}");
    // The held-back rows: all lists, then each variant's; NDCG@20 as shown, re-ranked.
    let row = |lists: &str| -> Vec<String> {
        let row = text
            .lines()
            .find(|l| l.starts_with(&format!("| {lists} | the candidates' acts")))
            .expect(&text);
        row.split('|').map(|c| c.trim().to_owned()).collect()
    };
    for (lists, count) in [("all", "20"), ("variant `a`", "10"), ("variant `b`", "10")] {
        let cells = row(lists);
        assert_eq!(cells[3], count, "{cells:?}");
        let shown: f64 = cells[4].parse().unwrap();
        let reranked: f64 = cells[5].trim_matches('*').parse().unwrap();
        assert!(reranked > 0.99 && shown < 0.9, "{cells:?}");
    }
    // The model orders by job: its largest weight.
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&model).unwrap()).unwrap();
    assert_eq!(written["id"], "from-feedback");
    let weights = written["weights"].as_array().unwrap();
    let job = weights[3].as_f64().unwrap();
    assert!(
        weights.iter().all(|w| w.as_f64().unwrap() <= job),
        "{written}"
    );
}

#[test]
fn it_fails_when_the_shown_order_is_already_the_grades_and_says_why_on_a_bad_export() {
    let dir = tempfile::tempdir().unwrap();
    export(dir.path(), 20, true);
    let output = feedback(&[dir.path().to_str().unwrap(), "--features", "signals"]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(text.contains("does NOT beat the shown order"), "{text}");

    let empty = tempfile::tempdir().unwrap();
    let output = feedback(&[empty.path().to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("lists.jsonl"));
    let output = feedback(&[dir.path().to_str().unwrap(), "--holdout", "1"]);
    assert_eq!(output.status.code(), Some(2));
}
