//! Plain text and Markdown (UTF-8, or Latin-1/Windows-1252 when not UTF-8), and RTF.

use super::{ExtractError, Format};

/// Text when the bytes read as text, else unsupported.
pub fn detect(bytes: &[u8]) -> Result<Format, ExtractError> {
    let sample = &bytes[..bytes.len().min(8192)];
    // Binary formats hold NULs and other control bytes that text never does.
    let controls = sample
        .iter()
        .filter(|&&b| b == 0 || (b < 0x20 && !matches!(b, b'\n' | b'\r' | b'\t' | 0x0C)))
        .count();
    if sample.is_empty() || controls > 0 {
        return Err(ExtractError::Unsupported(
            "not a CV format: send a PDF, DOCX, ODT, RTF, or a text or Markdown file".into(),
        ));
    }
    Ok(Format::Text)
}

/// The text of a plain or Markdown file, with Markdown's markup taken away.
pub fn text(bytes: &[u8]) -> String {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let decoded = match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => windows_1252(bytes),
    };
    decoded
        .lines()
        .map(strip_markdown)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Windows-1252, the superset of Latin-1 that French text files use (’, œ, €).
fn windows_1252(bytes: &[u8]) -> String {
    const HIGH: [char; 32] = [
        '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8D}', 'Ž',
        '\u{8F}', '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9D}',
        'ž', 'Ÿ',
    ];
    bytes
        .iter()
        .map(|&b| match b {
            0x80..=0x9F => HIGH[usize::from(b - 0x80)],
            _ => char::from(b),
        })
        .collect()
}

/// One Markdown line as text: heading marks, emphasis, links and images' markup go;
/// list bullets stay.
fn strip_markdown(line: &str) -> String {
    let trimmed = line.trim_start();
    let line = match trimmed.strip_prefix('#') {
        Some(_) => trimmed.trim_start_matches('#').trim_start(),
        None => line,
    };
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(open) = rest.find('[') {
        let after = &rest[open + 1..];
        let link = after.find("](").and_then(|close| {
            after[close + 2..]
                .find(')')
                .map(|end| (close, close + 2 + end + 1))
        });
        let Some((close, end)) = link else { break };
        out.push_str(rest[..open].strip_suffix('!').unwrap_or(&rest[..open]));
        out.push_str(&after[..close]);
        rest = &after[end..];
    }
    out.push_str(rest);
    out.replace("**", "").replace("__", "").replace('`', "")
}

/// The text of an RTF document.
pub fn rtf_text(bytes: &[u8]) -> Result<String, ExtractError> {
    // RTF is 7-bit; anything else is escaped (\'e9, \u233).
    let source = String::from_utf8_lossy(bytes);
    let document = rtf_parser::RtfDocument::try_from(source.as_ref())
        .map_err(|e| ExtractError::Malformed(format!("the RTF document cannot be read ({e})")))?;
    Ok(document.get_text())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latin_1_and_windows_1252_are_decoded() {
        assert_eq!(text(b"Exp\xe9rience d\x92\x9cuvre"), "Expérience d’œuvre");
        assert_eq!(text("Expérience".as_bytes()), "Expérience");
        assert_eq!(text(b"\xEF\xBB\xBFCV"), "CV");
    }

    #[test]
    fn markdown_markup_goes_and_bullets_stay() {
        assert_eq!(
            text(b"## Comp\xc3\xa9tences\n- **Rust**, [PostgreSQL](https://postgresql.org)\n![photo](p.png) ok"),
            "Compétences\n- Rust, PostgreSQL\nphoto ok"
        );
    }

    #[test]
    fn binary_is_not_text() {
        assert!(matches!(
            detect(b"\x00\x01\x02abc"),
            Err(ExtractError::Unsupported(_))
        ));
        assert!(matches!(detect(b""), Err(ExtractError::Unsupported(_))));
        assert_eq!(
            detect(b"Jean Dupont\nD\xe9veloppeur").unwrap(),
            Format::Text
        );
    }
}
