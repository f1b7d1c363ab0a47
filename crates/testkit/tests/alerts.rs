//! The alert rules (deploy/prometheus/alerts.yml): valid for Prometheus, each firing on
//! the series its unit tests give and quiet on healthy ones (promtool, which `make
//! test` installs), and naming only metrics the services register.

use std::path::PathBuf;
use std::process::Command;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn promtool(args: &[&str]) -> String {
    let output = Command::new(testkit::cache_dir().join("bin/promtool"))
        .args(args)
        .current_dir(repo().join("deploy/prometheus"))
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

/// Every metric an alert's expression names is one the code registers (a renamed
/// metric would leave its alert silent forever).
#[test]
fn the_alerts_name_only_metrics_the_services_export() {
    let rules = std::fs::read_to_string(repo().join("deploy/prometheus/alerts.yml")).unwrap();
    let mut sources = String::new();
    for dir in ["services", "crates/platform/src"] {
        let output = Command::new("grep")
            .args(["-rhoE", "--include=*.rs", r#""[a-z_]+""#])
            .arg(repo().join(dir))
            .output()
            .unwrap();
        sources.push_str(&String::from_utf8_lossy(&output.stdout));
    }
    let registered: Vec<&str> = sources.lines().map(|l| l.trim_matches('"')).collect();
    let mut named = 0;
    for line in rules.lines().filter(|l| !l.trim_start().starts_with('#')) {
        let Some(expr) = line.trim_start().strip_prefix("expr:").or_else(|| {
            // The continuation lines of a multi-line expression.
            (line.starts_with("          ") && !line.contains(':')).then_some(line)
        }) else {
            continue;
        };
        // Metric names: a lower-case identifier followed by a selector or a range, or
        // compared; PromQL's functions are followed by "(".
        let mut rest = expr;
        while let Some(start) = rest.find(|c: char| c.is_ascii_lowercase()) {
            let word: String = rest[start..]
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                .collect();
            let after = rest[start + word.len()..].trim_start();
            rest = &rest[start + word.len()..];
            let is_metric = word.contains('_')
                && !after.starts_with('(')
                && !expr[..expr.len() - rest.len()].ends_with(&format!("by ({word}"));
            if !is_metric || ["by", "or", "le"].contains(&word.as_str()) {
                continue;
            }
            let base = ["_total", "_bucket", "_count", "_sum"]
                .iter()
                .find_map(|suffix| word.strip_suffix(suffix))
                .unwrap_or(&word);
            assert!(
                registered.contains(&base),
                "alerts.yml names {word}, which no service registers"
            );
            named += 1;
        }
    }
    assert!(
        named >= 10,
        "the expressions were read: {named} metric names"
    );
}
