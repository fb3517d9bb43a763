//! The binary CPU profile of gperftools and of Go before 1.9: native-endian 32- or 64-bit
//! words. Header `0, 3, 0, period_us, 0` (third word 1 for Java), then records
//! `count, depth, pc…`, a `0, 1, 0` trailer, and a `/proc/self/maps` text section (Go's
//! variant has none).

use std::collections::HashMap;

use super::lines::Lines;
use super::{Builder, Fail, cleanup_duplicate_locations, java, maps};
use crate::model::{LocIdx, Profile, Sample, ValueType};

/// How words are read: width in bytes and byte order.
#[derive(Clone, Copy)]
pub(crate) struct Words {
    width: usize,
    big: bool,
}

impl Words {
    /// The word at byte offset `at`, if the data holds a whole one there.
    fn get(self, data: &[u8], at: usize) -> Option<u64> {
        let b = data.get(at..at.checked_add(self.width)?)?;
        let mut v = 0u64;
        if self.big {
            for &x in b {
                v = v << 8 | u64::from(x);
            }
        } else {
            for &x in b.iter().rev() {
                v = v << 8 | u64::from(x);
            }
        }
        Some(v)
    }
}

pub(crate) fn parse(data: &[u8]) -> Result<Profile, Fail> {
    const ORDERS: [Words; 4] = [
        Words {
            width: 4,
            big: false,
        },
        Words {
            width: 4,
            big: true,
        },
        Words {
            width: 8,
            big: false,
        },
        Words {
            width: 8,
            big: true,
        },
    ];
    for w in ORDERS {
        let hdr: Vec<Option<u64>> = (0..5).map(|i| w.get(data, i * w.width)).collect();
        let [Some(n1), Some(n2), Some(n3), Some(n4), Some(n5)] = hdr[..] else {
            continue;
        };
        if n1 != 0 || n2 != 3 || n4 == 0 || n5 != 0 {
            continue;
        }
        let body = 5 * w.width;
        match n3 {
            0 => return cpu_profile(data, body, n4 as i64, w),
            1 => return java::cpu_profile(data, body, n4 as i64, w),
            _ => {}
        }
    }
    Err(Fail::Unrecognized(None))
}

fn cpu_profile(data: &[u8], body: usize, period_us: i64, w: Words) -> Result<Profile, Fail> {
    let period = period_us.wrapping_mul(1000);
    let mut b = Builder::new(Profile {
        period,
        period_type: Some(ValueType::new("cpu", "nanoseconds")),
        sample_type: vec![
            ValueType::new("samples", "count"),
            ValueType::new("cpu", "nanoseconds"),
        ],
        ..Profile::default()
    });
    let rest = parse_samples(data, body, w, true, &mut b)?;
    strip_signal_frames(&mut b.p);
    let mut lines = Lines::new(&data[rest..], 1);
    let mappings = maps::parse_lines(&mut lines);
    b.apply_memory_map(mappings);
    cleanup_duplicate_locations(&mut b.p);
    Ok(b.p)
}

/// When nearly every sample has the same second frame, that frame was pushed by the
/// signal handler: pprof removes it, up to twice.
fn strip_signal_frames(p: &mut Profile) {
    let margin = p.samples.len() / 32;
    for _ in 0..2 {
        let mut counts: HashMap<u64, usize> = HashMap::new();
        for s in &p.samples {
            if let Some(&l) = s.locations.get(1) {
                *counts.entry(p.locations[l as usize].address).or_default() += 1;
            }
        }
        // At most one address can reach the threshold, so map order does not matter.
        let Some((&addr, _)) = counts.iter().find(|&(_, &n)| n >= p.samples.len() - margin) else {
            continue;
        };
        for s in &mut p.samples {
            if let Some(&l) = s.locations.get(1)
                && p.locations[l as usize].address == addr
            {
                s.locations.remove(1);
            }
        }
    }
}

/// Reads sample records from byte `at` until the trailer or the end of the data and
/// returns where the text after the trailer starts. With `adjust`, every frame but the
/// leaf is moved back one byte onto its call instruction.
pub(crate) fn parse_samples(
    data: &[u8],
    mut at: usize,
    w: Words,
    adjust: bool,
    b: &mut Builder,
) -> Result<usize, Fail> {
    let ww = w.width;
    while at < data.len() {
        let record = at;
        let (Some(count), Some(depth)) = (w.get(data, at), w.get(data, at + ww)) else {
            return Err(Fail::at_byte(
                record,
                "CPU profile record cut short: no room for its count and depth words",
            ));
        };
        at += 2 * ww;
        let room = (data.len() - at) / ww;
        if depth > room as u64 {
            return Err(Fail::at_byte(
                record,
                format!("CPU profile record has depth {depth} but only {room} words follow"),
            ));
        }
        let depth = depth as usize;
        if count == 0 && depth == 1 && w.get(data, at) == Some(0) {
            return Ok(at + ww);
        }
        let mut locs: Vec<LocIdx> = Vec::with_capacity(depth);
        for i in 0..depth {
            let mut addr = w.get(data, at + i * ww).unwrap_or(0);
            if adjust && i > 0 {
                addr = addr.wrapping_sub(1);
            }
            locs.push(b.location(addr));
        }
        at += depth * ww;
        b.p.samples.push(Sample {
            locations: locs,
            values: vec![count as i64, (count as i64).wrapping_mul(b.p.period)],
            ..Sample::default()
        });
    }
    Ok(at)
}
