//! Folded stacks (`a;b;c 10` lines), read as a profile and written from one.
//!
//! This is the format of Brendan Gregg's `stackcollapse-*` scripts, inferno's collapsers
//! and async-profiler's `collapsed` output: one line per distinct stack, frames root first
//! separated by `;`, then a space and the sample count. Frame names may hold spaces (C++
//! signatures), so the count is whatever follows the last space.

use std::collections::HashMap;
use std::io::{self, Write};

use crate::model::{Function, Line, Location, Profile, Sample, ValueType};

/// Why bytes are not folded stacks. Lines are 1-based.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FoldedError {
    /// The bytes are not UTF-8 text.
    #[error("not UTF-8 text at byte offset {0}")]
    NotText(usize),
    /// A line does not end with ` COUNT`.
    #[error("line {line}: expected `frame;frame;... COUNT`, found {found:?}")]
    NoCount {
        /// The offending line number.
        line: usize,
        /// The start of the line, cut to 60 characters.
        found: String,
    },
    /// A line has a count but no frames.
    #[error("line {0}: a count with no stack")]
    EmptyStack(usize),
    /// A line's count does not fit a 64-bit signed integer.
    #[error("line {line}: count {count:?} is out of range")]
    CountRange {
        /// The offending line number.
        line: usize,
        /// The count as written.
        count: String,
    },
    /// No line held a stack.
    #[error("no stacks")]
    NoStacks,
}

/// Reads folded stacks into a profile with one sample type, `samples`/`count`.
///
/// Blank lines and `#` comments are skipped. Identical frame names share one function and
/// one location, so reports group them as pprof would.
pub fn parse(data: &[u8]) -> Result<Profile, FoldedError> {
    let text = std::str::from_utf8(data).map_err(|e| FoldedError::NotText(e.valid_up_to()))?;
    let mut profile = Profile {
        sample_type: vec![ValueType::new("samples", "count")],
        period_type: Some(ValueType::new("samples", "count")),
        period: 1,
        ..Profile::default()
    };
    let mut by_name: HashMap<&str, u32> = HashMap::new();
    for (i, raw) in text.lines().enumerate() {
        let line_no = i + 1;
        let line = raw.trim_end();
        if line.trim_start().is_empty() || line.starts_with('#') {
            continue;
        }
        let (stack, count) = split_count(line).ok_or_else(|| FoldedError::NoCount {
            line: line_no,
            found: line.chars().take(60).collect(),
        })?;
        let value: i64 = count.parse().map_err(|_| FoldedError::CountRange {
            line: line_no,
            count: count.to_owned(),
        })?;
        let stack = stack.trim();
        if stack.is_empty() {
            return Err(FoldedError::EmptyStack(line_no));
        }
        let mut locations: Vec<u32> = Vec::new();
        for name in stack.split(';').rev().filter(|f| !f.is_empty()) {
            let next = profile.locations.len() as u32;
            let idx = *by_name.entry(name).or_insert_with(|| {
                let id = u64::from(next) + 1;
                profile.functions.push(Function {
                    id,
                    name: name.to_owned(),
                    system_name: name.to_owned(),
                    ..Function::default()
                });
                profile.locations.push(Location {
                    id,
                    lines: vec![Line {
                        function: Some(next),
                        ..Line::default()
                    }],
                    ..Location::default()
                });
                next
            });
            locations.push(idx);
        }
        if locations.is_empty() {
            return Err(FoldedError::EmptyStack(line_no));
        }
        profile.samples.push(Sample {
            locations,
            values: vec![value],
            ..Sample::default()
        });
    }
    if profile.samples.is_empty() {
        return Err(FoldedError::NoStacks);
    }
    Ok(profile)
}

/// Splits `stack COUNT` at the last run of spaces; `None` when the tail is not a count.
fn split_count(line: &str) -> Option<(&str, &str)> {
    let at = line.rfind([' ', '\t'])?;
    let (stack, count) = (&line[..at], &line[at + 1..]);
    let digits = count.strip_prefix('-').unwrap_or(count);
    (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())).then_some((stack, count))
}

/// The frame names of one location, caller first: the outermost function of its inlining
/// chain first, then each inlined callee. A line without a function is named by address.
pub fn location_frames(p: &Profile, loc: &Location) -> Vec<String> {
    if loc.lines.is_empty() {
        return vec![format!("{:#x}", loc.address)];
    }
    loc.lines
        .iter()
        .rev()
        .map(|l| match p.line_function(l) {
            Some(f) if !f.name.is_empty() => clean_name(&f.name),
            _ => format!("{:#x}", loc.address),
        })
        .collect()
}

/// Makes a name safe for one frame of a folded line: `;` separates frames and a newline
/// ends the line, so both become look-alikes.
fn clean_name(name: &str) -> String {
    if name.contains([';', '\n', '\r']) {
        name.replace(';', ":").replace(['\n', '\r'], " ")
    } else {
        name.to_owned()
    }
}

/// Writes `profile` as folded stacks of sample value `value_index`, one line per distinct
/// stack in lexical order, root first; samples whose value is zero are left out.
pub fn write(profile: &Profile, value_index: usize, out: &mut impl Write) -> io::Result<()> {
    if value_index >= profile.sample_type.len() && !profile.samples.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "sample index {value_index} out of range: the profile has {} sample types",
                profile.sample_type.len()
            ),
        ));
    }
    let frames: Vec<Vec<String>> = profile
        .locations
        .iter()
        .map(|l| location_frames(profile, l))
        .collect();
    let mut stacks: HashMap<String, i64> = HashMap::new();
    let mut key = String::new();
    for s in &profile.samples {
        let v = s.values.get(value_index).copied().unwrap_or(0);
        if v == 0 {
            continue;
        }
        key.clear();
        for &loc in s.locations.iter().rev() {
            for f in frames.get(loc as usize).into_iter().flatten() {
                if !key.is_empty() {
                    key.push(';');
                }
                key.push_str(f);
            }
        }
        if key.is_empty() {
            continue;
        }
        match stacks.get_mut(key.as_str()) {
            Some(total) => *total = total.saturating_add(v),
            None => {
                stacks.insert(key.clone(), v);
            }
        }
    }
    let mut lines: Vec<(String, i64)> = stacks.into_iter().collect();
    lines.sort_unstable();
    let mut w = io::BufWriter::new(out);
    for (stack, v) in lines {
        writeln!(w, "{stack} {v}")?;
    }
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(text: &str) -> String {
        let p = parse(text.as_bytes()).expect("parse");
        let mut out = Vec::new();
        write(&p, 0, &mut out).expect("write");
        String::from_utf8(out).expect("utf8")
    }

    #[test]
    fn reads_perf_inferno_and_async_profiler_lines() {
        let text = "# comment\n\
            swapper;secondary_startup_64;cpu_idle 120\n\
            java;start_thread;JavaMain;Interpreter_[j];operator new(unsigned long) 7\n\
            \n\
            main;main.handler;runtime.mallocgc\t3\n";
        let p = parse(text.as_bytes()).expect("parse");
        assert_eq!(p.samples.len(), 3);
        assert_eq!(p.samples[1].values, vec![7]);
        let leaf = p.samples[1].locations[0] as usize;
        assert_eq!(p.functions[leaf].name, "operator new(unsigned long)");
        let root = *p.samples[0].locations.last().expect("frames") as usize;
        assert_eq!(p.functions[root].name, "swapper");
    }

    #[test]
    fn merges_duplicate_stacks_on_write() {
        assert_eq!(round_trip("a;b 1\na;c 2\na;b 3\n"), "a;b 4\na;c 2\n");
    }

    #[test]
    fn rejects_text_that_is_not_folded_with_the_line() {
        assert_eq!(
            parse(b"a;b 1\nhello world\n"),
            Err(FoldedError::NoCount {
                line: 2,
                found: "hello world".into()
            })
        );
        assert_eq!(parse(b" 5\n"), Err(FoldedError::EmptyStack(1)));
        assert_eq!(parse(b";;; 5\n"), Err(FoldedError::EmptyStack(1)));
        assert_eq!(parse(b"\n# x\n"), Err(FoldedError::NoStacks));
        assert!(matches!(
            parse(b"a 99999999999999999999\n"),
            Err(FoldedError::CountRange { line: 1, .. })
        ));
    }

    mod props {
        use super::super::*;
        use proptest::prelude::*;

        fn frame() -> impl Strategy<Value = String> {
            "[A-Za-z_][A-Za-z0-9_.:<>()/ *&-]{0,20}"
                .prop_map(|f| f.trim().to_owned())
                .prop_filter("non-empty", |f| !f.is_empty())
        }

        fn stacks() -> impl Strategy<Value = Vec<(Vec<String>, i64)>> {
            prop::collection::vec(
                (prop::collection::vec(frame(), 1..8), 1i64..1_000_000),
                1..30,
            )
        }

        fn text(stacks: &[(Vec<String>, i64)]) -> String {
            stacks
                .iter()
                .map(|(f, n)| format!("{} {n}\n", f.join(";")))
                .collect()
        }

        proptest! {
            #[test]
            fn never_panics_on_arbitrary_bytes(data in prop::collection::vec(any::<u8>(), 0..512)) {
                let _ = parse(&data);
            }

            #[test]
            fn never_panics_on_near_folded_text(s in "[a-z;# \t\n0-9.-]{0,200}") {
                let _ = parse(s.as_bytes());
            }

            #[test]
            fn write_then_parse_is_stable_and_keeps_the_total(stacks in stacks()) {
                let p = parse(text(&stacks).as_bytes()).expect("generated folded parses");
                let total: i64 = stacks.iter().map(|s| s.1).sum();
                prop_assert_eq!(p.samples.iter().map(|s| s.values[0]).sum::<i64>(), total);
                let mut once = Vec::new();
                write(&p, 0, &mut once).expect("write");
                let again = parse(&once).expect("written folded parses");
                let mut twice = Vec::new();
                write(&again, 0, &mut twice).expect("write again");
                prop_assert_eq!(once, twice);
            }
        }
    }
}
