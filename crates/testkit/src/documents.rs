//! Real documents for tests, made by LibreOffice from HTML or from a DOCX written as
//! Microsoft Word writes it (and encrypted by qpdf): what candidates' word processors
//! produce. `make test` installs both, and the fonts.
//! Conversions are cached under the cache dir, since LibreOffice takes seconds each,
//! keyed by everything that shapes them: the source, the format, the font family and
//! its file, LibreOffice's version.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use sha2::{Digest, Sha256};

use crate::hex;

/// The families real CVs are written in, as the metric twins Debian ships (same glyph
/// widths, so the same line breaks and columns), and DejaVu. A test document names
/// its family: never whatever fontconfig would pick.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Font {
    /// Times New Roman's twin: Liberation Serif (`fonts-liberation2`).
    Times,
    /// Arial's and Helvetica's twin: Liberation Sans (`fonts-liberation2`).
    Arial,
    /// Calibri's twin: Carlito (`fonts-crosextra-carlito`).
    Calibri,
    /// DejaVu Sans (`fonts-dejavu-core`).
    DejaVu,
}

impl Font {
    pub const ALL: [Font; 4] = [Font::Times, Font::Arial, Font::Calibri, Font::DejaVu];

    /// The family name LibreOffice is given.
    pub fn family(self) -> &'static str {
        match self {
            Font::Times => "Liberation Serif",
            Font::Arial => "Liberation Sans",
            Font::Calibri => "Carlito",
            Font::DejaVu => "DejaVu Sans",
        }
    }
}

/// What shapes a conversion besides its source: LibreOffice's version and each
/// family's font file (which must be the family itself, not a fallback).
fn environment() -> &'static str {
    static ENVIRONMENT: OnceLock<String> = OnceLock::new();
    ENVIRONMENT.get_or_init(|| {
        let output = |program: &str, args: &[&str]| {
            let out = Command::new(program).args(args).output().unwrap_or_else(|e| {
                panic!("{program} is installed by `make test` (scripts/setup.sh --for-tests): {e}")
            });
            String::from_utf8_lossy(&out.stdout).trim().to_owned()
        };
        let mut environment = output("soffice", &["--version"]);
        for font in Font::ALL {
            let found = output("fc-match", &["-f", "%{family}\t%{file}", font.family()]);
            let (family, file) = found.split_once('\t').unwrap_or_default();
            assert!(
                family.split(',').any(|f| f == font.family()),
                "font {:?} not installed (fontconfig gives {found:?}): run `make test`, whose set-up installs it",
                font.family()
            );
            let size = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
            environment.push_str(&format!("\n{file} {size}"));
        }
        environment
    })
}

/// `html` in `font`: a style sheet that names the family for every element.
fn in_font(html: &str, font: Font) -> String {
    let style = format!(
        "<style>body, p, td, th, li, h1, h2, h3, h4, b, i, span, div {{ font-family: \"{}\" }}</style>",
        font.family()
    );
    match html.find("</head>") {
        Some(at) => format!("{}{style}{}", &html[..at], &html[at..]),
        None => format!("{style}{html}"),
    }
}

/// `html` in `font`, converted by LibreOffice Writer to `format` (`pdf`, `docx`, `odt`,
/// `rtf`...).
pub fn from_html(html: &str, format: &str, font: Font) -> Vec<u8> {
    let html = in_font(html, font);
    let document = convert(html.as_bytes(), "html", Some("HTML (StarWriter)"), format);
    let contains = |needle: &[u8]| document.windows(needle.len()).any(|w| w == needle);
    // A PDF with text embeds the family's glyphs: LibreOffice did not fall back.
    let embedded = font.family().replace(' ', "");
    assert!(
        format != "pdf" || !contains(b"/FontName") || contains(embedded.as_bytes()),
        "the PDF does not embed {embedded}"
    );
    document
}

/// A DOCX (as [`word_docx`] makes) in `format`: the DOCX itself, or what LibreOffice
/// converts it to (`pdf`, `odt`), as a Word user's "Save as PDF" or a colleague's
/// LibreOffice would.
pub fn from_docx(docx: &[u8], format: &str) -> Vec<u8> {
    if format == "docx" {
        return docx.to_vec();
    }
    convert(docx, "docx", None, format)
}

/// `source` (a file ending in `.{source_ext}`) converted by LibreOffice to `format`,
/// cached.
fn convert(source: &[u8], source_ext: &str, infilter: Option<&str>, format: &str) -> Vec<u8> {
    let key = hex(&Sha256::digest(
        [
            format!("{format}\n{source_ext}\n{infilter:?}\n{}\n", environment()).as_bytes(),
            source,
        ]
        .concat(),
    ));
    cached(&key, format, |dir| {
        let path = dir.join(format!("cv.{source_ext}"));
        std::fs::write(&path, source).expect("write the source document");
        // Its own profile, so that tests can convert in parallel.
        let profile = format!("-env:UserInstallation=file://{}/profile", dir.display());
        let mut soffice = Command::new("soffice");
        soffice.args([&profile, "--headless"]);
        if let Some(filter) = infilter {
            soffice.arg(format!("--infilter={filter}"));
        }
        let status = soffice
            .args(["--convert-to", format])
            .arg("--outdir")
            .arg(dir)
            .arg(&path)
            .output()
            .expect(
                "LibreOffice's soffice is installed by `make test` (scripts/setup.sh --for-tests)",
            );
        assert!(
            status.status.success(),
            "soffice failed: {}",
            String::from_utf8_lossy(&status.stderr)
        );
        dir.join(format!("cv.{format}"))
    })
}

/// The parts of a DOCX as Microsoft Word writes them: the styles of its default
/// template that CVs use — `Title` and `Subtitle` for the name and headline,
/// `Heading1` for sections (shown in capitals by `w:caps` while the text keeps its
/// case), `Heading2` for a job, `ListParagraph` for bullets — the theme font set to
/// `font`, and `document` (the `w:body` content), `header` and `footer` (paragraphs)
/// in Word's own markup. Deterministic: the same parts give the same bytes.
pub fn word_docx(document: &str, header: &str, footer: &str, font: Font) -> Vec<u8> {
    const W: &str = "xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\" \
        xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\"";
    const REL: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
    let family = font.family();
    let style = |id: &str, name: &str, properties: &str, run: &str| {
        format!(
            "<w:style w:type=\"paragraph\" w:styleId=\"{id}\"><w:name w:val=\"{name}\"/>\
             <w:basedOn w:val=\"Normal\"/><w:next w:val=\"Normal\"/><w:qFormat/>\
             <w:pPr>{properties}</w:pPr><w:rPr>{run}</w:rPr></w:style>"
        )
    };
    let styles = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\
         <w:styles {W}><w:docDefaults><w:rPrDefault><w:rPr>\
         <w:rFonts w:ascii=\"{family}\" w:hAnsi=\"{family}\" w:eastAsia=\"{family}\" w:cs=\"{family}\"/>\
         <w:sz w:val=\"22\"/><w:lang w:val=\"fr-FR\"/></w:rPr></w:rPrDefault>\
         <w:pPrDefault><w:pPr><w:spacing w:after=\"160\" w:line=\"259\" w:lineRule=\"auto\"/></w:pPr></w:pPrDefault>\
         </w:docDefaults>\
         <w:style w:type=\"paragraph\" w:default=\"1\" w:styleId=\"Normal\"><w:name w:val=\"Normal\"/><w:qFormat/></w:style>\
         {}{}{}{}{}\
         <w:style w:type=\"character\" w:styleId=\"Hyperlink\"><w:name w:val=\"Hyperlink\"/>\
         <w:rPr><w:color w:val=\"0563C1\"/><w:u w:val=\"single\"/></w:rPr></w:style>\
         <w:style w:type=\"table\" w:default=\"1\" w:styleId=\"TableNormal\"><w:name w:val=\"Normal Table\"/></w:style>\
         </w:styles>",
        style("Title", "Title", "<w:spacing w:after=\"0\"/><w:contextualSpacing/>", "<w:spacing w:val=\"-10\"/><w:kern w:val=\"28\"/><w:sz w:val=\"56\"/>"),
        style("Subtitle", "Subtitle", "<w:numPr><w:ilvl w:val=\"1\"/></w:numPr>", "<w:color w:val=\"5A5A5A\"/><w:spacing w:val=\"15\"/>"),
        style("Heading1", "heading 1", "<w:keepNext/><w:keepLines/><w:spacing w:before=\"240\"/><w:outlineLvl w:val=\"0\"/>", "<w:caps/><w:color w:val=\"2F5496\"/><w:sz w:val=\"32\"/>"),
        style("Heading2", "heading 2", "<w:keepNext/><w:keepLines/><w:spacing w:before=\"40\"/><w:outlineLvl w:val=\"1\"/>", "<w:b/><w:sz w:val=\"26\"/>"),
        style("ListParagraph", "List Paragraph", "<w:ind w:left=\"720\"/><w:contextualSpacing/>", ""),
    );
    let document = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\
         <w:document {W}><w:body>{document}\
         <w:sectPr><w:headerReference w:type=\"default\" r:id=\"rId3\"/><w:footerReference w:type=\"default\" r:id=\"rId4\"/>\
         <w:pgSz w:w=\"11906\" w:h=\"16838\"/>\
         <w:pgMar w:top=\"1417\" w:right=\"1417\" w:bottom=\"1417\" w:left=\"1417\" w:header=\"708\" w:footer=\"708\" w:gutter=\"0\"/>\
         </w:sectPr></w:body></w:document>"
    );
    let parts = [
        ("[Content_Types].xml", 
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\
             <Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">\
             <Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>\
             <Default Extension=\"xml\" ContentType=\"application/xml\"/>\
             <Override PartName=\"/word/document.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml\"/>\
             <Override PartName=\"/word/styles.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml\"/>\
             <Override PartName=\"/word/header1.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.header+xml\"/>\
             <Override PartName=\"/word/footer1.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.footer+xml\"/>\
             <Override PartName=\"/docProps/app.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.extended-properties+xml\"/>\
             </Types>".to_owned()),
        ("_rels/.rels", format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\
             <Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">\
             <Relationship Id=\"rId1\" Type=\"{REL}/officeDocument\" Target=\"word/document.xml\"/>\
             <Relationship Id=\"rId2\" Type=\"{REL}/extended-properties\" Target=\"docProps/app.xml\"/>\
             </Relationships>")),
        ("docProps/app.xml", "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\
             <Properties xmlns=\"http://schemas.openxmlformats.org/officeDocument/2006/extended-properties\">\
             <Template>Normal.dotm</Template><Application>Microsoft Office Word</Application><AppVersion>16.0000</AppVersion>\
             </Properties>".to_owned()),
        ("word/_rels/document.xml.rels", format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\
             <Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">\
             <Relationship Id=\"rId1\" Type=\"{REL}/styles\" Target=\"styles.xml\"/>\
             <Relationship Id=\"rId3\" Type=\"{REL}/header\" Target=\"header1.xml\"/>\
             <Relationship Id=\"rId4\" Type=\"{REL}/footer\" Target=\"footer1.xml\"/>\
             <Relationship Id=\"rId5\" Type=\"{REL}/hyperlink\" Target=\"mailto:contact@exemple.fr\" TargetMode=\"External\"/>\
             </Relationships>")),
        ("word/document.xml", document),
        ("word/styles.xml", styles),
        ("word/header1.xml", format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?><w:hdr {W}>{header}</w:hdr>")),
        ("word/footer1.xml", format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?><w:ftr {W}>{footer}</w:ftr>")),
    ];
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default());
    for (name, content) in parts {
        zip.start_file(name, options).expect("a DOCX part");
        std::io::Write::write_all(&mut zip, content.as_bytes()).expect("a DOCX part");
    }
    zip.finish().expect("the DOCX").into_inner()
}

/// Pieces of Word's body markup, for [`word_docx`]: runs, paragraphs in a style, a
/// title and a period set apart by a right tab stop, list bullets, borderless tables.
pub mod word {
    /// `text` as one run.
    pub fn run(text: &str) -> String {
        let text = text
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;");
        format!("<w:r><w:t xml:space=\"preserve\">{text}</w:t></w:r>")
    }

    /// `text` as Word leaves it after its spell checker flagged it: two runs between
    /// proofing marks.
    pub fn flagged(text: &str) -> String {
        let middle = text
            .char_indices()
            .nth(text.chars().count() / 2)
            .map_or(0, |(i, _)| i);
        format!(
            "{}<w:proofErr w:type=\"spellStart\"/>{}<w:proofErr w:type=\"spellEnd\"/>",
            run(&text[..middle]),
            run(&text[middle..])
        )
    }

    /// A paragraph in `style` (none: Normal) holding `content` (runs).
    pub fn paragraph(style: &str, content: &str) -> String {
        let style = if style.is_empty() {
            String::new()
        } else {
            format!("<w:pPr><w:pStyle w:val=\"{style}\"/></w:pPr>")
        };
        format!("<w:p w:rsidR=\"00B4\" w:rsidRDefault=\"00B4\">{style}{content}</w:p>")
    }

    /// `left` (runs), then `right` at a right tab stop on the page's margin, in `style`.
    pub fn tabbed(style: &str, left: &str, right: &str) -> String {
        format!(
            "<w:p><w:pPr><w:pStyle w:val=\"{style}\"/><w:tabs><w:tab w:val=\"right\" w:pos=\"9072\"/></w:tabs></w:pPr>\
             {left}<w:r><w:tab/></w:r>{}</w:p>",
            run(right)
        )
    }

    /// A bulleted list paragraph.
    pub fn bullet(text: &str) -> String {
        format!(
            "<w:p><w:pPr><w:pStyle w:val=\"ListParagraph\"/><w:numPr><w:ilvl w:val=\"0\"/>\
             <w:numId w:val=\"1\"/></w:numPr></w:pPr>{}</w:p>",
            run(text)
        )
    }

    /// A table without borders, `columns` cells a row, filled in order.
    pub fn table(cells: &[&str], columns: usize) -> String {
        let width = 9072 / columns;
        let mut table = format!(
            "<w:tbl><w:tblPr><w:tblW w:w=\"0\" w:type=\"auto\"/><w:tblBorders><w:top w:val=\"nil\"/>\
             <w:bottom w:val=\"nil\"/><w:insideH w:val=\"nil\"/><w:insideV w:val=\"nil\"/></w:tblBorders></w:tblPr>\
             <w:tblGrid>{}</w:tblGrid>",
            format!("<w:gridCol w:w=\"{width}\"/>").repeat(columns)
        );
        for row in cells.chunks(columns) {
            table.push_str("<w:tr>");
            for n in 0..columns {
                table.push_str(&format!(
                    "<w:tc><w:tcPr><w:tcW w:w=\"{width}\" w:type=\"dxa\"/></w:tcPr>{}</w:tc>",
                    paragraph("", &run(row.get(n).copied().unwrap_or("")))
                ));
            }
            table.push_str("</w:tr>");
        }
        table.push_str("</w:tbl>");
        table
    }

    /// A footer paragraph "Page N" with Word's PAGE field.
    pub fn page_number_footer() -> String {
        "<w:p><w:pPr><w:jc w:val=\"center\"/></w:pPr><w:r><w:t xml:space=\"preserve\">Page </w:t></w:r>\
         <w:r><w:fldChar w:fldCharType=\"begin\"/></w:r><w:r><w:instrText xml:space=\"preserve\"> PAGE </w:instrText></w:r>\
         <w:r><w:fldChar w:fldCharType=\"separate\"/></w:r><w:r><w:t>1</w:t></w:r><w:r><w:fldChar w:fldCharType=\"end\"/></w:r></w:p>"
            .to_owned()
    }
}

/// `pdf` encrypted by qpdf with AES-256: with `user_password`, nobody can open it
/// without the password; with an empty one, anybody can, but copying is forbidden.
pub fn encrypt_pdf(pdf: &[u8], user_password: &str) -> Vec<u8> {
    let key = hex(&Sha256::digest([pdf, user_password.as_bytes()].concat()));
    cached(&key, "pdf", |dir| {
        let (input, output) = (dir.join("in.pdf"), dir.join("out.pdf"));
        std::fs::write(&input, pdf).expect("write the PDF");
        let status = Command::new("qpdf")
            .args([
                "--encrypt",
                user_password,
                "owner-secret",
                "256",
                "--extract=n",
                "--",
            ])
            .arg(&input)
            .arg(&output)
            .status()
            .expect("qpdf is installed by `make test` (scripts/setup.sh --for-tests)");
        assert!(status.success(), "qpdf failed");
        output
    })
}

/// The file cached under `key`, made by `make` in a scratch dir when missing.
fn cached(key: &str, ext: &str, make: impl FnOnce(&Path) -> PathBuf) -> Vec<u8> {
    let dir = crate::cache_dir().join("test-documents");
    std::fs::create_dir_all(&dir).expect("create the test documents cache");
    let path = dir.join(format!("{key}.{ext}"));
    if let Ok(bytes) = std::fs::read(&path) {
        return bytes;
    }
    // Removed when dropped, also when a conversion fails and the test panics.
    let scratch = tempfile::TempDir::new_in(&dir).expect("create a scratch dir");
    let made = make(scratch.path());
    let bytes = std::fs::read(&made).expect("the converted document");
    // Rename is atomic: a parallel test reads a whole file or none.
    std::fs::rename(&made, &path).expect("store the converted document");
    bytes
}
