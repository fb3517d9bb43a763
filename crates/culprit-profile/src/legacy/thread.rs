//! threadz dumps: `--- threadz 1 ---`, then per thread
//! `--- Thread ID (name: NAME/TID) stack: ---` and lines holding `0x…` addresses (symbol
//! text beside them is ignored), `same as previous thread` markers, and a memory map.

use std::sync::LazyLock;

use regex::Regex;

use super::heap::additional_sections;
use super::lines::Lines;
use super::{
    Builder, Fail, cleanup_duplicate_locations, hex_addresses, is_memory_map_sentinel,
    is_space_or_comment, re,
};
use crate::model::{Profile, Sample, ValueType};

static THREADZ_START: LazyLock<Regex> = LazyLock::new(|| re(r"--- threadz [0-9]+ ---"));
static THREAD_START: LazyLock<Regex> =
    LazyLock::new(|| re(r"--- Thread ([[:xdigit:]]+) \(name: (.*)/([0-9]+)\) stack: ---"));

pub(crate) fn parse(data: &[u8]) -> Result<Profile, Fail> {
    let mut s = Lines::new(data, 1);
    while s.scan() && is_space_or_comment(s.text()) {}
    let mut line = s.text().to_string();
    if THREADZ_START.is_match(&line) {
        while s.scan() {
            line = s.text().to_string();
            if is_memory_map_sentinel(&line) || line.starts_with('-') {
                break;
            }
        }
    } else if !THREAD_START.is_match(&line) {
        return Err(Fail::Unrecognized(None));
    }
    let mut b = Builder::new(Profile {
        sample_type: vec![ValueType::new("thread", "count")],
        period_type: Some(ValueType::new("thread", "count")),
        period: 1,
        ..Profile::default()
    });
    while !is_memory_map_sentinel(&line) {
        if line.starts_with("---- no stack trace for") {
            break;
        }
        if !THREAD_START.is_match(&line) {
            return Err(Fail::unrecognized(format!(
                "line {}: expected `--- Thread ID (name: NAME/TID) stack: ---`, found {line:?}",
                s.line_no()
            )));
        }
        let addrs;
        (line, addrs) = parse_thread_sample(&mut s)?;
        if addrs.is_empty() {
            // "same as previous thread": one more thread on the last stack.
            if let Some(last) = b.p.samples.last_mut()
                && let Some(v) = last.values.first_mut()
            {
                *v = v.wrapping_add(1);
            }
            continue;
        }
        let locations = addrs
            .iter()
            .enumerate()
            .map(|(i, &a)| b.location(if i > 0 { a.wrapping_sub(1) } else { a }))
            .collect();
        b.p.samples.push(Sample {
            locations,
            values: vec![1],
            ..Sample::default()
        });
    }
    additional_sections(&mut s, &mut b);
    cleanup_duplicate_locations(&mut b.p);
    Ok(b.p)
}

/// Reads one thread's stack; returns the line after it and the addresses (none for a
/// "same as previous thread" marker).
fn parse_thread_sample(s: &mut Lines) -> Result<(String, Vec<u64>), Fail> {
    let mut line = String::new();
    let mut same_as_previous = false;
    let mut addrs = Vec::new();
    while s.scan() {
        line = s.text().trim().to_string();
        if line.is_empty() {
            continue;
        }
        if line.starts_with("---") {
            break;
        }
        if line.contains("same as previous thread") {
            same_as_previous = true;
            continue;
        }
        let cur = hex_addresses(&line)
            .map_err(|e| Fail::at_line(s.line_no(), format!("malformed sample: {line}: {e}")))?;
        addrs.extend(cur);
    }
    if same_as_previous {
        addrs.clear();
    }
    Ok((line, addrs))
}
