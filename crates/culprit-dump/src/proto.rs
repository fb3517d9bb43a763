//! The proto goroutine profile (`/debug/pprof/goroutine`, gzipped `profile.proto`):
//! one sample per distinct stack and label set, valued in goroutines.
//!
//! Stacks keep the runtime frames the profile records (`runtime.gopark`, ...); call
//! [`Snapshot::hide_runtime_frames`] to compare them with a `debug=2` dump.

use culprit_profile::Profile;

use crate::error::DumpError;
use crate::lines::Interner;
use crate::model::{Format, Frame, Snapshot, Task};

/// Decodes a goroutine profile (gzipped or raw protobuf).
pub(crate) fn parse(data: &[u8]) -> Result<Snapshot, DumpError> {
    let raw;
    let data = if culprit_profile::codec::is_gzip(data) {
        raw = culprit_profile::codec::gunzip(data)?;
        &raw[..]
    } else {
        data
    };
    let profile = culprit_profile::codec::decode_proto(data)?;
    from_profile(&profile)
}

/// Converts a decoded goroutine profile into a snapshot.
pub fn from_profile(profile: &Profile) -> Result<Snapshot, DumpError> {
    let index = profile
        .sample_type_index("goroutine")
        .filter(|_| profile.sample_type.len() == 1)
        .ok_or_else(|| DumpError::NotGoroutines {
            types: profile
                .sample_type
                .iter()
                .map(|t| format!("{}/{}", t.kind, t.unit))
                .collect::<Vec<_>>()
                .join(", "),
        })?;
    let mut names = Interner::default();
    let mut snap = Snapshot {
        format: Format::GoroutineProto,
        ..Snapshot::default()
    };
    for sample in &profile.samples {
        let mut task = Task::new();
        task.count = sample
            .values
            .get(index)
            .copied()
            .and_then(|v| u64::try_from(v).ok())
            .unwrap_or(0);
        task.labels = sample
            .labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        task.labels.sort();
        for loc in sample
            .locations
            .iter()
            .filter_map(|&i| profile.locations.get(i as usize))
        {
            if loc.lines.is_empty() {
                let name = names.get(&format!("{:#x}", loc.address));
                task.frames.push(Frame {
                    pc: Some(loc.address),
                    ..Frame::new(name, names.get(""), 0)
                });
            }
            // `lines[0]` is the innermost inlined call: the order a traceback prints.
            for line in &loc.lines {
                let func = line
                    .function
                    .and_then(|f| profile.functions.get(f as usize));
                let (name, file) = func.map_or(("??", ""), |f| (&*f.name, &*f.filename));
                task.frames.push(Frame {
                    pc: Some(loc.address),
                    ..Frame::new(
                        names.get(name),
                        names.get(file),
                        u32::try_from(line.line).unwrap_or(0),
                    )
                });
            }
        }
        snap.tasks.push(task);
    }
    snap.announced_total = Some(snap.total());
    Ok(snap)
}
