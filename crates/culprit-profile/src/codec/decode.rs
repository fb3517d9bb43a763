//! A streaming `profile.proto` decoder that fills the model straight from the wire bytes,
//! without building prost's intermediate messages.
//!
//! pprof writes the string table after the samples, so decoding takes two passes over the
//! top-level fields: the first reads everything but the samples (which it only counts), the
//! second decodes the samples with every string and id already resolved. Nothing is
//! pre-sized from a count the file claims; only from counts of bytes actually present.

use std::borrow::Cow;

use super::IdIndex;
use super::wire::{LEN, Reader};
use crate::error::ParseError;
use crate::model::*;

struct RawLine {
    function_id: u64,
    line: i64,
    column: i64,
}

struct RawLocation {
    id: u64,
    mapping_id: u64,
    address: u64,
    lines: std::ops::Range<usize>,
    is_folded: bool,
}

#[derive(Default)]
struct RawMapping {
    id: u64,
    memory_start: u64,
    memory_limit: u64,
    file_offset: u64,
    filename: i64,
    build_id: i64,
    flags: [bool; 4],
}

#[derive(Default)]
struct RawFunction {
    id: u64,
    name: i64,
    system_name: i64,
    filename: i64,
    start_line: i64,
}

struct Strings<'a> {
    table: Vec<Cow<'a, str>>,
}

/// Label strings made shareable once each, per decoding thread.
#[derive(Default)]
struct SharedStrings {
    shared: Vec<Option<Str>>,
}

impl SharedStrings {
    fn get(&mut self, s: &Strings, idx: i64, what: &str) -> Result<Str, ParseError> {
        s.get(idx, what)?;
        let i = idx as usize;
        if self.shared.is_empty() {
            self.shared = vec![None; s.table.len()];
        }
        if let Some(Some(v)) = self.shared.get(i) {
            return Ok(v.clone());
        }
        let v = Str::from(&*s.table[i]);
        self.shared[i] = Some(v.clone());
        Ok(v)
    }
}

impl Strings<'_> {
    fn get(&self, idx: i64, what: &str) -> Result<&str, ParseError> {
        usize::try_from(idx)
            .ok()
            .and_then(|i| self.table.get(i))
            .map(|s| &**s)
            .ok_or_else(|| {
                ParseError::malformed(format!(
                    "{what} refers to string {idx}, but the string table has {} entries",
                    self.table.len()
                ))
            })
    }

    fn owned(&self, idx: i64, what: &str) -> Result<String, ParseError> {
        self.get(idx, what).map(str::to_owned)
    }
}

/// Decodes an uncompressed `profile.proto` message.
pub fn decode(data: &[u8]) -> Result<Profile, ParseError> {
    let mut p = Profile::default();
    let mut strings: Vec<Cow<str>> = Vec::new();
    let mut sample_types: Vec<(i64, i64)> = Vec::new();
    let mut period_type: Option<(i64, i64)> = None;
    let mut mappings: Vec<RawMapping> = Vec::new();
    let mut locations: Vec<RawLocation> = Vec::new();
    let mut lines: Vec<RawLine> = Vec::new();
    let mut functions: Vec<RawFunction> = Vec::new();
    let mut comments: Vec<i64> = Vec::new();
    let (mut drop_frames, mut keep_frames, mut default_type, mut doc_url) = (0, 0, 0, 0);
    // Tables are sized from a count of the fields present, so none grows by doubling.
    let counts = count_fields(data);
    strings.reserve_exact(counts[6]);
    mappings.reserve_exact(counts[3]);
    locations.reserve_exact(counts[4]);
    lines.reserve(counts[4]);
    functions.reserve_exact(counts[5]);
    let n_samples = counts[2];

    let mut r = Reader::new(data, 0);
    while !r.is_empty() {
        let at = r.offset();
        let (field, wt) = r.key()?;
        match field {
            1 => sample_types.push(value_type(expect_len(&mut r, wt, at)?)?),
            2 => {
                expect_len(&mut r, wt, at)?;
            }
            3 => mappings.push(mapping(expect_len(&mut r, wt, at)?)?),
            4 => locations.push(location(expect_len(&mut r, wt, at)?, &mut lines)?),
            5 => functions.push(function(expect_len(&mut r, wt, at)?)?),
            6 => {
                let s = expect_len(&mut r, wt, at)?.bytes();
                strings.push(String::from_utf8_lossy(s));
            }
            7 => drop_frames = r.int(wt, at)? as i64,
            8 => keep_frames = r.int(wt, at)? as i64,
            9 => {
                let t = r.int(wt, at)? as i64;
                if p.time_nanos != 0 {
                    return Err(ParseError::malformed(format!(
                        "concatenated profiles detected: a second time_nanos at byte offset {at}"
                    )));
                }
                p.time_nanos = t;
            }
            10 => p.duration_nanos = r.int(wt, at)? as i64,
            11 => period_type = Some(value_type(expect_len(&mut r, wt, at)?)?),
            12 => p.period = r.int(wt, at)? as i64,
            13 => r.repeated(wt, at, |v| {
                comments.push(v as i64);
                Ok(())
            })?,
            14 => default_type = r.int(wt, at)? as i64,
            15 => doc_url = r.int(wt, at)? as i64,
            _ => r.skip(wt)?,
        }
    }

    if strings.first().is_some_and(|s| !s.is_empty()) {
        return Err(ParseError::malformed("string table entry 0 is not empty"));
    }
    if strings.is_empty() {
        strings.push(Cow::Borrowed(""));
    }
    let s = Strings { table: strings };

    p.sample_type = sample_types
        .iter()
        .map(|&(t, u)| {
            Ok(ValueType {
                kind: s.owned(t, "sample type")?,
                unit: s.owned(u, "sample type unit")?,
            })
        })
        .collect::<Result<_, ParseError>>()?;
    p.period_type = period_type
        .map(|(t, u)| {
            Ok::<_, ParseError>(ValueType {
                kind: s.owned(t, "period type")?,
                unit: s.owned(u, "period type unit")?,
            })
        })
        .transpose()?;
    p.drop_frames = s.owned(drop_frames, "drop_frames")?;
    p.keep_frames = s.owned(keep_frames, "keep_frames")?;
    p.default_sample_type = s.owned(default_type, "default sample type")?;
    p.doc_url = s.owned(doc_url, "doc_url")?;
    p.comments = comments
        .iter()
        .map(|&c| s.owned(c, "comment"))
        .collect::<Result<_, _>>()?;

    let map_index = IdIndex::new(mappings.iter().map(|m| m.id), "mapping")?;
    p.mappings = mappings
        .iter()
        .map(|m| {
            Ok(Mapping {
                id: m.id,
                memory_start: m.memory_start,
                memory_limit: m.memory_limit,
                file_offset: m.file_offset,
                file: s.owned(m.filename, "mapping filename")?,
                build_id: s.owned(m.build_id, "mapping build id")?,
                has_functions: m.flags[0],
                has_filenames: m.flags[1],
                has_line_numbers: m.flags[2],
                has_inline_frames: m.flags[3],
            })
        })
        .collect::<Result<_, ParseError>>()?;
    drop(mappings);

    let func_index = IdIndex::new(functions.iter().map(|f| f.id), "function")?;
    p.functions = functions
        .iter()
        .map(|f| {
            Ok(Function {
                id: f.id,
                name: s.owned(f.name, "function name")?,
                system_name: s.owned(f.system_name, "function system name")?,
                filename: s.owned(f.filename, "function filename")?,
                start_line: f.start_line,
            })
        })
        .collect::<Result<_, ParseError>>()?;
    drop(functions);

    let loc_index = IdIndex::new(locations.iter().map(|l| l.id), "location")?;
    let n_mappings = p.mappings.len();
    let n_functions = p.functions.len();
    p.locations = locations
        .iter()
        .map(|l| {
            let mapping = match l.mapping_id {
                0 => None,
                id => Some(map_index.get(id, n_mappings).ok_or_else(|| {
                    ParseError::malformed(format!(
                        "location {} refers to mapping {id}, which does not exist",
                        l.id
                    ))
                })?),
            };
            let lines = lines[l.lines.clone()]
                .iter()
                .map(|ln| {
                    let function = match ln.function_id {
                        0 => None,
                        id => Some(func_index.get(id, n_functions).ok_or_else(|| {
                            ParseError::malformed(format!(
                                "location {} refers to function {id}, which does not exist",
                                l.id
                            ))
                        })?),
                    };
                    Ok(Line {
                        function,
                        line: ln.line,
                        column: ln.column,
                    })
                })
                .collect::<Result<_, ParseError>>()?;
            Ok(Location {
                id: l.id,
                mapping,
                address: l.address,
                lines,
                is_folded: l.is_folded,
            })
        })
        .collect::<Result<_, ParseError>>()?;
    drop(locations);
    drop(lines);

    // Second pass: the samples. The count is of fields actually present.
    let mut messages: Vec<Reader> = Vec::with_capacity(n_samples);
    let mut r = Reader::new(data, 0);
    while !r.is_empty() {
        let (field, wt) = r.key()?;
        if field == 2 {
            messages.push(r.sub()?);
        } else {
            r.skip(wt)?;
        }
    }
    let ctx = SampleContext {
        loc_index: &loc_index,
        n_locations: p.locations.len(),
        n_types: p.sample_type.len(),
        strings: &s,
    };
    p.samples = (0..messages.len()).map(|_| Sample::default()).collect();
    if messages.len() < PARALLEL_SAMPLES_FROM {
        ctx.decode_into(&messages, 0, &mut p.samples)?;
        return Ok(p);
    }
    // Large profiles decode their two halves of samples on two threads.
    let mid = messages.len() / 2;
    let (first_msgs, rest_msgs) = messages.split_at(mid);
    let (first, rest) = p.samples.split_at_mut(mid);
    let ctx = &ctx;
    let (a, b) = std::thread::scope(|scope| {
        let other = std::thread::Builder::new()
            .spawn_scoped(scope, || ctx.decode_into(rest_msgs, mid, rest));
        let a = ctx.decode_into(first_msgs, 0, first);
        (a, other.map(|h| h.join()))
    });
    a?;
    match b {
        Ok(Ok(decoded)) => decoded?,
        Ok(Err(_)) => return Err(ParseError::malformed("sample decoding thread failed")),
        // No second thread: the second half is decoded here.
        Err(_) => ctx.decode_into(&messages[mid..], mid, &mut p.samples[mid..])?,
    }
    Ok(p)
}

/// Samples counted from which decoding is split over two threads.
const PARALLEL_SAMPLES_FROM: usize = 100_000;

/// What decoding a sample needs from the rest of the profile.
struct SampleContext<'s, 'a> {
    loc_index: &'s IdIndex,
    n_locations: usize,
    n_types: usize,
    strings: &'s Strings<'a>,
}

impl SampleContext<'_, '_> {
    /// Decodes `messages`, the samples from index `first` on, into `out`.
    fn decode_into(
        &self,
        messages: &[Reader],
        first: usize,
        out: &mut [Sample],
    ) -> Result<(), ParseError> {
        let mut shared = SharedStrings::default();
        for (k, (m, slot)) in messages.iter().zip(out).enumerate() {
            let i = first + k;
            let mut m = Reader::new(m.bytes(), m.offset());
            let smp = sample(
                &mut m,
                i,
                self.loc_index,
                self.n_locations,
                self.strings,
                &mut shared,
            )?;
            if smp.values.len() != self.n_types {
                return Err(ParseError::malformed(format!(
                    "sample #{i} has {} values but the profile has {} sample types",
                    smp.values.len(),
                    self.n_types
                )));
            }
            *slot = smp;
        }
        Ok(())
    }
}

/// How many top-level fields of each number up to 6 (sample, mapping, location, function,
/// string) the message holds, up to the first malformed field: errors are the decoding
/// pass's to report, at the offset it reaches them.
fn count_fields(data: &[u8]) -> [usize; 7] {
    let mut counts = [0usize; 7];
    let mut r = Reader::new(data, 0);
    while !r.is_empty() {
        let Ok((field, wt)) = r.key() else { break };
        if r.skip(wt).is_err() {
            break;
        }
        if let Some(c) = counts.get_mut(field as usize) {
            *c += 1;
        }
    }
    counts
}

fn expect_len<'a>(r: &mut Reader<'a>, wt: u8, at: usize) -> Result<Reader<'a>, ParseError> {
    if wt != LEN {
        return Err(r.error(at, format!("expected a message, found wire type {wt}")));
    }
    r.sub()
}

fn value_type(mut r: Reader) -> Result<(i64, i64), ParseError> {
    let (mut t, mut u) = (0, 0);
    while !r.is_empty() {
        let at = r.offset();
        match r.key()? {
            (1, wt) => t = r.int(wt, at)? as i64,
            (2, wt) => u = r.int(wt, at)? as i64,
            (_, wt) => r.skip(wt)?,
        }
    }
    Ok((t, u))
}

fn mapping(mut r: Reader) -> Result<RawMapping, ParseError> {
    let mut m = RawMapping::default();
    while !r.is_empty() {
        let at = r.offset();
        let (field, wt) = r.key()?;
        match field {
            1 => m.id = r.int(wt, at)?,
            2 => m.memory_start = r.int(wt, at)?,
            3 => m.memory_limit = r.int(wt, at)?,
            4 => m.file_offset = r.int(wt, at)?,
            5 => m.filename = r.int(wt, at)? as i64,
            6 => m.build_id = r.int(wt, at)? as i64,
            7..=10 => m.flags[field as usize - 7] = r.int(wt, at)? != 0,
            _ => r.skip(wt)?,
        }
    }
    Ok(m)
}

fn location(mut r: Reader, lines: &mut Vec<RawLine>) -> Result<RawLocation, ParseError> {
    let start = lines.len();
    let mut l = RawLocation {
        id: 0,
        mapping_id: 0,
        address: 0,
        lines: start..start,
        is_folded: false,
    };
    while !r.is_empty() {
        let at = r.offset();
        let (field, wt) = r.key()?;
        match field {
            1 => l.id = r.int(wt, at)?,
            2 => l.mapping_id = r.int(wt, at)?,
            3 => l.address = r.int(wt, at)?,
            4 => {
                let mut m = expect_len(&mut r, wt, at)?;
                let mut ln = RawLine {
                    function_id: 0,
                    line: 0,
                    column: 0,
                };
                while !m.is_empty() {
                    let at = m.offset();
                    match m.key()? {
                        (1, wt) => ln.function_id = m.int(wt, at)?,
                        (2, wt) => ln.line = m.int(wt, at)? as i64,
                        (3, wt) => ln.column = m.int(wt, at)? as i64,
                        (_, wt) => m.skip(wt)?,
                    }
                }
                lines.push(ln);
            }
            5 => l.is_folded = r.int(wt, at)? != 0,
            _ => r.skip(wt)?,
        }
    }
    l.lines = start..lines.len();
    Ok(l)
}

fn function(mut r: Reader) -> Result<RawFunction, ParseError> {
    let mut f = RawFunction::default();
    while !r.is_empty() {
        let at = r.offset();
        let (field, wt) = r.key()?;
        match field {
            1 => f.id = r.int(wt, at)?,
            2 => f.name = r.int(wt, at)? as i64,
            3 => f.system_name = r.int(wt, at)? as i64,
            4 => f.filename = r.int(wt, at)? as i64,
            5 => f.start_line = r.int(wt, at)? as i64,
            _ => r.skip(wt)?,
        }
    }
    Ok(f)
}

/// Counts the varints in a packed payload: exact when well formed, never above its length.
fn varint_count(r: &Reader) -> usize {
    r.bytes().iter().filter(|&&b| b < 0x80).count()
}

fn sample(
    r: &mut Reader,
    i: usize,
    loc_index: &IdIndex,
    n_locations: usize,
    s: &Strings,
    shared: &mut SharedStrings,
) -> Result<Sample, ParseError> {
    let mut out = Sample::default();
    while !r.is_empty() {
        let at = r.offset();
        let (field, wt) = r.key()?;
        match field {
            1 => {
                let push = |id: u64, locs: &mut Vec<LocIdx>| {
                    let idx = loc_index.get(id, n_locations).ok_or_else(|| {
                        ParseError::malformed(format!(
                            "sample #{i} refers to location {id}, which does not exist"
                        ))
                    })?;
                    locs.push(idx);
                    Ok(())
                };
                if wt == LEN {
                    let mut m = r.sub()?;
                    out.locations.reserve_exact(varint_count(&m));
                    while !m.is_empty() {
                        push(m.varint()?, &mut out.locations)?;
                    }
                } else {
                    let id = r.int(wt, at)?;
                    push(id, &mut out.locations)?;
                }
            }
            2 => {
                if wt == LEN {
                    let mut m = r.sub()?;
                    out.values.reserve_exact(varint_count(&m));
                    while !m.is_empty() {
                        out.values.push(m.varint()? as i64);
                    }
                } else {
                    out.values.push(r.int(wt, at)? as i64);
                }
            }
            3 => {
                let mut m = expect_len(r, wt, at)?;
                let (mut key, mut str, mut num, mut unit) = (0i64, 0i64, 0i64, 0i64);
                while !m.is_empty() {
                    let at = m.offset();
                    match m.key()? {
                        (1, wt) => key = m.int(wt, at)? as i64,
                        (2, wt) => str = m.int(wt, at)? as i64,
                        (3, wt) => num = m.int(wt, at)? as i64,
                        (4, wt) => unit = m.int(wt, at)? as i64,
                        (_, wt) => m.skip(wt)?,
                    }
                }
                let k = shared.get(s, key, "label key")?;
                // pprof drops labels that carry neither a string, a number nor a unit.
                if str != 0 {
                    out.labels.push((k, shared.get(s, str, "label value")?));
                } else if num != 0 || unit != 0 {
                    out.num_labels.push(NumLabel {
                        key: k,
                        value: num,
                        unit: shared.get(s, unit, "label unit")?,
                    });
                }
            }
            _ => r.skip(wt)?,
        }
    }
    Ok(out)
}
