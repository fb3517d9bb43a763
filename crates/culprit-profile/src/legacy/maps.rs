//! Memory maps in legacy profiles (`/proc/self/maps` text and pprof's brief variant) and
//! pprof's rules for turning them into mappings: merging split regions, picking the main
//! binary, and giving unmapped addresses a fake mapping.

use std::sync::LazyLock;

use regex::Regex;

use super::lines::Lines;
use super::re;
use crate::model::{Mapping, Profile};

const C_HEX: &str = r"(?:0x)?([[:xdigit:]]+)";

static PROC_MAPS: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        r"^\s*{C_HEX}[\s-]?\s*{C_HEX}:?(?:\s+([-rwxp]+))?(?:\s+([[:xdigit:]]+))?\s+[[:xdigit:]]+:[[:xdigit:]]+\s+[[:digit:]]+(?:\s+(\S+))?"
    ))
});
static BRIEF_MAPS: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        r"^\s*{C_HEX}[\s-]?\s*{C_HEX}:?(?:\s+([-rwxp]+))?(?:\s+(\S+))?(?:\s+\(@([[:xdigit:]]+)\))?(?:\s+([[:xdigit:]]+))?"
    ))
});
static LOG_INFO: LazyLock<Regex> = LazyLock::new(|| re(r"^[^\[\]]+:[0-9]+\]\s"));
static LIB: LazyLock<Regex> = LazyLock::new(|| re(r"([.]so$|[.]so[._][0-9]+)"));

/// Parses a memory map: one mapping per executable entry. Lines that are not map entries
/// are ignored, except `name=value` lines, whose `$name` is replaced by `value` in later
/// lines (pprof's convention for long common path prefixes).
pub fn parse_proc_maps(data: &[u8]) -> Vec<Mapping> {
    let mut lines = Lines::new(data, 1);
    parse_lines(&mut lines)
}

/// [`parse_proc_maps`] over the rest of a scanner.
pub(crate) fn parse_lines(lines: &mut Lines) -> Vec<Mapping> {
    let mut out = Vec::new();
    let mut attrs: Vec<(String, String)> = Vec::new();
    while lines.scan() {
        let line = replace_attrs(remove_logging_info(lines.text()), &attrs);
        match parse_mapping_entry(&line) {
            Entry::Mapping(m) => out.push(m),
            Entry::Skipped => {}
            Entry::Unrecognized => {
                if let Some((k, v)) = line.split_once('=') {
                    attrs.push((format!("${}", k.trim()), v.trim().to_string()));
                }
            }
        }
    }
    out
}

/// Go's `strings.Replacer` semantics: left to right, and at each position the earliest
/// declared key that matches wins.
fn replace_attrs(line: &str, attrs: &[(String, String)]) -> String {
    if attrs.is_empty() {
        return line.to_string();
    }
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    'outer: while let Some(c) = rest.chars().next() {
        for (k, v) in attrs {
            if rest.starts_with(k.as_str()) {
                out.push_str(v);
                rest = &rest[k.len()..];
                continue 'outer;
            }
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// Drops a glog prefix such as `W1220 15:07:15.201776 8272 logger.cc:12033] `.
fn remove_logging_info(line: &str) -> &str {
    match LOG_INFO.find(line) {
        Some(m) => &line[m.end()..],
        None => line,
    }
}

enum Entry {
    Mapping(Mapping),
    /// A map entry that is not executable.
    Skipped,
    Unrecognized,
}

fn parse_mapping_entry(l: &str) -> Entry {
    let group = |c: &regex::Captures, i| c.get(i).map_or("", |m| m.as_str()).to_string();
    let (start, end, perm, file, offset, build_id);
    if let Some(c) = PROC_MAPS.captures(l) {
        (start, end, perm, offset, file) = (
            group(&c, 1),
            group(&c, 2),
            group(&c, 3),
            group(&c, 4),
            group(&c, 5),
        );
        build_id = String::new();
    } else if let Some(c) = BRIEF_MAPS.captures(l) {
        (start, end, perm, file, offset, build_id) = (
            group(&c, 1),
            group(&c, 2),
            group(&c, 3),
            group(&c, 4),
            group(&c, 5),
            group(&c, 6),
        );
    } else {
        return Entry::Unrecognized;
    }
    if !perm.is_empty() && !perm.contains('x') {
        return Entry::Skipped;
    }
    let (Ok(memory_start), Ok(memory_limit)) = (
        u64::from_str_radix(&start, 16),
        u64::from_str_radix(&end, 16),
    ) else {
        return Entry::Unrecognized;
    };
    let file_offset = if offset.is_empty() {
        0
    } else {
        match u64::from_str_radix(&offset, 16) {
            Ok(o) => o,
            Err(_) => return Entry::Unrecognized,
        }
    };
    Entry::Mapping(Mapping {
        memory_start,
        memory_limit,
        file_offset,
        file,
        build_id,
        ..Mapping::default()
    })
}

/// pprof's `massageMappings`, for mappings no location points at yet: merges a region
/// split in two, moves the guessed main binary first, and numbers them from 1.
pub(crate) fn massage_mappings(mappings: &mut Vec<Mapping>) {
    if mappings.len() > 1 {
        let mut merged: Vec<Mapping> = Vec::with_capacity(mappings.len());
        for m in mappings.drain(..) {
            if let Some(lm) = merged.last_mut()
                && adjacent(lm, &m)
            {
                lm.memory_limit = m.memory_limit;
                if !m.file.is_empty() {
                    lm.file = m.file;
                }
                if !m.build_id.is_empty() {
                    lm.build_id = m.build_id;
                }
                continue;
            }
            merged.push(m);
        }
        *mappings = merged;
    }
    let main = mappings.iter().position(|m| {
        let file = m.file.replace("(deleted)", "");
        let file = file.trim();
        !file.is_empty() && !LIB.is_match(file) && !file.starts_with('[')
    });
    if let Some(i) = main {
        mappings.swap(0, i);
    }
    for (i, m) in mappings.iter_mut().enumerate() {
        m.id = i as u64 + 1;
    }
}

fn adjacent(m1: &Mapping, m2: &Mapping) -> bool {
    if !m1.file.is_empty() && !m2.file.is_empty() && m1.file != m2.file {
        return false;
    }
    if !m1.build_id.is_empty() && !m2.build_id.is_empty() && m1.build_id != m2.build_id {
        return false;
    }
    if m1.memory_limit != m2.memory_start {
        return false;
    }
    if m1.file_offset != 0 && m2.file_offset != 0 {
        let offset = m1
            .file_offset
            .wrapping_add(m1.memory_limit.wrapping_sub(m1.memory_start));
        if offset != m2.file_offset {
            return false;
        }
    }
    true
}

/// pprof's `remapMappingIDs`: fixes up the main mapping, attaches each location with an
/// address to the mapping holding it (or to a fake mapping covering everything), and
/// numbers the mappings from 1.
pub(crate) fn remap_mappings(p: &mut Profile) {
    let maps = &mut p.mappings;
    if maps.len() > 1
        && maps[0].file.starts_with("/anon_hugepage")
        && maps[0].memory_limit == maps[1].memory_start
    {
        maps.remove(0);
    }
    const EXPECTED_START: u64 = 0x400000;
    if let Some(m) = maps.first_mut()
        && m.memory_start.wrapping_sub(m.file_offset) == EXPECTED_START
    {
        m.memory_start = EXPECTED_START;
        m.file_offset = 0;
    }
    let mut fake = None;
    for l in &mut p.locations {
        let a = l.address;
        if l.mapping.is_some() || a == 0 {
            continue;
        }
        if let Some(i) = maps
            .iter()
            .position(|m| m.memory_start <= a && a < m.memory_limit)
        {
            l.mapping = Some(i as u32);
            continue;
        }
        // Legacy handlers may fail to report the first part of a split mapping.
        if let Some(i) = maps.iter().position(|m| {
            m.file_offset != 0
                && m.memory_start.wrapping_sub(m.file_offset) <= a
                && a < m.memory_start
        }) {
            let m = &mut maps[i];
            m.memory_start = m.memory_start.wrapping_sub(m.file_offset);
            m.file_offset = 0;
            l.mapping = Some(i as u32);
            continue;
        }
        let idx = *fake.get_or_insert_with(|| {
            maps.push(Mapping {
                memory_limit: u64::MAX,
                ..Mapping::default()
            });
            maps.len() as u32 - 1
        });
        l.mapping = Some(idx);
    }
    for (i, m) in maps.iter_mut().enumerate() {
        m.id = i as u64 + 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(entry: &str) -> Option<Mapping> {
        let mut v = parse_proc_maps(entry.as_bytes());
        assert!(v.len() <= 1, "{entry}: {v:?}");
        v.pop()
    }

    fn m(start: u64, limit: u64, offset: u64, file: &str, build_id: &str) -> Option<Mapping> {
        Some(Mapping {
            memory_start: start,
            memory_limit: limit,
            file_offset: offset,
            file: file.into(),
            build_id: build_id.into(),
            ..Mapping::default()
        })
    }

    // The cases of pprof's TestParseMappingEntry.
    #[test]
    fn map_entries_parse_like_pprof() {
        assert_eq!(
            one("00400000-02e00000 r-xp 00000000 00:00 0"),
            m(0x400000, 0x2e00000, 0, "", "")
        );
        assert_eq!(
            one("02e00000-02e8a000 r-xp 02a00000 00:00 15953927    /foo/bin"),
            m(0x2e00000, 0x2e8a000, 0x2a00000, "/foo/bin", "")
        );
        assert_eq!(
            one("02e00000-02e8a000 r-xp 000000 00:00 15953927    [vdso]"),
            m(0x2e00000, 0x2e8a000, 0, "[vdso]", "")
        );
        assert_eq!(
            one("  02e00000-02e8a000: /foo/bin (@2a00000)"),
            m(0x2e00000, 0x2e8a000, 0x2a00000, "/foo/bin", "")
        );
        assert_eq!(
            one("  02e00000-02e8a000: /foo/bin (deleted)"),
            m(0x2e00000, 0x2e8a000, 0, "/foo/bin", "")
        );
        assert_eq!(
            one("  02e00000-02e8a000: [vdso]"),
            m(0x2e00000, 0x2e8a000, 0, "[vdso]", "")
        );
        assert_eq!(
            one(
                "0xff6810563000 0xff6810565000 r-xp abc_exe 87c4d547f895cfd6a370e08dc5c5ee7bd4199d5b"
            ),
            m(
                0xff6810563000,
                0xff6810565000,
                0,
                "abc_exe",
                "87c4d547f895cfd6a370e08dc5c5ee7bd4199d5b"
            )
        );
        assert_eq!(
            one("7f5e5435e000-7f5e5455e000 --xp 00002000 00:00 1531        myprogram"),
            m(0x7f5e5435e000, 0x7f5e5455e000, 0x2000, "myprogram", "")
        );
        assert_eq!(
            one("0x40000-0x80000 /path/to/binary      (@FF00)            abc123456"),
            m(0x40000, 0x80000, 0xff00, "/path/to/binary", "abc123456")
        );
        assert_eq!(
            one(
                "W1220 15:07:15.201776    8272 logger.cc:12033] --- Memory map: ---\nW1220 15:07:15.202776    8272 logger.cc:12036]   0x40000-0x80000 /path/to/binary      (@FF00)            abc123456"
            ),
            m(0x40000, 0x80000, 0xff00, "/path/to/binary", "abc123456")
        );
        assert_eq!(
            one("7f5e5435e000-7f5e5455e000 ---p 00002000 00:00 1531        myprogram"),
            None
        );
    }

    #[test]
    fn attributes_substitute_in_later_lines() {
        let v = parse_proc_maps(b"dir = /opt/app\n00400000-00500000: $dir/bin\n");
        assert_eq!(v[0].file, "/opt/app/bin");
    }
}
