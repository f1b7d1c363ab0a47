//! Progress of long work (ingesting a file, embedding offers, an API pull): a bar with
//! the rate and the time left on a terminal; on anything else (a log file, `make run`'s
//! background load, CI) a log line at each tenth of the work and at least every 30 s,
//! with the same figures as fields, so that logs stay short and still say how far.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// A log line at least this often when the work is slow.
const LOG_EVERY: Duration = Duration::from_secs(30);

/// What one step of the work counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Things, named in the plural ("offers", "queries").
    Items(&'static str),
    /// Bytes, shown in MB.
    Bytes,
}

/// How far the work is, at one instant.
#[derive(Debug, Clone, PartialEq)]
struct Status {
    done: u64,
    total: u64,
    /// Whole percent, 0 to 100.
    percent: u64,
    /// Units per second since the start.
    rate: f64,
    /// At the rate so far; unknown before the first unit.
    left: Option<Duration>,
}

impl Status {
    fn at(done: u64, total: u64, elapsed: Duration) -> Self {
        let done = done.min(total);
        let secs = elapsed.as_secs_f64().max(1e-3);
        let rate = done as f64 / secs;
        Self {
            done,
            total,
            percent: (done * 100).checked_div(total).unwrap_or(100),
            rate,
            left: (done > 0).then(|| Duration::from_secs_f64((total - done) as f64 / rate)),
        }
    }
}

/// "1 h 02 min", "3 min 05 s", "42 s".
fn duration_text(d: Duration) -> String {
    let s = d.as_secs();
    match (s / 3600, s % 3600 / 60, s % 60) {
        (0, 0, s) => format!("{s} s"),
        (0, m, s) => format!("{m} min {s:02} s"),
        (h, m, _) => format!("{h} h {m:02} min"),
    }
}

/// The bar's line: "embedding offers [#####     ] 50% 1000/2000 offers, 45.2/s, 22 s left".
fn bar_line(what: &str, unit: Unit, status: &Status) -> String {
    const WIDTH: u64 = 24;
    let filled = (status.percent * WIDTH / 100) as usize;
    let (done, total, rate, name) = match unit {
        Unit::Items(name) => (
            status.done.to_string(),
            status.total.to_string(),
            format!("{:.1}/s", status.rate),
            name,
        ),
        Unit::Bytes => (
            format!("{:.1}", status.done as f64 / 1e6),
            format!("{:.1}", status.total as f64 / 1e6),
            format!("{:.1} MB/s", status.rate / 1e6),
            "MB",
        ),
    };
    let left = status.left.map_or_else(
        || "time left unknown".to_owned(),
        |l| format!("{} left", duration_text(l)),
    );
    format!(
        "{what} [{}{}] {:>3}% {done}/{total} {name}, {rate}, {left}",
        "#".repeat(filled),
        " ".repeat(WIDTH as usize - filled),
        status.percent
    )
}

pub struct Progress {
    what: &'static str,
    unit: Unit,
    total: u64,
    started: Instant,
    terminal: bool,
    last_log: Instant,
    /// The last tenth logged.
    last_tenth: u64,
}

impl Progress {
    /// Progress of `total` units of `what` ("embedding offers"), shown on stderr.
    pub fn new(what: &'static str, unit: Unit, total: u64) -> Self {
        let terminal = std::io::stderr().is_terminal();
        if total > 0 {
            tracing::info!(total, unit = unit_name(unit), "{what}");
        }
        Self {
            what,
            unit,
            total,
            started: Instant::now(),
            terminal,
            last_log: Instant::now(),
            last_tenth: 0,
        }
    }

    pub fn update(&mut self, done: u64) {
        if self.total == 0 {
            return;
        }
        let status = Status::at(done, self.total, self.started.elapsed());
        if self.terminal {
            eprint!("\r{}  ", bar_line(self.what, self.unit, &status));
            let _ = std::io::stderr().flush();
            return;
        }
        let tenth = status.percent / 10;
        if tenth > self.last_tenth || self.last_log.elapsed() >= LOG_EVERY {
            self.last_tenth = tenth;
            self.last_log = Instant::now();
            tracing::info!(
                done = status.done,
                total = status.total,
                unit = unit_name(self.unit),
                percent = status.percent,
                rate = format!("{:.1}/s", status.rate),
                left_secs = status.left.map(|l| l.as_secs()),
                "{}",
                self.what
            );
        }
    }

    /// Ends the bar's line; says how long the work took.
    pub fn finish(&self, done: u64) {
        if self.terminal && self.total > 0 {
            eprintln!();
        }
        if done > 0 {
            tracing::info!(
                done,
                unit = unit_name(self.unit),
                seconds = self.started.elapsed().as_secs(),
                "{} done",
                self.what
            );
        }
    }
}

fn unit_name(unit: Unit) -> &'static str {
    match unit {
        Unit::Items(name) => name,
        Unit::Bytes => "bytes",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_and_the_time_left_come_from_the_work_so_far() {
        let status = Status::at(500, 2000, Duration::from_secs(10));
        assert_eq!(status.percent, 25);
        assert_eq!(status.rate, 50.0);
        assert_eq!(status.left, Some(Duration::from_secs(30)));
        assert_eq!(
            bar_line("embedding offers", Unit::Items("offers"), &status),
            "embedding offers [######                  ]  25% 500/2000 offers, 50.0/s, 30 s left"
        );
        let nothing_yet = Status::at(0, 10, Duration::from_secs(3));
        assert_eq!(nothing_yet.left, None);
        assert!(bar_line("x", Unit::Items("offers"), &nothing_yet).ends_with("time left unknown"));
        let bytes = Status::at(3_000_000, 12_000_000, Duration::from_secs(2));
        assert_eq!(
            bar_line("reading offers.jsonl", Unit::Bytes, &bytes),
            "reading offers.jsonl [######                  ]  25% 3.0/12.0 MB, 1.5 MB/s, 6 s left"
        );
        assert_eq!(
            Status::at(20, 10, Duration::from_secs(1)).percent,
            100,
            "capped"
        );
    }

    #[test]
    fn durations_read_as_people_say_them() {
        assert_eq!(duration_text(Duration::from_secs(42)), "42 s");
        assert_eq!(duration_text(Duration::from_secs(185)), "3 min 05 s");
        assert_eq!(duration_text(Duration::from_secs(3720)), "1 h 02 min");
    }
}
