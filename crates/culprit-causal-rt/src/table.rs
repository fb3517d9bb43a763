//! The address-to-line table the driver computed from the program's debug information.
//! Format (little endian): magic `CULPRITL`, u64 range count, u64 line count, ranges of
//! (u64 start, u64 end, u32 line, u32 0) sorted by start, then each line as u32 length and
//! UTF-8 bytes. Addresses are link-time addresses of the main executable.

/// An immutable table, searched from the signal handler without allocating.
pub struct Table {
    ranges: Vec<(u64, u64, u32)>,
    /// `file:line` names, indexed by line id.
    pub lines: Vec<String>,
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

impl Table {
    /// Decodes a table; `None` if it is malformed.
    pub fn decode(b: &[u8]) -> Option<Self> {
        if b.get(..8)? != b"CULPRITL" {
            return None;
        }
        let n_ranges = usize::try_from(u64_at(b, 8)?).ok()?;
        let n_lines = usize::try_from(u64_at(b, 16)?).ok()?;
        let mut at = 24;
        if n_ranges > b.len() / 24 || n_lines > b.len() / 4 {
            return None;
        }
        let mut ranges = Vec::with_capacity(n_ranges);
        for _ in 0..n_ranges {
            ranges.push((u64_at(b, at)?, u64_at(b, at + 8)?, u32_at(b, at + 16)?));
            at += 24;
        }
        let mut lines = Vec::with_capacity(n_lines);
        for _ in 0..n_lines {
            let len = u32_at(b, at)? as usize;
            at += 4;
            lines.push(String::from_utf8(b.get(at..at + len)?.to_vec()).ok()?);
            at += len;
        }
        if ranges.iter().any(|r| r.2 as usize >= lines.len()) {
            return None;
        }
        Some(Self { ranges, lines })
    }

    /// The line id of a link-time address, if it is in scope.
    pub fn lookup(&self, addr: u64) -> Option<u32> {
        let i = self.ranges.partition_point(|r| r.0 <= addr);
        let r = self.ranges.get(i.checked_sub(1)?)?;
        (addr < r.1).then_some(r.2)
    }
}
