//! Text to search terms, the same way for offers and candidates: words (with `c++`,
//! `c#` kept whole), lower case, accents folded, stop words out, French job titles made
//! masculine ("développeuse" reads as "développeur"), then Snowball stems of the text's
//! language. Folding comes before stemming so that a word typed without its accents
//! ("infirmiere") gets the same term as the word with them.

use std::collections::HashSet;
use std::sync::OnceLock;

use rust_stemmers::{Algorithm, Stemmer};
use shared::text::fold;

/// The languages the analysis knows; offers are French, some CVs English.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Language {
    French,
    English,
}

impl Language {
    /// From a language code (`fr`, `en`, as cv-ingestion says it).
    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "fr" => Some(Self::French),
            "en" => Some(Self::English),
            _ => None,
        }
    }

    /// The language whose most frequent words are the more numerous in `text`; French
    /// when neither shows (the job market's language).
    pub fn detect(text: &str) -> Self {
        let (mut french, mut english) = (0u32, 0u32);
        for word in words(text).take(400) {
            let word = word.to_lowercase();
            french += u32::from(FRENCH_MARKERS.contains(&word.as_str()));
            english += u32::from(ENGLISH_MARKERS.contains(&word.as_str()));
        }
        if english > french {
            Self::English
        } else {
            Self::French
        }
    }
}

/// Words that are frequent in one language and absent from the other.
const FRENCH_MARKERS: &[&str] = &[
    "le", "la", "les", "des", "du", "et", "pour", "avec", "dans", "une", "un", "sur", "vous",
    "nous", "est", "au", "aux", "en", "de",
];
const ENGLISH_MARKERS: &[&str] = &[
    "the", "and", "of", "to", "in", "for", "with", "is", "are", "you", "we", "at",
];

/// The words of `text`: runs of letters and digits, with a trailing `+` or `#` kept
/// (`c++`, `c#`, `f#`).
pub fn words(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        let start = rest.find(char::is_alphanumeric)?;
        let tail = &rest[start..];
        let mut end = tail
            .find(|c: char| !c.is_alphanumeric())
            .unwrap_or(tail.len());
        end += tail[end..]
            .chars()
            .take_while(|c| matches!(c, '+' | '#'))
            .take(2)
            .map(char::len_utf8)
            .sum::<usize>();
        rest = &tail[end..];
        Some(&tail[..end])
    })
}

/// Turns words into terms. Cheap to share: one per process.
pub struct Analyzer {
    french: Stemmer,
    english: Stemmer,
}

impl Default for Analyzer {
    fn default() -> Self {
        Self {
            french: Stemmer::create(Algorithm::French),
            english: Stemmer::create(Algorithm::English),
        }
    }
}

impl Analyzer {
    /// The process-wide analyzer.
    pub fn get() -> &'static Self {
        static ANALYZER: OnceLock<Analyzer> = OnceLock::new();
        ANALYZER.get_or_init(Self::default)
    }

    /// The term of one word, None for a stop word, a number or a one-letter word.
    pub fn term(&self, word: &str, language: Language) -> Option<String> {
        let folded = fold(word);
        if folded.chars().count() < 2 || stop_words().contains(folded.as_str()) {
            return None;
        }
        if folded.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        // `c++` and `c#` are names, not words to stem.
        if folded.ends_with(['+', '#']) {
            return Some(folded);
        }
        let stem = match language {
            Language::French => self.french.stem(&masculine(&folded)).into_owned(),
            Language::English => self.english.stem(&folded).into_owned(),
        };
        Some(stem)
    }

    /// The terms of `text`, in order, with the word each comes from.
    pub fn terms<'t>(
        &'t self,
        text: &'t str,
        language: Language,
    ) -> impl Iterator<Item = (&'t str, String)> + 't {
        words(text).filter_map(move |w| self.term(w, language).map(|t| (w, t)))
    }
}

/// A folded French job word in its masculine form, so that both forms of a title get one
/// term: Snowball leaves "développeuse" and "développeur", "conductrice" and
/// "conducteur" apart.
fn masculine(word: &str) -> std::borrow::Cow<'_, str> {
    const RULES: &[(&str, &str)] = &[
        ("euse", "eur"),
        ("trice", "teur"),
        ("ienne", "ien"),
        ("iere", "ier"),
        ("ere", "er"),
    ];
    for (feminine, masculine) in RULES {
        if let Some(stem) = word.strip_suffix(feminine) {
            if stem.len() >= 3 {
                return format!("{stem}{masculine}").into();
            }
        }
    }
    word.into()
}

/// French and English stop words, folded, and the marks of job ads ("H/F").
fn stop_words() -> &'static HashSet<&'static str> {
    static STOP: OnceLock<HashSet<&'static str>> = OnceLock::new();
    STOP.get_or_init(|| {
        const FRENCH: &str = "au aux avec ce ces cet cette dans de des du elle en et eux il ils je la le les leur leurs lui ma mais me meme mes moi mon ne nos notre nous on ou par pas pour qu que qui sa se ses son sur ta te tes toi ton tu un une vos votre vous ete etre avoir est sont etes sommes suis ai as avons avez ont fait faire sera seront ceci cela celui celle ceux celles dont ici la lors tres plus moins tout tous toute toutes autre autres aussi ainsi comme si sans sous chez entre vers afin car donc puis alors leurs quel quelle quels quelles hf fh cv";
        const ENGLISH: &str = "a an and are as at be been being but by can could did do does for from had has have he her hers him his how i if in into is it its me my no nor not of on or our ours she should so than that the their them then there these they this those to too us was we were what when where which while who whom why will with would you your yours am any about above after again all also both each few further here just more most much once only other over own same some such under until up very";
        FRENCH.split(' ').chain(ENGLISH.split(' ')).collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(text: &str, language: Language) -> Vec<String> {
        Analyzer::get()
            .terms(text, language)
            .map(|(_, t)| t)
            .collect()
    }

    #[test]
    fn words_keep_language_names_whole() {
        let found: Vec<&str> = words("C++, C# et Node.js (H/F) — l'équipe").collect();
        assert_eq!(
            found,
            ["C++", "C#", "et", "Node", "js", "H", "F", "l", "équipe"]
        );
    }

    #[test]
    fn both_forms_of_a_french_title_and_its_accentless_spelling_meet() {
        for (a, b) in [
            ("Développeuse", "développeur"),
            ("Conductrice", "conducteur"),
            ("Technicienne", "technicien"),
            ("Infirmière", "infirmier"),
            ("infirmiere", "Infirmier"),
            ("Boulangère", "boulanger"),
            ("Sécurité", "securite"),
        ] {
            assert_eq!(
                terms(a, Language::French),
                terms(b, Language::French),
                "{a} / {b}"
            );
        }
    }

    #[test]
    fn stop_words_numbers_and_job_ad_marks_are_not_terms() {
        assert_eq!(
            terms(
                "Le vendeur (H/F) de 2024 pour la boutique",
                Language::French
            ),
            ["vendeur", "boutiqu"]
        );
        assert_eq!(
            terms("The developers of the C++ engine", Language::English),
            ["develop", "c++", "engin"]
        );
    }

    #[test]
    fn language_detection_reads_function_words() {
        assert_eq!(
            Language::detect("Nous recherchons un développeur pour notre équipe"),
            Language::French
        );
        assert_eq!(
            Language::detect("We are looking for a developer to join the team"),
            Language::English
        );
        assert_eq!(Language::detect("Python Django"), Language::French);
    }
}
