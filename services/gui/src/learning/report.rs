//! `gui report-variants`: per ranking variant, the rates of views, saves, applications
//! and interviews over the matches shown, each with its 95 % confidence interval (Wilson),
//! the number of candidates, and whether each rate differs from the control's (the first
//! variant) at the 5 % level (two-proportion z-test), or not yet.

use std::fmt::Write;

use sqlx::PgPool;

/// One variant's counts: candidates, matches shown, and what followed.
#[derive(Debug, Clone, PartialEq)]
pub struct VariantCounts {
    pub variant: String,
    pub candidates: i64,
    pub shown: i64,
    pub views: i64,
    pub saves: i64,
    pub applications: i64,
    pub interviews: i64,
}

impl VariantCounts {
    /// The outcomes, with their names in the report.
    fn outcomes(&self) -> [(&'static str, i64); 4] {
        [
            ("views", self.views),
            ("saves", self.saves),
            ("applications", self.applications),
            ("interviews", self.interviews),
        ]
    }
}

/// The counts of every variant that was shown matches, `control` (or the first
/// configured) first.
pub async fn counts(db: &PgPool, order: &[&str]) -> Result<Vec<VariantCounts>, sqlx::Error> {
    let mut rows = sqlx::query_as!(
        VariantCounts,
        r#"SELECT s.variant, count(DISTINCT s.user_id) AS "candidates!", count(*) AS "shown!",
             count(*) FILTER (WHERE i.viewed) AS "views!",
             count(*) FILTER (WHERE i.saved) AS "saves!",
             count(*) FILTER (WHERE i.applied) AS "applications!",
             count(*) FILTER (WHERE i.got_interview) AS "interviews!"
         FROM gui.match_impressions s
         LEFT JOIN gui.offer_interactions i USING (user_id, offer_external_id)
         GROUP BY s.variant"#
    )
    .fetch_all(db)
    .await?;
    let rank = |v: &str| order.iter().position(|o| *o == v).unwrap_or(order.len());
    rows.sort_by(|a, b| (rank(&a.variant), &a.variant).cmp(&(rank(&b.variant), &b.variant)));
    Ok(rows)
}

/// The Wilson score interval of `successes` out of `n` at 95 % (z = 1.96): unlike the
/// normal approximation it stays within [0, 1] and is not empty at 0 or n.
pub fn wilson(successes: i64, n: i64) -> (f64, f64) {
    if n <= 0 {
        return (0.0, 1.0);
    }
    let (z, n, p) = (1.96_f64, n as f64, successes as f64 / n as f64);
    let centre = (p + z * z / (2.0 * n)) / (1.0 + z * z / n);
    let half = z / (1.0 + z * z / n) * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt();
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

/// The z statistic of the difference of two proportions (pooled), 0 when undefined.
pub fn two_proportion_z(a: i64, n_a: i64, b: i64, n_b: i64) -> f64 {
    if n_a <= 0 || n_b <= 0 {
        return 0.0;
    }
    let (p_a, p_b) = (a as f64 / n_a as f64, b as f64 / n_b as f64);
    let pooled = (a + b) as f64 / (n_a + n_b) as f64;
    let se = (pooled * (1.0 - pooled) * (1.0 / n_a as f64 + 1.0 / n_b as f64)).sqrt();
    if se == 0.0 {
        0.0
    } else {
        (p_b - p_a) / se
    }
}

/// The report as printed.
pub fn render(counts: &[VariantCounts]) -> String {
    let mut out = String::new();
    if counts.is_empty() {
        out.push_str("No match shown yet: nothing to compare.\n");
        return out;
    }
    let control = &counts[0];
    for variant in counts {
        let _ = writeln!(
            out,
            "{}: {} candidates, {} matches shown",
            variant.variant, variant.candidates, variant.shown
        );
        for ((name, n), (_, control_n)) in variant.outcomes().into_iter().zip(control.outcomes()) {
            let (low, high) = wilson(n, variant.shown);
            let rate = if variant.shown > 0 {
                n as f64 / variant.shown as f64
            } else {
                0.0
            };
            let _ = write!(
                out,
                "  {name:<13} {n:>6}  {:>6.2} %  [{:.2} %, {:.2} %]",
                100.0 * rate,
                100.0 * low,
                100.0 * high
            );
            if variant.variant != control.variant {
                let z = two_proportion_z(control_n, control.shown, n, variant.shown);
                let verdict = if z.abs() >= 1.96 {
                    "differs from"
                } else {
                    "not yet significantly different from"
                };
                let _ = write!(out, "  {verdict} {} (z = {z:.2})", control.variant);
            }
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_intervals_on_known_counts() {
        // 10 of 100: the textbook interval is [5.52 %, 17.44 %].
        let (low, high) = wilson(10, 100);
        assert!(
            (low - 0.0552).abs() < 5e-4 && (high - 0.1744).abs() < 5e-4,
            "{low} {high}"
        );
        // None of 20: from 0 to 16.1 %, not the empty [0, 0] of the normal approximation.
        let (low, high) = wilson(0, 20);
        assert_eq!(low, 0.0);
        assert!((high - 0.1611).abs() < 5e-4, "{high}");
        assert_eq!(wilson(5, 0), (0.0, 1.0));
    }

    #[test]
    fn the_z_test_on_known_counts() {
        // 10/100 against 20/100: z = 1.98 (pooled p = 0.15), just significant.
        let z = two_proportion_z(10, 100, 20, 100);
        assert!((z - 1.980).abs() < 1e-3, "{z}");
        assert!(two_proportion_z(10, 100, 15, 100).abs() < 1.96);
        assert_eq!(two_proportion_z(0, 0, 1, 10), 0.0);
    }

    #[test]
    fn the_report_says_what_is_not_yet_significant() {
        let counts = |variant: &str, shown, views| VariantCounts {
            variant: variant.into(),
            candidates: 10,
            shown,
            views,
            saves: 0,
            applications: 0,
            interviews: 0,
        };
        let text = render(&[
            counts("control", 100, 10),
            counts("b", 100, 20),
            counts("c", 100, 12),
        ]);
        assert!(
            text.contains("control: 10 candidates, 100 matches shown"),
            "{text}"
        );
        let views = text.lines().nth(1).unwrap();
        assert!(views.trim_start().starts_with("views"), "{text}");
        assert!(views.contains(" 10   10.00 %  [5.52 %, 17.44 %]"), "{text}");
        let line = |variant: &str| {
            let start = text.find(&format!("{variant}: ")).unwrap();
            text[start..].lines().nth(1).unwrap().to_owned()
        };
        assert!(
            line("b").contains("differs from control (z = 1.98)"),
            "{text}"
        );
        assert!(
            line("c").contains("not yet significantly different from control"),
            "{text}"
        );
        assert!(render(&[]).contains("No match shown yet"));
    }
}
