//! The parsing child's confinement, which the child applies to itself before it reads
//! a byte of the document: resource limits, then a syscall filter that leaves it its
//! memory, its three pipes and its exit. No file can be opened or written, no socket
//! made, no process started; anything else a parser tries fails with EPERM. (The parent
//! has already dropped root before the child's program started: `Sandbox::command`.)

use std::collections::BTreeMap;

use rustix::process::{self, Resource, Rlimit, Signal};

use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule,
};
use serde::{Deserialize, Serialize};

/// What the parsing child may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confinement {
    /// Address space (RLIMIT_AS): past it an allocation fails and the child ends.
    pub memory_bytes: u64,
    /// CPU time (RLIMIT_CPU): past it the kernel sends SIGXCPU.
    pub cpu_seconds: u64,
}

/// File descriptors the child may hold: its stdin, stdout and stderr, no more.
const OPEN_FILES: u64 = 3;

/// The system calls a confined child may make: memory, its pipes, signals (a panic's
/// abort, to itself only), time, randomness (hash seeds), its exit. Nothing that names a path, makes a
/// socket or a process.
const ALLOWED: &[i64] = &[
    libc::SYS_read,
    libc::SYS_write,
    libc::SYS_readv,
    libc::SYS_writev,
    libc::SYS_close,
    libc::SYS_lseek,
    libc::SYS_fstat,
    libc::SYS_mmap,
    libc::SYS_munmap,
    libc::SYS_mremap,
    libc::SYS_mprotect,
    libc::SYS_brk,
    libc::SYS_madvise,
    libc::SYS_futex,
    libc::SYS_rt_sigaction,
    libc::SYS_rt_sigprocmask,
    libc::SYS_rt_sigreturn,
    libc::SYS_sigaltstack,
    libc::SYS_gettid,
    libc::SYS_getpid,
    libc::SYS_getuid,
    libc::SYS_prlimit64,
    libc::SYS_clock_gettime,
    libc::SYS_getrandom,
    libc::SYS_sched_yield,
    libc::SYS_sched_getaffinity,
    libc::SYS_exit,
    libc::SYS_exit_group,
];

/// Applies the limits and the syscall filter to this process, for good.
pub fn confine(confinement: &Confinement) -> Result<(), String> {
    // The child dies with the service (a parent gone also closes its stdin, so a child
    // started just before ends anyway).
    process::set_parent_process_death_signal(Some(Signal::KILL))
        .map_err(|e| format!("cannot tie the child to the service: {e}"))?;
    for (resource, name, value) in [
        (Resource::As, "address space", confinement.memory_bytes),
        (Resource::Cpu, "CPU time", confinement.cpu_seconds),
        (Resource::Fsize, "file size", 0),
        (Resource::Nofile, "open files", OPEN_FILES),
        (Resource::Nproc, "processes", 0),
        (Resource::Core, "core dumps", 0),
    ] {
        let limit = Rlimit {
            current: Some(value),
            maximum: Some(value),
        };
        process::setrlimit(resource, limit).map_err(|e| format!("cannot limit {name}: {e}"))?;
    }
    let mut rules = ALLOWED
        .iter()
        .map(|&call| (call, Vec::new()))
        .collect::<BTreeMap<_, _>>();
    // A signal to itself only (a panic's abort): never to another process of its user,
    // such as another parsing child.
    let own = SeccompCondition::new(
        0,
        SeccompCmpArgLen::Dword,
        SeccompCmpOp::Eq,
        u64::from(std::process::id()),
    )
    .and_then(|condition| SeccompRule::new(vec![condition]))
    .map_err(|e| format!("cannot build the syscall filter: {e}"))?;
    rules.insert(libc::SYS_tgkill, vec![own]);
    let arch = std::env::consts::ARCH
        .try_into()
        .map_err(|e| format!("no syscall filter for this architecture: {e}"))?;
    let filter: BpfProgram = SeccompFilter::new(
        rules,
        SeccompAction::Errno(libc::EPERM as u32),
        SeccompAction::Allow,
        arch,
    )
    .and_then(TryInto::try_into)
    .map_err(|e| format!("cannot build the syscall filter: {e}"))?;
    // Also sets no_new_privs, so that nothing the child could still run gains privileges.
    seccompiler::apply_filter(&filter).map_err(|e| format!("cannot filter syscalls: {e}"))
}

/// What a confined child was refused, tried by `cv-ingestion sandbox-check` (which the
/// service runs at start): each entry is an attempt and whether the system refused it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckReport {
    /// The user the child ran as.
    pub uid: u32,
    pub attempts: BTreeMap<String, bool>,
}

impl CheckReport {
    /// The attempts the system refused.
    pub fn refused(&self) -> Vec<&str> {
        self.attempts
            .iter()
            .filter(|(_, refused)| **refused)
            .map(|(name, _)| name.as_str())
            .collect()
    }

    /// The attempts that should have been refused and were not.
    pub fn allowed(&self) -> Vec<&str> {
        self.attempts
            .iter()
            .filter(|(_, refused)| !**refused)
            .map(|(name, _)| name.as_str())
            .collect()
    }
}

/// Tries, once confined, what a hostile document's parser might: reach the network,
/// read or write a file, start a process, take more memory than allowed.
pub fn try_escapes(confinement: &Confinement) -> CheckReport {
    let too_much = usize::try_from(confinement.memory_bytes).unwrap_or(usize::MAX);
    let attempts = [
        (
            "open a network socket",
            std::net::UdpSocket::bind("127.0.0.1:0").is_err(),
        ),
        (
            "open a local socket",
            std::os::unix::net::UnixDatagram::unbound().is_err(),
        ),
        ("read a file", std::fs::File::open("/etc/passwd").is_err()),
        ("create a file", std::fs::File::create(CHECK_FILE).is_err()),
        (
            "start a process",
            std::process::Command::new("/bin/true").status().is_err(),
        ),
        (
            "take more memory than allowed",
            Vec::<u8>::new().try_reserve_exact(too_much).is_err(),
        ),
    ];
    CheckReport {
        uid: process::getuid().as_raw(),
        attempts: attempts
            .into_iter()
            .map(|(name, refused)| (name.to_owned(), refused))
            .collect(),
    }
}

/// The file the check tries to create.
const CHECK_FILE: &str = "/tmp/jobmatch-sandbox-check";

#[cfg(test)]
mod tests {
    use super::*;

    /// The check can tell: in this test process, unconfined, every attempt succeeds
    /// (so a confined child's "refused" is the confinement's doing).
    #[test]
    fn unconfined_every_escape_succeeds() {
        let report = try_escapes(&Confinement {
            memory_bytes: 1024 * 1024,
            cpu_seconds: 10,
        });
        std::fs::remove_file(CHECK_FILE).ok();
        assert_eq!(report.attempts.len(), 6, "{report:?}");
        assert!(report.refused().is_empty(), "{report:?}");
    }
}
