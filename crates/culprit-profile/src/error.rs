//! Errors from reading and writing profiles.

/// Why a profile could not be read or written. Messages name the problem and, where it
/// applies, the byte offset or line; callers add the file name.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    /// The input had no bytes.
    #[error("empty input")]
    Empty,
    /// The input could not be read.
    #[error("reading: {0}")]
    Read(String),
    /// The gzip stream was corrupt or truncated.
    #[error("decompressing gzip: {0}")]
    Gzip(String),
    /// The decompressed data exceeded the size limit.
    #[error("decompressed profile exceeds the {limit}-byte limit")]
    TooLarge {
        /// The limit in bytes.
        limit: u64,
    },
    /// The bytes were not a profile.proto message nor any legacy format pprof reads.
    #[error("not a pprof profile: {proto}; not a legacy profile either: {legacy}")]
    Unrecognized {
        /// Why protobuf decoding failed.
        proto: String,
        /// Why the legacy parsers rejected it.
        legacy: String,
    },
    /// The protobuf decoded but its contents are inconsistent.
    #[error("malformed profile: {0}")]
    Malformed(String),
    /// A legacy text or binary profile had an error at a position.
    #[error("legacy profile, {at}: {msg}")]
    Legacy {
        /// Where: `line N` or `byte offset N`.
        at: String,
        /// What was wrong.
        msg: String,
    },
}

impl ParseError {
    pub(crate) fn malformed(msg: impl Into<String>) -> Self {
        Self::Malformed(msg.into())
    }
}
