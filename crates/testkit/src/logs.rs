//! Captures the process's logs (JSON lines, as in production) so that tests can assert
//! on what a request logged.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use platform::config::LogFormat;

#[derive(Clone, Default)]
pub struct LogCapture {
    buf: Arc<Mutex<Vec<u8>>>,
}

struct SharedWriter(Arc<Mutex<Vec<u8>>>);

impl Write for SharedWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .expect("log buffer lock")
            .extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

static CAPTURE: OnceLock<LogCapture> = OnceLock::new();

/// Installs the capturing subscriber (once per process) and returns it.
pub fn capture() -> &'static LogCapture {
    CAPTURE.get_or_init(|| {
        let capture = LogCapture::default();
        let buf = capture.buf.clone();
        platform::telemetry::init_with_writer(
            LogFormat::Json,
            move || SharedWriter(buf.clone()),
            None,
        )
        .expect("another log subscriber is already installed");
        capture
    })
}

impl LogCapture {
    /// Every line logged so far, parsed.
    pub fn lines(&self) -> Vec<serde_json::Value> {
        let buf = self.buf.lock().expect("log buffer lock");
        String::from_utf8_lossy(&buf)
            .lines()
            .map(|line| serde_json::from_str(line).expect("every log line is JSON"))
            .collect()
    }

    /// Lines whose request span belongs to `service` and carries `request_id`.
    pub fn request_lines(&self, service: &str, request_id: &str) -> Vec<serde_json::Value> {
        self.lines()
            .into_iter()
            .filter(|line| {
                line["spans"].as_array().is_some_and(|spans| {
                    spans
                        .iter()
                        .any(|span| span["service"] == service && span["request_id"] == request_id)
                })
            })
            .collect()
    }
}
