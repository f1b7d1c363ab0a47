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
    let joined = join_wrapped_periods(section);
    let lines: Vec<&str> = joined.iter().map(String::as_str).collect();
    // Each line's first period, read once.
    let found: Vec<Option<Period>> = lines
        .iter()
        .map(|line| periods(line).into_iter().next())
        .collect();
    if let Some(jobs) = dates_column(&lines, &found, today) {
        return jobs;
    }
    let mut jobs = Vec::new();
    // Lines already used as a job's title or employer.
    let mut used = vec![false; lines.len()];
    for (i, line) in lines.iter().enumerate() {
        let Some(period) = found[i] else {
            continue;
        };
        used[i] = true;
        let rest = strip_period(line, &period);
        let mut header: Vec<&str> = Vec::new();
        if !rest.is_empty() {
            header.push(rest);
        } else {
            for j in header_above(&lines, &used, i) {
                used[j] = true;
                header.push(lines[j]);
            }
        }
        // The period first, then the title below it.
        if header.is_empty() {
            for j in i + 1..(i + 3).min(lines.len()) {
                if !is_header_line(lines[j]) || found[j].is_some() {
                    break;
                }
                used[j] = true;
                header.push(lines[j]);
            }
        }
        // "Title ......... 2019 – 2021" (the period at a right tab stop) or "Title" /
        // period, then the employer on the line below.
        if header.len() == 1 && title_and_employer(&header).1.is_none() {
            if let Some(j) = employer_below(&lines, &found, &used, i) {
                used[j] = true;
                header.push(lines[j]);
            }
        }
        jobs.extend(job(&header, period, today));
    }
    jobs
}

/// The lines just above the period line `i` that its job takes as its header: "Title —
/// Employer" alone, or "Title" / "Employer" on two lines; none when the line above is
/// used or no header line.
fn header_above(lines: &[&str], used: &[bool], i: usize) -> std::ops::Range<usize> {
    let open = |j: usize| !used[j] && is_header_line(lines[j]);
    if i == 0 || !open(i - 1) {
        i..i
    } else if i > 1 && open(i - 2) && !has_separator(lines[i - 1]) {
        i - 2..i
    } else {
        i - 1..i
    }
}

/// The line below the period line `i` that names the employer of a job whose header
/// gave only its title: the first of the header lines that follow, when it reads as an
/// organisation ("Datalyse SAS, Lyon", "Groupe Mutualis") and is not what the next
/// job takes as its own title (the one or two header lines just above its period).
fn employer_below(
    lines: &[&str],
    found: &[Option<Period>],
    used: &[bool],
    i: usize,
) -> Option<usize> {
    let run: Vec<usize> = (i + 1..lines.len())
        .take_while(|&j| found[j].is_none() && !used[j] && is_header_line(lines[j]))
        .collect();
    let first = *run.first()?;
    let after = i + 1 + run.len();
    let taken_by_next = match found.get(after).copied().flatten() {
        Some(next) if strip_period(lines[after], &next).is_empty() => {
            header_above(lines, used, after).len()
        }
        _ => 0,
    };
    (run.len() > taken_by_next && reads_as_organisation(lines[first])).then_some(first)
}

/// An employer's line rather than a duty: a place after a comma, or at least half of
/// its words capitalised ("Banque Rhodanienne", "CHU de Lyon"; not "Gestion de la paie").
fn reads_as_organisation(line: &str) -> bool {
    let name = line.split(", ").next().unwrap_or(line);
    let words: Vec<&str> = name.split_whitespace().collect();
    let capitalised = words
        .iter()
        .filter(|w| w.starts_with(|c: char| c.is_uppercase() || c.is_ascii_digit()))
        .count();
    (line.contains(", ") && words.len() <= 6)
        || (!words.is_empty() && capitalised * 2 >= words.len())
}

/// The job whose header lines are `header` (title, employer), held over `period`; none
/// without a title.
fn job(header: &[&str], period: Period, today: NaiveDate) -> Option<(CvExperience, Period)> {
    let (title, employer) = title_and_employer(header);
    (!title.is_empty()).then(|| {
        (
            CvExperience {
                title,
                employer,
                start: Some(period.start.date()),
                end: period.end.map(|p| p.date()),
                months: Some(period.months(today)),
            },
            period,
        )
    })
}

/// The section's lines, trimmed, with a period that a narrow column wrapped onto two
/// lines ("septembre 2021 - décembre" / "2024") made one again: the next line is short,
/// and read together they give a period that starts on the first and ends on the next.
fn join_wrapped_periods(section: &str) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut source = section.lines().map(str::trim).peekable();
    while let Some(line) = source.next() {
        if let Some(next) = source
            .peek()
            .filter(|next| !next.is_empty() && next.chars().count() <= 20)
        {
            let both = format!("{line} {next}");
            // The period starts on this line and goes on into the next (so it is longer
            // than any this line holds alone).
            let straddles = periods(&both)
                .first()
                .is_some_and(|p| p.span.0 < line.len() && p.span.1 > line.len());
            if straddles {
                lines.push(both);
                source.next();
                continue;
            }
        }
        lines.push(line.to_owned());
    }
    lines
}

/// Jobs laid out as a table whose dates are a column of their own (a common CV
/// template): a PDF's reading order gives the whole dates column, then the whole column
/// of titles, employers and missions (or the other way round). When the section holds
/// one run of lines that are periods alone and as many title blocks (one or two header
/// lines after a line that is not one) as periods, they pair in order.
fn dates_column(
    lines: &[&str],
    found: &[Option<Period>],
    today: NaiveDate,
) -> Option<Vec<(CvExperience, Period)>> {
    // The lines that are a period and nothing else.
    let alone: Vec<Option<Period>> = lines
        .iter()
        .zip(found)
        .map(|(line, period)| period.filter(|p| strip_period(line, p).is_empty()))
        .collect();
    let dated: Vec<(usize, Period)> = alone
        .iter()
        .enumerate()
        .filter_map(|(i, p)| p.map(|p| (i, p)))
        .collect();
    let (first, last) = (dated.first()?.0, dated.last()?.0);
    // One run: nothing but periods (and blank lines) from the first to the last.
    let one_run =
        dated.len() >= 2 && (first..=last).all(|i| lines[i].is_empty() || alone[i].is_some());
    if !one_run {
        return None;
    }
    let mut blocks: Vec<Vec<&str>> = Vec::new();
    let mut previous_was_header = false;
    for (i, line) in lines.iter().enumerate() {
        if (first..=last).contains(&i) || line.is_empty() {
            continue;
        }
        let header = is_header_line(line) && found[i].is_none();
        match (header, previous_was_header) {
            (true, false) => blocks.push(vec![line]),
            (true, true) => {
                if let Some(block) = blocks.last_mut() {
                    block.push(line);
                }
            }
            _ => {}
        }
        previous_was_header = header;
    }
    if blocks.len() != dated.len() {
        return None;
    }
    let jobs = dated
        .iter()
        .zip(&blocks)
        .filter_map(|(&(_, period), block)| job(block, period, today))
        .collect();
    Some(jobs)
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
    fn the_employer_below_a_title_and_its_period() {
        // Word's right tab stop: title and period on one line, employer below.
        let section = "Agent de service hospitalier 08/2021 – 03/2023
Groupe Mutualis, Dijon
Missions variées au sein d’une équipe.
Auxiliaire de vie
06/2020 – 07/2021
Datalyse SAS
Accueil des patients.
Comptable
2018 - 2019
Gestion de la paie
";
        assert_eq!(
            summary(section),
            [
                (
                    "Agent de service hospitalier".into(),
                    Some("Groupe Mutualis".into()),
                    Some(20)
                ),
                (
                    "Auxiliaire de vie".into(),
                    Some("Datalyse SAS".into()),
                    Some(14)
                ),
                // A duty is no employer.
                ("Comptable".into(), None, Some(12)),
            ]
        );
        // Lines the next job takes as its title stay its own.
        let compact = "Comptable
2019 - 2021
Développeuse data
Datalyse SAS
2016 - 2018
";
        assert_eq!(
            summary(compact),
            [
                ("Comptable".into(), None, Some(24)),
                (
                    "Développeuse data".into(),
                    Some("Datalyse SAS".into()),
                    Some(24)
                ),
            ]
        );
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
    fn a_column_of_dates_pairs_with_the_jobs_in_order() {
        let expected = [
            (
                "Développeuse backend".into(),
                Some("Banque Rhodanienne".into()),
                Some(95),
            ),
            (
                "Développeuse data".into(),
                Some("Datalyse SAS".into()),
                Some(34),
            ),
        ];
        let jobs = "Développeuse backend\nBanque Rhodanienne, Lyon\nMissions variées au sein d’une équipe.\nDéveloppeuse data\nDatalyse SAS, Villeurbanne\nMise en place de pipelines ETL.\n";
        let dates = "janv. 2019 – aujourd'hui\n\nmars 2016 - décembre 2018\n";
        assert_eq!(summary(&format!("{dates}{jobs}")), expected, "dates first");
        assert_eq!(summary(&format!("{jobs}{dates}")), expected, "dates last");
    }

    #[test]
    fn a_period_wrapped_by_a_narrow_column_is_read_whole() {
        assert_eq!(
            summary("Cariste\nLogistique du Centre, Lyon\nseptembre 2021 - décembre\n2024\nChargement.\n"),
            [("Cariste".into(), Some("Logistique du Centre".into()), Some(40))]
        );
        // A short line that does not continue the period stays apart (here the next
        // job's period), and so does a short period below an employer's line.
        assert_eq!(
            summary("Cariste\nLogistique du Centre\n2019 - 2021\n2022 - 2023\nPréparateur\n").len(),
            2
        );
        assert_eq!(
            summary("Cariste\nLogistique, Lyon\n2024 - 2025\n")[0].1,
            Some("Logistique".into())
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
