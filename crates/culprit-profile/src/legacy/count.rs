//! Go's `?debug=1` count profiles: `goroutine profile: total N` or
//! `threadcreate profile: total N`, then `count @ pc…` lines (comments ignored).

use std::sync::LazyLock;

use regex::Regex;

use super::heap::additional_sections;
use super::lines::Lines;
use super::{Builder, Fail, is_space_or_comment, parse_int_base0, re};
use crate::model::{Profile, Sample, ValueType};

static START: LazyLock<Regex> = LazyLock::new(|| re(r"\A(\S+) profile: total [0-9]+\z"));
static COUNT: LazyLock<Regex> = LazyLock::new(|| re(r"\A([0-9]+) @((?: 0x[0-9a-f]+)+)\z"));

pub(crate) fn parse(data: &[u8]) -> Result<Profile, Fail> {
    let mut s = Lines::new(data, 1);
    while s.scan() && is_space_or_comment(s.text()) {}
    let Some(m) = START.captures(s.text()) else {
        return Err(Fail::Unrecognized(None));
    };
    let kind = m.get(1).map_or("", |m| m.as_str()).to_string();
    let mut b = Builder::new(Profile {
        period_type: Some(ValueType::new(kind.clone(), "count")),
        period: 1,
        sample_type: vec![ValueType::new(kind, "count")],
        ..Profile::default()
    });
    while s.scan() {
        let line = s.text();
        if is_space_or_comment(line) {
            continue;
        }
        if line.starts_with("---") {
            break;
        }
        let malformed = |what: &str| Fail::at_line(s.line_no(), format!("{what}: {line:?}"));
        let Some(c) = COUNT.captures(line) else {
            return Err(malformed("expected `count @ 0x…`"));
        };
        let n = c
            .get(1)
            .and_then(|m| parse_int_base0(m.as_str()))
            .ok_or_else(|| malformed("count out of range"))?;
        let stack = c.get(2).map_or("", |m| m.as_str());
        let mut locations = Vec::new();
        for hex in stack.split_ascii_whitespace() {
            let addr = u64::from_str_radix(&hex[2..], 16)
                .map_err(|_| malformed("address out of range"))?;
            // Return addresses point after the call; -1 lands on the call.
            locations.push(b.location(addr.wrapping_sub(1)));
        }
        b.p.samples.push(Sample {
            locations,
            values: vec![n],
            ..Sample::default()
        });
    }
    additional_sections(&mut s, &mut b);
    Ok(b.p)
}
