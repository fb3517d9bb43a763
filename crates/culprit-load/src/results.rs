//! One result per hit, and the append-only binary log results are streamed to.
//!
//! Log layout: a 22-byte header (`CULPRIT-LOAD\n`, version byte 1, the attack's start as
//! Unix nanoseconds in little-endian u64), then records. Each record is a varint length
//! followed by that many bytes of varints: seq, target index, scheduled offset, send
//! lateness, service time, status, bytes in, bytes out, error length, error text. Offsets
//! are nanoseconds from the header's start. A writer only ever appends whole records, so a
//! log cut anywhere (a kill, a full disk) reads cleanly up to its last whole record.

use std::io::{self, Read, Write};
use std::time::Duration;

/// What happened to one hit. Times are nanoseconds from the attack's start.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HitResult {
    /// The hit's number in the attack's schedule (0-based).
    pub seq: u64,
    /// Index of the target in the attack's target list.
    pub target: u32,
    /// When the pacer scheduled the hit.
    pub scheduled_ns: u64,
    /// When the request was actually handed to a connection (≥ `scheduled_ns`).
    pub sent_ns: u64,
    /// When the response's last byte arrived (the kernel's receive stamp for plain
    /// HTTP/1.1; when it was read otherwise), or when the hit failed.
    pub done_ns: u64,
    /// HTTP status, 0 when there was no response.
    pub status: u16,
    /// Response body bytes read.
    pub bytes_in: u64,
    /// Request body bytes sent.
    pub bytes_out: u64,
    /// Why the hit failed, if it did.
    pub error: Option<String>,
}

impl HitResult {
    /// Latency counted from the scheduled time: includes any wait for a free connection,
    /// so a stalled server cannot hide behind the requests that were never sent on time.
    pub fn latency(&self) -> Duration {
        Duration::from_nanos(self.done_ns.saturating_sub(self.scheduled_ns))
    }

    /// Service time counted from the actual send.
    pub fn service_time(&self) -> Duration {
        Duration::from_nanos(self.done_ns.saturating_sub(self.sent_ns))
    }

    /// How late the send was against the schedule.
    pub fn lateness(&self) -> Duration {
        Duration::from_nanos(self.sent_ns.saturating_sub(self.scheduled_ns))
    }

    /// Vegeta's success: a 2xx or 3xx status and no error.
    pub fn is_success(&self) -> bool {
        self.error.is_none() && (200..400).contains(&self.status)
    }
}

/// Magic bytes that open every log.
pub const MAGIC: &[u8; 13] = b"CULPRIT-LOAD\n";
/// The log format version this crate writes.
pub const VERSION: u8 = 1;
/// Length of the header.
pub const HEADER_LEN: usize = MAGIC.len() + 1 + 8;
/// Longest error text kept in a record.
const MAX_ERROR: usize = 1024;

/// A log that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// Not a culprit result log.
    #[error("not a culprit result log (bad magic bytes at offset 0)")]
    BadMagic,
    /// Written by a newer culprit.
    #[error("unsupported result log version {0} (this culprit reads version {VERSION})")]
    Version(u8),
    /// A whole record whose contents do not decode.
    #[error("corrupt record at byte offset {offset}: {reason}")]
    Corrupt {
        /// Offset of the record's first byte in the log.
        offset: u64,
        /// What was wrong.
        reason: &'static str,
    },
    /// Reading failed.
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// Encodes the header for an attack that started at `start_unix_ns`.
pub fn encode_header(start_unix_ns: u64) -> [u8; HEADER_LEN] {
    let mut h = [0u8; HEADER_LEN];
    h[..MAGIC.len()].copy_from_slice(MAGIC);
    h[MAGIC.len()] = VERSION;
    h[MAGIC.len() + 1..].copy_from_slice(&start_unix_ns.to_le_bytes());
    h
}

/// Decodes a header, returning the start time in Unix nanoseconds.
pub fn decode_header(bytes: &[u8]) -> Result<Option<u64>, LogError> {
    let n = bytes.len().min(MAGIC.len());
    if bytes[..n] != MAGIC[..n] {
        return Err(LogError::BadMagic);
    }
    let Some(h) = bytes.get(..HEADER_LEN) else {
        return Ok(None);
    };
    if h[MAGIC.len()] != VERSION {
        return Err(LogError::Version(h[MAGIC.len()]));
    }
    let mut ts = [0u8; 8];
    ts.copy_from_slice(&h[MAGIC.len() + 1..]);
    Ok(Some(u64::from_le_bytes(ts)))
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Reads a varint; `None` when `buf` ends first or it runs past 10 bytes.
fn get_varint(buf: &[u8], pos: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    for shift in 0..10 {
        let b = *buf.get(*pos)?;
        *pos += 1;
        v |= u64::from(b & 0x7f) << (shift * 7);
        if b & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

/// Appends one encoded record to `out` (no allocation beyond `out` growing).
pub fn encode_record(r: &HitResult, out: &mut Vec<u8>) {
    let start = out.len();
    out.push(0); // length placeholder; widened below when the record is 128 bytes or more
    put_varint(out, r.seq);
    put_varint(out, u64::from(r.target));
    put_varint(out, r.scheduled_ns);
    put_varint(out, r.sent_ns.saturating_sub(r.scheduled_ns));
    put_varint(out, r.done_ns.saturating_sub(r.sent_ns));
    put_varint(out, u64::from(r.status));
    put_varint(out, r.bytes_in);
    put_varint(out, r.bytes_out);
    let err = r.error.as_deref().unwrap_or("");
    let mut cut = err.len().min(MAX_ERROR);
    while !err.is_char_boundary(cut) {
        cut -= 1;
    }
    put_varint(out, cut as u64);
    out.extend_from_slice(&err.as_bytes()[..cut]);
    let len = out.len() - start - 1;
    if len < 0x80 {
        out[start] = len as u8;
    } else {
        let mut prefix = Vec::with_capacity(2);
        put_varint(&mut prefix, len as u64);
        out.splice(start..start + 1, prefix);
    }
}

/// Decodes the record at the start of `buf`: `Ok(None)` when `buf` holds no whole record
/// (the end of a log, or a record cut short), else the record and its encoded length.
/// `offset` is only used to name the place in errors.
pub fn decode_record(buf: &[u8], offset: u64) -> Result<Option<(HitResult, usize)>, LogError> {
    let corrupt = |reason| LogError::Corrupt { offset, reason };
    let mut pos = 0;
    let Some(len) = get_varint(buf, &mut pos) else {
        if buf.len() >= 10 {
            return Err(corrupt("record length is not a varint"));
        }
        return Ok(None);
    };
    let Some(end) = usize::try_from(len).ok().and_then(|l| pos.checked_add(l)) else {
        return Err(corrupt("record length out of range"));
    };
    let Some(body) = buf.get(pos..end) else {
        return Ok(None);
    };
    let mut p = 0;
    let mut next = |what| get_varint(body, &mut p).ok_or_else(|| corrupt(what));
    let seq = next("seq")?;
    let target = u32::try_from(next("target")?).map_err(|_| corrupt("target index too big"))?;
    let scheduled_ns = next("scheduled time")?;
    let sent_ns = scheduled_ns.saturating_add(next("send lateness")?);
    let done_ns = sent_ns.saturating_add(next("service time")?);
    let status = u16::try_from(next("status")?).map_err(|_| corrupt("status above 65535"))?;
    let bytes_in = next("bytes in")?;
    let bytes_out = next("bytes out")?;
    let err_len = next("error length")?;
    let err_bytes = usize::try_from(err_len)
        .ok()
        .and_then(|l| body.get(p..p.checked_add(l)?))
        .ok_or_else(|| corrupt("error text runs past the record"))?;
    if p + err_bytes.len() != body.len() {
        return Err(corrupt("trailing bytes in record"));
    }
    let error = (!err_bytes.is_empty()).then(|| String::from_utf8_lossy(err_bytes).into_owned());
    let r = HitResult {
        seq,
        target,
        scheduled_ns,
        sent_ns,
        done_ns,
        status,
        bytes_in,
        bytes_out,
        error,
    };
    Ok(Some((r, end)))
}

/// Writes a log: the header, then batches of records.
pub struct LogWriter<W: Write> {
    out: W,
    buf: Vec<u8>,
}

impl<W: Write> LogWriter<W> {
    /// A writer that has written nothing yet; call [`LogWriter::write_header`] first (the
    /// attack engine does, through [`crate::attack::Sink::start`]).
    pub fn new(out: W) -> Self {
        LogWriter {
            out,
            buf: Vec::with_capacity(64 * 1024),
        }
    }

    /// Writes the header for an attack that began at `start_unix_ns`.
    pub fn write_header(&mut self, start_unix_ns: u64) -> io::Result<()> {
        self.out.write_all(&encode_header(start_unix_ns))?;
        self.out.flush()
    }

    /// Appends a batch as one write and flushes, so a crash loses at most the batch in
    /// flight and leaves at worst one cut record at the end, which readers skip.
    pub fn write_batch(&mut self, batch: &[HitResult]) -> io::Result<()> {
        self.buf.clear();
        for r in batch {
            encode_record(r, &mut self.buf);
        }
        self.out.write_all(&self.buf)?;
        self.out.flush()
    }

    /// Gives the underlying writer back.
    pub fn into_inner(self) -> W {
        self.out
    }
}

/// Reads a log from any byte stream, record by record.
pub struct LogReader<R: Read> {
    input: R,
    buf: Vec<u8>,
    pos: usize,
    /// Byte offset of `buf[0]` in the log.
    base: u64,
    eof: bool,
    start_unix_ns: u64,
    truncated: bool,
}

impl<R: Read> LogReader<R> {
    /// Reads and checks the header.
    pub fn new(mut input: R) -> Result<Self, LogError> {
        let mut head = [0u8; HEADER_LEN];
        let mut got = 0;
        while got < HEADER_LEN {
            let n = input.read(&mut head[got..])?;
            if n == 0 {
                break;
            }
            got += n;
        }
        let start = decode_header(&head[..got])?.ok_or(LogError::Corrupt {
            offset: got as u64,
            reason: "log ends inside its header",
        })?;
        Ok(LogReader {
            input,
            buf: Vec::with_capacity(64 * 1024),
            pos: 0,
            base: HEADER_LEN as u64,
            eof: false,
            start_unix_ns: start,
            truncated: false,
        })
    }

    /// The attack's start time, Unix nanoseconds.
    pub fn start_unix_ns(&self) -> u64 {
        self.start_unix_ns
    }

    /// True once the reader hit a record cut short at the end of the input.
    pub fn truncated(&self) -> bool {
        self.truncated
    }

    /// The next record, `Ok(None)` at the end of the log (including a cut last record).
    pub fn next_record(&mut self) -> Result<Option<HitResult>, LogError> {
        loop {
            let offset = self.base + self.pos as u64;
            if let Some((r, len)) = decode_record(&self.buf[self.pos..], offset)? {
                self.pos += len;
                return Ok(Some(r));
            }
            if self.eof {
                self.truncated = self.pos < self.buf.len();
                return Ok(None);
            }
            // Keep the unread tail and read more behind it.
            self.buf.drain(..self.pos);
            self.base = offset;
            self.pos = 0;
            let old = self.buf.len();
            self.buf.resize(old + 64 * 1024, 0);
            let n = loop {
                match self.input.read(&mut self.buf[old..]) {
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    other => break other?,
                }
            };
            self.buf.truncate(old + n);
            self.eof = n == 0;
        }
    }
}

impl<R: Read> Iterator for LogReader<R> {
    type Item = Result<HitResult, LogError>;

    fn next(&mut self) -> Option<Self::Item> {
        let item = self.next_record();
        if item.is_err() {
            // A corrupt record ends the log: do not report the same error forever.
            self.eof = true;
            self.buf.clear();
            self.pos = 0;
        }
        item.transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn arb_result() -> impl Strategy<Value = HitResult> {
        (
            any::<u64>(),
            any::<u32>(),
            0u64..1 << 50,
            0u64..1 << 40,
            0u64..1 << 40,
            any::<u16>(),
            any::<u64>(),
            any::<u64>(),
            proptest::option::of("[ -~]{1,40}"),
        )
            .prop_map(
                |(seq, target, s, late, svc, status, bi, bo, error)| HitResult {
                    seq,
                    target,
                    scheduled_ns: s,
                    sent_ns: s + late,
                    done_ns: s + late + svc,
                    status,
                    bytes_in: bi,
                    bytes_out: bo,
                    error,
                },
            )
    }

    fn encode_log(results: &[HitResult]) -> Vec<u8> {
        let mut w = LogWriter::new(Vec::new());
        let _ = w.write_header(42);
        let _ = w.write_batch(results);
        w.into_inner()
    }

    proptest! {
        #[test]
        fn round_trips(results in prop::collection::vec(arb_result(), 0..50)) {
            let bytes = encode_log(&results);
            let r = LogReader::new(&bytes[..]);
            prop_assert!(r.is_ok());
            let back: Result<Vec<_>, _> = r.into_iter().flatten().collect();
            prop_assert_eq!(back.ok(), Some(results));
        }

        #[test]
        fn a_cut_log_reads_to_its_last_whole_record(results in prop::collection::vec(arb_result(), 1..30), cut in any::<prop::sample::Index>()) {
            let bytes = encode_log(&results);
            let cut = HEADER_LEN + cut.index(bytes.len() - HEADER_LEN);
            let mut reader = LogReader::new(&bytes[..cut]).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let mut n = 0;
            while let Some(r) = reader.next_record().map_err(|e| TestCaseError::fail(e.to_string()))? {
                prop_assert_eq!(&r, &results[n]);
                n += 1;
            }
            prop_assert!(n < results.len() || cut == bytes.len());
        }
    }

    #[test]
    fn rejects_other_files() {
        assert!(matches!(
            LogReader::new(&b"GET http://x/\n"[..]),
            Err(LogError::BadMagic)
        ));
        assert!(LogReader::new(&MAGIC[..5]).is_err());
    }
}
