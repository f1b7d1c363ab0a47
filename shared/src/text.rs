//! Text folded for matching: lower case, accents and ligatures spelled plainly,
//! typographic apostrophes and dashes made ASCII, with a map back to the original bytes.

/// `text` folded, and for each byte of the folded text, the byte offset in `text` of
/// the character it comes from (plus one final entry: `text.len()`).
pub struct Folded {
    pub text: String,
    origin: Vec<usize>,
}

impl Folded {
    pub fn new(text: &str) -> Self {
        let mut folded = String::with_capacity(text.len());
        let mut origin = Vec::with_capacity(text.len() + 1);
        for (at, c) in text.char_indices() {
            let before = folded.len();
            push_folded(&mut folded, c);
            origin.extend(std::iter::repeat_n(at, folded.len() - before));
        }
        origin.push(text.len());
        Self {
            text: folded,
            origin,
        }
    }

    /// The byte range in the original text of the folded range `start..end`.
    pub fn original(&self, start: usize, end: usize) -> (usize, usize) {
        let from = self.origin[start];
        // The end of the original character that produced the last folded byte.
        let last = self.origin[end.max(start + 1) - 1];
        let to = self.origin[end..]
            .iter()
            .copied()
            .find(|&o| o > last)
            .unwrap_or(*self.origin.last().expect("final entry"));
        (from, to)
    }
}

/// One string folded (no offsets needed).
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        push_folded(&mut out, c);
    }
    out
}

fn push_folded(out: &mut String, c: char) {
    let plain = match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' => 'a',
        'ç' | 'Ç' => 'c',
        'è' | 'é' | 'ê' | 'ë' | 'È' | 'É' | 'Ê' | 'Ë' => 'e',
        'ì' | 'í' | 'î' | 'ï' | 'Ì' | 'Í' | 'Î' | 'Ï' => 'i',
        'ñ' | 'Ñ' => 'n',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' => 'o',
        'ù' | 'ú' | 'û' | 'ü' | 'Ù' | 'Ú' | 'Û' | 'Ü' => 'u',
        'ý' | 'ÿ' | 'Ý' | 'Ÿ' => 'y',
        '’' | '‘' | '`' | '´' => '\'',
        '–' | '—' | '‐' | '‑' | '−' => '-',
        'œ' | 'Œ' => return out.push_str("oe"),
        'æ' | 'Æ' => return out.push_str("ae"),
        'ß' => return out.push_str("ss"),
        c => return out.extend(c.to_lowercase()),
    };
    out.push(plain);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_and_maps_back() {
        let text = "Gestion de Projet — Cœur, Équipe’s";
        let f = Folded::new(text);
        assert_eq!(f.text, "gestion de projet - coeur, equipe's");
        let at = f.text.find("coeur").unwrap();
        let (s, e) = f.original(at, at + "coeur".len());
        assert_eq!(&text[s..e], "Cœur");
        let at = f.text.find("equipe").unwrap();
        let (s, e) = f.original(at, at + "equipe".len());
        assert_eq!(&text[s..e], "Équipe");
    }
}
