//! Plain text and Markdown, then the analysis of the text. Text input goes through the
//! public `extract` (detection, decoding, Markdown stripping, `normalize`); any other
//! input is decoded lossily and goes through `normalize` alone, as the text of a PDF or
//! DOCX would. Either way the normalized text is then analysed (`analyze`).
//!
//! The skills referential is loaded once: `SKILLS_REFERENTIAL`, else
//! /var/cache/jobmatch/referentials/esco_skills_en.csv (`make setup`); without either,
//! a three-row stand-in written to the temporary directory, so that the analysis is
//! fuzzed all the same.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use chrono::NaiveDate;
use cv_ingestion::analysis::{analyze, Referential};
use cv_ingestion::extract::{detect, extract, normalize, Format, Limits};
use cv_ingestion::SKILLS_TABLE;
use libfuzzer_sys::fuzz_target;

const DEFAULT_ESCO: &str = "/var/cache/jobmatch/referentials/esco_skills_en.csv";

const STAND_IN_ESCO: &str = "id,description,hierarchy_levels,type
0005c151-5b5a-4a66-8aac-60e734beb1ab,manage musical staff,\"[['S', 'S4', 'S4.5', 'S4.5.0']]\",preferredLabel
00064735-8fad-454b-90c7-ed858cc993f2,PostgreSQL,\"[['K', 'K06', 'K061', 'K0613']]\",altLabels
000f1d3d-220f-4789-9c0a-cc742521fb02,use data pipelines,\"[['S', 'S5', 'S5.1', 'S5.1.1']]\",preferredLabel
";

fn referential() -> &'static Referential {
    static REFERENTIAL: OnceLock<Referential> = OnceLock::new();
    REFERENTIAL.get_or_init(|| {
        let path = std::env::var_os("SKILLS_REFERENTIAL")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(DEFAULT_ESCO));
        let path = if path.is_file() {
            path
        } else {
            let stand_in = std::env::temp_dir().join("cv-ingestion-fuzz-esco.csv");
            std::fs::write(&stand_in, STAND_IN_ESCO).expect("write the stand-in referential");
            eprintln!("fuzz text: {} not found, using a stand-in referential", path.display());
            stand_in
        };
        Referential::load(&path, SKILLS_TABLE).expect("load the skills referential")
    })
}

fuzz_target!(|data: &[u8]| {
    let referential = referential();
    // A fixed date, so that a finding replays the same.
    let today = NaiveDate::from_ymd_opt(2025, 6, 1).expect("date");
    let text = if detect(data, &Limits::default()) == Ok(Format::Text) {
        match extract(data, &Limits::default()) {
            Ok(extracted) => extracted.text,
            Err(_) => return,
        }
    } else {
        normalize(&String::from_utf8_lossy(data))
    };
    let _ = analyze(&text, referential, today);
});
