//! Legacy profile formats that `go tool pprof` still reads, with the semantics of pprof's
//! `profile/legacy_profile.go` and `legacy_java_profile.go`: the gperftools/Go binary CPU
//! format, heap and growth text, contention text, threadz dumps, Go `?debug=1` count
//! profiles and the Java heapz/contentionz/CPU formats, each optionally followed by a
//! memory map that becomes the profile's mappings.

mod contention;
mod count;
mod cpu;
mod heap;
mod java;
mod lines;
mod maps;
mod thread;

use std::collections::HashMap;
use std::sync::LazyLock;

use regex::Regex;

use crate::error::ParseError;
use crate::model::{LocIdx, Location, Mapping, Profile};

pub use maps::parse_proc_maps;

/// Why a legacy parse did not produce a profile.
#[derive(Debug)]
pub enum LegacyError {
    /// The data is not in any legacy format; the string says why.
    NotLegacy(String),
    /// The data is a legacy profile, but a broken one.
    Invalid(ParseError),
}

/// How one format's parser failed.
#[derive(Debug)]
pub(crate) enum Fail {
    /// Not this format. pprof then tries the next parser; the string, when present, says
    /// what looked like this format but was not (pprof gives up on the same inputs).
    Unrecognized(Option<String>),
    /// This format, but broken: pprof stops here with an error.
    Bad(ParseError),
}

impl Fail {
    /// A broken profile, at a line.
    pub(crate) fn at_line(line: usize, msg: impl Into<String>) -> Self {
        Self::Bad(ParseError::Legacy {
            at: format!("line {line}"),
            msg: msg.into(),
        })
    }

    /// A broken profile, at a byte offset.
    pub(crate) fn at_byte(offset: usize, msg: impl Into<String>) -> Self {
        Self::Bad(ParseError::Legacy {
            at: format!("byte offset {offset}"),
            msg: msg.into(),
        })
    }

    /// Not this format after all, for a reason worth reporting.
    pub(crate) fn unrecognized(why: impl Into<String>) -> Self {
        Self::Unrecognized(Some(why.into()))
    }
}

type Parser = fn(&[u8]) -> Result<Profile, Fail>;

/// Tries every legacy format in pprof's order and returns the first that accepts the data.
pub fn parse(data: &[u8]) -> Result<Profile, LegacyError> {
    const PARSERS: [Parser; 6] = [
        cpu::parse,
        heap::parse,
        count::parse,
        thread::parse,
        contention::parse,
        java::parse,
    ];
    let mut reason = None;
    for parser in PARSERS {
        match parser(data) {
            Ok(mut p) => {
                add_legacy_frame_info(&mut p);
                return Ok(p);
            }
            Err(Fail::Bad(e)) => return Err(LegacyError::Invalid(e)),
            Err(Fail::Unrecognized(why)) => {
                if reason.is_none() {
                    reason = why;
                }
            }
        }
    }
    Err(LegacyError::NotLegacy(
        reason.unwrap_or_else(|| "no legacy format recognized".into()),
    ))
}

/// Compiles one of this module's constant patterns.
pub(crate) fn re(pattern: &str) -> Regex {
    #[allow(clippy::expect_used)]
    Regex::new(pattern).expect("constant legacy-format regex compiles")
}

static HEX_NUMBER: LazyLock<Regex> = LazyLock::new(|| re(r"0x[0-9a-f]+"));

/// Every `0x…` number in `s`, as pprof's `parseHexAddresses`.
pub(crate) fn hex_addresses(s: &str) -> Result<Vec<u64>, String> {
    HEX_NUMBER
        .find_iter(s)
        .map(|m| {
            u64::from_str_radix(&m.as_str()[2..], 16)
                .map_err(|_| format!("failed to parse as hex 64-bit number: {}", m.as_str()))
        })
        .collect()
}

/// Go's `strconv.ParseInt(s, 0, 64)` for the digit strings legacy formats hold: a leading
/// `0x` means hex, a leading `0` octal.
pub(crate) fn parse_int_base0(s: &str) -> Option<i64> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let mag = if let Some(h) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        u64::from_str_radix(h, 16).ok()?
    } else if let Some(o) = body.strip_prefix("0b").or_else(|| body.strip_prefix("0B")) {
        u64::from_str_radix(o, 2).ok()?
    } else if let Some(o) = body.strip_prefix("0o").or_else(|| body.strip_prefix("0O")) {
        u64::from_str_radix(o, 8).ok()?
    } else if body.len() > 1 && body.starts_with('0') {
        u64::from_str_radix(&body[1..], 8).ok()?
    } else {
        if body.starts_with('+') || body.starts_with('-') {
            return None;
        }
        body.parse::<u64>().ok()?
    };
    if neg {
        0i64.checked_sub_unsigned(mag)
    } else {
        i64::try_from(mag).ok()
    }
}

/// Go's `strings.TrimSpace` followed by pprof's "blank or `#` comment" test.
pub(crate) fn is_space_or_comment(line: &str) -> bool {
    let t = line.trim();
    t.is_empty() || t.starts_with('#')
}

/// True when the line announces the memory map section.
pub(crate) fn is_memory_map_sentinel(line: &str) -> bool {
    line.contains("--- Memory map: ---") || line.contains("MAPPED_LIBRARIES:")
}

/// A profile under construction: locations are created once per address.
pub(crate) struct Builder {
    pub(crate) p: Profile,
    by_addr: HashMap<u64, LocIdx>,
}

impl Builder {
    pub(crate) fn new(p: Profile) -> Self {
        Self {
            p,
            by_addr: HashMap::new(),
        }
    }

    /// The location for `addr`, created on first use.
    pub(crate) fn location(&mut self, addr: u64) -> LocIdx {
        let locs = &mut self.p.locations;
        *self.by_addr.entry(addr).or_insert_with(|| {
            locs.push(Location {
                address: addr,
                ..Location::default()
            });
            (locs.len() - 1) as LocIdx
        })
    }

    /// The location already created for `addr`, if any.
    pub(crate) fn existing_location(&self, addr: u64) -> Option<LocIdx> {
        self.by_addr.get(&addr).copied()
    }

    /// pprof's `ParseMemoryMapFromScanner` after the parsing: adds the mappings, merges
    /// and orders them, and renumbers locations, functions and mappings.
    pub(crate) fn apply_memory_map(&mut self, mappings: Vec<Mapping>) {
        self.p.mappings.extend(mappings);
        maps::massage_mappings(&mut self.p.mappings);
        self.remap();
    }

    /// pprof's `remapLocationIDs`, `remapFunctionIDs` and `remapMappingIDs`.
    pub(crate) fn remap(&mut self) {
        self.by_addr.clear();
        remap_locations(&mut self.p);
        remap_functions(&mut self.p);
        maps::remap_mappings(&mut self.p);
    }
}

/// Keeps only locations some sample uses, numbered in order of first use.
fn remap_locations(p: &mut Profile) {
    let mut new_idx = vec![u32::MAX; p.locations.len()];
    let mut order: Vec<u32> = Vec::new();
    for s in &mut p.samples {
        for l in &mut s.locations {
            let slot = &mut new_idx[*l as usize];
            if *slot == u32::MAX {
                *slot = order.len() as u32;
                order.push(*l);
            }
            *l = *slot;
        }
    }
    let mut old: Vec<Option<Location>> = std::mem::take(&mut p.locations)
        .into_iter()
        .map(Some)
        .collect();
    p.locations = order
        .iter()
        .enumerate()
        .filter_map(|(i, &o)| {
            let mut l = old[o as usize].take()?;
            l.id = i as u64 + 1;
            Some(l)
        })
        .collect();
}

/// Keeps only functions some location line uses, numbered in order of first use.
fn remap_functions(p: &mut Profile) {
    let mut new_idx = vec![u32::MAX; p.functions.len()];
    let mut order: Vec<u32> = Vec::new();
    for l in &mut p.locations {
        for ln in &mut l.lines {
            if let Some(f) = &mut ln.function {
                let slot = &mut new_idx[*f as usize];
                if *slot == u32::MAX {
                    *slot = order.len() as u32;
                    order.push(*f);
                }
                *f = *slot;
            }
        }
    }
    let mut old: Vec<_> = std::mem::take(&mut p.functions)
        .into_iter()
        .map(Some)
        .collect();
    p.functions = order
        .iter()
        .enumerate()
        .filter_map(|(i, &o)| {
            let mut f = old[o as usize].take()?;
            f.id = i as u64 + 1;
            Some(f)
        })
        .collect();
}

/// pprof's `cleanupDuplicateLocations`: the CPU profiler may record the leaf twice, once
/// from the signal context and once (adjusted by -1) from unwinding; drop the second.
pub(crate) fn cleanup_duplicate_locations(p: &mut Profile) {
    let locs = &p.locations;
    for s in &mut p.samples {
        if let [a, b, ..] = s.locations[..]
            && locs[a as usize].address == locs[b as usize].address.wrapping_add(1)
        {
            s.locations.remove(1);
        }
    }
}

fn is_profile_type(p: &Profile, types: &[&[&str]]) -> bool {
    types.iter().any(|t| {
        t.len() == p.sample_type.len() && t.iter().zip(&p.sample_type).all(|(a, b)| *a == b.kind)
    })
}

/// pprof's `addLegacyFrameInfo`: default drop/keep frame regexes for legacy profiles.
fn add_legacy_frame_info(p: &mut Profile) {
    const HEAPZ: &[&[&str]] = &[
        &["allocations", "size"],
        &["objects", "space"],
        &["inuse_objects", "inuse_space"],
        &["alloc_objects", "alloc_space"],
        &[
            "alloc_objects",
            "alloc_space",
            "inuse_objects",
            "inuse_space",
        ],
    ];
    const CONTENTIONZ: &[&[&str]] = &[&["contentions", "delay"]];
    let (drop, keep) = if is_profile_type(p, HEAPZ) {
        (ALLOC_RX.join("|"), ALLOC_SKIP_RX.join("|"))
    } else if is_profile_type(p, CONTENTIONZ) {
        (LOCK_RX.join("|"), String::new())
    } else {
        (CPU_PROFILER_RX.join("|"), String::new())
    };
    p.drop_frames = drop;
    p.keep_frames = keep;
}

const ALLOC_RX: &[&str] = &[
    "calloc",
    "cfree",
    "malloc",
    "free",
    "memalign",
    "do_memalign",
    "(__)?posix_memalign",
    "pvalloc",
    "valloc",
    "realloc",
    "tcmalloc::.*",
    "tc_calloc",
    "tc_cfree",
    "tc_malloc",
    "tc_free",
    "tc_memalign",
    "tc_posix_memalign",
    "tc_pvalloc",
    "tc_valloc",
    "tc_realloc",
    "tc_new",
    "tc_delete",
    "tc_newarray",
    "tc_deletearray",
    "tc_new_nothrow",
    "tc_newarray_nothrow",
    "malloc_zone_malloc",
    "malloc_zone_calloc",
    "malloc_zone_valloc",
    "malloc_zone_realloc",
    "malloc_zone_memalign",
    "malloc_zone_free",
    r"runtime\..*",
    "BaseArena::.*",
    "(::)?do_malloc_no_errno",
    "(::)?do_malloc_pages",
    "(::)?do_malloc",
    "DoSampledAllocation",
    "MallocedMemBlock::MallocedMemBlock",
    "_M_allocate",
    "__builtin_(vec_)?delete",
    "__builtin_(vec_)?new",
    "__gnu_cxx::new_allocator::allocate",
    "__libc_malloc",
    "__malloc_alloc_template::allocate",
    "allocate",
    "cpp_alloc",
    r"operator new(\[\])?",
    "simple_alloc::allocate",
];

const ALLOC_SKIP_RX: &[&str] = &[
    r"runtime\.panic",
    r"runtime\.reflectcall",
    r"runtime\.call[0-9]*",
];

const CPU_PROFILER_RX: &[&str] = &[
    "ProfileData::Add",
    "ProfileData::prof_handler",
    "CpuProfiler::prof_handler",
    "__pthread_sighandler",
    "__restore",
];

const LOCK_RX: &[&str] = &[
    "RecordLockProfileData",
    "(base::)?RecordLockProfileData.*",
    "(base::)?SubmitMutexProfileData.*",
    "(base::)?SubmitSpinLockProfileData.*",
    "(base::Mutex::)?AwaitCommon.*",
    "(base::Mutex::)?Unlock.*",
    "(base::Mutex::)?UnlockSlow.*",
    "(base::Mutex::)?ReaderUnlock.*",
    "(base::MutexLock::)?~MutexLock.*",
    "(Mutex::)?AwaitCommon.*",
    "(Mutex::)?Unlock.*",
    "(Mutex::)?UnlockSlow.*",
    "(Mutex::)?ReaderUnlock.*",
    "(MutexLock::)?~MutexLock.*",
    "(SpinLock::)?Unlock.*",
    "(SpinLock::)?SlowUnlock.*",
    "(SpinLockHolder::)?~SpinLockHolder.*",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base0_ints_follow_go() {
        assert_eq!(parse_int_base0("10"), Some(10));
        assert_eq!(parse_int_base0("010"), Some(8));
        assert_eq!(parse_int_base0("08"), None);
        assert_eq!(parse_int_base0("0x1f"), Some(31));
        assert_eq!(parse_int_base0("-5"), Some(-5));
        assert_eq!(parse_int_base0("9223372036854775808"), None);
        assert_eq!(parse_int_base0("-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_int_base0(""), None);
    }

    #[test]
    fn frame_regexes_compile() {
        for set in [ALLOC_RX, ALLOC_SKIP_RX, CPU_PROFILER_RX, LOCK_RX] {
            re(&set.join("|"));
        }
    }
}
