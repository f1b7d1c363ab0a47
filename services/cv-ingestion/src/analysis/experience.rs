//! Jobs held, read from the experience section: each period written on a line starts
//! a job; its title and employer are on that line or on the one or two short lines
//! just before it ("Développeuse backend — Banque Rhodanienne, Lyon" / "Datalyse SAS,
//! Villeurbanne"), or just after it when the period comes first.

use chrono::NaiveDate;
use shared::CvExperience;

use super::dates::{periods, Period};

/// Separators between a job's title and its employer, as CVs write them.
const TITLE_EMPLOYER: &[&str] = &[" — ", " – ", " - ", " | ", " chez ", " at ", " @ ", ", "];

/// The jobs of an experience section's text, in order, with the months of each.
pub fn jobs(section: &str, today: NaiveDate) -> Vec<(CvExperience, Period)> {
    let lines: Vec<&str> = section.lines().map(str::trim).collect();
    let mut jobs = Vec::new();
    // Lines already used as a job's title or employer.
    let mut used = vec![false; lines.len()];
    for (i, line) in lines.iter().enumerate() {
        let Some(period) = periods(line).into_iter().next() else {
            continue;
        };
        used[i] = true;
        let rest = strip_period(line, &period);
        let mut header: Vec<&str> = Vec::new();
        if !rest.is_empty() {
            header.push(rest);
        } else if i > 0 && !used[i - 1] && is_header_line(lines[i - 1]) {
            // "Title — Employer" just above, or "Title" / "Employer" on two lines.
            let two = i > 1
                && !used[i - 2]
                && is_header_line(lines[i - 2])
                && !has_separator(lines[i - 1]);
            for j in if two { i - 2..i } else { i - 1..i } {
                used[j] = true;
                header.push(lines[j]);
            }
        }
        // The period first, then the title below it.
        if header.is_empty() {
            for j in i + 1..(i + 3).min(lines.len()) {
                if !is_header_line(lines[j]) || !periods(lines[j]).is_empty() {
                    break;
                }
                used[j] = true;
                header.push(lines[j]);
            }
        }
        let (title, employer) = title_and_employer(&header);
        if title.is_empty() {
            continue;
        }
        jobs.push((
            CvExperience {
                title,
                employer,
                start: Some(period.start.date()),
                end: period.end.map(|p| p.date()),
                months: Some(period.months(today)),
            },
            period,
        ));
    }
    jobs
}

/// A line that can name a job or an employer: short, not a bullet, not a sentence.
fn is_header_line(line: &str) -> bool {
    !line.is_empty()
        && line.chars().count() <= 90
        && !line.ends_with(['.', ';', ':'])
        && !line.starts_with(super::BULLETS)
}

/// Whether a line holds both a title and an employer (a comma alone may only be the
/// employer's place: "Datalyse SAS, Villeurbanne").
fn has_separator(text: &str) -> bool {
    TITLE_EMPLOYER
        .iter()
        .any(|s| *s != ", " && text.contains(s))
}

/// The line without its period and the punctuation around it.
fn strip_period<'a>(line: &'a str, period: &Period) -> &'a str {
    let (before, after) = (&line[..period.span.0], &line[period.span.1..]);
    let trim =
        |s: &'a str| s.trim_matches(|c: char| c.is_whitespace() || "|,;:()[]–—-".contains(c));
    let (before, after) = (trim(before), trim(after));
    if before.is_empty() {
        after
    } else {
        before
    }
}

/// Title and employer from the header lines: two lines are title then employer; one
/// line is split at its first separator. A place after the employer's comma goes.
fn title_and_employer(header: &[&str]) -> (String, Option<String>) {
    let (title, employer) = match header {
        [] => return (String::new(), None),
        [one] => match TITLE_EMPLOYER
            .iter()
            .filter_map(|s| one.find(s).map(|at| (at, s.len())))
            .min()
        {
            Some((at, len)) => (&one[..at], Some(&one[at + len..])),
            None => (*one, None),
        },
        [title, employer, ..] => (*title, Some(*employer)),
    };
    let employer = employer
        .map(|e| e.split(", ").next().unwrap_or(e).trim().to_owned())
        .filter(|e| !e.is_empty());
    (title.trim().to_owned(), employer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 27).unwrap()
    }

    fn summary(section: &str) -> Vec<(String, Option<String>, Option<u32>)> {
        jobs(section, today())
            .into_iter()
            .map(|(e, _)| (e.title, e.employer, e.months))
            .collect()
    }

    #[test]
    fn title_and_employer_on_one_line_or_two() {
        let section = "Développeuse backend senior — Banque Rhodanienne, Lyon
janv. 2019 – aujourd'hui
Conception de microservices en Rust.
Encadrement de trois développeurs.
Développeuse data
Datalyse SAS, Villeurbanne
mars 2016 - décembre 2018
Mise en place de pipelines ETL en Python.
";
        assert_eq!(
            summary(section),
            [
                (
                    "Développeuse backend senior".into(),
                    Some("Banque Rhodanienne".into()),
                    Some(95)
                ),
                (
                    "Développeuse data".into(),
                    Some("Datalyse SAS".into()),
                    Some(34)
                ),
            ]
        );
    }

    #[test]
    fn period_on_the_title_line_or_before_it() {
        assert_eq!(
            summary("Comptable chez Fiducial | 09/2017 – 03/2021\n- Saisie\n"),
            [("Comptable".into(), Some("Fiducial".into()), Some(43))]
        );
        assert_eq!(
            summary("2014 - 2016\nBusiness Analyst\nGreater Northern Council, Bradford\nGathered requirements.\n"),
            [("Business Analyst".into(), Some("Greater Northern Council".into()), Some(24))]
        );
    }
}
