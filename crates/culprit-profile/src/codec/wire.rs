//! A minimal protobuf wire-format reader over a byte slice: varints, keys and
//! length-delimited fields, each checked against the bytes actually present.

use crate::error::ParseError;

/// Wire type of a varint field.
pub(crate) const VARINT: u8 = 0;
/// Wire type of a 64-bit field.
pub(crate) const FIXED64: u8 = 1;
/// Wire type of a length-delimited field.
pub(crate) const LEN: u8 = 2;
/// Wire type of a 32-bit field.
pub(crate) const FIXED32: u8 = 5;

/// A cursor over a protobuf message; `base` is the message's offset in the whole input,
/// so errors name absolute byte offsets.
#[derive(Clone, Copy)]
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    base: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8], base: usize) -> Self {
        Self { buf, pos: 0, base }
    }

    /// True when every byte has been read.
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }

    /// Absolute offset of the next byte.
    #[inline]
    pub(crate) fn offset(&self) -> usize {
        self.base + self.pos
    }

    pub(crate) fn error(&self, at: usize, msg: impl std::fmt::Display) -> ParseError {
        ParseError::Unrecognized {
            proto: format!("byte offset {at}: {msg}"),
            legacy: String::new(),
        }
    }

    #[inline]
    pub(crate) fn varint(&mut self) -> Result<u64, ParseError> {
        let start = self.pos;
        let mut v = 0u64;
        for shift in (0..70).step_by(7) {
            let Some(&b) = self.buf.get(self.pos) else {
                return Err(self.error(self.base + start, "varint runs past the end of the data"));
            };
            self.pos += 1;
            if shift == 63 && b > 1 {
                return Err(self.error(self.base + start, "varint overflows 64 bits"));
            }
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Ok(v);
            }
        }
        Err(self.error(self.base + start, "varint longer than 10 bytes"))
    }

    /// The next field's number and wire type.
    #[inline]
    pub(crate) fn key(&mut self) -> Result<(u64, u8), ParseError> {
        let at = self.offset();
        let k = self.varint()?;
        let field = k >> 3;
        if field == 0 {
            return Err(self.error(at, "field number 0"));
        }
        Ok((field, (k & 7) as u8))
    }

    /// A length-delimited payload, as a reader positioned at its start.
    #[inline]
    pub(crate) fn sub(&mut self) -> Result<Reader<'a>, ParseError> {
        let at = self.offset();
        let len = self.varint()?;
        let rest = self.buf.len() - self.pos;
        if len > rest as u64 {
            return Err(self.error(
                at,
                format!("field length {len} exceeds the {rest} bytes that remain"),
            ));
        }
        let start = self.pos;
        self.pos += len as usize;
        Ok(Reader::new(&self.buf[start..self.pos], self.base + start))
    }

    /// The raw bytes of the rest of this reader.
    pub(crate) fn bytes(&self) -> &'a [u8] {
        &self.buf[self.pos.min(self.buf.len())..]
    }

    /// Skips a field of wire type `wt`.
    pub(crate) fn skip(&mut self, wt: u8) -> Result<(), ParseError> {
        let at = self.offset();
        let n = match wt {
            VARINT => return self.varint().map(drop),
            LEN => return self.sub().map(drop),
            FIXED64 => 8,
            FIXED32 => 4,
            other => return Err(self.error(at, format!("unsupported wire type {other}"))),
        };
        if self.buf.len() - self.pos < n {
            return Err(self.error(at, "fixed-size field runs past the end of the data"));
        }
        self.pos += n;
        Ok(())
    }

    /// A varint-typed scalar, checking the wire type.
    #[inline]
    pub(crate) fn int(&mut self, wt: u8, at: usize) -> Result<u64, ParseError> {
        if wt != VARINT {
            return Err(self.error(at, format!("expected a varint, found wire type {wt}")));
        }
        self.varint()
    }

    /// A repeated varint field, packed or not: calls `f` per value.
    #[inline]
    pub(crate) fn repeated(
        &mut self,
        wt: u8,
        at: usize,
        mut f: impl FnMut(u64) -> Result<(), ParseError>,
    ) -> Result<(), ParseError> {
        match wt {
            VARINT => f(self.varint()?),
            LEN => {
                let mut r = self.sub()?;
                while !r.is_empty() {
                    f(r.varint()?)?;
                }
                Ok(())
            }
            other => Err(self.error(
                at,
                format!("expected a varint list, found wire type {other}"),
            )),
        }
    }
}
