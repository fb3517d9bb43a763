//! Heap text profiles: tcmalloc's `heap profile: N: B [N: B] @ heapz_v2/RATE` (sampled,
//! un-sampled here by 1-exp(-S/R)), `@ growthz`, `@ fragmentationz`, `@ heapprofile`, and
//! Go's pre-1.9 `@ heap/RATE` with four sample types, each line
//! `inuse_n: inuse_b [alloc_n: alloc_b] @ pc…`, then an optional memory map.

use std::sync::LazyLock;

use regex::Regex;

use super::lines::Lines;
use super::{Builder, Fail, hex_addresses, is_memory_map_sentinel, is_space_or_comment, maps, re};
use crate::model::{NumLabel, Profile, Sample, Str, ValueType};

static HEAP_HEADER: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"heap profile: *([0-9]+): *([0-9]+) *\[ *([0-9]+): *([0-9]+) *\] *@ *(heap[_a-z0-9]*)/?([0-9]*)",
    )
});
static HEAP_SAMPLE: LazyLock<Regex> =
    LazyLock::new(|| re(r"(-?[0-9]+): *(-?[0-9]+) *\[ *([0-9]+): *([0-9]+) *\] @([ x0-9a-f]*)"));
static GROWTH_HEADER: LazyLock<Regex> = LazyLock::new(|| {
    re(r"heap profile: *([0-9]+): *([0-9]+) *\[ *([0-9]+): *([0-9]+) *\] @ growthz?")
});
static FRAGMENTATION_HEADER: LazyLock<Regex> = LazyLock::new(|| {
    re(r"heap profile: *([0-9]+): *([0-9]+) *\[ *([0-9]+): *([0-9]+) *\] @ fragmentationz?")
});

#[derive(Clone, Copy, PartialEq)]
enum Sampling {
    None,
    V2,
}

pub(crate) fn parse(data: &[u8]) -> Result<Profile, Fail> {
    let mut s = Lines::new(data, 1);
    if !s.scan() {
        return Err(Fail::Unrecognized(None));
    }
    let line = s.text().to_string();
    let (sampling, period, has_alloc) = if let Some(h) = HEAP_HEADER.captures(&line) {
        let g = |i| h.get(i).map_or("", |m| m.as_str());
        let mut period = 0i64;
        if !g(6).is_empty() {
            period = g(6).parse().map_err(|_| {
                Fail::unrecognized(format!(
                    "line 1: heap sampling rate {:?} out of range",
                    g(6)
                ))
            })?;
        }
        let has_alloc = (g(3) != g(1) && g(3) != "0") || (g(4) != g(2) && g(4) != "0");
        match g(5) {
            "heapz_v2" | "heap_v2" => (Sampling::V2, period, has_alloc),
            "heapprofile" => (Sampling::None, 1, has_alloc),
            "heap" => (Sampling::V2, period / 2, has_alloc),
            other => {
                return Err(Fail::unrecognized(format!(
                    "line 1: unknown heap profile kind {other:?}"
                )));
            }
        }
    } else if GROWTH_HEADER.is_match(&line) || FRAGMENTATION_HEADER.is_match(&line) {
        (Sampling::None, 1, false)
    } else {
        return Err(Fail::Unrecognized(None));
    };
    let sample_type = if has_alloc {
        // alloc before inuse, so pprof's default (the last type) is inuse_space.
        vec![
            ValueType::new("alloc_objects", "count"),
            ValueType::new("alloc_space", "bytes"),
            ValueType::new("inuse_objects", "count"),
            ValueType::new("inuse_space", "bytes"),
        ]
    } else {
        vec![
            ValueType::new("objects", "count"),
            ValueType::new("space", "bytes"),
        ]
    };
    let mut b = Builder::new(Profile {
        period_type: Some(ValueType::new("space", "bytes")),
        period,
        sample_type,
        ..Profile::default()
    });
    let bytes_key = Str::from("bytes");
    let no_unit = Str::from("");
    while s.scan() {
        let line = s.text().trim();
        if is_space_or_comment(line) {
            continue;
        }
        if is_memory_map_sentinel(line) {
            break;
        }
        let (values, blocksize, addrs) = parse_heap_sample(line, period, sampling, has_alloc)
            .map_err(|e| Fail::at_line(s.line_no(), e))?;
        // Return addresses point after the call; -1 lands on the call.
        let locations = addrs
            .iter()
            .map(|&a| b.location(a.wrapping_sub(1)))
            .collect();
        b.p.samples.push(Sample {
            locations,
            values,
            num_labels: vec![NumLabel {
                key: bytes_key.clone(),
                value: blocksize,
                unit: no_unit.clone(),
            }],
            ..Sample::default()
        });
    }
    additional_sections(&mut s, &mut b);
    Ok(b.p)
}

/// pprof's `parseAdditionalSections`: skips to the memory map and applies it.
pub(crate) fn additional_sections(s: &mut Lines, b: &mut Builder) {
    while !is_memory_map_sentinel(s.text()) && s.scan() {}
    let mappings = maps::parse_lines(s);
    b.apply_memory_map(mappings);
}

fn parse_heap_sample(
    line: &str,
    rate: i64,
    sampling: Sampling,
    include_alloc: bool,
) -> Result<(Vec<i64>, i64, Vec<u64>), String> {
    let Some(c) = HEAP_SAMPLE.captures(line) else {
        return Err(format!("expected `N: B [N: B] @ 0x…`, found {line:?}"));
    };
    let g = |i| c.get(i).map_or("", |m| m.as_str());
    let mut values = Vec::with_capacity(4);
    let mut blocksize = 0i64;
    let mut add = |count: &str, size: &str, label: &str| -> Result<(), String> {
        let count: i64 = count
            .parse()
            .map_err(|_| format!("malformed sample: {line}: count {count} out of range"))?;
        let size: i64 = size
            .parse()
            .map_err(|_| format!("malformed sample: {line}: size {size} out of range"))?;
        if count == 0 && size != 0 {
            return Err(format!("{label} count was 0 but {label} bytes was {size}"));
        }
        let (mut count, mut size) = (count, size);
        if count != 0 {
            blocksize = size.wrapping_div(count);
            if sampling == Sampling::V2 {
                (count, size) = scale_heap_sample(count, size, rate);
            }
        }
        values.push(count);
        values.push(size);
        Ok(())
    };
    if include_alloc {
        add(g(3), g(4), "allocation")?;
    }
    add(g(1), g(2), "inuse")?;
    let addrs = hex_addresses(g(5)).map_err(|e| format!("malformed sample: {line}: {e}"))?;
    Ok((values, blocksize, addrs))
}

/// Estimates the unsampled count and size of a heapz v2 sample: a sample of average size S
/// appears with probability 1-exp(-S/R) at sampling rate R.
pub(crate) fn scale_heap_sample(count: i64, size: i64, rate: i64) -> (i64, i64) {
    if count == 0 || size == 0 {
        return (0, 0);
    }
    if rate <= 1 {
        return (count, size);
    }
    let avg = size as f64 / count as f64;
    let scale = 1.0 / (1.0 - (-avg / rate as f64).exp());
    ((count as f64 * scale) as i64, (size as f64 * scale) as i64)
}
