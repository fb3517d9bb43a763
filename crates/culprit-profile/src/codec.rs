//! Conversion between the wire message (`crate::proto`) and the [`Profile`] model.

use std::collections::HashMap;
use std::io::{Read, Write};

use prost::Message;

use crate::error::ParseError;
use crate::model::*;
use crate::proto;

mod decode;
mod wire;

/// Largest decompressed profile we inflate; protects against gzip bombs.
pub const MAX_DECOMPRESSED: u64 = 4 << 30;

/// True when `data` starts with the gzip magic.
pub fn is_gzip(data: &[u8]) -> bool {
    data.len() >= 2 && data[0] == 0x1f && data[1] == 0x8b
}

/// Inflates a gzip stream (possibly several members) up to [`MAX_DECOMPRESSED`] bytes.
pub fn gunzip(data: &[u8]) -> Result<Vec<u8>, ParseError> {
    inflate(data, data.len().saturating_mul(4))
}

/// [`gunzip`] reading the compressed stream from `r`.
pub fn gunzip_reader(r: impl Read) -> Result<Vec<u8>, ParseError> {
    inflate(r, 0)
}

fn inflate(r: impl Read, capacity: usize) -> Result<Vec<u8>, ParseError> {
    let mut out = Vec::with_capacity(capacity);
    let mut reader = flate2::read::MultiGzDecoder::new(r).take(MAX_DECOMPRESSED + 1);
    reader
        .read_to_end(&mut out)
        .map_err(|e| ParseError::Gzip(e.to_string()))?;
    if out.len() as u64 > MAX_DECOMPRESSED {
        return Err(ParseError::TooLarge {
            limit: MAX_DECOMPRESSED,
        });
    }
    Ok(out)
}

/// Decodes an uncompressed `profile.proto` message straight into the model.
pub fn decode_proto(data: &[u8]) -> Result<Profile, ParseError> {
    decode::decode(data)
}

/// Decodes an uncompressed `profile.proto` message through prost's generated types: the
/// slower reference the streaming decoder is checked against.
pub fn decode_proto_prost(data: &[u8]) -> Result<Profile, ParseError> {
    let msg = proto::Profile::decode(data).map_err(|e| ParseError::Unrecognized {
        proto: e.to_string(),
        legacy: String::new(),
    })?;
    from_proto(msg)
}

struct Strings {
    table: Vec<String>,
    shared: Vec<Option<Str>>,
}

impl Strings {
    fn get(&self, idx: i64, what: &str) -> Result<&str, ParseError> {
        usize::try_from(idx)
            .ok()
            .and_then(|i| self.table.get(i))
            .map(String::as_str)
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

    fn shared(&mut self, idx: i64, what: &str) -> Result<Str, ParseError> {
        self.get(idx, what)?;
        let i = idx as usize;
        if let Some(s) = &self.shared[i] {
            return Ok(s.clone());
        }
        let s: Str = Str::from(self.table[i].as_str());
        self.shared[i] = Some(s.clone());
        Ok(s)
    }
}

/// Resolves ids to dense indices; ids are usually 1..=n, so a vector is tried first.
struct IdIndex {
    dense: bool,
    map: HashMap<u64, u32>,
}

impl IdIndex {
    fn new(ids: impl ExactSizeIterator<Item = u64>, what: &str) -> Result<Self, ParseError> {
        let n = ids.len();
        let mut dense = true;
        let mut map = HashMap::new();
        let mut seen = Vec::new();
        for (i, id) in ids.enumerate() {
            if id == 0 {
                return Err(ParseError::malformed(format!("{what} #{i} has id 0")));
            }
            if dense && id == i as u64 + 1 {
                seen.push(id);
                continue;
            }
            if dense {
                dense = false;
                map.reserve(n);
                for (j, &s) in seen.iter().enumerate() {
                    map.insert(s, j as u32);
                }
            }
            if map.insert(id, i as u32).is_some() {
                return Err(ParseError::malformed(format!(
                    "{what} id {id} appears twice"
                )));
            }
        }
        Ok(Self { dense, map })
    }

    fn get(&self, id: u64, len: usize) -> Option<u32> {
        if self.dense {
            (id >= 1 && id <= len as u64).then(|| (id - 1) as u32)
        } else {
            self.map.get(&id).copied()
        }
    }
}

fn value_type(s: &Strings, v: &proto::ValueType, what: &str) -> Result<ValueType, ParseError> {
    Ok(ValueType {
        kind: s.owned(v.r#type, what)?,
        unit: s.owned(v.unit, what)?,
    })
}

/// Converts a decoded wire message into the model, checking every reference.
pub fn from_proto(msg: proto::Profile) -> Result<Profile, ParseError> {
    if msg.string_table.first().is_some_and(|s| !s.is_empty()) {
        return Err(ParseError::malformed("string table entry 0 is not empty"));
    }
    let n_strings = msg.string_table.len();
    let mut s = Strings {
        table: msg.string_table,
        shared: vec![None; n_strings],
    };
    if s.table.is_empty() {
        s.table.push(String::new());
        s.shared.push(None);
    }

    let sample_type = msg
        .sample_type
        .iter()
        .map(|v| value_type(&s, v, "sample type"))
        .collect::<Result<Vec<_>, _>>()?;

    let map_index = IdIndex::new(msg.mapping.iter().map(|m| m.id), "mapping")?;
    let mut mappings = Vec::with_capacity(msg.mapping.len());
    for m in &msg.mapping {
        mappings.push(Mapping {
            id: m.id,
            memory_start: m.memory_start,
            memory_limit: m.memory_limit,
            file_offset: m.file_offset,
            file: s.owned(m.filename, "mapping filename")?,
            build_id: s.owned(m.build_id, "mapping build id")?,
            has_functions: m.has_functions,
            has_filenames: m.has_filenames,
            has_line_numbers: m.has_line_numbers,
            has_inline_frames: m.has_inline_frames,
        });
    }

    let func_index = IdIndex::new(msg.function.iter().map(|f| f.id), "function")?;
    let mut functions = Vec::with_capacity(msg.function.len());
    for f in &msg.function {
        functions.push(Function {
            id: f.id,
            name: s.owned(f.name, "function name")?,
            system_name: s.owned(f.system_name, "function system name")?,
            filename: s.owned(f.filename, "function filename")?,
            start_line: f.start_line,
        });
    }

    let loc_index = IdIndex::new(msg.location.iter().map(|l| l.id), "location")?;
    let mut locations = Vec::with_capacity(msg.location.len());
    for l in msg.location {
        let mapping = match l.mapping_id {
            0 => None,
            id => Some(map_index.get(id, mappings.len()).ok_or_else(|| {
                ParseError::malformed(format!(
                    "location {} refers to mapping {id}, which does not exist",
                    l.id
                ))
            })?),
        };
        let mut lines = Vec::with_capacity(l.line.len());
        for ln in &l.line {
            let function = match ln.function_id {
                0 => None,
                id => Some(func_index.get(id, functions.len()).ok_or_else(|| {
                    ParseError::malformed(format!(
                        "location {} refers to function {id}, which does not exist",
                        l.id
                    ))
                })?),
            };
            lines.push(Line {
                function,
                line: ln.line,
                column: ln.column,
            });
        }
        locations.push(Location {
            id: l.id,
            mapping,
            address: l.address,
            lines,
            is_folded: l.is_folded,
        });
    }

    let mut samples = Vec::with_capacity(msg.sample.len());
    for (i, smp) in msg.sample.into_iter().enumerate() {
        if smp.value.len() != sample_type.len() {
            return Err(ParseError::malformed(format!(
                "sample #{i} has {} values but the profile has {} sample types",
                smp.value.len(),
                sample_type.len()
            )));
        }
        let mut locs = Vec::with_capacity(smp.location_id.len());
        for id in smp.location_id {
            locs.push(loc_index.get(id, locations.len()).ok_or_else(|| {
                ParseError::malformed(format!(
                    "sample #{i} refers to location {id}, which does not exist"
                ))
            })?);
        }
        let mut labels = Vec::new();
        let mut num_labels = Vec::new();
        for lb in &smp.label {
            let key = s.shared(lb.key, "label key")?;
            if lb.str != 0 {
                labels.push((key, s.shared(lb.str, "label value")?));
            } else if lb.num != 0 || lb.num_unit != 0 {
                num_labels.push(NumLabel {
                    key,
                    value: lb.num,
                    unit: s.shared(lb.num_unit, "label unit")?,
                });
            }
        }
        samples.push(Sample {
            locations: locs,
            values: smp.value,
            labels,
            num_labels,
        });
    }

    let comments = msg
        .comment
        .iter()
        .map(|&c| s.owned(c, "comment"))
        .collect::<Result<Vec<_>, _>>()?;
    let period_type = msg
        .period_type
        .as_ref()
        .map(|v| value_type(&s, v, "period type"))
        .transpose()?;

    Ok(Profile {
        sample_type,
        default_sample_type: s.owned(msg.default_sample_type, "default sample type")?,
        samples,
        mappings,
        locations,
        functions,
        drop_frames: s.owned(msg.drop_frames, "drop_frames")?,
        keep_frames: s.owned(msg.keep_frames, "keep_frames")?,
        time_nanos: msg.time_nanos,
        duration_nanos: msg.duration_nanos,
        period_type,
        period: msg.period,
        comments,
        doc_url: s.owned(msg.doc_url, "doc_url")?,
    })
}

#[derive(Default)]
struct Interner {
    table: Vec<String>,
    index: HashMap<String, i64>,
}

impl Interner {
    fn new() -> Self {
        let mut i = Self::default();
        i.add("");
        i
    }

    fn add(&mut self, s: &str) -> i64 {
        if let Some(&i) = self.index.get(s) {
            return i;
        }
        let i = self.table.len() as i64;
        self.table.push(s.to_owned());
        self.index.insert(s.to_owned(), i);
        i
    }
}

/// Converts the model into the wire message. Ids are kept as they are in the model.
pub fn to_proto(p: &Profile) -> proto::Profile {
    let mut st = Interner::new();
    let vt = |st: &mut Interner, v: &ValueType| proto::ValueType {
        r#type: st.add(&v.kind),
        unit: st.add(&v.unit),
    };
    let sample_type = p.sample_type.iter().map(|v| vt(&mut st, v)).collect();
    let sample = p
        .samples
        .iter()
        .map(|s| {
            let mut label = Vec::with_capacity(s.labels.len() + s.num_labels.len());
            for (k, v) in &s.labels {
                label.push(proto::Label {
                    key: st.add(k),
                    str: st.add(v),
                    num: 0,
                    num_unit: 0,
                });
            }
            for n in &s.num_labels {
                label.push(proto::Label {
                    key: st.add(&n.key),
                    str: 0,
                    num: n.value,
                    num_unit: st.add(&n.unit),
                });
            }
            proto::Sample {
                location_id: s
                    .locations
                    .iter()
                    .map(|&l| p.locations[l as usize].id)
                    .collect(),
                value: s.values.clone(),
                label,
            }
        })
        .collect();
    let mapping = p
        .mappings
        .iter()
        .map(|m| proto::Mapping {
            id: m.id,
            memory_start: m.memory_start,
            memory_limit: m.memory_limit,
            file_offset: m.file_offset,
            filename: st.add(&m.file),
            build_id: st.add(&m.build_id),
            has_functions: m.has_functions,
            has_filenames: m.has_filenames,
            has_line_numbers: m.has_line_numbers,
            has_inline_frames: m.has_inline_frames,
        })
        .collect();
    let location = p
        .locations
        .iter()
        .map(|l| proto::Location {
            id: l.id,
            mapping_id: l.mapping.map_or(0, |m| p.mappings[m as usize].id),
            address: l.address,
            line: l
                .lines
                .iter()
                .map(|ln| proto::Line {
                    function_id: ln.function.map_or(0, |f| p.functions[f as usize].id),
                    line: ln.line,
                    column: ln.column,
                })
                .collect(),
            is_folded: l.is_folded,
        })
        .collect();
    let function = p
        .functions
        .iter()
        .map(|f| proto::Function {
            id: f.id,
            name: st.add(&f.name),
            system_name: st.add(&f.system_name),
            filename: st.add(&f.filename),
            start_line: f.start_line,
        })
        .collect();
    let drop_frames = st.add(&p.drop_frames);
    let keep_frames = st.add(&p.keep_frames);
    let period_type = p.period_type.as_ref().map(|v| vt(&mut st, v));
    let comment = p.comments.iter().map(|c| st.add(c)).collect();
    let default_sample_type = st.add(&p.default_sample_type);
    let doc_url = st.add(&p.doc_url);
    proto::Profile {
        sample_type,
        sample,
        mapping,
        location,
        function,
        string_table: st.table,
        drop_frames,
        keep_frames,
        time_nanos: p.time_nanos,
        duration_nanos: p.duration_nanos,
        period_type,
        period: p.period,
        comment,
        default_sample_type,
        doc_url,
    }
}

/// Encodes the profile as an uncompressed `profile.proto` message.
pub fn encode_raw(p: &Profile) -> Vec<u8> {
    to_proto(p).encode_to_vec()
}

/// Encodes the profile as gzipped `profile.proto`, the form pprof writes and reads.
pub fn encode_gzip(p: &Profile) -> Vec<u8> {
    let raw = encode_raw(p);
    let mut gz = flate2::write::GzEncoder::new(
        Vec::with_capacity(raw.len() / 4),
        flate2::Compression::fast(),
    );
    // Writing to a Vec cannot fail.
    let _ = gz.write_all(&raw);
    gz.finish().unwrap_or_default()
}
