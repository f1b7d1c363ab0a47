//! PDF text with pdf_oxide: its text spans with their positions, in column-aware
//! reading order (XY-cut: both columns of a two-column CV come out whole, even when the
//! content stream alternates between them line by line), joined back into lines here.
//! pdf_oxide's own `extract_text` keeps lines but misplaces bulleted lines at the top of
//! a page, and `to_plain_text` orders well but runs the lines of a block together.

use pdf_oxide::document::{PdfDocument, ReadingOrder};
use pdf_oxide::layout::TextSpan;
use pdf_oxide::pipeline::{ReadingOrderContext, ReadingOrderStrategy, XYCutStrategy};

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
    let mut texts = Vec::with_capacity(pages);
    for page in 0..pages {
        let spans = doc
            .extract_spans_with_reading_order(page, ReadingOrder::TopToBottom)
            .map_err(malformed)?;
        let context = ReadingOrderContext::new().with_page(page as u32);
        let ordered = XYCutStrategy::new()
            .apply(join_right_tab_stops(spans), &context)
            .map_err(malformed)?;
        let spans: Vec<TextSpan> = ordered.into_iter().map(|o| o.span).collect();
        texts.push(lines(&spans));
    }
    // A page break is no paragraph break: a job's title at the foot of a page and its
    // employer and dates at the top of the next stay one block, as they do when the
    // same CV breaks its pages elsewhere (another font).
    let text = without_running_lines(&texts).join("\n");
    if text.chars().filter(|c| c.is_alphabetic()).count() < MIN_LETTERS_PER_PAGE * pages {
        return Err(ExtractError::Scanned { pages });
    }
    Ok(text)
}

/// A span at the page's right margin standing alone there — a period or a place set at
/// a right tab stop on a title's line ("Comptable ........ 2019 – 2021"), as CVs made
/// in Word do — joins the span on its left on the same line. Left apart, the XY-cut
/// reads all such spans as a narrow column of their own, after the whole page, and
/// splits whatever else crosses it (a table of skills) into columns too. A span is
/// alone when nothing else crosses its width within one and a half lines above or
/// below: a column's or a justified paragraph's lines never are.
fn join_right_tab_stops(mut spans: Vec<TextSpan>) -> Vec<TextSpan> {
    let right = |s: &TextSpan| s.bbox.x + s.bbox.width;
    let margin = spans.iter().map(right).fold(f32::MIN, f32::max);
    let same_line =
        |a: &TextSpan, b: &TextSpan| (a.bbox.y - b.bbox.y).abs() < 0.3 * a.font_size.max(1.0);
    // Spans by height, so that each look around a span reads only its neighbours: a
    // page of many spans costs n log n, not n².
    let mut by_y: Vec<usize> = (0..spans.len()).collect();
    by_y.sort_by(|&a, &b| spans[a].bbox.y.total_cmp(&spans[b].bbox.y));
    let heights: Vec<f32> = by_y.iter().map(|&i| spans[i].bbox.y).collect();
    let mut joined = vec![false; spans.len()];
    for i in 0..spans.len() {
        let span = &spans[i];
        if margin - right(span) > 2.0 {
            continue;
        }
        let reach = 1.5 * span.font_size.max(1.0);
        let from = heights.partition_point(|&y| y < span.bbox.y - reach);
        let to = heights.partition_point(|&y| y <= span.bbox.y + reach);
        let near = &by_y[from..to];
        let alone = near.iter().all(|&j| {
            let other = &spans[j];
            j == i
                || same_line(other, span)
                || right(other) < span.bbox.x
                || other.bbox.x > right(span)
        });
        let left = near
            .iter()
            .copied()
            .filter(|&j| {
                !joined[j]
                    && j != i
                    && same_line(&spans[j], span)
                    && right(&spans[j]) <= span.bbox.x
            })
            .max_by(|&a, &b| right(&spans[a]).total_cmp(&right(&spans[b])));
        if let (true, Some(left)) = (alone, left) {
            let (text, end) = (span.text.clone(), right(span));
            let target = &mut spans[left];
            target.text.push(' ');
            target.text.push_str(&text);
            target.bbox.width = end - target.bbox.x;
            joined[i] = true;
        }
    }
    spans
        .into_iter()
        .zip(joined)
        .filter(|(_, joined)| !joined)
        .map(|(span, _)| span)
        .collect()
}

/// Lines at the top or the foot of a page that a word processor repeats on every page
/// (a header with the name, a footer with the contact or "Page 2/3") are dropped: left
/// in, they land between a job's title and its employer. A line is running when, its
/// digits aside, it is among the first or the last two lines of every page.
fn without_running_lines(pages: &[String]) -> Vec<String> {
    if pages.len() < 2 {
        return pages.to_vec();
    }
    let key = |line: &str| -> String {
        line.chars()
            .filter(|c| !c.is_ascii_digit())
            .collect::<String>()
            .trim()
            .to_owned()
    };
    // Each page's first and last two lines, keyed.
    let edges: Vec<[Vec<String>; 2]> = pages
        .iter()
        .map(|page| {
            let lines: Vec<&str> = page.lines().filter(|l| !l.trim().is_empty()).collect();
            let keys = |edge: &[&str]| -> Vec<String> {
                edge.iter()
                    .map(|l| key(l))
                    .filter(|k| !k.is_empty())
                    .collect()
            };
            [
                keys(&lines[..lines.len().min(2)]),
                keys(&lines[lines.len().saturating_sub(2)..]),
            ]
        })
        .collect();
    let running: Vec<String> = (0..2)
        .flat_map(|end| {
            edges[0][end]
                .iter()
                .filter(|candidate| edges[1..].iter().all(|page| page[end].contains(candidate)))
                .cloned()
                .collect::<Vec<_>>()
        })
        .collect();
    pages
        .iter()
        .map(|page| {
            let lines: Vec<&str> = page.lines().collect();
            let filled: Vec<usize> = (0..lines.len())
                .filter(|&i| !lines[i].trim().is_empty())
                .collect();
            // Only at the page's edges: the same words in its body stay.
            let at_edges: Vec<usize> = filled
                .iter()
                .take(2)
                .chain(filled.iter().rev().take(2))
                .copied()
                .collect();
            lines
                .iter()
                .enumerate()
                .filter(|(i, line)| !(at_edges.contains(i) && running.contains(&key(line))))
                .map(|(_, line)| *line)
                .collect::<Vec<_>>()
                .join("\n")
        })
        .collect()
}

/// A horizontal gap of more ems than this between two spans of one baseline separates
/// them into two lines.
const COLUMN_GAP_EMS: f32 = 3.0;

/// Spans in reading order joined into lines: a span lower or higher than the previous
/// one by half a line starts a new line; one further right on the same line follows
/// after a space when there is a gap.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_and_footers_repeated_on_every_page_are_dropped() {
        let pages = [
            "Claire Martin — Comptable\nClaire Martin\nExpérience\nComptable\nClaire Martin · 06 12 34 56 78\nPage 1/2".to_owned(),
            "Claire Martin — Comptable\nBanque Rhodanienne, Lyon\n2019 - 2024\nClaire Martin · 06 12 34 56 78\nPage 2/2".to_owned(),
        ];
        assert_eq!(
            without_running_lines(&pages),
            [
                "Claire Martin\nExpérience\nComptable",
                "Banque Rhodanienne, Lyon\n2019 - 2024"
            ]
        );
        // One page, or lines that differ from page to page: nothing goes.
        assert_eq!(without_running_lines(&pages[..1]), pages[..1]);
        let different = ["A\nB\nC".to_owned(), "D\nE\nF".to_owned()];
        assert_eq!(without_running_lines(&different), different);
    }
}
