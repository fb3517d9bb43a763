//! The address-to-line tables the driver computed from the debug information of the
//! program's objects (`culprit_causal::tablefile`). Format (little endian): magic
//! `CULPRIT2`, u64 line count, each line as u32 length and UTF-8 bytes; u64 object count,
//! then per object u64 device, u64 inode, u32 path length and path bytes, u64 range count
//! and ranges of (u64 start, u64 end, u32 line, u32 0) sorted by start. Addresses are
//! link-time addresses of their object; the first object is the main executable.

/// One object's ranges, searched from the signal handler without allocating.
pub struct Object {
    /// Device of the file the driver read.
    pub dev: u64,
    /// Its inode.
    pub ino: u64,
    ranges: Vec<(u64, u64, u32)>,
}

impl Object {
    /// The line id of a link-time address, if it is in scope.
    pub fn lookup(&self, addr: u64) -> Option<u32> {
        let i = self.ranges.partition_point(|r| r.0 <= addr);
        let r = self.ranges.get(i.checked_sub(1)?)?;
        (addr < r.1).then_some(r.2)
    }

    /// Whether any of its lines are in scope.
    pub fn has_lines(&self) -> bool {
        !self.ranges.is_empty()
    }
}

/// An immutable set of tables.
pub struct Table {
    /// `file:line` names, indexed by line id, shared by all objects.
    pub lines: Vec<String>,
    /// The main executable first, then shared objects.
    pub objects: Vec<Object>,
}

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn bytes(&mut self, n: usize) -> Option<&[u8]> {
        let s = self.b.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(s)
    }

    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.bytes(4)?.try_into().ok()?))
    }

    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.bytes(8)?.try_into().ok()?))
    }

    /// A count of items of at least `size` bytes each that the rest could hold.
    fn count(&mut self, size: usize) -> Option<usize> {
        let n = usize::try_from(self.u64()?).ok()?;
        (n <= (self.b.len() - self.at) / size).then_some(n)
    }

    fn string(&mut self) -> Option<String> {
        let len = self.u32()? as usize;
        String::from_utf8(self.bytes(len)?.to_vec()).ok()
    }
}

impl Table {
    /// Decodes a table file; `None` if it is malformed.
    pub fn decode(b: &[u8]) -> Option<Self> {
        let mut r = Reader { b, at: 0 };
        if r.bytes(8)? != b"CULPRIT2" {
            return None;
        }
        let n_lines = r.count(4)?;
        let lines = (0..n_lines)
            .map(|_| r.string())
            .collect::<Option<Vec<_>>>()?;
        let n_objects = r.count(28)?;
        let mut objects = Vec::with_capacity(n_objects);
        for _ in 0..n_objects {
            let dev = r.u64()?;
            let ino = r.u64()?;
            r.string()?;
            let n_ranges = r.count(24)?;
            let mut ranges = Vec::with_capacity(n_ranges);
            for _ in 0..n_ranges {
                let range = (r.u64()?, r.u64()?, r.u32()?);
                r.u32()?;
                if range.2 as usize >= lines.len() {
                    return None;
                }
                ranges.push(range);
            }
            objects.push(Object { dev, ino, ranges });
        }
        (!objects.is_empty()).then_some(Self { lines, objects })
    }
}
