//! The goroutine view: a dump grouped with the same filters and JSON as
//! `culprit goroutines --format json`.

use culprit_dump::{Filter, GroupOptions, Snapshot, render};
use serde::Deserialize;
use serde_json::Value;

/// The query of `/api/goroutines`; it mirrors the flags of `culprit goroutines`.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct GoroutineQuery {
    /// Index of the dump among those loaded (default 0).
    #[serde(default)]
    pub d: Option<usize>,
    /// Keep goroutines whose state contains this text (`--state`).
    #[serde(default)]
    pub state: Option<String>,
    /// Keep goroutines with a frame whose function matches this regex (`--match`).
    #[serde(default, rename = "match")]
    pub matches: Option<String>,
    /// Also require equal argument values (`--exact-args`).
    #[serde(default)]
    pub exact_args: bool,
    /// Also require equal pprof labels (`--by-labels`).
    #[serde(default)]
    pub by_labels: bool,
    /// Drop Go runtime-internal frames (`--hide-runtime`).
    #[serde(default)]
    pub hide_runtime: bool,
}

/// Why the groups could not be computed.
#[derive(Debug, thiserror::Error)]
pub enum GoroutineError {
    /// The `match` regex does not compile.
    #[error("match {0:?}: {1}")]
    BadRegex(String, regex::Error),
}

/// The grouping of `snap` under `q`, as `culprit goroutines --format json` prints it.
pub fn grouped(snap: &Snapshot, q: &GoroutineQuery) -> Result<Value, GoroutineError> {
    let nonempty = |s: &Option<String>| s.clone().filter(|v| !v.is_empty());
    let function = nonempty(&q.matches)
        .map(|re| regex::Regex::new(&re).map_err(|e| GoroutineError::BadRegex(re, e)))
        .transpose()?;
    let filter = Filter {
        state: nonempty(&q.state),
        function,
    };
    let opts = GroupOptions {
        exact_args: q.exact_args,
        by_labels: q.by_labels,
    };
    let grouping = if q.hide_runtime {
        let mut s = snap.clone();
        s.hide_runtime_frames();
        culprit_dump::group(&s, &filter, &opts)
    } else {
        culprit_dump::group(snap, &filter, &opts)
    };
    let mut v = render::json(&grouping);
    if let Some(obj) = v.as_object_mut() {
        obj.insert("format".into(), serde_json::json!(snap.format));
        obj.insert("format_name".into(), snap.format.describe().into());
        obj.insert("headlines".into(), serde_json::json!(snap.headlines));
        obj.insert("skipped".into(), serde_json::json!(snap.skipped));
    }
    Ok(v)
}
