//! `/proc/PID/maps`: which file is mapped where in a process.

use crate::error::ProbeError;

/// One line of `/proc/PID/maps`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MapEntry {
    /// First address.
    pub start: u64,
    /// One past the last address.
    pub end: u64,
    /// File offset of `start`.
    pub offset: u64,
    /// The mapping is executable.
    pub exec: bool,
    /// The file or pseudo name (`[vdso]`, `[stack]`); empty for anonymous memory.
    pub path: String,
}

impl MapEntry {
    /// True when `addr` lies in this mapping.
    pub fn contains(&self, addr: u64) -> bool {
        self.start <= addr && addr < self.end
    }

    /// True for a mapping backed by a file on disk (not `[vdso]`, not anonymous).
    pub fn is_file(&self) -> bool {
        self.path.starts_with('/')
    }
}

/// Parses the text of `/proc/PID/maps`; `origin` names it in errors.
pub fn parse_maps(text: &str, origin: &str) -> Result<Vec<MapEntry>, ProbeError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let bad = |problem: &str| ProbeError::Maps {
            origin: origin.to_string(),
            line: i + 1,
            problem: problem.to_string(),
        };
        let mut fields = line.splitn(6, ' ');
        let range = fields.next().ok_or_else(|| bad("empty line"))?;
        let perms = fields.next().ok_or_else(|| bad("missing permissions"))?;
        let offset = fields.next().ok_or_else(|| bad("missing offset"))?;
        let _dev = fields.next().ok_or_else(|| bad("missing device"))?;
        let _inode = fields.next().ok_or_else(|| bad("missing inode"))?;
        let path = fields.next().unwrap_or("").trim_start();
        let (start, end) = range
            .split_once('-')
            .ok_or_else(|| bad("address range without '-'"))?;
        let hex = |s: &str, what: &str| {
            u64::from_str_radix(s, 16).map_err(|_| bad(&format!("{what} {s:?} is not hex")))
        };
        let start = hex(start, "start address")?;
        let end = hex(end, "end address")?;
        if end < start {
            return Err(bad("end address before start address"));
        }
        out.push(MapEntry {
            start,
            end,
            offset: hex(offset, "offset")?,
            exec: perms.as_bytes().get(2) == Some(&b'x'),
            path: path.strip_suffix(" (deleted)").unwrap_or(path).to_string(),
        });
    }
    Ok(out)
}

/// Reads and parses `/proc/PID/maps`.
pub fn read_maps(pid: u32) -> Result<Vec<MapEntry>, ProbeError> {
    let path = format!("/proc/{pid}/maps");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| ProbeError::for_process("read maps", "read the memory map of", pid, e))?;
    parse_maps(&text, &path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_file_anonymous_and_pseudo_mappings() {
        let text = "55d0c0a00000-55d0c0a22000 r-xp 00002000 fd:01 1234 /usr/bin/my prog (deleted)\n\
                    7ffd1000-7ffd3000 r-xp 00000000 00:00 0                          [vdso]\n\
                    7f0000000000-7f0000001000 rw-p 00000000 00:00 0 \n";
        let maps = parse_maps(text, "test").unwrap();
        assert_eq!(maps.len(), 3);
        assert_eq!(maps[0].path, "/usr/bin/my prog");
        assert_eq!(maps[0].offset, 0x2000);
        assert!(maps[0].exec && maps[0].is_file());
        assert_eq!(maps[1].path, "[vdso]");
        assert!(!maps[1].is_file());
        assert!(!maps[2].exec);
        assert!(maps[0].contains(0x55d0c0a00000) && !maps[0].contains(0x55d0c0a22000));
    }

    #[test]
    fn names_the_bad_line() {
        let err = parse_maps("1000-2000 r-xp 0 00:00 0 /a\nzz-1 r-xp 0 0 0\n", "maps")
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 2"), "{err}");
    }

    proptest! {
        #[test]
        fn never_panics(s in ".{0,200}") {
            let _ = parse_maps(&s, "p");
        }
    }
}
