//! One text shape for every format: ligatures spelled out, words cut at line ends
//! joined, spaces collapsed, at most one blank line in a row.

/// Normalizes text extracted from any format.
///
/// - typographic ligatures (U+FB00..U+FB06) become their letters;
/// - a soft hyphen (U+00AD) disappears, and the line break after it too;
/// - a word cut by a hyphen at a line end is joined: without the hyphen when the next
///   line goes on in lower case ("profes-" / "sionnelle"), with it when the next line
///   starts in capitals ("Code-" / "Cœur") or the first part is one that forms compound
///   words ("semi-" / "remorque", "médico-" / "social");
/// - no-break and thin spaces, tabs and runs of spaces become one space; control
///   characters go; lines are trimmed; page breaks become blank lines.
pub fn normalize(raw: &str) -> String {
    let mut spelled = String::with_capacity(raw.len());
    for c in raw.chars() {
        match c {
            '\u{FB00}' => spelled.push_str("ff"),
            '\u{FB01}' => spelled.push_str("fi"),
            '\u{FB02}' => spelled.push_str("fl"),
            '\u{FB03}' => spelled.push_str("ffi"),
            '\u{FB04}' => spelled.push_str("ffl"),
            '\u{FB05}' | '\u{FB06}' => spelled.push_str("st"),
            '\r' | '\u{0B}' | '\u{0C}' | '\u{2028}' | '\u{2029}' | '\u{85}' => spelled.push('\n'),
            '\t' | '\u{A0}' | '\u{2000}'..='\u{200A}' | '\u{202F}' | '\u{205F}' | '\u{3000}' => {
                spelled.push(' ')
            }
            '\u{200B}' | '\u{FEFF}' | '\u{2060}' => {}
            c if c.is_control() && c != '\n' && c != '\u{AD}' => {}
            c => spelled.push(c),
        }
    }

    let lines: Vec<String> = spelled
        .split('\n')
        .map(|line| collapse_spaces(line.trim()))
        .collect();
    let mut out = String::with_capacity(spelled.len());
    let mut blank_run = 0;
    let mut joined_to_previous = false;
    for (i, line) in lines.iter().enumerate() {
        let line = line.as_str();
        if line.is_empty() {
            blank_run += 1;
            continue;
        }
        if !out.is_empty() && !joined_to_previous {
            out.push_str(if blank_run > 0 { "\n\n" } else { "\n" });
        }
        blank_run = 0;
        joined_to_previous = false;
        let next = lines.get(i + 1).map(String::as_str).unwrap_or("");
        let next_first = next.chars().next();
        if let Some(stem) = line.strip_suffix('\u{AD}') {
            out.push_str(&stem.replace('\u{AD}', ""));
            joined_to_previous = next_first.is_some_and(char::is_alphabetic);
            continue;
        }
        let cut_word = line
            .strip_suffix('-')
            .filter(|stem| stem.chars().last().is_some_and(char::is_alphabetic))
            .filter(|_| next_first.is_some_and(char::is_alphabetic));
        match cut_word {
            Some(stem) if next_first.is_some_and(char::is_lowercase) && !compound_first(stem) => {
                out.push_str(&stem.replace('\u{AD}', ""));
                joined_to_previous = true;
            }
            Some(_) => {
                out.push_str(&line.replace('\u{AD}', ""));
                joined_to_previous = true;
            }
            None => out.push_str(&line.replace('\u{AD}', "")),
        }
    }
    out
}

/// First parts of hyphenated compounds, French and English ("semi-remorque",
/// "cross-functional", "aide-soignant"), and the "-o" forms ("technico-commercial").
const COMPOUND_FIRST: &[&str] = &[
    "aide", "anti", "apres", "arriere", "auto", "avant", "bas", "chef", "co", "contre", "cross",
    "demi", "e", "ex", "extra", "front", "full", "garde", "grand", "haut", "high", "inter", "long",
    "low", "mi", "multi", "non", "part", "petit", "porte", "post", "pre", "quasi", "self", "semi",
    "sous", "sur", "ultra", "vice", "well",
];

fn compound_first(stem: &str) -> bool {
    let word: String = stem
        .rsplit(|c: char| !c.is_alphabetic())
        .next()
        .unwrap_or("")
        .to_lowercase()
        .replace(['é', 'è', 'ê'], "e");
    COMPOUND_FIRST.contains(&word.as_str()) || (word.len() >= 5 && word.ends_with('o'))
}

fn collapse_spaces(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut space = false;
    for c in line.chars() {
        if c == ' ' {
            space = true;
            continue;
        }
        if space && !out.is_empty() {
            out.push(' ');
        }
        space = false;
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn ligatures_are_spelled_out() {
        assert_eq!(
            normalize("e\u{FB03}cacité, \u{FB02}ux, certi\u{FB01}cation"),
            "efficacité, flux, certification"
        );
    }

    #[test]
    fn words_cut_at_line_ends_are_joined() {
        assert_eq!(
            normalize("une expérience profes\u{AD}\nsionnelle"),
            "une expérience professionnelle"
        );
        assert_eq!(
            normalize("une expérience profes-\nsionnelle"),
            "une expérience professionnelle"
        );
        assert_eq!(
            normalize("association Code-\nCœur"),
            "association Code-Cœur"
        );
        assert_eq!(normalize("en semi-\nremorque"), "en semi-remorque");
        assert_eq!(
            normalize("poste technico-\ncommercial"),
            "poste technico-commercial"
        );
        assert_eq!(normalize("2019 -\n2021"), "2019 -\n2021", "not a word");
        assert_eq!(normalize("dé\u{AD}ve\u{AD}lop\u{AD}peur"), "développeur");
    }

    #[test]
    fn whitespace_is_normalized() {
        assert_eq!(
            normalize("  Nom :\u{A0}Dupont\t\tJean \r\n\r\n\r\n\u{0C}Expérience  \n"),
            "Nom : Dupont Jean\n\nExpérience"
        );
        assert_eq!(normalize("a\u{0}b\u{200B}c"), "abc");
    }
}
