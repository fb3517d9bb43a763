//! Legacy profile formats that `go tool pprof` still reads.

use crate::error::ParseError;
use crate::model::Profile;

/// Why a legacy parse did not produce a profile.
#[derive(Debug)]
pub enum LegacyError {
    /// The data is not in any legacy format; the string says why.
    NotLegacy(String),
    /// The data is a legacy profile, but a broken one.
    Invalid(ParseError),
}

/// Tries every legacy format in turn.
pub fn parse(_data: &[u8]) -> Result<Profile, LegacyError> {
    Err(LegacyError::NotLegacy("no legacy format recognized".into()))
}
