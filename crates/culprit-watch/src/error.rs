//! Errors of the watch library.

use std::path::PathBuf;

/// A file's content did not have the shape the kernel or Go runtime writes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: line {line}: {problem}")]
pub struct ParseError {
    /// Which file (a path or a kind such as `/proc/PID/stat`).
    pub file: String,
    /// 1-based line number of the problem.
    pub line: usize,
    /// What was wrong.
    pub problem: String,
}

impl ParseError {
    pub(crate) fn new(file: &str, line: usize, problem: impl Into<String>) -> Self {
        Self {
            file: file.to_string(),
            line,
            problem: problem.into(),
        }
    }
}

/// Everything that can go wrong while sampling.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file's content could not be parsed.
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// A file could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The watched process does not exist (any more).
    #[error("process {0} not found")]
    NoProcess(u32),
    /// The cgroup of the target could not be located.
    #[error("cgroup: {0}")]
    Cgroup(String),
    /// The Go service did not answer with runtime statistics.
    #[error("go runtime stats from {url}: {problem}")]
    Go {
        /// The URL asked.
        url: String,
        /// What went wrong.
        problem: String,
    },
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}
