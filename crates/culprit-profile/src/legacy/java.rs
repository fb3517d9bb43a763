//! Java legacy profiles: the binary CPU format with Java's header flag, and the
//! `--- heapz 1 ---` / `--- contentionz 1 ---` text formats with `format = java`. All end in
//! a symbol section (`0xADDR function (File.java:NN)`) that gives locations their lines.

use std::collections::HashMap;
use std::sync::LazyLock;

use regex::Regex;

use super::cpu::{Words, parse_samples};
use super::{Builder, Fail, hex_addresses, parse_int_base0, re};
use crate::model::{Function, Line, NumLabel, Profile, Sample, Str, ValueType};

static ATTRIBUTE: LazyLock<Regex> = LazyLock::new(|| re(r"([0-9A-Za-z_ ]+)=([0-9A-Za-z_ ]+)"));
static SAMPLE: LazyLock<Regex> = LazyLock::new(|| re(r" *([0-9]+) +([0-9]+) +@ +([ x0-9a-f]*)"));
static LOCATION: LazyLock<Regex> = LazyLock::new(|| re(r"^\s*0x([[:xdigit:]]+)\s+(.*)\s*$"));
static FILE_LINE: LazyLock<Regex> = LazyLock::new(|| re(r"^(.*)\s+\((.+):(-?[[:digit:]]+)\)$"));
static PATH: LazyLock<Regex> = LazyLock::new(|| re(r"^(.*)\s+\((.*)\)$"));

/// The binary CPU profile of a JVM: frames are not adjusted, and the symbol section
/// replaces addresses by functions.
pub(crate) fn cpu_profile(
    data: &[u8],
    body: usize,
    period_us: i64,
    w: Words,
) -> Result<Profile, Fail> {
    let mut b = Builder::new(Profile {
        period: period_us.wrapping_mul(1000),
        period_type: Some(ValueType::new("cpu", "nanoseconds")),
        sample_type: vec![
            ValueType::new("samples", "count"),
            ValueType::new("cpu", "nanoseconds"),
        ],
        ..Profile::default()
    });
    let rest = parse_samples(data, body, w, false, &mut b)?;
    parse_locations(&data[rest..], 0, &mut b)?;
    strip_addresses(&mut b.p);
    Ok(b.p)
}

/// The Java heapz and contentionz text profiles.
pub(crate) fn parse(data: &[u8]) -> Result<Profile, Fail> {
    let Some(nl) = data.iter().position(|&c| c == b'\n') else {
        return Err(Fail::Unrecognized(None));
    };
    let kind = match String::from_utf8_lossy(&data[..nl]).trim() {
        "--- heapz 1 ---" => Kind::Heap,
        "--- contentionz 1 ---" => Kind::Contention,
        _ => return Err(Fail::Unrecognized(None)),
    };
    let mut b = Builder::new(Profile {
        period_type: Some(ValueType::default()),
        ..Profile::default()
    });
    let mut text = Text {
        data,
        at: nl + 1,
        line: 2,
    };
    parse_header(kind, &mut text, &mut b.p)?;
    parse_java_samples(kind, &mut text, &mut b)?;
    parse_locations(&data[text.at..], text.line - 1, &mut b)?;
    strip_addresses(&mut b.p);
    Ok(b.p)
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Heap,
    Contention,
}

/// Newline-terminated lines from a position; a last line without newline is left alone,
/// as pprof's Java parser does.
struct Text<'a> {
    data: &'a [u8],
    at: usize,
    line: usize,
}

impl Text<'_> {
    fn peek(&self) -> Option<(String, usize)> {
        let rest = self.data.get(self.at..)?;
        let nl = rest.iter().position(|&c| c == b'\n')?;
        Some((
            String::from_utf8_lossy(&rest[..nl]).trim().to_string(),
            nl + 1,
        ))
    }

    fn advance(&mut self, by: usize) {
        self.at += by;
        self.line += 1;
    }
}

fn parse_header(kind: Kind, t: &mut Text, p: &mut Profile) -> Result<(), Fail> {
    while let Some((line, len)) = t.peek() {
        if !line.is_empty() {
            let Some(c) = ATTRIBUTE.captures(&line) else {
                return Ok(());
            };
            let attr = c.get(1).map_or("", |m| m.as_str()).trim();
            let value = c.get(2).map_or("", |m| m.as_str()).trim();
            let bad = |what: &str| {
                Fail::at_line(t.line, format!("failed to parse attribute {line}: {what}"))
            };
            match (kind, attr) {
                (_, "format") => {
                    if value != "java" {
                        return Err(Fail::unrecognized(format!(
                            "line {}: Java profile format is {value:?}, not \"java\"",
                            t.line
                        )));
                    }
                }
                (Kind::Heap, "resolution") => {
                    p.sample_type = vec![
                        ValueType::new("inuse_objects", "count"),
                        ValueType::new("inuse_space", value),
                    ];
                }
                (Kind::Contention, "resolution") => {
                    p.sample_type = vec![
                        ValueType::new("contentions", "count"),
                        ValueType::new("delay", value),
                    ];
                }
                (Kind::Contention, "sampling period") => {
                    p.period_type = Some(ValueType::new("contentions", "count"));
                    p.period = parse_int_base0(value).ok_or_else(|| bad("not an integer"))?;
                }
                (Kind::Contention, "ms since reset") => {
                    let ms = parse_int_base0(value).ok_or_else(|| bad("not an integer"))?;
                    p.duration_nanos = ms.wrapping_mul(1_000_000);
                }
                _ => {
                    return Err(Fail::unrecognized(format!(
                        "line {}: unknown Java profile attribute {attr:?}",
                        t.line
                    )));
                }
            }
        }
        t.advance(len);
    }
    Ok(())
}

fn parse_java_samples(kind: Kind, t: &mut Text, b: &mut Builder) -> Result<(), Fail> {
    while let Some((line, len)) = t.peek() {
        if !line.is_empty() {
            let Some(c) = SAMPLE.captures(&line) else {
                return Ok(());
            };
            let field = |i| c.get(i).map_or("", |m| m.as_str());
            let addrs = hex_addresses(field(3))
                .map_err(|e| Fail::at_line(t.line, format!("malformed sample: {line}: {e}")))?;
            let locations = addrs.iter().map(|&a| b.location(a)).collect();
            // Java profiles put the two values the other way round.
            let parse = |s: &str| {
                parse_int_base0(s).ok_or_else(|| {
                    Fail::at_line(
                        t.line,
                        format!("parsing sample {line}: {s:?} is not an integer"),
                    )
                })
            };
            let mut v0 = parse(field(2))?;
            let mut v1 = parse(field(1))?;
            let mut num_labels = Vec::new();
            match kind {
                Kind::Heap => {
                    const JAVA_HEAPZ_SAMPLING_RATE: i64 = 524288;
                    if v0 == 0 {
                        return Err(Fail::at_line(
                            t.line,
                            format!("parsing sample {line}: second value must be non-zero"),
                        ));
                    }
                    num_labels.push(NumLabel {
                        key: Str::from("bytes"),
                        value: v1.wrapping_div(v0),
                        unit: Str::from(""),
                    });
                    (v0, v1) = super::heap::scale_heap_sample(v0, v1, JAVA_HEAPZ_SAMPLING_RATE);
                }
                Kind::Contention => {
                    let period = b.p.period;
                    if period != 0 {
                        v0 = v0.wrapping_mul(period);
                        v1 = v1.wrapping_mul(period);
                    }
                }
            }
            b.p.samples.push(Sample {
                locations,
                values: vec![v0, v1],
                num_labels,
                ..Sample::default()
            });
        }
        t.advance(len);
    }
    Ok(())
}

/// Reads the symbol section: each `0xADDR text` line names the function (and file, line)
/// at a sampled address. Then renumbers everything as pprof does.
fn parse_locations(data: &[u8], first_line: usize, b: &mut Builder) -> Result<(), Fail> {
    let mut fns: HashMap<String, u32> = HashMap::new();
    for (i, raw) in data.split(|&c| c == b'\n').enumerate() {
        let line = String::from_utf8_lossy(raw);
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let Some(c) = LOCATION.captures(line) else {
            continue;
        };
        let hex = c.get(1).map_or("", |m| m.as_str());
        let rest = c.get(2).map_or("", |m| m.as_str());
        let addr = u64::from_str_radix(hex, 16).map_err(|_| {
            Fail::at_line(
                first_line + i + 1,
                format!("parsing sample {line}: address out of range"),
            )
        })?;
        let Some(loc) = b.existing_location(addr) else {
            continue;
        };
        let (name, file, line_no) = if let Some(fl) = FILE_LINE.captures(rest) {
            let n = fl
                .get(3)
                .and_then(|m| m.as_str().parse::<i64>().ok())
                .filter(|&n| n > 0);
            (
                fl.get(1).map_or("", |m| m.as_str()).to_string(),
                fl.get(2).map_or("", |m| m.as_str()).to_string(),
                n.unwrap_or(0),
            )
        } else if let Some(fp) = PATH.captures(rest) {
            (
                fp.get(1).map_or("", |m| m.as_str()).to_string(),
                go_base(fp.get(2).map_or("", |m| m.as_str())),
                0,
            )
        } else if rest.contains("generated stub/JIT") {
            ("STUB".to_string(), String::new(), 0)
        } else {
            (rest.to_string(), String::new(), 0)
        };
        let functions = &mut b.p.functions;
        let f = *fns.entry(name.clone()).or_insert_with(|| {
            functions.push(Function {
                name: name.clone(),
                system_name: name,
                filename: file,
                ..Function::default()
            });
            functions.len() as u32 - 1
        });
        let l = &mut b.p.locations[loc as usize];
        l.lines = vec![Line {
            function: Some(f),
            line: line_no,
            column: 0,
        }];
        l.address = 0;
    }
    b.remap();
    Ok(())
}

/// pprof strips addresses from Java profiles so equal functions merge.
fn strip_addresses(p: &mut Profile) {
    for l in &mut p.locations {
        l.address = 0;
        for ln in &mut l.lines {
            ln.column = 0;
        }
    }
}

/// Go's `filepath.Base`.
fn go_base(path: &str) -> String {
    if path.is_empty() {
        return ".".into();
    }
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        return "/".into();
    }
    trimmed.rsplit('/').next().unwrap_or(trimmed).to_string()
}
