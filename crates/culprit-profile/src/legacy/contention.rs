//! Contention text profiles: `--- contentionz 1 ---` (or Go's `--- mutex:` /
//! `--- contention:`), `key = value` attributes (`cycles/second`, `sampling period`,
//! `ms since reset`), then `delay count @ pc…` lines and an optional memory map.

use std::sync::LazyLock;

use regex::Regex;

use super::heap::additional_sections;
use super::lines::Lines;
use super::{Builder, Fail, hex_addresses, is_space_or_comment, parse_int_base0, re};
use crate::model::{Profile, Sample, ValueType};

static SAMPLE: LazyLock<Regex> = LazyLock::new(|| re(r"([0-9]+) *([0-9]+) @([ x0-9a-f]*)"));

pub(crate) fn parse(data: &[u8]) -> Result<Profile, Fail> {
    let mut s = Lines::new(data, 1);
    if !s.scan() {
        return Err(Fail::Unrecognized(None));
    }
    let first = s.text();
    if !(first.starts_with("--- contentionz ")
        || first.starts_with("--- mutex:")
        || first.starts_with("--- contention:"))
    {
        return Err(Fail::Unrecognized(None));
    }
    let mut b = Builder::new(Profile {
        period_type: Some(ValueType::new("contentions", "count")),
        period: 1,
        sample_type: vec![
            ValueType::new("contentions", "count"),
            ValueType::new("delay", "nanoseconds"),
        ],
        ..Profile::default()
    });
    let mut cpu_hz = 0i64;
    while s.scan() {
        let line = s.text().trim();
        if is_space_or_comment(line) {
            continue;
        }
        if line.starts_with("---") {
            break;
        }
        let Some((key, val)) = line.split_once('=') else {
            break;
        };
        let (key, val) = (key.trim(), val.trim());
        let int = || {
            parse_int_base0(val).ok_or_else(|| {
                Fail::unrecognized(format!(
                    "line {}: {key} = {val:?} is not an integer",
                    s.line_no()
                ))
            })
        };
        match key {
            "cycles/second" => cpu_hz = int()?,
            "sampling period" => b.p.period = int()?,
            "ms since reset" => b.p.duration_nanos = int()?.wrapping_mul(1_000_000),
            "discarded samples" => {}
            // Java contention profiles (handled by the Java parser) say format/resolution.
            _ => {
                return Err(Fail::unrecognized(format!(
                    "line {}: unknown contention profile attribute {key:?}",
                    s.line_no()
                )));
            }
        }
    }
    loop {
        let line = s.text().trim();
        if line.starts_with("---") {
            break;
        }
        if !is_space_or_comment(line) {
            let Some(c) = SAMPLE.captures(line) else {
                return Err(Fail::unrecognized(format!(
                    "line {}: expected `delay count @ 0x…`, found {line:?}",
                    s.line_no()
                )));
            };
            let g = |i| c.get(i).map_or("", |m| m.as_str());
            let bad = |what: &str| {
                Fail::at_line(s.line_no(), format!("malformed sample: {line}: {what}"))
            };
            let mut count: i64 = g(1).parse().map_err(|_| bad("value out of range"))?;
            let mut delay: i64 = g(2).parse().map_err(|_| bad("value out of range"))?;
            let period = b.p.period;
            // Un-sample: delays go from cycles to nanoseconds, counts scale by the period.
            if period > 0 {
                if cpu_hz > 0 {
                    let cpu_ghz = cpu_hz as f64 / 1e9;
                    count = (count as f64 * period as f64 / cpu_ghz) as i64;
                }
                delay = delay.wrapping_mul(period);
            }
            let addrs = hex_addresses(g(3)).map_err(|e| bad(&e))?;
            let locations = addrs
                .iter()
                .map(|&a| b.location(a.wrapping_sub(1)))
                .collect();
            b.p.samples.push(Sample {
                locations,
                values: vec![delay, count],
                ..Sample::default()
            });
        }
        if !s.scan() {
            break;
        }
    }
    additional_sections(&mut s, &mut b);
    Ok(b.p)
}
