//! One JSON document walked byte by byte in bounded memory: the offers of a search
//! response's `resultats` (or of a top-level array) come out one at a time, each at most
//! [`MAX_VALUE`] bytes, whatever the document's size or layout (pretty-printed, or one
//! line of a gigabyte). Nothing else of the document is kept.

use std::io::{BufRead, ErrorKind};

use super::MAX_VALUE;

/// Arrays and objects nested deeper than this are refused (serde_json's own limit).
const MAX_DEPTH: usize = 128;

/// Why the walk stopped.
#[derive(Debug, thiserror::Error)]
pub enum WalkError {
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// Not valid JSON, or not the shape of an offers document.
    #[error("{0}")]
    Invalid(String),
}

/// What a document turned out to be, once its start was read.
pub enum Start<R> {
    /// Its offers, to read one by one.
    Offers(Offers<R>),
    /// An object without `resultats` (one offer, or not an offers document at all),
    /// small enough to be read whole: its bytes.
    Whole(Vec<u8>),
}

/// Reads the start of the document in `reader`: up to its array of offers.
pub fn start<R: BufRead>(reader: R) -> Result<Start<R>, WalkError> {
    let mut walker = Walker {
        reader,
        offset: 0,
        record: None,
    };
    match walker.token()? {
        Some(b'[') => {
            walker.bump()?;
            Ok(Start::Offers(Offers::new(walker, false)))
        }
        Some(b'{') => {
            // Kept in case it is not a search response but one offer.
            walker.record = Some(Vec::new());
            walker.bump()?;
            let mut first = true;
            loop {
                match walker.token()? {
                    Some(b'}') if first => break,
                    Some(b',') if !first => walker.bump()?,
                    Some(b'}') => break,
                    _ if first => {}
                    _ => return Err(walker.invalid("expected , or } after a member")),
                }
                first = false;
                let key = walker.key()?;
                if key == "resultats" {
                    if walker.token()? != Some(b'[') {
                        return Err(WalkError::Invalid("\"resultats\" is not an array".into()));
                    }
                    walker.record = None;
                    walker.bump()?;
                    return Ok(Start::Offers(Offers::new(walker, true)));
                }
                walker.value(None)?;
            }
            walker.bump()?;
            let whole = walker.record.take().unwrap_or_default();
            walker.end()?;
            Ok(Start::Whole(whole))
        }
        Some(other) => Err(walker.invalid(&format!(
            "expected a JSON object or array, found {:?}",
            char::from(other)
        ))),
        None => Err(WalkError::Invalid("the file is empty".into())),
    }
}

/// The offers of a document's array, one at a time.
pub struct Offers<R> {
    walker: Walker<R>,
    /// Whether the array is a member of the top-level object (its `resultats`).
    in_object: bool,
    first: bool,
    done: bool,
}

impl<R: BufRead> Offers<R> {
    fn new(walker: Walker<R>, in_object: bool) -> Self {
        Self {
            walker,
            in_object,
            first: true,
            done: false,
        }
    }

    /// The next offer's bytes; None after the last, once the rest of the document was
    /// read and found well formed.
    pub fn next_offer(&mut self) -> Result<Option<Vec<u8>>, WalkError> {
        if self.done {
            return Ok(None);
        }
        let walker = &mut self.walker;
        match walker.token()? {
            Some(b']') => {
                walker.bump()?;
                self.finish()?;
                return Ok(None);
            }
            Some(b',') if !self.first => walker.bump()?,
            _ if self.first => {}
            _ => return Err(walker.invalid("expected , or ] after an offer")),
        }
        self.first = false;
        let mut offer = Vec::new();
        walker.value(Some(&mut offer))?;
        Ok(Some(offer))
    }

    /// After the array: the rest of the top-level object (skipped), then nothing.
    fn finish(&mut self) -> Result<(), WalkError> {
        self.done = true;
        let walker = &mut self.walker;
        if self.in_object {
            loop {
                match walker.token()? {
                    Some(b'}') => {
                        walker.bump()?;
                        break;
                    }
                    Some(b',') => {
                        walker.bump()?;
                        walker.key()?;
                        walker.value(None)?;
                    }
                    _ => return Err(walker.invalid("expected , or } after a member")),
                }
            }
        }
        walker.end()
    }
}

/// The reader's buffered bytes, refilled when empty (an interrupted read is retried).
fn fill<R: BufRead>(reader: &mut R) -> std::io::Result<&[u8]> {
    loop {
        match reader.fill_buf() {
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
            Ok(_) => break,
        }
    }
    // Filled: this call returns the same buffer without reading.
    reader.fill_buf()
}

struct Walker<R> {
    reader: R,
    /// Bytes consumed so far, for error messages.
    offset: u64,
    /// Every byte consumed, while recording (at most [`MAX_VALUE`]).
    record: Option<Vec<u8>>,
}

impl<R: BufRead> Walker<R> {
    fn invalid(&self, what: &str) -> WalkError {
        WalkError::Invalid(format!("invalid JSON at byte {}: {what}", self.offset))
    }

    fn truncated(&self) -> WalkError {
        self.invalid("the document ends before it is complete")
    }

    /// Consumes `n` bytes of the reader's buffer.
    fn consume(&mut self, n: usize) -> Result<(), WalkError> {
        if let Some(record) = &mut self.record {
            if record.len() + n > MAX_VALUE {
                return Err(WalkError::Invalid(format!(
                    "an object of more than {} MB without \"resultats\": not an offers file",
                    MAX_VALUE / 1024 / 1024
                )));
            }
            record.extend_from_slice(&self.reader.fill_buf()?[..n]);
        }
        self.reader.consume(n);
        self.offset += n as u64;
        Ok(())
    }

    fn bump(&mut self) -> Result<(), WalkError> {
        self.consume(1)
    }

    /// The next byte that is not white space, left unread; None at the end.
    fn token(&mut self) -> Result<Option<u8>, WalkError> {
        loop {
            let buffer = fill(&mut self.reader)?;
            if buffer.is_empty() {
                return Ok(None);
            }
            match buffer.iter().position(|b| !b.is_ascii_whitespace()) {
                Some(at) => {
                    let byte = buffer[at];
                    self.consume(at)?;
                    return Ok(Some(byte));
                }
                None => {
                    let all = buffer.len();
                    self.consume(all)?;
                }
            }
        }
    }

    /// Nothing but white space is left.
    fn end(&mut self) -> Result<(), WalkError> {
        match self.token()? {
            None => Ok(()),
            Some(_) => Err(self.invalid("more data after the document")),
        }
    }

    /// A member's key and its colon.
    fn key(&mut self) -> Result<String, WalkError> {
        if self.token()? != Some(b'"') {
            return Err(self.invalid("expected a member's name"));
        }
        let mut raw = Vec::new();
        self.value(Some(&mut raw))?;
        let key: String = serde_json::from_slice(&raw)
            .map_err(|e| self.invalid(&format!("a member's name: {e}")))?;
        if self.token()? != Some(b':') {
            return Err(self.invalid("expected : after a member's name"));
        }
        self.bump()?;
        Ok(key)
    }

    /// Reads one value, its bytes appended to `out` when given (at most [`MAX_VALUE`]).
    /// Its structure is checked (brackets, strings); the caller parses what it keeps.
    fn value(&mut self, mut out: Option<&mut Vec<u8>>) -> Result<(), WalkError> {
        let Some(first) = self.token()? else {
            return Err(self.truncated());
        };
        let scalar = !matches!(first, b'{' | b'[' | b'"');
        if scalar && matches!(first, b',' | b':' | b']' | b'}') {
            return Err(self.invalid(&format!("expected a value, found {:?}", char::from(first))));
        }
        let mut open: Vec<u8> = Vec::new();
        let mut in_string = false;
        let mut escaped = false;
        loop {
            let buffer = fill(&mut self.reader)?;
            if buffer.is_empty() {
                // A number or literal may end the document; nothing else may.
                return if scalar {
                    Ok(())
                } else {
                    Err(self.truncated())
                };
            }
            let mut used = 0;
            let mut done = false;
            let mut mismatch = false;
            for &byte in buffer {
                if scalar {
                    if matches!(byte, b',' | b']' | b'}') || byte.is_ascii_whitespace() {
                        done = true;
                        break;
                    }
                    used += 1;
                    continue;
                }
                used += 1;
                if in_string {
                    if escaped {
                        escaped = false;
                    } else if byte == b'\\' {
                        escaped = true;
                    } else if byte == b'"' {
                        in_string = false;
                        if open.is_empty() {
                            done = true;
                            break;
                        }
                    }
                    continue;
                }
                match byte {
                    b'"' => in_string = true,
                    b'{' | b'[' => open.push(byte),
                    b'}' | b']' => {
                        let expected = if byte == b'}' { b'{' } else { b'[' };
                        if open.pop() != Some(expected) {
                            mismatch = true;
                            break;
                        }
                        if open.is_empty() {
                            done = true;
                            break;
                        }
                    }
                    _ => {}
                }
                if open.len() > MAX_DEPTH {
                    mismatch = true;
                    break;
                }
            }
            if let Some(out) = out.as_deref_mut() {
                if out.len() + used > MAX_VALUE {
                    return Err(WalkError::Invalid(format!(
                        "an offer of more than {} MB",
                        MAX_VALUE / 1024 / 1024
                    )));
                }
                out.extend_from_slice(&buffer[..used]);
            }
            self.consume(used)?;
            if mismatch {
                return Err(self.invalid(&format!(
                    "brackets that do not match, or nested deeper than {MAX_DEPTH}"
                )));
            }
            if done {
                return Ok(());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offers(document: &str) -> Result<Vec<String>, String> {
        let reader = std::io::BufReader::with_capacity(7, document.as_bytes());
        match start(reader).map_err(|e| e.to_string())? {
            Start::Whole(bytes) => Ok(vec![format!("whole {}", String::from_utf8(bytes).unwrap())]),
            Start::Offers(mut offers) => {
                let mut all = Vec::new();
                while let Some(offer) = offers.next_offer().map_err(|e| e.to_string())? {
                    all.push(String::from_utf8(offer).unwrap());
                }
                Ok(all)
            }
        }
    }

    #[test]
    fn offers_come_out_of_any_layout() {
        let response = r#"{"filtresPossibles": [{"a": "]}"}], "resultats": [{"id": "A1", "t": "x\"]}"}, {"id": "B2", "n": [1, {"k": 2}]}], "total": 2}"#;
        let expected = [
            r#"{"id": "A1", "t": "x\"]}"}"#,
            r#"{"id": "B2", "n": [1, {"k": 2}]}"#,
        ];
        assert_eq!(offers(response).unwrap(), expected);
        let pretty = serde_json::to_string_pretty(
            &serde_json::from_str::<serde_json::Value>(response).unwrap(),
        )
        .unwrap();
        assert_eq!(offers(&pretty).unwrap().len(), 2);
        assert_eq!(
            offers(r#" [ {"id": "A1"} , 3 ] "#).unwrap(),
            [r#"{"id": "A1"}"#, "3"]
        );
        assert!(offers(r#"{"resultats": []}"#).unwrap().is_empty());
        assert_eq!(
            offers(r#"{"id": "A1", "intitule": "Soudeur"}"#).unwrap(),
            [r#"whole {"id": "A1", "intitule": "Soudeur"}"#]
        );
    }

    #[test]
    fn malformed_documents_are_refused_where_they_break() {
        for (document, error) in [
            (
                r#"{"resultats": [{"id": "A1"}, {"id": "#,
                "ends before it is complete",
            ),
            (
                r#"{"resultats": [{"id": "A1"}]"#,
                "expected , or } after a member",
            ),
            (
                r#"{"resultats": [{"id": "A1"]]}"#,
                "brackets that do not match",
            ),
            (
                r#"{"resultats": [{"id": "A1"} {"id": "B2"}]}"#,
                "expected , or ] after an offer",
            ),
            (
                r#"{"resultats": {"id": "A1"}}"#,
                "\"resultats\" is not an array",
            ),
            (
                r#"[{"id": "A1"}] [{"id": "B2"}]"#,
                "more data after the document",
            ),
            (r#"{"resultats": [,]}"#, "expected a value"),
            ("", "the file is empty"),
        ] {
            let got = offers(document).unwrap_err();
            assert!(got.contains(error), "{document}: {got}");
        }
        let deep = format!(r#"{{"resultats": [{}]}}"#, "[".repeat(200));
        assert!(offers(&deep)
            .unwrap_err()
            .contains("nested deeper than 128"));
    }
}
