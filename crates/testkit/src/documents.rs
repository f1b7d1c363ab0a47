//! Real documents for tests, made by LibreOffice from HTML (and encrypted by qpdf):
//! what candidates' word processors produce. `make test` installs both, and the fonts.
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
    let key = hex(&Sha256::digest(format!(
        "{format}\n{}\n{html}",
        environment()
    )));
    let document = cached(&key, format, |dir| {
        let source = dir.join("cv.html");
        std::fs::write(&source, &html).expect("write the HTML");
        // Its own profile, so that tests can convert in parallel.
        let profile = format!("-env:UserInstallation=file://{}/profile", dir.display());
        let status = Command::new("soffice")
            .args([
                &profile,
                "--headless",
                "--infilter=HTML (StarWriter)",
                "--convert-to",
                format,
            ])
            .arg("--outdir")
            .arg(dir)
            .arg(&source)
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
    });
    let contains = |needle: &[u8]| document.windows(needle.len()).any(|w| w == needle);
    // A PDF with text embeds the family's glyphs: LibreOffice did not fall back.
    let embedded = font.family().replace(' ', "");
    assert!(
        format != "pdf" || !contains(b"/FontName") || contains(embedded.as_bytes()),
        "the PDF does not embed {embedded}"
    );
    document
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
