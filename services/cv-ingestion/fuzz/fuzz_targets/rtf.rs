//! RTF (rtf-parser): the input, prefixed with `{\rtf1 ` when it lacks `{\rtf`, through
//! the public `extract`.
#![no_main]

use std::borrow::Cow;

use cv_ingestion::extract::{detect, extract, Format, Limits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let bytes: Cow<[u8]> = if data.starts_with(b"{\\rtf") {
        Cow::Borrowed(data)
    } else {
        let mut v = b"{\\rtf1 ".to_vec();
        v.extend_from_slice(data);
        Cow::Owned(v)
    };
    // `%PDF-` in the first KiB wins over `{\rtf`: leave that to the pdf target.
    if detect(&bytes, &Limits::default()) != Ok(Format::Rtf) {
        return;
    }
    let _ = extract(&bytes, &Limits::default());
});
