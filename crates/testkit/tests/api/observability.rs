//! What operators watch: the alert rules (deploy/prometheus/alerts.yml) valid for
//! Prometheus, each firing on the series its unit tests give and quiet on healthy ones
//! (promtool, which `make test` installs), and the alerts and the Grafana dashboard
//! naming only metrics the services register.

use std::process::Command;

fn promtool(args: &[&str]) -> String {
    let output = Command::new(testkit::cache_dir().join("bin/promtool"))
        .args(args)
        .current_dir(testkit::repo_dir().join("deploy/prometheus"))
        .output()
        .expect("promtool is installed by `make test` (scripts/setup.sh --for-tests)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "promtool {args:?}:\n{text}");
    text
}

#[test]
fn the_alert_rules_are_valid_and_pass_their_unit_tests() {
    let checked = promtool(&["check", "rules", "alerts.yml"]);
    assert!(checked.contains("SUCCESS"), "{checked}");
    let tested = promtool(&["test", "rules", "alerts.test.yml"]);
    assert!(tested.contains("SUCCESS"), "{tested}");
}

/// Metric names in a PromQL expression: lower-case identifiers with an underscore that
/// are neither a function (followed by "(") nor a label (`by (service, le)`).
fn metric_names(expr: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut in_labels = 0;
    let mut word = String::new();
    for c in expr.chars().chain([' ']) {
        if c.is_ascii_lowercase() || c == '_' || (!word.is_empty() && c.is_ascii_digit()) {
            word.push(c);
            continue;
        }
        let is_function = c == '(';
        if !word.is_empty() && word.contains('_') && !is_function && in_labels == 0 {
            names.push(std::mem::take(&mut word));
        }
        word.clear();
        // Inside `{…}` (matchers) or `by (…)`/`without (…)`: labels, not metrics.
        match c {
            '{' => in_labels += 1,
            '}' => in_labels -= 1,
            _ => {}
        }
    }
    let grouping = |names: &mut Vec<String>| {
        for keyword in ["by", "without"] {
            let mut rest = expr;
            while let Some(at) = rest.find(&format!("{keyword} (")) {
                let inside = &rest[at + keyword.len() + 2..];
                let end = inside.find(')').unwrap_or(inside.len());
                for label in inside[..end].split(',') {
                    names.retain(|n| n != label.trim());
                }
                rest = &inside[end..];
            }
        }
    };
    grouping(&mut names);
    names
}

/// The metric names the code registers (string literals of the services and platform),
/// as Prometheus exposes them: counters with `_total`, histograms with `_bucket`,
/// `_count`, `_sum`.
fn exported(name: &str) -> bool {
    static SOURCES: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    let literals = SOURCES.get_or_init(|| {
        let output = Command::new("grep")
            .args(["-rhoE", "--include=*.rs", r#""[a-z_]+""#])
            .arg(testkit::repo_dir().join("services"))
            .arg(testkit::repo_dir().join("crates/platform/src"))
            .output()
            .unwrap();
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .map(|l| l.trim_matches('"').to_owned())
            .collect()
    });
    let base = ["_total", "_bucket", "_count", "_sum"]
        .iter()
        .find_map(|suffix| name.strip_suffix(suffix))
        .unwrap_or(name);
    literals.iter().any(|l| l == base)
}

#[test]
fn metric_names_are_read_from_expressions() {
    assert_eq!(
        metric_names(
            r#"histogram_quantile(0.95, sum by (service, le) (rate(http_request_duration_seconds_bucket{route="/match"}[5m]))) > 0.5"#
        ),
        ["http_request_duration_seconds_bucket"]
    );
    assert_eq!(
        metric_names("time() - ingestion_last_success_timestamp_seconds > 36 * 3600"),
        ["ingestion_last_success_timestamp_seconds"]
    );
    assert!(exported("http_requests_total") && !exported("http_requests_totals"));
}

/// Every metric an alert's expression names is one the code registers (a renamed
/// metric would leave its alert silent forever).
#[test]
fn the_alerts_name_only_metrics_the_services_export() {
    let rules =
        std::fs::read_to_string(testkit::repo_dir().join("deploy/prometheus/alerts.yml")).unwrap();
    // Each rule's expression: `expr: …` and its indented continuation lines.
    let mut exprs: Vec<String> = Vec::new();
    let mut open = false;
    for line in rules.lines() {
        let trimmed = line.trim_start();
        if let Some(expr) = trimmed.strip_prefix("expr:") {
            exprs.push(expr.trim().trim_start_matches('|').to_owned());
            open = true;
        } else if open && line.starts_with("          ") && !trimmed.starts_with('#') {
            exprs.last_mut().unwrap().push_str(line);
        } else {
            open = false;
        }
    }
    let mut named = 0;
    for expr in &exprs {
        for name in metric_names(expr) {
            assert!(
                exported(&name),
                "alerts.yml names {name}, which no service registers"
            );
            named += 1;
        }
    }
    assert!(
        exprs.len() >= 10 && named >= 12,
        "{} rules, {named} names",
        exprs.len()
    );
}

/// The Grafana dashboard (deploy/grafana/dashboards): every panel queries Prometheus,
/// and each query names only metrics the services export.
#[test]
fn every_dashboard_panel_queries_metrics_the_services_export() {
    let text = std::fs::read_to_string(
        testkit::repo_dir().join("deploy/grafana/dashboards/jobmatch.json"),
    )
    .unwrap();
    let dashboard: serde_json::Value = serde_json::from_str(&text).unwrap();
    let panels = dashboard["panels"].as_array().unwrap();
    assert!(
        panels.len() >= 8,
        "requests, latency, errors, stages, ingestion, embeddings, lag, cache"
    );
    for panel in panels {
        let title = panel["title"].as_str().unwrap();
        let targets = panel["targets"].as_array().unwrap();
        assert!(!targets.is_empty(), "{title}: no query");
        for target in targets {
            let expr = target["expr"].as_str().unwrap();
            let names = metric_names(expr);
            assert!(!names.is_empty(), "{title}: {expr} names no metric");
            for name in names {
                assert!(
                    exported(&name),
                    "{title}: {name} is not a metric the services export"
                );
            }
        }
    }
}
