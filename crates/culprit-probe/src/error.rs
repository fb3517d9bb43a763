//! Errors of the probes, each phrased so the user knows what to do next.

use std::path::PathBuf;

/// Everything that can go wrong while sampling, unwinding, symbolizing or stopping threads.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// The target process does not exist (any more).
    #[error("process {0} not found: it exited or never existed (check the pid with `ps`)")]
    NoSuchProcess(u32),
    /// The kernel refused perf_event_open or ptrace.
    #[error(
        "no permission to {what} process {pid}: run as root, or lower \
         /proc/sys/kernel/perf_event_paranoid (now {paranoid}) with \
         `sysctl kernel.perf_event_paranoid=1`, or grant CAP_PERFMON/CAP_SYS_PTRACE"
    )]
    Permission {
        /// What was refused (`sample`, `trace`).
        what: &'static str,
        /// The target.
        pid: u32,
        /// Content of /proc/sys/kernel/perf_event_paranoid, or `unknown`.
        paranoid: String,
    },
    /// A system call failed for another reason.
    #[error("{call} failed for {context}: {source}")]
    Sys {
        /// The call that failed.
        call: &'static str,
        /// What it was applied to.
        context: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A line of /proc/PID/maps did not parse.
    #[error("{origin} line {line}: {problem}")]
    Maps {
        /// Where the text came from.
        origin: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        problem: String,
    },
    /// A perf ring buffer record was malformed.
    #[error("perf record at byte offset {offset}: {problem}")]
    Record {
        /// Offset within the record.
        offset: usize,
        /// What is wrong.
        problem: &'static str,
    },
    /// Starting the command to profile failed.
    #[error("cannot start {command}: {source}")]
    Spawn {
        /// The program.
        command: String,
        /// The OS error.
        source: std::io::Error,
    },
}

impl ProbeError {
    /// Wraps the current `errno` of a failed call.
    pub(crate) fn last_os(call: &'static str, context: impl Into<String>) -> Self {
        ProbeError::Sys {
            call,
            context: context.into(),
            source: std::io::Error::last_os_error(),
        }
    }

    /// Classifies an OS error from an operation on process `pid`.
    pub(crate) fn for_process(
        call: &'static str,
        what: &'static str,
        pid: u32,
        source: std::io::Error,
    ) -> Self {
        match source.raw_os_error() {
            Some(libc::ESRCH) | Some(libc::ENOENT) => ProbeError::NoSuchProcess(pid),
            Some(libc::EACCES) | Some(libc::EPERM) => ProbeError::Permission {
                what,
                pid,
                paranoid: std::fs::read_to_string("/proc/sys/kernel/perf_event_paranoid")
                    .map(|s| s.trim().to_string())
                    .unwrap_or_else(|_| "unknown".into()),
            },
            _ => ProbeError::Sys {
                call,
                context: format!("process {pid}"),
                source,
            },
        }
    }
}
