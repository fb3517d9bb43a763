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

use std::io::Read;

pub use codec::{encode_gzip, encode_raw};
pub use error::ParseError;
pub use model::*;

/// Parses a profile in any format pprof reads: gzipped or raw `profile.proto`, or a legacy
/// text/binary profile, or folded stacks (`a;b;c 10` lines).
pub fn parse(data: &[u8]) -> Result<Profile, ParseError> {
    if data.is_empty() {
        return Err(ParseError::Empty);
    }
    if codec::is_gzip(data) {
        parse_raw(&codec::gunzip(data)?)
    } else {
        parse_raw(data)
    }
}

/// [`parse`] reading from `r`, inflating gzip as it reads, so a large gzipped profile is
/// never in memory twice (compressed and inflated) while it is decoded.
pub fn parse_reader(mut r: impl Read) -> Result<Profile, ParseError> {
    let mut magic = Vec::with_capacity(2);
    (&mut r)
        .take(2)
        .read_to_end(&mut magic)
        .map_err(|e| ParseError::Read(e.to_string()))?;
    if magic.is_empty() {
        return Err(ParseError::Empty);
    }
    let mut r = std::io::Cursor::new(magic).chain(r);
    let data = if codec::is_gzip(r.get_ref().0.get_ref()) {
        codec::gunzip_reader(r)?
    } else {
        let mut data = Vec::new();
        r.read_to_end(&mut data)
            .map_err(|e| ParseError::Read(e.to_string()))?;
        data
    };
    parse_raw(&data)
}

/// Parses uncompressed data: profile.proto first, then the legacy formats, then folded
/// stacks.
fn parse_raw(data: &[u8]) -> Result<Profile, ParseError> {
    if data.is_empty() {
        return Err(ParseError::Empty);
    }
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
