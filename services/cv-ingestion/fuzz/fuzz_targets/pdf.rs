//! PDF (pdf_oxide): the input, prefixed with `%PDF-` when it lacks it so that it is
//! always taken for a PDF, through the public `extract`.
#![no_main]

use std::borrow::Cow;

use cv_ingestion::extract::{extract, Limits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let bytes: Cow<[u8]> = if data.starts_with(b"%PDF-") {
        Cow::Borrowed(data)
    } else {
        let mut v = b"%PDF-".to_vec();
        v.extend_from_slice(data);
        Cow::Owned(v)
    };
    let _ = extract(&bytes, &Limits::default());
});
