//! Why an input could not be read as a snapshot at all. Damaged text never errors: it
//! parses partially and lists what was skipped.

/// A fatal problem with an input; callers add the file name or URL.
#[derive(Debug, thiserror::Error)]
pub enum DumpError {
    /// The input had no bytes.
    #[error("empty input")]
    Empty,
    /// The input was binary but not a readable profile.proto.
    #[error("binary input is not a goroutine profile: {0}")]
    Profile(#[from] culprit_profile::ParseError),
    /// A valid profile of another kind (CPU, heap, ...).
    #[error("profile holds {types}, not goroutines")]
    NotGoroutines {
        /// The sample types found, `kind/unit`.
        types: String,
    },
}
