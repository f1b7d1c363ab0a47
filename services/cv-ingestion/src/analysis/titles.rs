//! Job titles a CV gives its candidate outside its dated jobs: the headline at its head
//! ("Développeuse Python", "Analyste | Contrôleur de gestion", "Titre : Infirmière"),
//! and the jobs its sentences name ("I have worked as a log peeler", "j'ai travaillé
//! comme aide-soignante", "experienced mobile mechanic looking for…"). Ranking reads
//! them beside the jobs' titles: they are often the best words a CV has for what its
//! candidate does.

use shared::text::fold;

use super::sections::heading_kind;

/// Lines of the head read for a headline.
const HEAD_LINES: usize = 8;
/// A title has at most this many words.
const MAX_WORDS: usize = 8;

/// The headline's titles, then those named in sentences, each once, in that order.
/// `body` is the text without the sections that do not speak of the candidate's jobs
/// (interests, contact details, additional information).
pub fn titles(text: &str, first_section: Option<usize>, body: &[&str]) -> Vec<String> {
    let head_end = first_section.unwrap_or(text.len());
    let mut found: Vec<String> = Vec::new();
    let mut push = |title: &str| {
        let title = title
            .trim()
            .trim_matches(|c: char| !c.is_alphanumeric() && !matches!(c, ')' | '+' | '#'));
        let words = title.split_whitespace().count();
        if (1..=MAX_WORDS).contains(&words) && !found.iter().any(|t| fold(t) == fold(title)) {
            found.push(title.to_owned());
        }
    };
    let head: Vec<&str> = text[..head_end]
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .take(HEAD_LINES)
        .collect();
    // A CV usually starts with its candidate's name, which is no job ("Marie Boulanger"):
    // a first line that reads as a name is left out when a later line gives a title.
    let name_first = head.first().is_some_and(|l| looks_like_a_name(l))
        && head[1..].iter().any(|l| !headline(l).is_empty());
    for line in &head[usize::from(name_first)..] {
        for title in headline(line) {
            push(title);
        }
    }
    for part in body {
        for title in named_in_sentences(part) {
            push(title);
        }
    }
    found
}

/// Two to four capitalised words and nothing else: how a CV's first line gives a name.
fn looks_like_a_name(line: &str) -> bool {
    let words: Vec<&str> = line.split_whitespace().collect();
    (2..=4).contains(&words.len())
        && words.iter().all(|w| {
            w.chars().next().is_some_and(char::is_uppercase)
                && w.chars()
                    .all(|c| c.is_alphabetic() || matches!(c, '-' | '\'' | '’' | '.'))
        })
}

/// Lines of the head that are about something else than a job: a driving licence, a
/// place ("Lyon, France").
fn about_something_else(line: &str, folded: &str) -> bool {
    folded.starts_with("permis ")
        || folded.starts_with("driving licen")
        || (line.contains(',')
            && line.split(',').all(|part| {
                part.split_whitespace().count() == 1 && part.trim().starts_with(char::is_uppercase)
            }))
}

/// Labels that introduce a title ("Poste : ...", "Title: ...").
const TITLE_LABELS: &[&str] = &[
    "profil",
    "profile",
    "titre",
    "title",
    "poste",
    "position",
    "objectif",
    "objective",
    "headline",
    "metier",
    "job",
    "intitule",
    "emploi recherche",
    "poste recherche",
];

/// The titles a line of the head states, if it states any.
fn headline(line: &str) -> Vec<&str> {
    let folded = fold(line);
    let digits = line.chars().filter(char::is_ascii_digit).count();
    let words = line.split_whitespace().count();
    // A list item or a sentence says what was done, not what one is.
    if line.starts_with(['*', '-', '•', '–', '—', '►', '▪', '·', '✓'])
        || (line.ends_with('.') && words > 3 && !line.contains(':'))
    {
        return Vec::new();
    }
    if line.contains('@')
        || about_something_else(line, &folded)
        || folded.contains("http")
        || folded.contains("www.")
        || digits >= 4
        || heading_kind(line).is_some()
        || matches!(
            folded.trim_end_matches([':', '.']),
            "curriculum vitae" | "cv" | "resume"
        )
    {
        return Vec::new();
    }
    let line = match line.split_once(':') {
        Some((label, rest)) => {
            if !TITLE_LABELS.contains(&fold(label.trim()).as_str()) {
                // "Compétences : ...", "Tél : ...": not a title.
                return Vec::new();
            }
            // A profile sentence: the title is what it names.
            if rest.split_whitespace().count() > MAX_WORDS {
                return named_in_sentences(rest);
            }
            rest
        }
        None if words > MAX_WORDS => return named_in_sentences(line),
        None => line,
    };
    line.split(['|', '·', '•'])
        .flat_map(|part| part.split(" – ").flat_map(|p| p.split(" — ")))
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .collect()
}

/// What introduces a job in a sentence, folded: the title follows.
const INTRODUCERS: &[&str] = &[
    "worked as ",
    "working as ",
    "work as ",
    "employed as ",
    "experience as ",
    "career as ",
    "job as ",
    "position as ",
    "role as ",
    "before that, as ",
    "travaille comme ",
    "travaille en tant que ",
    "exerce comme ",
    "exerce en tant que ",
    "experience de ",
    "experience d'",
    "experience en tant que ",
    "experience comme ",
    "poste de ",
    "poste d'",
    "carriere de ",
    "carriere comme ",
    "experienced ",
];

/// Words that end a title in a sentence.
const STOPS: &[&str] = &[
    "and", "et", "before", "avant", "for", "pour", "in", "dans", "at", "chez", "with", "avec",
    "since", "depuis", "during", "pendant", "looking", "seeking", "who", "qui", "where", "ou",
    "then", "puis", "from", "au", "a", "i", "je", "my", "mon", "ma", "over", "sur", "while",
    "when", "quand", "lorsque",
];

/// Articles that may open a title ("as a nurse").
const ARTICLES: &[&str] = &["a", "an", "the", "un", "une", "le", "la"];

/// The job titles a sentence names after an introducer ("worked as a log peeler").
/// Folding keeps byte offsets for ASCII text only, so the title is cut from the folded
/// text's word positions mapped back to the original words.
fn named_in_sentences(text: &str) -> Vec<&str> {
    let words: Vec<(usize, &str)> = word_spans(text);
    let folded: Vec<String> = words.iter().map(|(_, w)| fold(w)).collect();
    let introducers: Vec<(&str, Vec<&str>)> = INTRODUCERS
        .iter()
        .map(|i| (*i, i.split_whitespace().collect()))
        .collect();
    let mut titles = Vec::new();
    for (i, _) in words.iter().enumerate() {
        for (introducer, parts) in &introducers {
            let end = i + parts.len();
            if end > words.len() {
                continue;
            }
            let matches = parts.iter().zip(&folded[i..end]).all(|(p, w)| {
                // "d'" and "l'" stick to the next word.
                w.trim_end_matches([',', ';']) == p.trim_end_matches(',')
                    || (p.ends_with('\'') && w.starts_with(*p))
            });
            if !matches {
                continue;
            }
            let mut start = if introducer.ends_with('\'') {
                end - 1
            } else {
                end
            };
            if start < words.len() && ARTICLES.contains(&folded[start].as_str()) {
                start += 1;
            }
            let mut stop = start;
            while stop < words.len()
                && stop - start < MAX_WORDS
                && !STOPS.contains(&folded[stop].trim_end_matches([',', '.', ';']))
                && !folded[stop].contains(|c: char| c.is_ascii_digit())
            {
                let word = words[stop].1;
                stop += 1;
                if word.ends_with([',', '.', ';', ':', ')']) {
                    break;
                }
            }
            if stop > start {
                let from = words[start].0;
                let (at, last) = words[stop - 1];
                let title = &text[from..at + last.len()];
                let title = title
                    .strip_prefix("d'")
                    .or_else(|| title.strip_prefix("d’"))
                    .unwrap_or(title);
                titles.push(title.trim_end_matches([',', '.', ';', ':']));
            }
        }
    }
    titles
}

/// Each whitespace-separated word with its byte offset.
fn word_spans(text: &str) -> Vec<(usize, &str)> {
    let mut spans = Vec::new();
    let mut start = None;
    for (at, c) in text.char_indices() {
        match (c.is_whitespace(), start) {
            (true, Some(s)) => {
                spans.push((s, &text[s..at]));
                start = None;
            }
            (false, None) => start = Some(at),
            _ => {}
        }
    }
    if let Some(s) = start {
        spans.push((s, &text[s..]));
    }
    spans
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_headline_gives_its_titles_and_not_the_contact_lines() {
        let text = "Marie Boulanger\nDéveloppeuse C++ | Data engineer\nmarie@example.org · 06 12 34 56 78\n12 rue des Lilas 69003 Lyon\nLyon, France\nPermis B\nCompétences : Python, SQL\nEXPÉRIENCE\n2019 - 2024 Chef de projet, ACME\n";
        let first_section = text.find("EXPÉRIENCE");
        assert_eq!(
            titles(text, first_section, &[]),
            ["Développeuse C++", "Data engineer"]
        );
    }

    #[test]
    fn a_first_line_that_reads_as_a_name_is_a_title_only_when_nothing_else_is() {
        assert_eq!(titles("Data Engineer\n", None, &[]), ["Data Engineer"]);
        assert_eq!(
            titles("Jean Meunier\nBoulanger\n", None, &[]),
            ["Boulanger"]
        );
    }

    #[test]
    fn list_items_and_sentences_of_the_head_are_not_titles() {
        let text = "Portfolio analyst | Investment analyst\n\nKey achievements:\n* Supervised assigned team members\nResearched investments in Europe.\n";
        assert_eq!(
            titles(text, None, &[]),
            ["Portfolio analyst", "Investment analyst"]
        );
    }

    #[test]
    fn a_labelled_title_and_a_profile_sentence() {
        assert_eq!(
            titles("Poste recherché : Infirmière de bloc\n", None, &[]),
            ["Infirmière de bloc"]
        );
        assert_eq!(
            titles(
                "CURRICULUM VITAE\nProfile: experienced mobile vehicle mechanic looking for a new position in France. Reliable.\n",
                None,
                &[]
            ),
            ["mobile vehicle mechanic"]
        );
    }

    #[test]
    fn jobs_named_in_sentences() {
        let about = "I have worked as debarking machine technician and, before that, as log peeler. I started my career as log peeler operator. In these roles I operated machines.";
        assert_eq!(
            titles("About me\n", Some(0), &[about]),
            [
                "debarking machine technician",
                "log peeler",
                "log peeler operator"
            ]
        );
        let fr = "J'ai travaillé comme aide-soignante pendant 5 ans, puis j'ai une expérience d'auxiliaire de vie.";
        assert_eq!(
            titles("", Some(0), &[fr]),
            ["aide-soignante", "auxiliaire de vie"]
        );
    }
}
