//! Date ranges as CVs write them, in French and English: "janv. 2019 – aujourd'hui",
//! "mars 2016 - décembre 2018", "2014-2016", "De septembre 2012 à juin 2014",
//! "09/2017 – 03/2021", "Since March 2020", "depuis avril 2021".
//!
//! A year alone stands for its January; a range of whole months counts both ends
//! (janvier–mars = 3 months), a range of years their difference (2014-2016 = 24).

use chrono::{Datelike, NaiveDate};

use shared::text::Folded;

/// A month, or a year alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Point {
    pub year: i32,
    pub month: Option<u32>,
}

impl Point {
    fn index(self) -> i64 {
        i64::from(self.year) * 12 + i64::from(self.month.unwrap_or(1)) - 1
    }

    pub fn date(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month.unwrap_or(1), 1).expect("valid month")
    }
}

/// A period: its start, its end (None: still going on), and where it is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub start: Point,
    pub end: Option<Point>,
    /// Byte offsets in the line it was read from.
    pub span: (usize, usize),
}

impl Period {
    /// Months from start to end (to `today` while going on).
    pub fn months(&self, today: NaiveDate) -> u32 {
        let end = self.end.unwrap_or(Point {
            year: today.year(),
            month: Some(today.month()),
        });
        let both_months = self.start.month.is_some() && end.month.is_some();
        let months = end.index() - self.start.index() + i64::from(both_months);
        u32::try_from(months.max(0)).unwrap_or(0)
    }

    /// The months covered, as a half-open range of month indexes.
    pub fn month_range(&self, today: NaiveDate) -> (i64, i64) {
        let start = self.start.index();
        (start, start + i64::from(self.months(today)))
    }
}

const MONTHS: &[(&str, u32)] = &[
    ("janvier", 1),
    ("janv", 1),
    ("jan", 1),
    ("january", 1),
    ("fevrier", 2),
    ("fevr", 2),
    ("fev", 2),
    ("february", 2),
    ("feb", 2),
    ("mars", 3),
    ("march", 3),
    ("mar", 3),
    ("avril", 4),
    ("avr", 4),
    ("april", 4),
    ("apr", 4),
    ("mai", 5),
    ("may", 5),
    ("juin", 6),
    ("june", 6),
    ("jun", 6),
    ("juillet", 7),
    ("juil", 7),
    ("july", 7),
    ("jul", 7),
    ("aout", 8),
    ("august", 8),
    ("aug", 8),
    ("septembre", 9),
    ("september", 9),
    ("sept", 9),
    ("sep", 9),
    ("octobre", 10),
    ("october", 10),
    ("oct", 10),
    ("novembre", 11),
    ("november", 11),
    ("nov", 11),
    ("decembre", 12),
    ("december", 12),
    ("dec", 12),
];
const NOW: &[&str] = &[
    "aujourd'hui",
    "present",
    "actuel",
    "actuellement",
    "maintenant",
    "now",
    "today",
    "current",
    "currently",
    "ongoing",
    "date",
];
const SINCE: &[&str] = &["depuis", "since"];
/// Words that open a range ("De septembre 2012 à juin 2014", "From 2019 to 2021").
const FROM: &[&str] = &["de", "du", "from"];
const TO: &[&str] = &["a", "au", "to", "until", "till", "jusqu'a", "jusqu'au", "-"];

#[derive(Debug, Clone, Copy, PartialEq)]
enum Item {
    Date(Point),
    Now,
    Since,
    From,
    To,
    Other,
}

/// The periods written in `line`, in order.
pub fn periods(line: &str) -> Vec<Period> {
    let folded = Folded::new(line);
    let items = items(&folded.text);
    let mut found = Vec::new();
    let mut i = 0;
    while i < items.len() {
        let (Item::Date(start), from, _) = items[i] else {
            i += 1;
            continue;
        };
        let since = i > 0 && items[i - 1].0 == Item::Since;
        let ranged = matches!(items.get(i + 1), Some((Item::To, ..)));
        let opened = i > 0 && items[i - 1].0 == Item::From && ranged;
        let from = if since || opened {
            items[i - 1].1
        } else {
            from
        };
        match items.get(i + 2) {
            Some(&(Item::Date(end), _, to)) if ranged && end.index() >= start.index() => {
                found.push(Period {
                    start,
                    end: Some(end),
                    span: folded.original(from, to),
                });
                i += 3;
            }
            Some(&(Item::Now, _, to)) if ranged => {
                found.push(Period {
                    start,
                    end: None,
                    span: folded.original(from, to),
                });
                i += 3;
            }
            _ if since => {
                let to = items[i].2;
                found.push(Period {
                    start,
                    end: None,
                    span: folded.original(from, to),
                });
                i += 1;
            }
            _ => i += 1,
        }
    }
    found
}

/// Words, numbers and dashes of a folded line, read as dates and range words, with
/// their byte spans.
fn items(folded: &str) -> Vec<(Item, usize, usize)> {
    let mut tokens: Vec<(&str, usize, usize)> = Vec::new();
    let bytes = folded.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = folded[i..].chars().next().expect("in bounds");
        let len = c.len_utf8();
        if c.is_alphabetic() || c.is_ascii_digit() {
            let start = i;
            let digits = c.is_ascii_digit();
            while i < bytes.len() {
                let c = folded[i..].chars().next().expect("in bounds");
                let same = if digits {
                    c.is_ascii_digit()
                } else {
                    c.is_alphabetic() || c == '\''
                };
                if !same {
                    break;
                }
                i += c.len_utf8();
            }
            tokens.push((&folded[start..i], start, i));
        } else {
            if matches!(c, '-' | '/' | '.') {
                tokens.push((&folded[i..i + len], i, i + len));
            }
            i += len;
        }
    }

    let year = |t: &str| {
        (t.len() == 4)
            .then(|| t.parse::<i32>().ok())
            .flatten()
            .filter(|y| (1950..=2100).contains(y))
    };
    let mut items = Vec::new();
    let mut k = 0;
    while k < tokens.len() {
        let (t, s, e) = tokens[k];
        let next = |n: usize| tokens.get(k + n).map(|t| t.0);
        // "janv. 2019", "March 2020"
        if let Some(&(_, m)) = MONTHS.iter().find(|(name, _)| *name == t) {
            let skip = usize::from(next(1) == Some("."));
            if let Some(y) = next(1 + skip).and_then(year) {
                items.push((
                    Item::Date(Point {
                        year: y,
                        month: Some(m),
                    }),
                    s,
                    tokens[k + 1 + skip].2,
                ));
                k += 2 + skip;
                continue;
            }
        }
        // "09/2017", "03-2021", "03.2021"
        if t.len() <= 2 && matches!(next(1), Some("/" | "-" | ".")) {
            if let (Ok(m @ 1..=12), Some(y)) = (t.parse::<u32>(), next(2).and_then(year)) {
                items.push((
                    Item::Date(Point {
                        year: y,
                        month: Some(m),
                    }),
                    s,
                    tokens[k + 2].2,
                ));
                k += 3;
                continue;
            }
        }
        // "en cours", "ce jour"
        if matches!((t, next(1)), ("en", Some("cours")) | ("ce", Some("jour"))) {
            items.push((Item::Now, s, tokens[k + 1].2));
            k += 2;
            continue;
        }
        if let Some(y) = year(t) {
            items.push((
                Item::Date(Point {
                    year: y,
                    month: None,
                }),
                s,
                e,
            ));
        } else if NOW.contains(&t) {
            items.push((Item::Now, s, e));
        } else if SINCE.contains(&t) {
            items.push((Item::Since, s, e));
        } else if FROM.contains(&t) {
            items.push((Item::From, s, e));
        } else if TO.contains(&t) {
            items.push((Item::To, s, e));
        } else if t != "/" && t != "." {
            items.push((Item::Other, s, e));
        }
        k += 1;
    }
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(year: i32, month: Option<u32>) -> Point {
        Point { year, month }
    }

    fn one(line: &str) -> Period {
        let found = periods(line);
        assert_eq!(found.len(), 1, "{line}: {found:?}");
        found[0]
    }

    #[test]
    fn french_and_english_forms() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
        let cases: &[(&str, Point, Option<Point>, u32)] = &[
            ("janv. 2019 – aujourd'hui", p(2019, Some(1)), None, 95),
            (
                "mars 2016 - décembre 2018",
                p(2016, Some(3)),
                Some(p(2018, Some(12))),
                34,
            ),
            ("2014-2016", p(2014, None), Some(p(2016, None)), 24),
            (
                "De septembre 2012 à juin 2014",
                p(2012, Some(9)),
                Some(p(2014, Some(6))),
                22,
            ),
            (
                "09/2017 – 03/2021",
                p(2017, Some(9)),
                Some(p(2021, Some(3))),
                43,
            ),
            ("Since March 2020", p(2020, Some(3)), None, 81),
            ("depuis avril 2021", p(2021, Some(4)), None, 68),
            (
                "Jan 2017 - Feb 2020",
                p(2017, Some(1)),
                Some(p(2020, Some(2))),
                38,
            ),
            (
                "June 2012 to December 2013",
                p(2012, Some(6)),
                Some(p(2013, Some(12))),
                19,
            ),
            ("Mar 2021 – present", p(2021, Some(3)), None, 69),
            ("2015 à 2017", p(2015, None), Some(p(2017, None)), 24),
            ("2020 - en cours", p(2020, None), None, 82),
            ("mai 2022 à ce jour", p(2022, Some(5)), None, 55),
        ];
        for (line, start, end, months) in cases {
            let period = one(line);
            assert_eq!((period.start, period.end), (*start, *end), "{line}");
            assert_eq!(period.months(today), *months, "{line}");
        }
    }

    #[test]
    fn the_span_covers_the_period_as_written() {
        let line = "Développeuse — Acme, Lyon | janv. 2019 – aujourd'hui";
        let period = one(line);
        assert_eq!(
            &line[period.span.0..period.span.1],
            "janv. 2019 – aujourd'hui"
        );
        let line = "De septembre 2012 à juin 2014";
        let period = one(line);
        assert_eq!(&line[period.span.0..period.span.1], line);
    }

    #[test]
    fn lone_years_and_numbers_are_not_periods() {
        assert!(periods("Master Informatique, Université de Lyon, 2014").is_empty());
        assert!(periods("Réduction de 40 % des temps de réponse, 3 000 000 opérations").is_empty());
        assert!(periods("2019 - 2017").is_empty(), "backwards");
    }
}
