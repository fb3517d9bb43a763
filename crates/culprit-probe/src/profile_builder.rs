//! Counting unwound stacks per thread and turning the counts into a pprof profile.

use std::collections::HashMap;
use std::sync::Arc;

use culprit_profile::{Function, Line, Location, Mapping, NumLabel, Profile, Sample, ValueType};

use crate::symbolize::{SymLine, Symbolize};
use crate::unwind::{Frame, SeenMapping};

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct StackKey {
    pid: u32,
    tid: u32,
    frames: Vec<Frame>,
}

/// Sample counts by (process, thread, stack), and thread names.
#[derive(Debug, Default)]
pub struct StackCounts {
    counts: HashMap<StackKey, (i64, i64)>,
    comms: HashMap<u32, String>,
    samples: u64,
}

/// Profile-wide facts that do not come from the samples.
#[derive(Clone, Debug, Default)]
pub struct ProfileMeta {
    /// Collection start, ns since the Unix epoch.
    pub time_nanos: i64,
    /// Collection length in ns.
    pub duration_nanos: i64,
    /// Nominal ns of CPU between samples.
    pub period: i64,
    /// Path of the target's executable, listed as the first mapping.
    pub main_path: Option<String>,
}

impl StackCounts {
    /// Counts one sample of `period` ns with `frames` (leaf first) on thread `tid`.
    pub fn add(&mut self, pid: u32, tid: u32, frames: Vec<Frame>, period: u64) {
        let e = self
            .counts
            .entry(StackKey { pid, tid, frames })
            .or_insert((0, 0));
        e.0 += 1;
        e.1 += i64::try_from(period).unwrap_or(i64::MAX);
        self.samples += 1;
    }

    /// Sets the name of thread `tid`.
    pub fn set_comm(&mut self, tid: u32, name: String) {
        self.comms.insert(tid, name);
    }

    /// True when the name of `tid` is known.
    pub fn has_comm(&self, tid: u32) -> bool {
        self.comms.contains_key(&tid)
    }

    /// Samples counted so far.
    pub fn samples(&self) -> u64 {
        self.samples
    }

    /// Builds the profile: `samples/count` and `cpu/nanoseconds`, one location per distinct
    /// frame, functions and inlined lines from `sym`, `thread` (name and tid), `tid` and
    /// `pid` labels.
    pub fn into_profile(
        self,
        mappings: &[SeenMapping],
        sym: &mut dyn Symbolize,
        meta: &ProfileMeta,
    ) -> Profile {
        let mut p = Profile {
            sample_type: vec![
                ValueType::new("samples", "count"),
                ValueType::new("cpu", "nanoseconds"),
            ],
            period_type: Some(ValueType::new("cpu", "nanoseconds")),
            period: meta.period,
            time_nanos: meta.time_nanos,
            duration_nanos: meta.duration_nanos,
            ..Default::default()
        };
        // Mappings actually used, main executable first.
        let mut used: Vec<u32> = self
            .counts
            .keys()
            .flat_map(|k| k.frames.iter().filter_map(|f| f.mapping))
            .collect();
        used.sort_unstable();
        used.dedup();
        used.sort_by_key(|&m| {
            let path = mappings.get(m as usize).map(|s| s.entry.path.as_str());
            (path != meta.main_path.as_deref(), m)
        });
        let mut map_idx: HashMap<u32, u32> = HashMap::new();
        for &m in &used {
            let Some(seen) = mappings.get(m as usize) else {
                continue;
            };
            map_idx.insert(m, p.mappings.len() as u32);
            p.mappings.push(Mapping {
                id: p.mappings.len() as u64 + 1,
                memory_start: seen.entry.start,
                memory_limit: seen.entry.end,
                file_offset: seen.entry.offset,
                file: seen.entry.path.clone(),
                build_id: seen.build_id.clone(),
                ..Default::default()
            });
        }
        // Distinct frames, symbolized one mapping at a time.
        let mut frames: Vec<Frame> = self
            .counts
            .keys()
            .flat_map(|k| k.frames.iter().copied())
            .collect();
        frames.sort_unstable();
        frames.dedup();
        let mut lines_of: HashMap<Frame, Vec<SymLine>> = HashMap::new();
        for chunk in frames.chunk_by(|a, b| a.mapping == b.mapping) {
            let Some(m) = chunk[0].mapping else { continue };
            let Some(seen) = mappings.get(m as usize) else {
                continue;
            };
            let addrs: Vec<u64> = chunk.iter().map(|f| f.addr).collect();
            let resolved = sym.symbolize(seen, &addrs);
            if let Some(&pm) = map_idx.get(&m)
                && let Some(pmap) = p.mappings.get_mut(pm as usize)
            {
                let any = resolved.iter().any(|l| !l.is_empty());
                pmap.has_functions = any;
                pmap.has_filenames = any;
                pmap.has_line_numbers = any;
                pmap.has_inline_frames = any;
            }
            for (f, lines) in chunk.iter().zip(resolved) {
                lines_of.insert(*f, lines);
            }
        }
        let mut func_idx: HashMap<(String, String), u32> = HashMap::new();
        let mut loc_idx: HashMap<Frame, u32> = HashMap::new();
        for f in &frames {
            let lines = lines_of.remove(f).unwrap_or_default();
            let lines = lines
                .into_iter()
                .map(|l| {
                    let next = p.functions.len() as u32;
                    let fi = *func_idx
                        .entry((l.function.clone(), l.file.clone()))
                        .or_insert_with(|| {
                            p.functions.push(Function {
                                id: next as u64 + 1,
                                name: l.function.clone(),
                                system_name: l.function.clone(),
                                filename: l.file.clone(),
                                start_line: 0,
                            });
                            next
                        });
                    Line {
                        function: Some(fi),
                        line: i64::from(l.line),
                        column: 0,
                    }
                })
                .collect();
            loc_idx.insert(*f, p.locations.len() as u32);
            p.locations.push(Location {
                id: p.locations.len() as u64 + 1,
                mapping: f.mapping.and_then(|m| map_idx.get(&m).copied()),
                address: f.addr,
                lines,
                is_folded: false,
            });
        }
        let (thread_key, tid_key, pid_key): (Arc<str>, Arc<str>, Arc<str>) =
            ("thread".into(), "tid".into(), "pid".into());
        let mut thread_names: HashMap<u32, Arc<str>> = HashMap::new();
        let mut keys: Vec<(StackKey, (i64, i64))> = self.counts.into_iter().collect();
        keys.sort_by(|a, b| (a.0.tid, &a.0.frames).cmp(&(b.0.tid, &b.0.frames)));
        for (key, (count, nanos)) in keys {
            let name = thread_names
                .entry(key.tid)
                .or_insert_with(|| {
                    let comm = self.comms.get(&key.tid).map_or("?", String::as_str);
                    format!("{comm} ({})", key.tid).into()
                })
                .clone();
            p.samples.push(Sample {
                locations: key
                    .frames
                    .iter()
                    .filter_map(|f| loc_idx.get(f).copied())
                    .collect(),
                values: vec![count, nanos],
                labels: vec![(thread_key.clone(), name)],
                num_labels: vec![
                    NumLabel {
                        key: tid_key.clone(),
                        value: i64::from(key.tid),
                        unit: "".into(),
                    },
                    NumLabel {
                        key: pid_key.clone(),
                        value: i64::from(key.pid),
                        unit: "".into(),
                    },
                ],
            });
        }
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::maps::MapEntry;

    struct Fake;
    impl Symbolize for Fake {
        fn symbolize(&mut self, _: &SeenMapping, addrs: &[u64]) -> Vec<Vec<SymLine>> {
            addrs
                .iter()
                .map(|&a| {
                    if a == 0x1000 {
                        // An inlined call: inner first.
                        vec![
                            SymLine {
                                function: "inner".into(),
                                file: "a.c".into(),
                                line: 3,
                            },
                            SymLine {
                                function: "outer".into(),
                                file: "a.c".into(),
                                line: 9,
                            },
                        ]
                    } else if a == 0x2000 {
                        vec![SymLine {
                            function: "main".into(),
                            file: "a.c".into(),
                            line: 20,
                        }]
                    } else {
                        Vec::new()
                    }
                })
                .collect()
        }
    }

    #[test]
    fn builds_locations_lines_and_thread_labels() {
        let maps = vec![SeenMapping {
            entry: MapEntry {
                start: 0,
                end: 0x10000,
                offset: 0,
                exec: true,
                path: "/bin/x".into(),
            },
            build_id: "abcd".into(),
        }];
        let f = |addr| Frame {
            addr,
            mapping: Some(0),
        };
        let mut c = StackCounts::default();
        c.set_comm(11, "worker".into());
        for _ in 0..3 {
            c.add(10, 11, vec![f(0x1000), f(0x2000)], 10_000_000);
        }
        c.add(10, 12, vec![f(0x3000), f(0x2000)], 10_000_000);
        c.add(
            10,
            12,
            vec![Frame {
                addr: 0xdead,
                mapping: None,
            }],
            10_000_000,
        );
        let meta = ProfileMeta {
            period: 10_000_000,
            main_path: Some("/bin/x".into()),
            ..Default::default()
        };
        let p = c.into_profile(&maps, &mut Fake, &meta);
        assert_eq!(p.mappings.len(), 1);
        assert_eq!(p.mappings[0].build_id, "abcd");
        assert_eq!(p.samples.len(), 3);
        let worker = p
            .samples
            .iter()
            .find(|s| &*s.labels[0].1 == "worker (11)")
            .unwrap();
        assert_eq!(worker.values, vec![3, 30_000_000]);
        let leaf = &p.locations[worker.locations[0] as usize];
        let names: Vec<&str> = leaf
            .lines
            .iter()
            .map(|l| p.line_function(l).unwrap().name.as_str())
            .collect();
        assert_eq!(names, ["inner", "outer"]);
        let unknown = p.locations.iter().find(|l| l.address == 0x3000).unwrap();
        assert!(unknown.lines.is_empty() && unknown.mapping == Some(0));
        assert!(p.samples.iter().any(|s| &*s.labels[0].1 == "? (12)"));
        // Round trip through the codec.
        let bytes = culprit_profile::encode_gzip(&p);
        let back = culprit_profile::parse(&bytes).unwrap();
        assert_eq!(back.samples.len(), 3);
    }
}
