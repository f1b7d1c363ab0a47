//! French or English, from the share of each language's most frequent short words.

use shared::text::fold;

const FRENCH: &[&str] = &[
    "le", "la", "les", "des", "du", "de", "et", "en", "un", "une", "pour", "avec", "dans", "sur",
    "au", "aux", "par", "est", "sont", "qui", "que", "ou", "mon", "ma", "mes", "je", "d", "l", "j",
    "ans", "depuis", "chez", "plus",
];
const ENGLISH: &[&str] = &[
    "the", "and", "of", "to", "in", "for", "with", "on", "at", "a", "an", "is", "are", "my", "i",
    "as", "by", "from", "which", "that", "this", "years", "since", "into", "have",
];

/// `fr` or `en`; None when neither has enough words to tell.
pub fn detect(text: &str) -> Option<&'static str> {
    let folded = fold(text);
    let (mut fr, mut en) = (0usize, 0usize);
    for word in folded.split(|c: char| !c.is_alphanumeric()) {
        fr += usize::from(FRENCH.contains(&word));
        en += usize::from(ENGLISH.contains(&word));
    }
    if fr + en < 5 {
        return None;
    }
    Some(if fr >= en { "fr" } else { "en" })
}

#[cfg(test)]
mod tests {
    use super::detect;

    #[test]
    fn tells_french_from_english() {
        assert_eq!(
            detect("Développeuse avec cinq ans d'expérience dans la conception des services et des API pour les équipes."),
            Some("fr")
        );
        assert_eq!(
            detect("Project manager with ten years of experience in the delivery of software for the public sector."),
            Some("en")
        );
        assert_eq!(detect("Python, Rust"), None);
    }
}
