//! Real documents for tests, made by LibreOffice from HTML (and encrypted by qpdf):
//! what candidates' word processors produce. `make test` installs both. Conversions
//! are cached by content under the cache dir, since LibreOffice takes seconds each.

use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

use crate::hex;

/// `html` converted by LibreOffice Writer to `format` (`pdf`, `docx`, `odt`, `rtf`...).
pub fn from_html(html: &str, format: &str) -> Vec<u8> {
    let key = hex(&Sha256::digest(format!("{format}\n{html}")));
    cached(&key, format, |dir| {
        let source = dir.join("cv.html");
        std::fs::write(&source, html).expect("write the HTML");
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
    })
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
