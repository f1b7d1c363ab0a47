//! A CV file to plain text in reading order. The format is told by the content (magic
//! bytes), never by the file name. Everything here is synchronous and CPU-bound; the
//! service runs it in a child process (`sandbox`) so that a parser that panics, hangs
//! or overflows its stack never takes the service down.

mod normalize;
mod office;
mod pdf;
mod plain;

use serde::{Deserialize, Serialize};

pub use normalize::normalize;

/// The formats a CV may come in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Pdf,
    Docx,
    Odt,
    Rtf,
    Text,
}

/// Bounds on what a document may cost to read.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Limits {
    /// Entries a DOCX/ODT archive may hold.
    pub max_zip_entries: usize,
    /// Bytes the entries read from a DOCX/ODT may inflate to, in total.
    pub max_inflated_bytes: u64,
    /// Pages a PDF may have.
    pub max_pages: usize,
    /// Characters of text a CV may have (analysis and embedding cost grow with it).
    pub max_text_chars: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_zip_entries: 1_000,
            max_inflated_bytes: 64 * 1024 * 1024,
            max_pages: 30,
            max_text_chars: 50_000,
        }
    }
}

impl Limits {
    /// Bytes the parsing child's answer may take: the JSON of the longest text allowed
    /// (at most 6 bytes a character, escaped) and room for the rest.
    pub fn max_answer_bytes(&self) -> usize {
        self.max_text_chars
            .saturating_mul(6)
            .saturating_add(64 * 1024)
    }
}

/// Refuses a text longer than `limit` characters, before any analysis or embedding.
pub fn check_length(text: &str, limit: usize) -> Result<(), ExtractError> {
    let chars = text.chars().count();
    if chars > limit {
        return Err(ExtractError::TextTooLong { chars, limit });
    }
    Ok(())
}

/// A document's text, normalized (see [`normalize`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Extracted {
    pub format: Format,
    pub text: String,
}

/// Why a document gave no text. Each says, in words a candidate understands, what to do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "kind", content = "detail", rename_all = "snake_case")]
pub enum ExtractError {
    /// Not a format we read (415).
    #[error("{0}")]
    Unsupported(String),
    /// Password-protected or encrypted (422).
    #[error("{0}")]
    Encrypted(String),
    /// A PDF of images only (422).
    #[error("the PDF has no text layer ({pages} page(s) of images): it looks like a scan; export the CV as a PDF from the word processor, or send the DOCX/ODT")]
    Scanned { pages: usize },
    /// An archive that would inflate beyond the limits (422).
    #[error("{0}")]
    TooLarge(String),
    /// Damaged or not what its first bytes claim (422).
    #[error("{0}")]
    Malformed(String),
    /// Read, but no text in it (422).
    #[error("the document contains no text")]
    Empty,
    /// A memory allocation failed: the parsing child's limit was reached (422, as
    /// `SandboxError::OutOfMemory`).
    #[error("reading the document needs more memory than allowed")]
    OutOfMemory,
    /// More text than `CV_MAX_TEXT_CHARS` (422).
    #[error("the CV's text has {chars} characters, more than the {limit} read (CV_MAX_TEXT_CHARS): send a CV of a few pages")]
    TextTooLong { chars: usize, limit: usize },
}

/// The format of `bytes`, from its first bytes and, for zip archives (within `limits`),
/// their entries.
pub fn detect(bytes: &[u8], limits: &Limits) -> Result<Format, ExtractError> {
    let head = &bytes[..bytes.len().min(1024)];
    if head.starts_with(b"%PDF-") || find(head, b"%PDF-").is_some() {
        return Ok(Format::Pdf);
    }
    if head.starts_with(b"PK\x03\x04") {
        return office::detect(bytes, limits);
    }
    if head.starts_with(b"PK\x05\x06") {
        return Err(ExtractError::Malformed("the zip archive is empty".into()));
    }
    if head.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        // An OLE compound file: an encrypted DOCX/ODT is wrapped in one, and so is the
        // old Word 97-2003 format.
        return Err(if find(bytes, &utf16("EncryptionInfo")).is_some() {
            ExtractError::Encrypted(
                "the document is password-protected: remove the password and send it again".into(),
            )
        } else {
            ExtractError::Unsupported(
                "Word 97-2003 (.doc) files are not read: save the CV as DOCX, ODT or PDF".into(),
            )
        });
    }
    if head.starts_with(b"{\\rtf") {
        return Ok(Format::Rtf);
    }
    plain::detect(bytes)
}

/// The text of `bytes`, normalized, or why there is none.
pub fn extract(bytes: &[u8], limits: &Limits) -> Result<Extracted, ExtractError> {
    let format = detect(bytes, limits)?;
    let raw = match format {
        Format::Pdf => pdf::text(bytes, limits)?,
        Format::Docx => office::docx_text(bytes, limits)?,
        Format::Odt => office::odt_text(bytes, limits)?,
        Format::Rtf => plain::rtf_text(bytes)?,
        Format::Text => plain::text(bytes),
    };
    let text = normalize(&raw);
    if text.trim().is_empty() {
        return Err(ExtractError::Empty);
    }
    check_length(&text, limits.max_text_chars)?;
    Ok(Extracted { format, text })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn utf16(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}
