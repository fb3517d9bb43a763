//! Combining profiles the way pprof's driver does before any report: bring sample types and
//! units into line, then merge (which also compacts a single profile: identical samples
//! summed, all-zero samples dropped, unused locations, functions and mappings dropped, ids
//! renumbered in order of first use).

use std::hash::{BuildHasher, Hash, Hasher};

use hashbrown::HashTable;
use rustc_hash::{FxBuildHasher, FxHashMap};

use super::Error;
use super::units;
use crate::{Function, Location, Mapping, NumLabel, Profile, Sample, Str, ValueType};

/// Reduces every profile to the sample types all of them share, in the first profile's order.
/// Profiles whose sample types already line up are left alone.
pub fn compatibilize_sample_types(profiles: &mut [Profile]) -> Result<(), Error> {
    let Some(first) = profiles.first() else {
        return Ok(());
    };
    let names = |p: &Profile| {
        p.sample_type
            .iter()
            .map(|t| t.kind.clone())
            .collect::<Vec<_>>()
    };
    let first_names = names(first);
    if profiles.iter().all(|p| names(p) == first_names) {
        return Ok(());
    }
    let common: Vec<String> = first_names
        .iter()
        .filter(|n| profiles.iter().all(|p| p.sample_type_index(n).is_some()))
        .cloned()
        .collect();
    if common.is_empty() {
        return Err(Error::Incompatible(
            "the profiles share no sample type".to_string(),
        ));
    }
    for p in profiles.iter_mut() {
        let picks: Vec<usize> = common
            .iter()
            .filter_map(|n| p.sample_type_index(n))
            .collect();
        if picks.len() == p.sample_type.len() && picks.iter().enumerate().all(|(i, &j)| i == j) {
            continue;
        }
        p.sample_type = picks.iter().map(|&i| p.sample_type[i].clone()).collect();
        for s in &mut p.samples {
            s.values = picks
                .iter()
                .map(|&i| s.values.get(i).copied().unwrap_or(0))
                .collect();
        }
    }
    Ok(())
}

fn compatible_value_types(a: &ValueType, b: &ValueType) -> bool {
    let trim = |k: &str| k.strip_suffix('s').unwrap_or(k).to_string();
    if trim(&a.kind) != trim(&b.kind) {
        return false;
    }
    a.unit == b.unit || units::same_family(&a.unit, &b.unit)
}

/// pprof's `CommonValueType`: the finest of the given compatible value types.
fn common_value_type(ts: &[&ValueType]) -> Result<Option<ValueType>, Error> {
    if ts.len() <= 1 {
        return Ok(None);
    }
    let mut min = ts[0];
    for t in &ts[1..] {
        if !compatible_value_types(min, t) {
            return Err(Error::Incompatible(format!(
                "incompatible types: {} {} and {} {}",
                min.kind, min.unit, t.kind, t.unit
            )));
        }
        if units::scale(1, &t.unit, &min.unit).0 < 1.0 {
            min = t;
        }
    }
    Ok(Some(min.clone()))
}

/// pprof's `ScaleProfiles`: converts every profile's period and sample values to the finest
/// unit used by any of them, so they can be merged.
pub fn scale_profiles(profiles: &mut [Profile]) -> Result<(), Error> {
    let Some(first) = profiles.first() else {
        return Ok(());
    };
    let n = first.sample_type.len();
    if let Some(p) = profiles.iter().find(|p| p.sample_type.len() != n) {
        return Err(Error::Incompatible(format!(
            "inconsistent samples type count: {n} != {}",
            p.sample_type.len()
        )));
    }
    let period_types: Vec<&ValueType> = profiles
        .iter()
        .filter_map(|p| p.period_type.as_ref())
        .collect();
    let period_type = common_value_type(&period_types)?;
    let mut common = Vec::with_capacity(n);
    for i in 0..n {
        let ts: Vec<&ValueType> = profiles.iter().map(|p| &p.sample_type[i]).collect();
        common.push(common_value_type(&ts)?);
    }
    for p in profiles.iter_mut() {
        if let (Some(pt), Some(target)) = (p.period_type.as_mut(), period_type.as_ref()) {
            let (period, _) = units::scale(p.period, &pt.unit, &target.unit);
            p.period = period as i64;
            pt.unit = target.unit.clone();
        }
        let mut ratios = vec![1.0; n];
        for (i, st) in p.sample_type.iter_mut().enumerate() {
            if let Some(c) = &common[i] {
                ratios[i] = units::scale(1, &st.unit, &c.unit).0;
                st.unit = c.unit.clone();
            }
        }
        scale_n(p, &ratios);
    }
    Ok(())
}

/// pprof's `ScaleN`: multiplies each sample value by its type's ratio (rounding), dropping
/// samples whose scaled values are all zero.
pub fn scale_n(p: &mut Profile, ratios: &[f64]) {
    if ratios.iter().all(|&r| r == 1.0) {
        return;
    }
    p.samples.retain_mut(|s| {
        let mut keep = false;
        for (v, &r) in s.values.iter_mut().zip(ratios) {
            if r != 1.0 {
                *v = (*v as f64 * r).round() as i64;
                keep |= *v != 0;
            }
        }
        keep
    });
}

/// pprof's `Normalize`: scales `p` so each sample type totals what it does in `base`.
pub fn normalize(p: &mut Profile, base: &Profile) -> Result<(), Error> {
    check_compatible(p, base)?;
    let n = p.sample_type.len();
    let sums = |q: &Profile| {
        let mut v = vec![0i64; n];
        for s in &q.samples {
            for (a, b) in v.iter_mut().zip(&s.values) {
                *a = a.wrapping_add(*b);
            }
        }
        v
    };
    let (b, s) = (sums(base), sums(p));
    let ratios: Vec<f64> = b
        .iter()
        .zip(&s)
        .map(|(&b, &s)| if s == 0 { 0.0 } else { b as f64 / s as f64 })
        .collect();
    scale_n(p, &ratios);
    Ok(())
}

fn check_compatible(a: &Profile, b: &Profile) -> Result<(), Error> {
    if a.period_type != b.period_type {
        return Err(Error::Incompatible(format!(
            "incompatible period types {:?} and {:?}",
            a.period_type, b.period_type
        )));
    }
    if a.sample_type != b.sample_type {
        let show = |p: &Profile| {
            p.sample_type
                .iter()
                .map(|t| format!("{}/{}", t.kind, t.unit))
                .collect::<Vec<_>>()
                .join(" ")
        };
        return Err(Error::Incompatible(format!(
            "incompatible sample types [{}] and [{}]",
            show(a),
            show(b)
        )));
    }
    Ok(())
}

/// Sets label `key` to the single value `value` on every sample, replacing earlier values.
pub fn set_label(p: &mut Profile, key: &str, value: &str) {
    let k: Str = Str::from(key);
    let v: Str = Str::from(value);
    for s in &mut p.samples {
        s.labels.retain(|(lk, _)| &**lk != key);
        s.labels.push((k.clone(), v.clone()));
        sort_labels(s);
    }
}

/// Multiplies every sample value by `ratio`, as pprof's `Scale` (used with -1 for bases).
pub fn scale(p: &mut Profile, ratio: f64) {
    let ratios = vec![ratio; p.sample_type.len()];
    scale_n(p, &ratios);
}

fn sort_labels(s: &mut Sample) {
    s.labels.sort_by(|a, b| a.0.cmp(&b.0));
    s.num_labels.sort_by(|a, b| a.key.cmp(&b.key));
}

/// Merges profiles into one, as pprof's `profile.Merge`. Sample labels come out grouped by
/// key (stable), which is the order pprof's map-based labels print in.
pub fn merge(mut srcs: Vec<Profile>) -> Result<Profile, Error> {
    if srcs.is_empty() {
        return Err(Error::Incompatible("no profiles to merge".to_string()));
    }
    for s in &srcs[1..] {
        check_compatible(&srcs[0], s)?;
    }
    let mut out = combine_headers(&srcs);
    if let [src] = &srcs[..] {
        // A single source keeps at most its own tables; exact sizes leave no slack.
        out.functions.reserve_exact(src.functions.len());
        out.locations.reserve_exact(src.locations.len());
    }
    let mut m = Merger::new(&srcs[0]);
    for src in &mut srcs {
        m.begin(src);
        if m.mappings.is_empty()
            && let Some(first) = src.mappings.first()
        {
            let first = first.clone();
            m.map_mapping(&mut out, 0, &first);
        }
        let samples = std::mem::take(&mut src.samples);
        if out.samples.is_empty() {
            // The first source is compacted in place, so its samples are never held twice.
            out.samples = samples;
            let mut merged = 0;
            for i in 0..out.samples.len() {
                let s = std::mem::take(&mut out.samples[i]);
                if s.values.iter().any(|&v| v != 0) && m.map_sample(&mut out, src, s, merged) {
                    merged += 1;
                }
            }
            out.samples.truncate(merged);
            out.samples.shrink_to_fit();
        } else {
            for s in samples {
                if s.values.iter().any(|&v| v != 0) {
                    let end = out.samples.len();
                    m.map_sample(&mut out, src, s, end);
                }
            }
        }
    }
    if out.samples.iter().any(|s| s.values.iter().all(|&v| v == 0)) {
        return merge(vec![out]);
    }
    Ok(out)
}

fn combine_headers(srcs: &[Profile]) -> Profile {
    let mut time = 0i64;
    let mut duration = 0i64;
    let mut period = 0i64;
    let mut comments: Vec<String> = Vec::new();
    let mut default_sample_type = String::new();
    for s in srcs {
        if time == 0 || s.time_nanos < time {
            time = s.time_nanos;
        }
        duration = duration.wrapping_add(s.duration_nanos);
        if period == 0 || period < s.period {
            period = s.period;
        }
        for c in &s.comments {
            if !comments.contains(c) {
                comments.push(c.clone());
            }
        }
        if default_sample_type.is_empty() {
            default_sample_type = s.default_sample_type.clone();
        }
    }
    let first = &srcs[0];
    Profile {
        sample_type: first.sample_type.clone(),
        default_sample_type,
        drop_frames: first.drop_frames.clone(),
        keep_frames: first.keep_frames.clone(),
        time_nanos: time,
        duration_nanos: duration,
        period_type: first.period_type.clone(),
        period,
        comments,
        doc_url: first.doc_url.clone(),
        ..Profile::default()
    }
}

#[derive(Hash, PartialEq, Eq)]
struct MappingKey {
    size: u64,
    offset: u64,
    build_id_or_file: String,
}

struct Merger {
    // Per-source tables, indexed by the source's own indices.
    loc_by_src: Vec<Option<u32>>,
    func_by_src: Vec<Option<u32>>,
    map_by_src: Vec<Option<(u32, i64)>>,
    mappings: FxHashMap<MappingKey, u32>,
    // Merged locations and functions by content, as indices into the output profile:
    // looked up without building a key, so a source's entries are moved, never copied.
    locations: HashTable<u32>,
    functions: HashTable<u32>,
    samples: HashTable<u32>,
    hasher: FxBuildHasher,
    locs_buf: Vec<u32>,
}

impl Merger {
    fn new(first: &Profile) -> Self {
        Self {
            loc_by_src: Vec::new(),
            func_by_src: Vec::new(),
            map_by_src: Vec::new(),
            mappings: FxHashMap::default(),
            locations: HashTable::with_capacity(first.locations.len()),
            functions: HashTable::with_capacity(first.functions.len()),
            samples: HashTable::with_capacity(first.samples.len()),
            hasher: FxBuildHasher,
            locs_buf: Vec::new(),
        }
    }

    fn begin(&mut self, src: &Profile) {
        self.loc_by_src = vec![None; src.locations.len()];
        self.func_by_src = vec![None; src.functions.len()];
        self.map_by_src = vec![None; src.mappings.len()];
    }

    fn map_mapping(&mut self, out: &mut Profile, idx: usize, m: &Mapping) -> (u32, i64) {
        if let Some(Some(mi)) = self.map_by_src.get(idx) {
            return *mi;
        }
        let size = m
            .memory_limit
            .wrapping_sub(m.memory_start)
            .wrapping_add(0xfff);
        let size = size - size % 0x1000;
        let key = MappingKey {
            size,
            offset: m.file_offset,
            build_id_or_file: if !m.build_id.is_empty() {
                m.build_id.clone()
            } else {
                m.file.clone()
            },
        };
        let mi = if let Some(&existing) = self.mappings.get(&key) {
            let start = out.mappings[existing as usize].memory_start;
            (existing, (start as i64).wrapping_sub(m.memory_start as i64))
        } else {
            let id = out.mappings.len() as u32;
            let mut nm = m.clone();
            nm.id = u64::from(id) + 1;
            out.mappings.push(nm);
            self.mappings.insert(key, id);
            (id, 0)
        };
        if let Some(slot) = self.map_by_src.get_mut(idx) {
            *slot = Some(mi);
        }
        mi
    }

    fn map_function(&mut self, out: &mut Profile, src: &mut Profile, idx: u32) -> u32 {
        if let Some(Some(f)) = self.func_by_src.get(idx as usize) {
            return *f;
        }
        // Each source function is mapped once (the cache above), so it can be moved out.
        let f = std::mem::take(&mut src.functions[idx as usize]);
        let hash = self.hasher.hash_one(function_key(&f));
        let funcs = &mut out.functions;
        let id = match self.functions.find(hash, |&i| {
            function_key(&funcs[i as usize]) == function_key(&f)
        }) {
            Some(&i) => i,
            None => {
                let i = funcs.len() as u32;
                funcs.push(Function {
                    id: u64::from(i) + 1,
                    ..f
                });
                let hasher = &self.hasher;
                self.functions.insert_unique(hash, i, |&j| {
                    hasher.hash_one(function_key(&funcs[j as usize]))
                });
                i
            }
        };
        self.func_by_src[idx as usize] = Some(id);
        id
    }

    fn map_location(&mut self, out: &mut Profile, src: &mut Profile, idx: u32) -> u32 {
        if let Some(Some(l)) = self.loc_by_src.get(idx as usize) {
            return *l;
        }
        // Each source location is mapped once, so it can be moved out.
        let mut l = std::mem::take(&mut src.locations[idx as usize]);
        let (mapping, offset) = match l.mapping {
            Some(mi) => match self.map_by_src.get(mi as usize) {
                Some(Some((id, off))) => (Some(*id), *off),
                _ => {
                    let m = src.mappings[mi as usize].clone();
                    let (id, off) = self.map_mapping(out, mi as usize, &m);
                    (Some(id), off)
                }
            },
            None => (None, 0),
        };
        l.address = (l.address as i64).wrapping_add(offset) as u64;
        l.mapping = mapping;
        for ln in &mut l.lines {
            ln.function = ln.function.map(|f| self.map_function(out, src, f));
        }
        let hash = location_hash(&self.hasher, out, &l);
        let found = self
            .locations
            .find(hash, |&i| {
                same_location(out, &out.locations[i as usize], &l)
            })
            .copied();
        let id = match found {
            Some(existing) => existing,
            None => {
                let id = out.locations.len() as u32;
                l.id = u64::from(id) + 1;
                out.locations.push(l);
                let (hasher, out) = (&self.hasher, &*out);
                self.locations.insert_unique(hash, id, |&j| {
                    location_hash(hasher, out, &out.locations[j as usize])
                });
                id
            }
        };
        self.loc_by_src[idx as usize] = Some(id);
        id
    }

    /// Adds `s` to the sample it equals, or stores it at `out.samples[slot]` (every
    /// merged sample is below `slot`; `slot` may be the end) and returns true.
    fn map_sample(
        &mut self,
        out: &mut Profile,
        src: &mut Profile,
        mut s: Sample,
        slot: usize,
    ) -> bool {
        let mut locs = std::mem::take(&mut self.locs_buf);
        locs.clear();
        for &l in &s.locations {
            let mapped = self.map_location(out, src, l);
            locs.push(mapped);
        }
        sort_labels(&mut s);
        let hash = {
            let mut h = self.hasher.build_hasher();
            locs.hash(&mut h);
            for (k, v) in &s.labels {
                k.hash(&mut h);
                v.hash(&mut h);
            }
            for n in &s.num_labels {
                hash_num_label(n, &mut h);
            }
            h.finish()
        };
        let samples = &mut out.samples;
        let found = self.samples.find(hash, |&i| {
            let o = &samples[i as usize];
            o.locations == locs && o.labels == s.labels && o.num_labels == s.num_labels
        });
        let added = found.is_none();
        if let Some(&i) = found {
            let o = &mut samples[i as usize];
            for (a, b) in o.values.iter_mut().zip(&s.values) {
                *a = a.wrapping_add(*b);
            }
        } else {
            let i = slot as u32;
            s.locations.clear();
            s.locations.extend_from_slice(&locs);
            match samples.get_mut(slot) {
                Some(o) => *o = s,
                None => samples.push(s),
            }
            let hasher = &self.hasher;
            self.samples.insert_unique(hash, i, |&j| {
                let o = &samples[j as usize];
                let mut h = hasher.build_hasher();
                o.locations.hash(&mut h);
                for (k, v) in &o.labels {
                    k.hash(&mut h);
                    v.hash(&mut h);
                }
                for n in &o.num_labels {
                    hash_num_label(n, &mut h);
                }
                h.finish()
            });
        }
        self.locs_buf = locs;
        added
    }
}

/// What makes two functions one when merging, as pprof's `functionKey`.
fn function_key(f: &Function) -> (i64, &str, &str, &str) {
    (f.start_line, &f.name, &f.system_name, &f.filename)
}

/// A location's address relative to its mapping, part of pprof's `locationKey`.
fn key_address(out: &Profile, l: &Location) -> u64 {
    match l.mapping.and_then(|m| out.mappings.get(m as usize)) {
        Some(m) => l.address.wrapping_sub(m.memory_start),
        None => l.address,
    }
}

/// Hash of what makes two merged locations one, as pprof's `locationKey`: the address
/// relative to its mapping, the mapping, the lines' functions and numbers (not columns),
/// and folding. Function and mapping indices stand for their ids (index + 1 when merged).
fn location_hash(hasher: &FxBuildHasher, out: &Profile, l: &Location) -> u64 {
    let mut h = hasher.build_hasher();
    key_address(out, l).hash(&mut h);
    l.mapping.hash(&mut h);
    l.is_folded.hash(&mut h);
    l.lines.len().hash(&mut h);
    for ln in &l.lines {
        ln.function.hash(&mut h);
        ln.line.hash(&mut h);
    }
    h.finish()
}

/// Whether two locations have the same [`location_hash`] key.
fn same_location(out: &Profile, a: &Location, b: &Location) -> bool {
    key_address(out, a) == key_address(out, b)
        && a.mapping == b.mapping
        && a.is_folded == b.is_folded
        && a.lines.len() == b.lines.len()
        && a.lines
            .iter()
            .zip(&b.lines)
            .all(|(x, y)| x.function == y.function && x.line == y.line)
}

fn hash_num_label(n: &NumLabel, h: &mut impl Hasher) {
    n.key.hash(h);
    n.value.hash(h);
    n.unit.hash(h);
}
