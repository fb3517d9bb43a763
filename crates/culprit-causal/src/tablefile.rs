//! The file `culprit causal` hands its preload runtime: the in-scope lines of every object
//! the program may load, each object's address ranges relative to its own load bias.
//!
//! Encoding (little endian): magic `CULPRIT2`, u64 line count, each line name as u32
//! length and UTF-8 bytes; u64 object count, then per object u64 device, u64 inode, u32
//! path length and path bytes, u64 range count and ranges of (u64 start, u64 end, u32 line
//! id, u32 0) sorted by start. The first object is the main executable; the runtime
//! matches the others to loaded objects by device and inode.

use std::collections::HashMap;

use crate::linetable::LineTable;

/// One object's ranges, with line ids into [`TableFile::lines`].
#[derive(Debug, PartialEq)]
pub struct ObjectLines {
    /// Where the driver read it (for messages).
    pub path: String,
    /// Device of the file, as `stat` reports it.
    pub dev: u64,
    /// Inode of the file.
    pub ino: u64,
    /// (start, end, line id), sorted and disjoint link-time addresses.
    pub ranges: Vec<(u64, u64, u32)>,
}

/// Every object's lines, names shared across objects.
#[derive(Debug, Default, PartialEq)]
pub struct TableFile {
    /// Line names, `file:line`.
    pub lines: Vec<String>,
    /// The main executable first, then shared objects.
    pub objects: Vec<ObjectLines>,
    ids: HashMap<String, u32>,
}

impl TableFile {
    /// Adds an object. An object with no table (no debug information, nothing in scope)
    /// is still listed, so the runtime knows it was looked at.
    pub fn add(&mut self, path: String, dev: u64, ino: u64, table: Option<&LineTable>) {
        let ranges = table.map_or_else(Vec::new, |t| {
            let ids: Vec<u32> = t.lines.iter().map(|l| self.line_id(l)).collect();
            t.ranges
                .iter()
                .filter_map(|&(s, e, l)| Some((s, e, *ids.get(l as usize)?)))
                .collect()
        });
        self.objects.push(ObjectLines {
            path,
            dev,
            ino,
            ranges,
        });
    }

    fn line_id(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        let id = self.lines.len() as u32;
        self.lines.push(name.to_owned());
        self.ids.insert(name.to_owned(), id);
        id
    }

    /// The runtime's binary encoding.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(b"CULPRIT2");
        out.extend_from_slice(&(self.lines.len() as u64).to_le_bytes());
        for l in &self.lines {
            put_str(&mut out, l);
        }
        out.extend_from_slice(&(self.objects.len() as u64).to_le_bytes());
        for o in &self.objects {
            out.extend_from_slice(&o.dev.to_le_bytes());
            out.extend_from_slice(&o.ino.to_le_bytes());
            put_str(&mut out, &o.path);
            out.extend_from_slice(&(o.ranges.len() as u64).to_le_bytes());
            for &(s, e, l) in &o.ranges {
                out.extend_from_slice(&s.to_le_bytes());
                out.extend_from_slice(&e.to_le_bytes());
                out.extend_from_slice(&l.to_le_bytes());
                out.extend_from_slice(&0u32.to_le_bytes());
            }
        }
        out
    }
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u32).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(lines: &[&str], ranges: &[(u64, u64, u32)]) -> LineTable {
        LineTable {
            ranges: ranges.to_vec(),
            lines: lines.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn objects_share_line_names() {
        let mut f = TableFile::default();
        f.add(
            "/a".into(),
            1,
            2,
            Some(&table(&["a.c:1", "h.h:3"], &[(0, 4, 0), (4, 8, 1)])),
        );
        f.add(
            "/b.so".into(),
            1,
            3,
            Some(&table(&["h.h:3", "b.c:9"], &[(16, 20, 1), (20, 24, 0)])),
        );
        f.add("/c.so".into(), 1, 4, None);
        assert_eq!(f.lines, ["a.c:1", "h.h:3", "b.c:9"]);
        assert_eq!(f.objects[1].ranges, [(16, 20, 2), (20, 24, 1)]);
        assert!(f.objects[2].ranges.is_empty());
        let bytes = f.encode();
        assert_eq!(&bytes[..8], b"CULPRIT2");
        assert_eq!(bytes[8..16], 3u64.to_le_bytes());
        // Header, three names, object count, three objects' fixed parts and paths, and
        // four ranges.
        let names = 3 * 4 + 5 + 5 + 5;
        let objects = 3 * (8 + 8 + 4 + 8) + 2 + 5 + 5;
        assert_eq!(bytes.len(), 16 + names + 8 + objects + 4 * 24);
    }
}
