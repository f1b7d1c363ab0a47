//! Document parsing in a child process. Parsers of untrusted files can panic, loop,
//! overflow their stack or be subverted; in a child, each of these ends that one request
//! with a clear error while the service stays up. The child is this same executable,
//! run with [`CHILD_ARG`]: the file on its stdin, its limits as its argument, the outcome
//! as one JSON document on its stdout. It runs as an unprivileged user (when the service
//! runs as root), with an empty environment, killed at the time limit, and confines
//! itself before it reads the file ([`confine`]): it dies with the service; memory,
//! CPU, files and processes are limited; every syscall but memory and its pipes is
//! refused.
//! Its answer is read up to a bound.

mod confine;

use std::io::{Read, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{ExitCode, Stdio};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;
use tokio::sync::Semaphore;

pub use confine::{CheckReport, Confinement};

use crate::extract::{self, ExtractError, Extracted, Limits};

/// The first argument that makes the executable a parsing child.
pub const CHILD_ARG: &str = "extract-child";
/// The first argument that makes the executable try, confined, what a hostile parser
/// would, and report what was refused (run by the service at start).
pub const CHECK_ARG: &str = "sandbox-check";

/// The child's exit code when it could not confine itself: it reads nothing then.
const NOT_CONFINED: u8 = 3;
/// Bytes of the child's stderr kept, to tell why it died.
const STDERR_BYTES: u64 = 4096;

/// What the parent hands a child, as its second argument.
#[derive(Serialize, Deserialize)]
struct ChildArgs {
    limits: Limits,
    confinement: Confinement,
}

/// Why parsing in the child gave no text.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error(transparent)]
    Document(#[from] ExtractError),
    /// The parser died (panic, abort, stack overflow, killed by the system).
    #[error("the parser failed on this document")]
    Crashed,
    /// The parser did not finish in time (wall clock or CPU) and was killed.
    #[error("reading the document took more than {} s", .0.as_secs())]
    TimedOut(Duration),
    /// The parser needed more memory than the child may take.
    #[error("reading the document needs more than the {limit_mb} MiB of memory allowed")]
    OutOfMemory { limit_mb: u64 },
    /// The child answered more than any document's text can take.
    #[error("the parser answered more than {0} bytes")]
    AnswerTooLarge(usize),
    /// The child could not be started, confined or spoken to.
    #[error("cannot run the parser: {0}")]
    Spawn(String),
}

/// Runs parsing children: at most `parallel` at once, each killed after `timeout`.
#[derive(Clone)]
pub struct Sandbox {
    program: PathBuf,
    limits: Limits,
    confinement: Confinement,
    /// (uid, gid) the child runs as, when the service runs as root.
    user: Option<(u32, u32)>,
    timeout: Duration,
    permits: Arc<Semaphore>,
}

impl Sandbox {
    pub fn new(
        program: PathBuf,
        limits: Limits,
        confinement: Confinement,
        user: Option<(u32, u32)>,
        timeout: Duration,
        parallel: usize,
    ) -> Self {
        Self {
            program,
            limits,
            confinement,
            user,
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
        let args = ChildArgs {
            limits: self.limits,
            confinement: self.confinement,
        };
        let answer = self
            .run(
                CHILD_ARG,
                &serde_json::to_string(&args).expect("arguments serialize"),
                document,
                self.limits.max_answer_bytes(),
            )
            .await?;
        let outcome: Result<Extracted, ExtractError> =
            serde_json::from_slice(&answer).map_err(|_| SandboxError::Crashed)?;
        outcome.map_err(|e| match e {
            // One error for a limit reached, whether the parser saw it or died of it.
            ExtractError::OutOfMemory => self.out_of_memory(),
            e => SandboxError::Document(e),
        })
    }

    fn out_of_memory(&self) -> SandboxError {
        SandboxError::OutOfMemory {
            limit_mb: self.confinement.memory_bytes / (1024 * 1024),
        }
    }

    /// Runs the child in check mode: what it was refused once confined. An error when
    /// anything was allowed, or the child ran as root.
    pub async fn check(&self) -> Result<CheckReport, SandboxError> {
        let confinement = serde_json::to_string(&self.confinement).expect("limits serialize");
        let answer = self.run(CHECK_ARG, &confinement, &[], 64 * 1024).await?;
        let report: CheckReport = serde_json::from_slice(&answer)
            .map_err(|e| SandboxError::Spawn(format!("unreadable sandbox check: {e}")))?;
        let allowed = report.allowed();
        if !allowed.is_empty() || report.uid == 0 {
            return Err(SandboxError::Spawn(format!(
                "the parsing child is not confined: as uid {}, it could {}",
                report.uid,
                if allowed.is_empty() {
                    "run as root".to_owned()
                } else {
                    allowed.join(", ")
                }
            )));
        }
        Ok(report)
    }

    /// Runs the child with `arg` and `detail`, `input` on its stdin; its stdout, at most
    /// `max_answer` bytes, when it exits well.
    async fn run(
        &self,
        arg: &str,
        detail: &str,
        input: &[u8],
        max_answer: usize,
    ) -> Result<Vec<u8>, SandboxError> {
        let mut command = Command::new(&self.program);
        command
            .arg(arg)
            .arg(detail)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .env_clear()
            .kill_on_drop(true);
        if let Some((uid, gid)) = self.user {
            // Supplementary groups are dropped too when leaving root.
            command.uid(uid).gid(gid);
        }
        let mut child = command
            .spawn()
            .map_err(|e| SandboxError::Spawn(format!("{}: {e}", self.program.display())))?;
        let mut stdin = child.stdin.take().expect("piped stdin");
        let stdout = child.stdout.take().expect("piped stdout");
        let stderr = child.stderr.take().expect("piped stderr");
        let talk = async {
            // Write and read at once: a child may answer before it has read everything.
            let write = async {
                // A child that stops reading early (a bad header) closes the pipe.
                stdin.write_all(input).await.ok();
                drop(stdin);
            };
            let (_, answer) = tokio::join!(write, read_at_most(stdout, max_answer as u64 + 1));
            let answer = answer.map_err(|e| SandboxError::Spawn(e.to_string()))?;
            if answer.len() > max_answer {
                // Dropping `child` kills it.
                return Err(SandboxError::AnswerTooLarge(max_answer));
            }
            // Its stdout closed: the child is ending; what it said of why (a panic, a
            // failed allocation) is short.
            let errors = read_at_most(stderr, STDERR_BYTES).await.unwrap_or_default();
            let status = child
                .wait()
                .await
                .map_err(|e| SandboxError::Spawn(e.to_string()))?;
            if status.success() {
                return Ok(answer);
            }
            let errors = String::from_utf8_lossy(&errors).into_owned();
            Err(if status.signal() == Some(libc::SIGXCPU) {
                SandboxError::TimedOut(self.timeout)
            } else if errors.contains("memory allocation of") {
                self.out_of_memory()
            } else if status.code() == Some(NOT_CONFINED.into()) {
                SandboxError::Spawn(errors.trim().to_owned())
            } else {
                SandboxError::Crashed
            })
        };
        match tokio::time::timeout(self.timeout, talk).await {
            Ok(outcome) => outcome,
            // Dropping `child` kills it (kill_on_drop).
            Err(_) => Err(SandboxError::TimedOut(self.timeout)),
        }
    }
}

/// Up to `limit` bytes of `pipe`; the rest is left unread.
async fn read_at_most(pipe: impl AsyncRead + Unpin, limit: u64) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    pipe.take(limit).read_to_end(&mut bytes).await?;
    Ok(bytes)
}

/// Confines this process, or ends it: nothing is read unconfined.
fn confine_or_exit(confinement: &Confinement) -> Result<(), ExitCode> {
    confine::confine(confinement).map_err(|e| {
        eprintln!("cannot confine the parsing child: {e}");
        ExitCode::from(NOT_CONFINED)
    })
}

/// The child's side: confined, the document from stdin, the outcome to stdout.
pub fn child_main(args_json: &str) -> ExitCode {
    let Ok(args) = serde_json::from_str::<ChildArgs>(args_json) else {
        return ExitCode::from(2);
    };
    if let Err(code) = confine_or_exit(&args.confinement) {
        return code;
    }
    let mut document = Vec::new();
    let outcome = match std::io::stdin().read_to_end(&mut document) {
        Ok(_) => extract::extract(&document, &args.limits),
        Err(e) if e.kind() == std::io::ErrorKind::OutOfMemory => {
            drop(document);
            Err(ExtractError::OutOfMemory)
        }
        Err(_) => return ExitCode::from(2),
    };
    answer(&outcome)
}

/// The check's side: confined, what a hostile parser would try, the report to stdout.
pub fn check_main(confinement_json: &str) -> ExitCode {
    let Ok(confinement) = serde_json::from_str::<Confinement>(confinement_json) else {
        return ExitCode::from(2);
    };
    if let Err(code) = confine_or_exit(&confinement) {
        return code;
    }
    answer(&confine::try_escapes(&confinement))
}

fn answer(outcome: &impl Serialize) -> ExitCode {
    let mut out = std::io::stdout().lock();
    let written = serde_json::to_writer(&mut out, outcome).is_ok() && out.flush().is_ok();
    if written {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
