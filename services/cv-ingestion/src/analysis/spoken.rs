//! Spoken languages and their levels: "Anglais : courant (C1)", "German: B1",
//! "Anglais (courant), espagnol (notions)".

use shared::CvLanguage;

use shared::text::fold;

/// Folded language names, French and English.
const LANGUAGES: &[&str] = &[
    "francais",
    "anglais",
    "espagnol",
    "allemand",
    "italien",
    "portugais",
    "arabe",
    "chinois",
    "mandarin",
    "japonais",
    "russe",
    "neerlandais",
    "polonais",
    "roumain",
    "turc",
    "grec",
    "suedois",
    "hindi",
    "coreen",
    "vietnamien",
    "ukrainien",
    "hebreu",
    "breton",
    "occitan",
    "basque",
    "catalan",
    "french",
    "english",
    "spanish",
    "german",
    "italian",
    "portuguese",
    "arabic",
    "chinese",
    "japanese",
    "russian",
    "dutch",
    "polish",
    "romanian",
    "turkish",
    "greek",
    "swedish",
    "korean",
    "vietnamese",
    "ukrainian",
    "hebrew",
    "welsh",
    "lsf",
    "bsl",
];

/// The languages spoken, from a languages section's text (or any text of the CV).
pub fn languages(section: &str) -> Vec<CvLanguage> {
    let mut found: Vec<CvLanguage> = Vec::new();
    for line in section.lines() {
        // Each language name starts a piece that runs to the next one.
        let mut names: Vec<(usize, usize)> = Vec::new();
        let mut at = 0;
        for word in line.split_inclusive(|c: char| !c.is_alphanumeric()) {
            let bare = word.trim_end_matches(|c: char| !c.is_alphanumeric());
            if LANGUAGES.contains(&fold(bare).as_str()) {
                names.push((at, at + bare.len()));
            }
            at += word.len();
        }
        for (k, &(start, end)) in names.iter().enumerate() {
            let until = names.get(k + 1).map_or(line.len(), |n| n.0);
            let name = capitalized(&line[start..end]);
            if found.iter().any(|l| fold(&l.language) == fold(&name)) {
                continue;
            }
            found.push(CvLanguage {
                language: name,
                level: level(&line[end..until]),
            });
        }
    }
    found
}

/// The CEFR level when written (A1..C2), else the words given as level.
fn level(text: &str) -> Option<String> {
    let cefr = text
        .split(|c: char| !c.is_alphanumeric())
        .find(|w| w.len() == 2 && matches!(w.as_bytes(), [b'A'..=b'C', b'1' | b'2']));
    if let Some(cefr) = cefr {
        return Some(cefr.to_owned());
    }
    let words = text
        .trim_matches(|c: char| !c.is_alphanumeric())
        .split(['(', ')', ',', ';'])
        .next()
        .unwrap_or("")
        .trim()
        .to_lowercase();
    (!words.is_empty() && words.len() <= 40).then_some(words)
}

fn capitalized(name: &str) -> String {
    let mut chars = name.chars();
    chars
        .next()
        .map(|c| {
            c.to_uppercase()
                .chain(chars.flat_map(char::to_lowercase))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lang(language: &str, level: Option<&str>) -> CvLanguage {
        CvLanguage {
            language: language.into(),
            level: level.map(Into::into),
        }
    }

    #[test]
    fn names_and_levels() {
        assert_eq!(
            languages("Anglais : courant (C1)\nEspagnol : notions\nFrançais : langue maternelle\n"),
            [
                lang("Anglais", Some("C1")),
                lang("Espagnol", Some("notions")),
                lang("Français", Some("langue maternelle")),
            ]
        );
        assert_eq!(
            languages("English: native\nGerman: B1\nanglais (courant), ESPAGNOL (notions)"),
            [
                lang("English", Some("native")),
                lang("German", Some("B1")),
                lang("Anglais", Some("courant")),
                lang("Espagnol", Some("notions")),
            ]
        );
    }
}
