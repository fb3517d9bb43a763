//! The pprof profile model shared by every part of culprit.
//!
//! Bytes in, values out: [`parse`] reads gzipped or raw `profile.proto` and the legacy
//! formats `go tool pprof` still accepts; [`encode_gzip`] writes a profile pprof reads.
//! Transforms and aggregation live beside the model so every view computes the same numbers.

pub mod codec;
pub mod error;
pub mod folded;
pub mod graph;
pub mod legacy;
pub mod model;
#[allow(missing_docs, clippy::all)]
pub mod proto;
pub mod text;
pub mod transform;

pub use codec::{encode_gzip, encode_raw};
pub use error::ParseError;
pub use model::*;

/// Parses a profile in any format pprof reads: gzipped or raw `profile.proto`, or a legacy
/// text/binary profile, or folded stacks (`a;b;c 10` lines).
pub fn parse(data: &[u8]) -> Result<Profile, ParseError> {
    if data.is_empty() {
        return Err(ParseError::Empty);
    }
    let inflated;
    let data = if codec::is_gzip(data) {
        inflated = codec::gunzip(data)?;
        if inflated.is_empty() {
            return Err(ParseError::Empty);
        }
        &inflated[..]
    } else {
        data
    };
    match codec::decode_proto(data) {
        Ok(p) => Ok(p),
        Err(ParseError::Unrecognized { proto, .. }) => match legacy::parse(data) {
            Ok(p) => Ok(p),
            Err(legacy::LegacyError::NotLegacy(why)) => match folded::parse(data) {
                Ok(p) => Ok(p),
                Err(f) => Err(ParseError::Unrecognized {
                    proto,
                    legacy: format!("{why}; not folded stacks either: {f}"),
                }),
            },
            Err(legacy::LegacyError::Invalid(e)) => Err(e),
        },
        Err(e) => Err(e),
    }
}
