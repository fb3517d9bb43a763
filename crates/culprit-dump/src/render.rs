//! Printing buckets: a text view in panicparse's spirit and the JSON shape every culprit
//! stack view shares (`culprit goroutines`, `culprit threads`, the web UI).

use std::fmt::Write as _;

use serde_json::{Value, json};

use crate::group::{Bucket, Grouping, WaitRange};
use crate::model::{Frame, Snapshot};

/// What a text view calls its tasks ("goroutines", "threads").
#[derive(Debug, Clone, Copy)]
pub struct Noun {
    /// Singular.
    pub one: &'static str,
    /// Plural.
    pub many: &'static str,
}

impl Noun {
    /// "goroutine"/"goroutines".
    pub const GOROUTINES: Noun = Noun {
        one: "goroutine",
        many: "goroutines",
    };
    /// "thread"/"threads".
    pub const THREADS: Noun = Noun {
        one: "thread",
        many: "threads",
    };

    fn of(self, n: u64) -> &'static str {
        if n == 1 { self.one } else { self.many }
    }
}

/// How many task ids a text view lists per bucket before it says "and N more".
const IDS_SHOWN: usize = 12;

/// The text view: a summary line, then each bucket with its count, state, wait range,
/// creator, ids and stack (innermost first).
pub fn text(grouping: &Grouping, noun: Noun) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "{} {} in {} group{}",
        grouping.total,
        noun.of(grouping.total),
        grouping.buckets.len(),
        if grouping.buckets.len() == 1 { "" } else { "s" }
    );
    if grouping.total != grouping.unfiltered_total {
        let _ = write!(out, " (of {} in the dump)", grouping.unfiltered_total);
    }
    out.push('\n');
    let width = grouping
        .buckets
        .first()
        .map_or(1, |b| b.count.to_string().len());
    for b in &grouping.buckets {
        out.push('\n');
        bucket_text(&mut out, b, width);
    }
    out
}

fn bucket_text(out: &mut String, b: &Bucket, width: usize) {
    // Inputs without states (debug=1, proto) print just the count.
    let _ = write!(out, "{:>width$}:", b.count);
    if let Some(state) = &b.state {
        let _ = write!(out, " {state}");
    }
    if let Some(w) = b.wait {
        let _ = write!(out, " [{}]", wait_text(w));
    }
    if b.locked {
        out.push_str(" [locked to thread]");
    }
    if let Some(h) = b.headline() {
        let _ = write!(out, " in {}", h.function);
    }
    out.push('\n');
    let pad = " ".repeat(width + 2);
    if let Some(c) = &b.created_by {
        let _ = write!(out, "{pad}created by {}", c.function);
        if !c.file.is_empty() {
            let _ = write!(out, " at {}:{}", c.file, c.line);
        }
        if !b.creator_ids.is_empty() {
            let _ = write!(out, " in goroutine {}", join_ids(&b.creator_ids));
        }
        out.push('\n');
    }
    if !b.ids.is_empty() {
        let _ = writeln!(out, "{pad}ids: {}", join_ids(&b.ids));
    }
    if !b.names.is_empty() {
        let _ = writeln!(out, "{pad}names: {}", b.names.join(", "));
    }
    for set in &b.labels {
        let labels: Vec<String> = set.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let _ = writeln!(out, "{pad}labels: {}", labels.join(" "));
    }
    let funcs: Vec<String> = b.frames.iter().map(frame_call).collect();
    let fw = funcs.iter().map(|f| f.chars().count()).max().unwrap_or(0);
    for (f, call) in b.frames.iter().zip(&funcs) {
        let _ = write!(out, "{pad}  {call:<fw$}");
        if !f.file.is_empty() {
            let _ = write!(out, "  {}:{}", f.file, f.line);
        }
        out.truncate(out.trim_end().len());
        out.push('\n');
    }
    if b.elided {
        let _ = writeln!(out, "{pad}  ...additional frames elided...");
    }
}

fn frame_call(f: &Frame) -> String {
    match &f.args {
        Some(a) => format!("{}({a})", f.function),
        None => f.function.to_string(),
    }
}

fn wait_text(w: WaitRange) -> String {
    let unit = if w.max == 1 { "minute" } else { "minutes" };
    if w.min == w.max {
        format!("{} {unit}", w.max)
    } else {
        format!("{}~{} {unit}", w.min, w.max)
    }
}

fn join_ids(ids: &[u64]) -> String {
    let mut s: Vec<String> = ids.iter().take(IDS_SHOWN).map(u64::to_string).collect();
    if ids.len() > IDS_SHOWN {
        s.push(format!("and {} more", ids.len() - IDS_SHOWN));
    }
    s.join(" ")
}

/// The JSON view: `{"total":N,"groups":[{"count","state","wait","created_by",
/// "stack":[{"function","file","line"}]}]}`, biggest group first, plus `locked`, `ids`,
/// `headline`, `labels`, `names` and `elided` per group and `unfiltered_total`.
pub fn json(grouping: &Grouping) -> Value {
    let groups: Vec<Value> = grouping.buckets.iter().map(bucket_json).collect();
    json!({
        "total": grouping.total,
        "unfiltered_total": grouping.unfiltered_total,
        "groups": groups,
    })
}

/// Writes the same document as [`json`] with the top-level `extra` fields added, one
/// group at a time: a dump where every goroutine is its own group (`--exact-args` on
/// argument junk) never exists whole as a JSON tree. Keys come out sorted, as
/// `serde_json::to_writer` of [`json`]'s value prints them.
pub fn write_json(
    grouping: &Grouping,
    extra: serde_json::Map<String, Value>,
    mut w: impl std::io::Write,
) -> std::io::Result<()> {
    let mut top: std::collections::BTreeMap<String, Option<Value>> =
        extra.into_iter().map(|(k, v)| (k, Some(v))).collect();
    top.insert("total".into(), Some(json!(grouping.total)));
    top.insert(
        "unfiltered_total".into(),
        Some(json!(grouping.unfiltered_total)),
    );
    top.insert("groups".into(), None);
    w.write_all(b"{")?;
    for (i, (key, value)) in top.iter().enumerate() {
        if i > 0 {
            w.write_all(b",")?;
        }
        serde_json::to_writer(&mut w, key)?;
        w.write_all(b":")?;
        match value {
            Some(v) => serde_json::to_writer(&mut w, v)?,
            None => {
                w.write_all(b"[")?;
                for (j, b) in grouping.buckets.iter().enumerate() {
                    if j > 0 {
                        w.write_all(b",")?;
                    }
                    serde_json::to_writer(&mut w, &bucket_json(b))?;
                }
                w.write_all(b"]")?;
            }
        }
    }
    w.write_all(b"}")
}

fn bucket_json(b: &Bucket) -> Value {
    let stack: Vec<Value> = b
        .frames
        .iter()
        .map(|f| json!({"function": &*f.function, "file": &*f.file, "line": f.line}))
        .collect();
    let labels: Vec<Value> = b
        .labels
        .iter()
        .map(|set| Value::Object(set.iter().map(|(k, v)| (k.clone(), json!(v))).collect()))
        .collect();
    json!({
        "count": b.count,
        "state": b.state,
        "wait": b.wait.map(|w| json!({"min_minutes": w.min, "max_minutes": w.max})),
        "created_by": b.created_by.as_ref().map(|c| json!({
            "function": &*c.function, "file": &*c.file, "line": c.line,
        })),
        "stack": stack,
        "locked": b.locked,
        "headline": b.headline().map(|f| &*f.function),
        "ids": b.ids,
        "creator_ids": b.creator_ids,
        "names": b.names,
        "labels": labels,
        "elided": b.elided,
    })
}

/// Lines explaining what the parse could not use, for stderr: one per skipped range.
pub fn skipped_text(snapshot: &Snapshot) -> Vec<String> {
    snapshot
        .skipped
        .iter()
        .map(|s| {
            if s.first_line == 0 {
                format!("skipped: {}", s.reason)
            } else if s.first_line == s.last_line {
                format!("skipped line {}: {}", s.first_line, s.reason)
            } else {
                format!(
                    "skipped lines {}-{}: {}",
                    s.first_line, s.last_line, s.reason
                )
            }
        })
        .collect()
}
