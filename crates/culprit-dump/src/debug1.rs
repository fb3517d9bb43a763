//! `/debug/pprof/goroutine?debug=1`: goroutines aggregated by stack and label set
//! (fields of `#` frame lines are separated by tabs):
//!
//! ```text
//! goroutine profile: total 102
//! 50 @ 0x43b296 0x44c1de 0x4676a5 0x46b4e1
//! # labels: {"group":"chan-waiters", "worker":"0"}
//! #    0x4676a4    sync.runtime_SemacquireMutex+0x24 /usr/lib/go-1.19/src/runtime/sema.go:77
//! ```
//!
//! Records carry no states, wait times, ids, creators or arguments.

use crate::lines::{Interner, SkipLog, hex, numbered};
use crate::model::{Format, Frame, Snapshot, Task};

const BAD_RECORD: &str = "not part of a debug=1 goroutine profile";
const ORPHAN_FRAME: &str = "frame line without a `N @ 0x...` record line before it";
const BAD_FRAME: &str = "malformed frame line";
const BAD_LABELS: &str = "malformed `# labels:` line";

/// Parses a debug=1 goroutine profile; unusable lines become skipped ranges.
pub(crate) fn parse(text: &str) -> Snapshot {
    let mut snap = Snapshot {
        format: Format::GoroutineDebug1,
        ..Snapshot::default()
    };
    let mut names = Interner::default();
    let mut skips = SkipLog::default();
    let mut task: Option<Task> = None;
    // Addresses of the `@` line, used when the record has no `#` frame lines.
    let mut pcs: Vec<u64> = Vec::new();
    let finish =
        |task: &mut Option<Task>, pcs: &mut Vec<u64>, snap: &mut Snapshot, names: &mut Interner| {
            if let Some(mut t) = task.take() {
                if t.frames.is_empty() {
                    t.frames = pcs
                        .iter()
                        .map(|pc| Frame {
                            pc: Some(*pc),
                            ..Frame::new(names.get(&format!("{pc:#x}")), names.get(""), 0)
                        })
                        .collect();
                }
                snap.tasks.push(t);
            }
            pcs.clear();
        };
    for (n, l) in numbered(text) {
        if l.trim().is_empty() {
            finish(&mut task, &mut pcs, &mut snap, &mut names);
        } else if let Some(total) = l.strip_prefix("goroutine profile: total ") {
            snap.headlines.push(l.to_string());
            snap.announced_total = total.trim().parse().ok();
        } else if let Some(rest) = l.strip_prefix("# labels: ") {
            match (task.as_mut(), labels(rest)) {
                (Some(t), Some(ls)) => t.labels = ls,
                (None, _) => skips.skip(n, ORPHAN_FRAME),
                (_, None) => skips.skip(n, BAD_LABELS),
            }
        } else if let Some(rest) = l.strip_prefix("#\t") {
            match (task.as_mut(), frame(rest, &mut names)) {
                (Some(t), Some(f)) => t.frames.push(f),
                (None, _) => skips.skip(n, ORPHAN_FRAME),
                (_, None) => skips.skip(n, BAD_FRAME),
            }
        } else if let Some((count, addrs)) = record(l) {
            finish(&mut task, &mut pcs, &mut snap, &mut names);
            let mut t = Task::new();
            t.count = count;
            task = Some(t);
            pcs = addrs;
        } else {
            skips.skip(n, BAD_RECORD);
        }
    }
    finish(&mut task, &mut pcs, &mut snap, &mut names);
    snap.skipped = skips.ranges;
    snap
}

/// `50 @ 0x43b296 0x44c1de` → (50, addresses).
fn record(l: &str) -> Option<(u64, Vec<u64>)> {
    let (count, addrs) = l.split_once(" @")?;
    let count = count.trim().parse().ok()?;
    let pcs = addrs
        .split_whitespace()
        .map(hex)
        .collect::<Option<Vec<_>>>()?;
    Some((count, pcs))
}

/// `0x4676a4 sync.runtime_SemacquireMutex+0x24 /usr/lib/go-1.19/src/runtime/sema.go:77`
fn frame(rest: &str, names: &mut Interner) -> Option<Frame> {
    let mut fields = rest.split('\t').filter(|f| !f.is_empty());
    let pc = hex(fields.next()?.trim())?;
    let func = fields.next()?.trim();
    let loc = fields.next().map(str::trim).unwrap_or("");
    let (function, offset) = match func.rsplit_once("+0x") {
        Some((f, off)) => (f, u64::from_str_radix(off, 16).ok()),
        None => (func, None),
    };
    let (file, line) = match loc.rsplit_once(':') {
        Some((file, line)) => (file, line.parse().ok()?),
        None => (loc, 0),
    };
    Some(Frame {
        pc: Some(pc),
        offset,
        ..Frame::new(names.get(function), names.get(file), line)
    })
}

/// `{"group":"chan-waiters", "worker":"0"}` → sorted pairs.
fn labels(rest: &str) -> Option<Vec<(String, String)>> {
    let map: serde_json::Map<String, serde_json::Value> = serde_json::from_str(rest).ok()?;
    Some(
        map.into_iter()
            .map(|(k, v)| match v {
                serde_json::Value::String(s) => (k, s),
                other => (k, other.to_string()),
            })
            .collect(),
    )
}
