//! PDF text with pdf_oxide: its text spans with their positions, in column-aware
//! reading order (XY-cut: both columns of a two-column CV come out whole, even when the
//! content stream alternates between them line by line), joined back into lines here.
//! pdf_oxide's own `extract_text` keeps lines but misplaces bulleted lines at the top of
//! a page, and `to_plain_text` orders well but runs the lines of a block together.

use pdf_oxide::document::{PdfDocument, ReadingOrder};
use pdf_oxide::layout::TextSpan;

use super::{ExtractError, Limits};

/// Below this many letters per page on average, a PDF is taken for a scan.
const MIN_LETTERS_PER_PAGE: usize = 20;

pub fn text(bytes: &[u8], limits: &Limits) -> Result<String, ExtractError> {
    let malformed = |e: pdf_oxide::error::Error| {
        ExtractError::Malformed(format!("the PDF cannot be read ({e})"))
    };
    let doc = PdfDocument::from_bytes(bytes.to_vec()).map_err(malformed)?;
    // An owner-only password (copying forbidden, empty user password) still lets us
    // read; a user password does not, and pdf_oxide would then give empty text.
    if doc.is_encrypted() && !doc.authenticate(b"").map_err(malformed)? {
        return Err(ExtractError::Encrypted(
            "the PDF is password-protected: remove the password and send it again".into(),
        ));
    }
    let pages = doc.page_count().map_err(malformed)?;
    if pages == 0 {
        return Err(ExtractError::Malformed("the PDF has no pages".into()));
    }
    if pages > limits.max_pages {
        return Err(ExtractError::TooLarge(format!(
            "the PDF has {pages} pages; a CV may have at most {}",
            limits.max_pages
        )));
    }
    let mut text = String::new();
    for page in 0..pages {
        if page > 0 {
            // A page break is no paragraph break: a job's title at the foot of a page
            // and its employer and dates at the top of the next stay one block, as
            // they do when the same CV breaks its pages elsewhere (another font).
            text.push('\n');
        }
        let spans = doc
            .extract_spans_with_reading_order(page, ReadingOrder::ColumnAware)
            .map_err(malformed)?;
        text.push_str(&lines(&spans));
    }
    if text.chars().filter(|c| c.is_alphabetic()).count() < MIN_LETTERS_PER_PAGE * pages {
        return Err(ExtractError::Scanned { pages });
    }
    Ok(text)
}

/// Spans in reading order joined into lines: a span lower or higher than the previous
/// one by half a line starts a new line; one further right on the same line follows
/// after a space when there is a gap.
/// A horizontal gap of more ems than this between two spans of one baseline separates
/// them into two lines.
const COLUMN_GAP_EMS: f32 = 3.0;

fn lines(spans: &[TextSpan]) -> String {
    let mut out = String::new();
    let mut previous: Option<(f32, f32, f32)> = None; // right edge, top, font size
    for span in spans {
        let (x, y, size) = (span.bbox.x, span.bbox.y, span.font_size.max(1.0));
        if let Some((right, top, previous_size)) = previous {
            // Another line, or on the same line but past a wide gap: another column (a
            // sidebar's last skill beside the main column's first title) or text set
            // apart on purpose (dates at the right margin): never one line of text.
            let wide_gap = x > right + COLUMN_GAP_EMS * size;
            if (y - top).abs() > 0.5 * size.max(previous_size) || wide_gap {
                out.push('\n');
            } else if x > right + 0.1 * size && !out.ends_with(' ') && !span.text.starts_with(' ') {
                out.push(' ');
            }
        }
        out.push_str(&span.text);
        previous = Some((x + span.bbox.width, y, size));
    }
    out
}
