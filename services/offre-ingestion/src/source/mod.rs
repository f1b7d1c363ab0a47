//! Offer files: France Travail search responses (`{"resultats": [...]}`, possibly
//! pretty-printed, possibly one line of a gigabyte), JSON arrays of offers, or JSON lines
//! of offers; gzip accepted (detected from the content, not the name).
//!
//! Both are streamed, in memory bounded by the largest offer ([`MAX_VALUE`]) and one
//! chunk, whatever the file's size. JSON lines: a line that is not JSON is quarantined
//! and the run goes on. A document (a search response or an array) is read twice: a
//! first pass checks it whole and counts its offers, so that a truncated or corrupt one
//! ends the run with a clear error before anything is stored (a partial full sync would
//! archive the offers of its missing end); the second hands its offers out.

mod document;

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use flate2::read::MultiGzDecoder;
use serde::de::IgnoredAny;
use serde_json::Value;

use self::document::{Offers, Start, WalkError};
use crate::pipeline::Item;

/// Largest JSON value read whole: a line of JSON lines, or one offer of a document.
/// Past it a line means the file is not JSON lines (it is then read as one document).
const MAX_VALUE: usize = 16 * 1024 * 1024;
/// Bytes of an unreadable line kept in the quarantine.
const EXCERPT: usize = 200;

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not an offers file: {reason}")]
    Format { path: PathBuf, reason: String },
}

/// Reads an offers file, chunk by chunk.
pub struct OfferFile {
    path: PathBuf,
    /// Offers parsed but not handed out yet.
    ready: std::vec::IntoIter<Item>,
    /// JSON lines still to read (None for a document, or at the end).
    lines: Option<Reader>,
    line_no: usize,
    /// A document's offers still to hand out.
    offers: Option<Offers<Reader>>,
    /// Bytes of the file (compressed, if it is) read so far, and its size.
    read: Arc<AtomicU64>,
    size: u64,
    /// A document's offers: how many it holds, how many were handed out.
    total: u64,
    handed: u64,
}

type Reader = Box<dyn BufRead + Send>;

/// How far through a file the reading is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Position {
    /// JSON lines: bytes of the file read, of its size.
    Bytes { read: u64, size: u64 },
    /// A whole document: offers handed out, of those it holds.
    Offers { handed: u64, total: u64 },
}

/// Counts the bytes read through it.
struct Counted<R> {
    inner: R,
    read: Arc<AtomicU64>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// The file's bytes, unzipped if it is gzip, and the counter of bytes read from disk.
fn open_reader(path: &Path) -> Result<(Reader, Arc<AtomicU64>, u64), SourceError> {
    let io = |source| SourceError::Io {
        path: path.to_owned(),
        source,
    };
    let file = File::open(path).map_err(io)?;
    let size = file.metadata().map_err(io)?.len();
    let read = Arc::new(AtomicU64::new(0));
    let mut file = BufReader::new(Counted {
        inner: file,
        read: read.clone(),
    });
    let gzip = file.fill_buf().map_err(io)?.starts_with(&[0x1f, 0x8b]);
    let reader: Reader = if gzip {
        Box::new(BufReader::new(MultiGzDecoder::new(file)))
    } else {
        Box::new(file)
    };
    Ok((reader, read, size))
}

impl OfferFile {
    pub fn open(path: &Path) -> Result<Self, SourceError> {
        let path = path.to_owned();
        let (mut reader, read, size) = open_reader(&path)?;
        let format = |reason: String| SourceError::Format {
            path: path.clone(),
            reason,
        };
        let start = first_byte(&mut reader).map_err(|e| format(e.to_string()))?;
        match start {
            None => return Err(format("the file is empty".into())),
            Some(b'{' | b'[') => {}
            Some(_) => {
                let head = reader.fill_buf().map_err(|e| format(e.to_string()))?;
                return Err(format(format!(
                    "it starts with {:?}; expected a JSON object or array",
                    excerpt(head)
                )));
            }
        }
        let mut file = Self {
            path: path.clone(),
            ready: Vec::new().into_iter(),
            lines: None,
            line_no: 0,
            offers: None,
            read,
            size,
            total: 0,
            handed: 0,
        };
        let first = read_first_line(&mut reader).map_err(|e| format(e.to_string()))?;
        if first.ends_with(b"\n") || first.len() <= MAX_VALUE {
            // A complete value on the first line: JSON lines.
            if let Ok(value) = serde_json::from_slice::<Value>(first.trim_ascii()) {
                file.ready = document_items(value).map_err(format)?.into_iter();
                file.lines = Some(reader);
                file.line_no = 1;
                return Ok(file);
            }
        }
        // Otherwise one document: checked and counted first, then read again.
        let whole: Reader = Box::new(std::io::Cursor::new(first).chain(reader));
        let walk = |e: WalkError| match e {
            WalkError::Io(e) => format(e.to_string()),
            WalkError::Invalid(reason) => format(reason),
        };
        match document::start(whole).map_err(walk)? {
            Start::Whole(bytes) => {
                let value = serde_json::from_slice(&bytes)
                    .map_err(|e| format(format!("invalid JSON: {e}")))?;
                file.ready = document_items(value).map_err(format)?.into_iter();
                file.total = file.ready.len() as u64;
            }
            Start::Offers(mut offers) => {
                while let Some(offer) = offers.next_offer().map_err(walk)? {
                    serde_json::from_slice::<IgnoredAny>(&offer).map_err(|e| {
                        format(format!("invalid JSON in offer {}: {e}", file.total + 1))
                    })?;
                    file.total += 1;
                }
                let (mut reader, read, _) = open_reader(&path)?;
                first_byte(&mut reader).map_err(|e| format(e.to_string()))?;
                match document::start(reader).map_err(walk)? {
                    Start::Offers(offers) => file.offers = Some(offers),
                    Start::Whole(_) => return Err(format("the file changed while read".into())),
                }
                file.read = read;
            }
        }
        Ok(file)
    }

    pub fn position(&self) -> Position {
        if self.total > 0 {
            Position::Offers {
                handed: self.handed,
                total: self.total,
            }
        } else {
            Position::Bytes {
                read: self.read.load(Ordering::Relaxed),
                size: self.size,
            }
        }
    }

    /// Up to `max` items; empty at the end of the file.
    pub fn next_chunk(&mut self, max: usize) -> Result<Vec<Item>, SourceError> {
        let mut chunk: Vec<Item> = self.ready.by_ref().take(max).collect();
        while let Some(offers) = self.offers.as_mut().filter(|_| chunk.len() < max) {
            let format = |reason: String| SourceError::Format {
                path: self.path.clone(),
                reason,
            };
            // Checked by the first pass: an error here means the file changed since.
            let offer = offers.next_offer().map_err(|e| format(e.to_string()))?;
            let Some(offer) = offer else {
                self.offers = None;
                break;
            };
            let value = serde_json::from_slice(&offer)
                .map_err(|e| format(format!("the file changed while read: {e}")))?;
            chunk.push(Item::Payload(value));
        }
        self.handed += chunk.len() as u64;
        while chunk.len() < max {
            let Some(reader) = self.lines.as_mut() else {
                break;
            };
            let line = read_line(reader).map_err(|e| SourceError::Format {
                path: self.path.clone(),
                reason: format!("line {}: {e}", self.line_no + 1),
            })?;
            self.line_no += 1;
            let Some(line) = line else {
                self.lines = None;
                break;
            };
            let line = line.trim_ascii();
            if line.is_empty() {
                continue;
            }
            match serde_json::from_slice::<Value>(line) {
                Ok(value) => match line_items(value) {
                    Ok(items) => {
                        self.ready = items.into_iter();
                        chunk.extend(self.ready.by_ref().take(max - chunk.len()));
                    }
                    Err(reason) => chunk.push(unreadable(self.line_no, line, &reason)),
                },
                Err(e) => chunk.push(unreadable(self.line_no, line, &format!("not JSON: {e}"))),
            }
        }
        Ok(chunk)
    }
}

fn unreadable(line_no: usize, line: &[u8], reason: &str) -> Item {
    Item::Unreadable {
        excerpt: excerpt(line),
        reason: format!("line {line_no}: {reason}"),
    }
}

/// The first byte that is not white space, left unread; None for an empty file.
fn first_byte(reader: &mut Reader) -> std::io::Result<Option<u8>> {
    loop {
        let buffer = reader.fill_buf()?;
        if buffer.is_empty() {
            return Ok(None);
        }
        match buffer.iter().position(|b| !b.is_ascii_whitespace()) {
            Some(at) => {
                let byte = buffer[at];
                reader.consume(at);
                return Ok(Some(byte));
            }
            None => {
                let all = buffer.len();
                reader.consume(all);
            }
        }
    }
}

/// The first line, with its end, or its first [`MAX_VALUE`] + 1 bytes when it is longer.
fn read_first_line(reader: &mut Reader) -> std::io::Result<Vec<u8>> {
    let mut line = Vec::new();
    reader
        .by_ref()
        .take(MAX_VALUE as u64 + 1)
        .read_until(b'\n', &mut line)?;
    Ok(line)
}

/// Reads one line (without its end), refusing lines longer than [`MAX_VALUE`].
fn read_line(reader: &mut Reader) -> std::io::Result<Option<Vec<u8>>> {
    let mut line = Vec::new();
    let read = reader
        .by_ref()
        .take(MAX_VALUE as u64 + 1)
        .read_until(b'\n', &mut line)?;
    if read == 0 {
        return Ok(None);
    }
    if line.len() > MAX_VALUE {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "a line of JSON lines longer than {} MB",
                MAX_VALUE / 1024 / 1024
            ),
        ));
    }
    Ok(Some(line))
}

fn excerpt(bytes: &[u8]) -> String {
    let end = bytes.len().min(EXCERPT);
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

/// The offers of a whole document: a search response, an array of offers, or one offer.
fn document_items(value: Value) -> Result<Vec<Item>, String> {
    match value {
        Value::Object(ref map) if map.contains_key("resultats") => line_items(value),
        Value::Object(ref map) if !(map.contains_key("id") || map.contains_key("intitule")) => {
            let mut keys: Vec<&str> = map.keys().map(String::as_str).take(8).collect();
            keys.sort_unstable();
            Err(format!(
                "expected a France Travail search response ({{\"resultats\": [...]}}), an array \
                 of offers or JSON lines of offers; found an object with keys {keys:?}"
            ))
        }
        other => line_items(other),
    }
}

/// The offers of one JSON value: a search response's `resultats`, an array's elements,
/// or the value itself as one offer.
fn line_items(value: Value) -> Result<Vec<Item>, String> {
    match value {
        Value::Object(mut map) if map.contains_key("resultats") => match map.remove("resultats") {
            Some(Value::Array(offers)) => Ok(offers.into_iter().map(Item::Payload).collect()),
            _ => Err("\"resultats\" is not an array".into()),
        },
        Value::Array(offers) => Ok(offers.into_iter().map(Item::Payload).collect()),
        offer @ Value::Object(_) => Ok(vec![Item::Payload(offer)]),
        other => Err(format!(
            "expected an offer object, found {}",
            excerpt(other.to_string().as_bytes())
        )),
    }
}
