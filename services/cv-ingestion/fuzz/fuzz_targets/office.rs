//! DOCX and ODT (zip + quick-xml). Two ways in, both through the public `extract`:
//! - the input as a zip archive (when it starts like one, else `extract` would hand
//!   it to another parser);
//! - the input as the XML of a valid archive built here: `word/document.xml` of a DOCX
//!   and `content.xml` of an ODT, so that the XML walker sees the fuzzer's bytes
//!   whatever the zip layer would have made of them.
#![no_main]

use std::io::{Cursor, Write};

use cv_ingestion::extract::{extract, Limits};
use libfuzzer_sys::fuzz_target;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

const ODT_MIMETYPE: &[u8] = b"application/vnd.oasis.opendocument.text";

/// A zip archive of `entries`, stored (no compression: the fuzzer's bytes are what
/// matters, not deflate's).
fn archive(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(CompressionMethod::Stored);
    for (name, content) in entries {
        zip.start_file(*name, options).expect("zip entry");
        zip.write_all(content).expect("zip write");
    }
    zip.finish().expect("zip finish").into_inner()
}

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();
    if data.starts_with(b"PK") {
        let _ = extract(data, &limits);
    }
    let docx = archive(&[
        ("[Content_Types].xml", b"<Types/>"),
        ("word/document.xml", data),
    ]);
    let _ = extract(&docx, &limits);
    let odt = archive(&[("mimetype", ODT_MIMETYPE), ("content.xml", data)]);
    let _ = extract(&odt, &limits);
});
