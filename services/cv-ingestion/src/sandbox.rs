//! Document parsing in a child process. Parsers of untrusted files can panic, loop or
//! overflow their stack; in a child, each of these ends that one request with a clear
//! error (the child is killed after the time limit) while the service stays up. The
//! child is this same executable, run with [`CHILD_ARG`]: the file on its stdin, the
//! limits as its argument, the outcome as one JSON document on its stdout.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{ExitCode, Stdio};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;
use tokio::sync::Semaphore;

use crate::extract::{self, ExtractError, Extracted, Limits};

/// The first argument that makes the executable a parsing child.
pub const CHILD_ARG: &str = "extract-child";

/// Why parsing in the child gave no text.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error(transparent)]
    Document(#[from] ExtractError),
    /// The parser died (panic, abort, stack overflow, killed by the system).
    #[error("the parser failed on this document")]
    Crashed,
    /// The parser did not finish in time and was killed.
    #[error("reading the document took more than {} s", .0.as_secs())]
    TimedOut(Duration),
    /// The child could not be started or spoken to.
    #[error("cannot run the parser: {0}")]
    Spawn(String),
}

/// Runs parsing children: at most `parallel` at once, each killed after `timeout`.
#[derive(Clone)]
pub struct Sandbox {
    program: PathBuf,
    limits: Limits,
    timeout: Duration,
    permits: Arc<Semaphore>,
}

impl Sandbox {
    pub fn new(program: PathBuf, limits: Limits, timeout: Duration, parallel: usize) -> Self {
        Self {
            program,
            limits,
            timeout,
            permits: Arc::new(Semaphore::new(parallel)),
        }
    }

    /// The text of `document`, parsed in a child process.
    pub async fn extract(&self, document: &[u8]) -> Result<Extracted, SandboxError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| SandboxError::Spawn(e.to_string()))?;
        let limits = serde_json::to_string(&self.limits).expect("limits serialize");
        let mut child = Command::new(&self.program)
            .arg(CHILD_ARG)
            .arg(limits)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .env_clear()
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| SandboxError::Spawn(format!("{}: {e}", self.program.display())))?;
        let mut stdin = child.stdin.take().expect("piped stdin");
        let mut stdout = child.stdout.take().expect("piped stdout");
        let talk = async {
            // Write and read at once: a child may answer before it has read everything.
            let write = async {
                // A child that stops reading early (a bad header) closes the pipe.
                stdin.write_all(document).await.ok();
                drop(stdin);
            };
            let mut answer = Vec::new();
            let (_, read) = tokio::join!(write, stdout.read_to_end(&mut answer));
            read.map_err(|e| SandboxError::Spawn(e.to_string()))?;
            let status = child
                .wait()
                .await
                .map_err(|e| SandboxError::Spawn(e.to_string()))?;
            if !status.success() {
                return Err(SandboxError::Crashed);
            }
            let outcome: Result<Extracted, ExtractError> =
                serde_json::from_slice(&answer).map_err(|_| SandboxError::Crashed)?;
            Ok(outcome?)
        };
        match tokio::time::timeout(self.timeout, talk).await {
            Ok(outcome) => outcome,
            // Dropping `child` kills it (kill_on_drop).
            Err(_) => Err(SandboxError::TimedOut(self.timeout)),
        }
    }
}

/// The child's side: the document from stdin, the outcome to stdout.
pub fn child_main(limits_json: &str) -> ExitCode {
    let Ok(limits) = serde_json::from_str::<Limits>(limits_json) else {
        return ExitCode::from(2);
    };
    let mut document = Vec::new();
    if std::io::stdin().read_to_end(&mut document).is_err() {
        return ExitCode::from(2);
    }
    let outcome = extract::extract(&document, &limits);
    let mut out = std::io::stdout().lock();
    let written = serde_json::to_writer(&mut out, &outcome).is_ok() && out.flush().is_ok();
    if written {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
