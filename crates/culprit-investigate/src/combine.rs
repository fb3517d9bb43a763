//! Weighted sums of profiles from one process: the allocation delta of a window (after
//! minus before) and the merge of consecutive CPU profile chunks.
//!
//! Go numbers locations afresh in every profile it writes, so samples are matched on what a
//! stack means (address and source lines of every frame) and on their labels, not on ids.

use std::collections::HashMap;

use culprit_profile::{Function, Line, Location, Mapping, Profile, Sample, Str};

/// Why profiles could not be combined.
#[derive(Debug, thiserror::Error)]
pub enum CombineError {
    /// No profiles were given.
    #[error("no profiles to combine")]
    Nothing,
    /// The profiles measure different things.
    #[error("profiles measure different values: {0} vs {1}")]
    SampleTypes(String, String),
}

type FuncKey = (String, String, String, i64);
type LocKey = (u64, Option<String>, Vec<(Option<u32>, i64)>);
type SampleKey = (Vec<u32>, Vec<(Str, Str)>, Vec<(Str, i64, Str)>);

/// Accumulates profiles into one with weights applied to their sample values.
struct Builder {
    out: Profile,
    funcs: HashMap<FuncKey, u32>,
    maps: HashMap<(String, String, u64), u32>,
    locs: HashMap<LocKey, u32>,
    samples: HashMap<SampleKey, usize>,
}

impl Builder {
    fn add(&mut self, p: &Profile, weight: i64) {
        let mut loc_map: Vec<Option<u32>> = Vec::with_capacity(p.locations.len());
        for loc in &p.locations {
            loc_map.push(Some(self.location(p, loc)));
        }
        for s in &p.samples {
            let locs: Vec<u32> = s
                .locations
                .iter()
                .filter_map(|&i| loc_map.get(i as usize).copied().flatten())
                .collect();
            let mut labels = s.labels.clone();
            labels.sort();
            let mut nums: Vec<(Str, i64, Str)> = s
                .num_labels
                .iter()
                .map(|n| (n.key.clone(), n.value, n.unit.clone()))
                .collect();
            nums.sort();
            let key = (locs.clone(), labels, nums);
            let idx = *self.samples.entry(key).or_insert_with(|| {
                self.out.samples.push(Sample {
                    locations: locs,
                    values: vec![0; self.out.sample_type.len()],
                    labels: s.labels.clone(),
                    num_labels: s.num_labels.clone(),
                });
                self.out.samples.len() - 1
            });
            if let Some(target) = self.out.samples.get_mut(idx) {
                for (t, v) in target.values.iter_mut().zip(&s.values) {
                    *t = t.saturating_add(v.saturating_mul(weight));
                }
            }
        }
    }

    fn location(&mut self, p: &Profile, loc: &Location) -> u32 {
        let mapping = loc.mapping.and_then(|m| p.mappings.get(m as usize));
        let new_map = mapping.map(|m| self.mapping(m));
        let lines: Vec<Line> = loc
            .lines
            .iter()
            .map(|l| Line {
                function: l
                    .function
                    .and_then(|f| p.functions.get(f as usize))
                    .map(|f| self.function(f)),
                line: l.line,
                column: l.column,
            })
            .collect();
        let key = (
            loc.address,
            mapping.map(|m| m.file.clone()),
            lines.iter().map(|l| (l.function, l.line)).collect(),
        );
        let next = self.out.locations.len() as u32;
        *self.locs.entry(key).or_insert_with(|| {
            self.out.locations.push(Location {
                id: u64::from(next) + 1,
                mapping: new_map,
                address: loc.address,
                lines,
                is_folded: loc.is_folded,
            });
            next
        })
    }

    fn function(&mut self, f: &Function) -> u32 {
        let key = (
            f.name.clone(),
            f.system_name.clone(),
            f.filename.clone(),
            f.start_line,
        );
        let next = self.out.functions.len() as u32;
        *self.funcs.entry(key).or_insert_with(|| {
            self.out.functions.push(Function {
                id: u64::from(next) + 1,
                ..f.clone()
            });
            next
        })
    }

    fn mapping(&mut self, m: &Mapping) -> u32 {
        let key = (m.file.clone(), m.build_id.clone(), m.memory_start);
        let next = self.out.mappings.len() as u32;
        *self.maps.entry(key).or_insert_with(|| {
            self.out.mappings.push(Mapping {
                id: u64::from(next) + 1,
                ..m.clone()
            });
            next
        })
    }
}

/// Sums `parts` with each profile's values multiplied by its weight; samples whose values
/// all cancel out are dropped. Metadata (periods, comments) comes from the first part.
pub fn combine(parts: &[(&Profile, i64)]) -> Result<Profile, CombineError> {
    let (first, _) = parts.first().ok_or(CombineError::Nothing)?;
    let names = |p: &Profile| {
        p.sample_type
            .iter()
            .map(|t| format!("{}/{}", t.kind, t.unit))
            .collect::<Vec<_>>()
            .join(",")
    };
    for (p, _) in parts {
        if p.sample_type != first.sample_type {
            return Err(CombineError::SampleTypes(names(first), names(p)));
        }
    }
    let mut b = Builder {
        out: Profile {
            sample_type: first.sample_type.clone(),
            default_sample_type: first.default_sample_type.clone(),
            period_type: first.period_type.clone(),
            period: first.period,
            time_nanos: first.time_nanos,
            duration_nanos: first.duration_nanos,
            comments: first.comments.clone(),
            doc_url: first.doc_url.clone(),
            drop_frames: first.drop_frames.clone(),
            keep_frames: first.keep_frames.clone(),
            ..Profile::default()
        },
        funcs: HashMap::new(),
        maps: HashMap::new(),
        locs: HashMap::new(),
        samples: HashMap::new(),
    };
    for (p, w) in parts {
        b.add(p, *w);
    }
    b.out.samples.retain(|s| s.values.iter().any(|&v| v != 0));
    Ok(b.out)
}

/// What happened between two snapshots of a cumulative profile (allocs, mutex, block):
/// `after` minus `before`, timed from the first snapshot to the second.
pub fn delta(before: &Profile, after: &Profile) -> Result<Profile, CombineError> {
    let mut d = combine(&[(after, 1), (before, -1)])?;
    d.time_nanos = before.time_nanos;
    d.duration_nanos = after.time_nanos.saturating_sub(before.time_nanos).max(0);
    Ok(d)
}

/// Merges consecutive profiles of one kind (CPU chunks) into one covering all of them.
pub fn merge(parts: &[Profile]) -> Result<Profile, CombineError> {
    let weighted: Vec<(&Profile, i64)> = parts.iter().map(|p| (p, 1)).collect();
    let mut m = combine(&weighted)?;
    m.duration_nanos = parts.iter().map(|p| p.duration_nanos).sum();
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use culprit_profile::ValueType;

    fn profile(stacks: &[(&[&str], i64)], time: i64) -> Profile {
        let mut p = Profile {
            sample_type: vec![ValueType::new("alloc_space", "bytes")],
            time_nanos: time,
            ..Profile::default()
        };
        for (stack, v) in stacks {
            let mut locs = Vec::new();
            for name in *stack {
                let fi = p.functions.len() as u32;
                p.functions.push(Function {
                    id: u64::from(fi) + 1,
                    name: (*name).into(),
                    ..Function::default()
                });
                let li = p.locations.len() as u32;
                p.locations.push(Location {
                    id: u64::from(li) + 1,
                    lines: vec![Line {
                        function: Some(fi),
                        line: 1,
                        column: 0,
                    }],
                    ..Location::default()
                });
                locs.push(li);
            }
            p.samples.push(Sample {
                locations: locs,
                values: vec![*v],
                ..Sample::default()
            });
        }
        p
    }

    #[test]
    fn delta_subtracts_matching_stacks_and_drops_zeroes() {
        let before = profile(&[(&["a", "main"], 100), (&["b", "main"], 5)], 1_000);
        let after = profile(
            &[
                (&["a", "main"], 350),
                (&["b", "main"], 5),
                (&["c", "main"], 7),
            ],
            3_000,
        );
        let d = delta(&before, &after).unwrap();
        let vals: Vec<i64> = d.samples.iter().map(|s| s.values[0]).collect();
        assert_eq!(vals, vec![250, 7]);
        assert_eq!(d.duration_nanos, 2_000);
        assert_eq!(d.time_nanos, 1_000);
    }

    #[test]
    fn merge_sums_and_rejects_mismatched_types() {
        let a = profile(&[(&["a"], 1)], 0);
        let merged = merge(&[a.clone(), a.clone()]).unwrap();
        assert_eq!(merged.samples.len(), 1);
        assert_eq!(merged.samples[0].values, vec![2]);
        let mut other = a.clone();
        other.sample_type = vec![ValueType::new("samples", "count")];
        assert!(merge(&[a, other]).is_err());
    }
}
