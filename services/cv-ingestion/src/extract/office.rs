//! DOCX and ODT: zip archives of XML. Only the entries holding the text are read, each
//! through a cap, so that an archive built to inflate to gigabytes (a zip bomb) is
//! refused after reading no more than the limit.

use std::io::{Cursor, Read};

use quick_xml::events::Event;
use quick_xml::Reader;
use zip::ZipArchive;

use super::{ExtractError, Format, Limits};

const ODT_MIMETYPE: &str = "application/vnd.oasis.opendocument.text";

type Archive<'a> = ZipArchive<Cursor<&'a [u8]>>;

fn open<'a>(bytes: &'a [u8], limits: &Limits) -> Result<Archive<'a>, ExtractError> {
    let archive = ZipArchive::new(Cursor::new(bytes)).map_err(|e| {
        ExtractError::Malformed(format!("the document is a damaged zip archive ({e})"))
    })?;
    if archive.len() > limits.max_zip_entries {
        return Err(ExtractError::TooLarge(format!(
            "the archive holds {} entries; a DOCX/ODT CV may hold at most {}",
            archive.len(),
            limits.max_zip_entries
        )));
    }
    Ok(archive)
}

/// DOCX or ODT, from the archive's entries.
pub fn detect(bytes: &[u8], limits: &Limits) -> Result<Format, ExtractError> {
    // Detection reads only the small `mimetype` entry; inflation is checked when reading.
    let mut archive = open(bytes, limits)?;
    if archive.index_for_name("word/document.xml").is_some() {
        return Ok(Format::Docx);
    }
    if let Some(index) = archive.index_for_name("mimetype") {
        let mimetype = read_entry(&mut archive, index, 256, &mut 0)?;
        let mimetype = String::from_utf8_lossy(&mimetype);
        if mimetype.trim() == ODT_MIMETYPE {
            return Ok(Format::Odt);
        }
        return Err(ExtractError::Unsupported(format!(
            "an OpenDocument file of type {mimetype:?}: only text documents (ODT) are read"
        )));
    }
    Err(ExtractError::Unsupported(
        "a zip archive that is neither a DOCX nor an ODT document".into(),
    ))
}

/// Reads entry `index`, refusing it when it inflates beyond `cap` bytes or beyond what
/// is left of the total allowance (`inflated` counts what was read so far).
fn read_entry(
    archive: &mut Archive<'_>,
    index: usize,
    cap: u64,
    inflated: &mut u64,
) -> Result<Vec<u8>, ExtractError> {
    let mut entry = archive.by_index(index).map_err(|e| {
        ExtractError::Malformed(format!("an entry of the archive cannot be read ({e})"))
    })?;
    if entry.encrypted() {
        return Err(ExtractError::Encrypted(
            "the document is password-protected: remove the password and send it again".into(),
        ));
    }
    let allowance = cap.saturating_sub(*inflated);
    let too_large = || {
        ExtractError::TooLarge(format!(
            "the document would inflate to more than {} (a zip bomb?)",
            if cap >= 1 << 20 {
                format!("{} MiB", cap >> 20)
            } else {
                format!("{cap} bytes")
            }
        ))
    };
    if entry.size() > allowance {
        return Err(too_large());
    }
    let mut content = Vec::new();
    // Reading past the declared size is an error in zip, and `take` bounds a lie.
    (&mut entry)
        .take(allowance + 1)
        .read_to_end(&mut content)
        .map_err(|e| match e.kind() {
            // The parsing child's memory limit, not a damaged file.
            std::io::ErrorKind::OutOfMemory => ExtractError::OutOfMemory,
            _ => ExtractError::Malformed(format!("an entry of the archive is damaged ({e})")),
        })?;
    if content.len() as u64 > allowance {
        return Err(too_large());
    }
    *inflated += content.len() as u64;
    Ok(content)
}

fn read_xml(
    archive: &mut Archive<'_>,
    name: &str,
    limits: &Limits,
    inflated: &mut u64,
) -> Result<Option<String>, ExtractError> {
    let Some(index) = archive.index_for_name(name) else {
        return Ok(None);
    };
    let bytes = read_entry(archive, index, limits.max_inflated_bytes, inflated)?;
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|_| ExtractError::Malformed(format!("{name} is not UTF-8 XML")))
}

/// The body, then headers and footers, of a DOCX.
pub fn docx_text(bytes: &[u8], limits: &Limits) -> Result<String, ExtractError> {
    let mut archive = open(bytes, limits)?;
    let mut inflated = 0;
    let body = read_xml(&mut archive, "word/document.xml", limits, &mut inflated)?
        .ok_or_else(|| ExtractError::Malformed("the DOCX has no word/document.xml".into()))?;
    let mut text = xml_text(&body, &DOCX)?;
    let mut extra: Vec<String> = archive
        .file_names()
        .filter_map(|n| n.ok().map(|n| n.into_owned()))
        .filter(|n| {
            n.starts_with("word/")
                && n.ends_with(".xml")
                && (n.contains("/header") || n.contains("/footer"))
        })
        .collect();
    extra.sort();
    for name in extra {
        if let Some(xml) = read_xml(&mut archive, &name, limits, &mut inflated)? {
            text.push_str("\n\n");
            text.push_str(&xml_text(&xml, &DOCX)?);
        }
    }
    Ok(text)
}

/// The body of an ODT (`content.xml`).
pub fn odt_text(bytes: &[u8], limits: &Limits) -> Result<String, ExtractError> {
    let mut archive = open(bytes, limits)?;
    let mut inflated = 0;
    if let Some(manifest) = read_xml(&mut archive, "META-INF/manifest.xml", limits, &mut inflated)?
    {
        if manifest.contains("encryption-data") {
            return Err(ExtractError::Encrypted(
                "the document is password-protected: remove the password and send it again".into(),
            ));
        }
    }
    let content = read_xml(&mut archive, "content.xml", limits, &mut inflated)?
        .ok_or_else(|| ExtractError::Malformed("the ODT has no content.xml".into()))?;
    let frames = page_frames(&content)?;
    if frames.is_empty() {
        // Most documents: the body as it is, without copying it.
        return xml_text(&content, &ODT);
    }
    let mut text = String::new();
    for frame in &frames {
        text.push_str(&xml_text(&content[frame.bytes.clone()], &ODT)?);
    }
    let mut body = String::with_capacity(content.len());
    let mut at = 0;
    let mut in_order: Vec<&PageFrame> = frames.iter().collect();
    in_order.sort_by_key(|f| f.bytes.start);
    for frame in in_order {
        body.push_str(&content[at..frame.bytes.start]);
        at = frame.bytes.end;
    }
    body.push_str(&content[at..]);
    text.push_str(&xml_text(&body, &ODT)?);
    Ok(text)
}

/// A text box placed on a page (`draw:frame` anchored to the page), as design tools
/// (Canva-like) make every line of a CV: its bytes in content.xml, its page and place.
struct PageFrame {
    bytes: std::ops::Range<usize>,
    page: u32,
    x: f64,
    y: f64,
}

/// Frames whose order in content.xml is their stacking order, not the reading order:
/// read by page, then column (left to right, frames less than half an inch apart
/// sharing one), then top to bottom.
fn page_frames(xml: &str) -> Result<Vec<PageFrame>, ExtractError> {
    let mut reader = Reader::from_str(xml);
    let mut frames = Vec::new();
    let mut open: Option<(usize, u32, f64, f64)> = None;
    let mut depth = 0usize;
    loop {
        let before = reader.buffer_position() as usize;
        let event = reader.read_event().map_err(|e| {
            ExtractError::Malformed(format!(
                "the document's XML is damaged at byte {before} ({e})"
            ))
        })?;
        match event {
            Event::Start(e) if open.is_none() && e.local_name().into_inner() == "frame" => {
                let attribute = |name: &str| {
                    e.attributes()
                        .flatten()
                        .find(|a| a.key.local_name().into_inner() == name)
                        .map(|a| a.value.to_string())
                };
                if attribute("anchor-type").as_deref() == Some("page") {
                    let page = attribute("anchor-page-number")
                        .and_then(|p| p.parse().ok())
                        .unwrap_or(1);
                    let x = attribute("x").and_then(|v| points(&v)).unwrap_or(0.0);
                    let y = attribute("y").and_then(|v| points(&v)).unwrap_or(0.0);
                    open = Some((before, page, x, y));
                    depth = 1;
                }
            }
            Event::Start(_) if open.is_some() => depth += 1,
            Event::End(_) if open.is_some() => {
                depth -= 1;
                if depth == 0 {
                    let (start, page, x, y) = open.take().expect("a frame is open");
                    frames.push(PageFrame {
                        bytes: start..reader.buffer_position() as usize,
                        page,
                        x,
                        y,
                    });
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    frames.sort_by(|a, b| a.page.cmp(&b.page).then(a.x.total_cmp(&b.x)));
    // Columns: a frame more than half an inch right of the previous starts a new one.
    let mut column = 0u32;
    let mut keyed: Vec<(u32, u32, f64, PageFrame)> = Vec::new();
    for frame in frames {
        if let Some((page, _, _, last)) = keyed.last() {
            if *page != frame.page {
                column = 0;
            } else if frame.x - last.x > 36.0 {
                column += 1;
            }
        }
        keyed.push((frame.page, column, frame.y, frame));
    }
    keyed.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)).then(a.2.total_cmp(&b.2)));
    Ok(keyed.into_iter().map(|(_, _, _, frame)| frame).collect())
}

/// An ODF length ("3.1252in", "2cm", "12pt") in points.
fn points(length: &str) -> Option<f64> {
    let split = length.find(|c: char| c.is_ascii_alphabetic())?;
    let value: f64 = length[..split].parse().ok()?;
    let per_unit = match &length[split..] {
        "in" => 72.0,
        "cm" => 72.0 / 2.54,
        "mm" => 72.0 / 25.4,
        "pt" => 1.0,
        "pc" => 12.0,
        _ => return None,
    };
    Some(value * per_unit)
}

/// Which elements of a vocabulary hold text, break lines, or must be skipped.
struct Vocabulary {
    /// Elements whose text is the document's (`w:t`); None: all text counts.
    text: Option<&'static [&'static str]>,
    /// Elements that end a line when they close (paragraphs, cells, list items).
    block: &'static [&'static str],
    /// Empty elements that stand for a line break.
    line_break: &'static [&'static str],
    /// Empty elements that stand for a tab.
    tab: &'static [&'static str],
    /// Elements whose whole content is skipped (deleted text, field codes, notes,
    /// the fallback copy of drawings).
    skip: &'static [&'static str],
    /// Empty elements standing for spaces, with their count attribute (`text:s`).
    spaces: Option<(&'static str, &'static str)>,
}

const DOCX: Vocabulary = Vocabulary {
    text: Some(&["t"]),
    block: &["p", "tc", "tr"],
    line_break: &["br", "cr"],
    tab: &["tab"],
    skip: &["delText", "instrText", "Fallback", "del"],
    spaces: None,
};

const ODT: Vocabulary = Vocabulary {
    text: None,
    block: &["p", "h", "table-cell", "table-row", "list-item"],
    line_break: &["line-break"],
    tab: &["tab"],
    skip: &[
        "annotation",
        "tracked-changes",
        "note-citation",
        "sequence-decls",
        "font-face-decls",
        "automatic-styles",
    ],
    spaces: Some(("s", "c")),
};

/// The text of an XML document, with lines ending where its vocabulary says.
fn xml_text(xml: &str, vocabulary: &Vocabulary) -> Result<String, ExtractError> {
    let mut reader = Reader::from_str(xml);
    let mut out = String::new();
    let mut in_text = 0usize;
    let mut skipping = 0usize;
    let is = |set: &[&str], name: &str| set.contains(&name);
    loop {
        let event = reader.read_event().map_err(|e| {
            ExtractError::Malformed(format!(
                "the document's XML is damaged at byte {} ({e})",
                reader.buffer_position()
            ))
        })?;
        match event {
            Event::Start(e) => {
                let name = e.local_name().into_inner();
                if skipping > 0 || is(vocabulary.skip, name) {
                    skipping += 1;
                } else if vocabulary.text.is_some_and(|t| is(t, name)) {
                    in_text += 1;
                }
            }
            Event::End(e) => {
                let name = e.local_name().into_inner();
                if skipping > 0 {
                    skipping -= 1;
                } else if vocabulary.text.is_some_and(|t| is(t, name)) {
                    in_text = in_text.saturating_sub(1);
                } else if is(vocabulary.block, name) && !out.ends_with('\n') {
                    out.push('\n');
                }
            }
            Event::Empty(e) if skipping == 0 => {
                let name = e.local_name().into_inner();
                if is(vocabulary.line_break, name) || is(vocabulary.block, name) {
                    out.push('\n');
                } else if is(vocabulary.tab, name) {
                    out.push('\t');
                } else if let Some((space, count)) = vocabulary.spaces {
                    if name == space {
                        let n = e
                            .attributes()
                            .flatten()
                            .find(|a| a.key.local_name().into_inner() == count)
                            .and_then(|a| a.value.as_ref().parse::<usize>().ok())
                            .unwrap_or(1);
                        out.extend(std::iter::repeat_n(' ', n.min(100)));
                    }
                }
            }
            Event::Text(t) if skipping == 0 && (vocabulary.text.is_none() || in_text > 0) => {
                out.push_str(&t.xml_content(quick_xml::XmlVersion::Implicit1_0));
            }
            Event::CData(t) if skipping == 0 && (vocabulary.text.is_none() || in_text > 0) => {
                out.push_str(&t.xml_content(quick_xml::XmlVersion::Implicit1_0));
            }
            Event::GeneralRef(r) if skipping == 0 && (vocabulary.text.is_none() || in_text > 0) => {
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(c)) => Some(c),
                    _ => match r.into_inner().as_ref() {
                        "lt" => Some('<'),
                        "gt" => Some('>'),
                        "amp" => Some('&'),
                        "quot" => Some('"'),
                        "apos" => Some('\''),
                        _ => None,
                    },
                };
                out.extend(resolved);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docx_xml_gives_paragraphs_tabs_and_breaks_without_deleted_text() {
        let xml = r#"<w:document xmlns:w="w"><w:body>
            <w:p><w:r><w:t>Développeur</w:t><w:tab/><w:t xml:space="preserve"> Rust &amp; Go</w:t></w:r></w:p>
            <w:p><w:r><w:delText>supprimé</w:delText><w:t>Paris</w:t><w:br/><w:t>Lyon</w:t></w:r></w:p>
            <w:tbl><w:tr><w:tc><w:p><w:r><w:t>gauche</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>droite</w:t></w:r></w:p></w:tc></w:tr></w:tbl>
        </w:body></w:document>"#;
        assert_eq!(
            xml_text(xml, &DOCX).unwrap(),
            "Développeur\t Rust & Go\nParis\nLyon\ngauche\ndroite\n"
        );
    }

    #[test]
    fn odt_frames_placed_on_the_page_are_read_by_column_then_from_the_top() {
        let frame = |x: &str, y: &str, text: &str| {
            format!("<draw:frame text:anchor-type=\"page\" text:anchor-page-number=\"1\" svg:x=\"{x}\" svg:y=\"{y}\"><draw:text-box><text:p>{text}</text:p></draw:text-box></draw:frame>")
        };
        let content = format!(
            "<office:text>{}{}{}{}<text:p>Corps</text:p></office:text>",
            frame("3.1in", "1.1in", "mars 2019 - juin 2024"),
            frame("3.1in", "0.9in", "Banque Rhodanienne"),
            frame("0.4in", "0.4in", "Claire Martin"),
            frame("8cm", "0.5in", "Comptable"),
        );
        let frames = page_frames(&content).unwrap();
        let texts: Vec<String> = frames
            .iter()
            .map(|f| xml_text(&content[f.bytes.clone()], &ODT).unwrap())
            .collect();
        assert_eq!(
            texts,
            [
                "Claire Martin\n",
                "Comptable\n",
                "Banque Rhodanienne\n",
                "mars 2019 - juin 2024\n"
            ]
        );
        assert_eq!(points("2.54cm"), Some(72.0));
    }

    #[test]
    fn odt_xml_gives_headings_paragraphs_and_spaces() {
        let xml = r#"<office:document-content xmlns:office="o" xmlns:text="t"><office:body><office:text>
            <text:h>Expérience</text:h><text:p>A<text:s text:c="3"/>B<text:line-break/>C&#233;</text:p>
            <text:p>D<office:annotation><text:p>note</text:p></office:annotation></text:p>
        </office:text></office:body></office:document-content>"#;
        let text = xml_text(xml, &ODT).unwrap();
        assert!(text.contains("Expérience\nA   B\nCé\n"), "{text:?}");
        assert!(!text.contains("note"));
    }
}
