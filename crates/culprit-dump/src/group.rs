//! Grouping tasks into buckets: everything that waits in the same place, in the same state,
//! started from the same site, is one bucket.
//!
//! Argument values are ignored by default: since Go 1.17 register-passed arguments print
//! as whatever the spill slot held (`0x0?`), so equal stacks would otherwise split at random
//! (panicparse's default splits the 50 waiters on one mutex into 46+3+1).

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, Hasher};

use regex::Regex;
use serde::Serialize;

use crate::model::{Creator, Frame, Snapshot, Task};

/// At most this many distinct thread names and label sets are kept per bucket: enough to
/// read, and it keeps grouping linear when every task has its own.
pub const DISTINCT_KEPT: usize = 32;

/// How tasks are compared.
#[derive(Debug, Clone, Default)]
pub struct GroupOptions {
    /// Also require equal argument text in every frame (panicparse's exact mode).
    pub exact_args: bool,
    /// Also require equal pprof labels (goroutine profiles split records by label set).
    pub by_labels: bool,
}

/// Which tasks to keep before grouping.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Keep tasks whose state contains this text (ASCII case-insensitive), e.g.
    /// `semacquire`, `chan receive`, `D`. Tasks without a state never match.
    pub state: Option<String>,
    /// Keep tasks with at least one frame whose function matches.
    pub function: Option<Regex>,
}

impl Filter {
    /// True when `task` passes every condition that is set.
    pub fn matches(&self, task: &Task) -> bool {
        if let Some(want) = &self.state {
            let Some(state) = &task.state else {
                return false;
            };
            if !state
                .to_ascii_lowercase()
                .contains(&want.to_ascii_lowercase())
            {
                return false;
            }
        }
        if let Some(re) = &self.function
            && !task.frames.iter().any(|f| re.is_match(&f.function))
        {
            return false;
        }
        true
    }
}

/// Minutes waited by the tasks of a bucket. Go prints minutes only from one minute up, so
/// a task without minutes counts as 0 once any task of its bucket has them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct WaitRange {
    /// Shortest wait, minutes.
    pub min: u64,
    /// Longest wait, minutes.
    pub max: u64,
}

/// Tasks that wait in the same place.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bucket {
    /// Number of tasks (aggregated records count by their weight).
    pub count: u64,
    /// Their common state (`None` when the input had no states).
    pub state: Option<String>,
    /// They are locked to their OS thread.
    pub locked: bool,
    /// Range of minutes waited; `None` when no task printed minutes.
    pub wait: Option<WaitRange>,
    /// The common `created by` site (`goroutine` is left out: it differs per task).
    pub created_by: Option<Creator>,
    /// The distinct goroutines that created them (`in goroutine N`), ascending.
    pub creator_ids: Vec<u64>,
    /// The stack of the first task; `args` is `None` in frames where tasks disagree.
    pub frames: Vec<Frame>,
    /// Some task's trace was cut short.
    pub elided: bool,
    /// Ids of the tasks, in input order.
    pub ids: Vec<u64>,
    /// Distinct thread names, in input order (at most [`DISTINCT_KEPT`]).
    pub names: Vec<String>,
    /// Distinct label sets, in input order (at most [`DISTINCT_KEPT`]).
    pub labels: Vec<Vec<(String, String)>>,
}

impl Bucket {
    /// The frame that best names what the bucket waits in: the first frame outside Go's
    /// runtime, `sync` and `internal/` packages (the caller of the lock, not the lock),
    /// else the innermost frame.
    pub fn headline(&self) -> Option<&Frame> {
        const PLUMBING: [&str; 3] = ["runtime.", "sync.", "internal/"];
        self.frames
            .iter()
            .find(|f| !PLUMBING.iter().any(|p| f.function.starts_with(p)))
            .or_else(|| self.frames.first())
    }
}

/// The buckets of one snapshot, biggest first.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Grouping {
    /// Tasks in all buckets (those that passed the filter).
    pub total: u64,
    /// Tasks in the snapshot before filtering.
    pub unfiltered_total: u64,
    /// Biggest first; equal sizes keep the order of first appearance.
    pub buckets: Vec<Bucket>,
}

/// Groups the tasks of `snapshot` that pass `filter`.
pub fn group(snapshot: &Snapshot, filter: &Filter, opts: &GroupOptions) -> Grouping {
    let hasher = std::collections::hash_map::RandomState::new();
    // Hash → indices into `buckets`; the representative task of each bucket settles
    // collisions, so no key is ever cloned.
    let mut index: HashMap<u64, Vec<usize>> = HashMap::new();
    let mut buckets: Vec<Bucket> = Vec::new();
    let mut representative: Vec<&Task> = Vec::new();
    let mut any_minutes: Vec<bool> = Vec::new();
    let mut total = 0;
    for task in snapshot.tasks.iter().filter(|t| filter.matches(t)) {
        total += task.count;
        let mut h = hasher.build_hasher();
        hash_key(task, opts, &mut h);
        let slots = index.entry(h.finish()).or_default();
        let found = slots.iter().copied().find(|&i| {
            representative
                .get(i)
                .is_some_and(|r| same_key(r, task, opts))
        });
        let i = match found {
            Some(i) => i,
            None => {
                let i = buckets.len();
                slots.push(i);
                buckets.push(new_bucket(task));
                representative.push(task);
                any_minutes.push(false);
                i
            }
        };
        if let (Some(b), Some(seen)) = (buckets.get_mut(i), any_minutes.get_mut(i)) {
            add_task(b, seen, task);
        }
    }
    for (b, seen) in buckets.iter_mut().zip(any_minutes) {
        if !seen {
            b.wait = None;
        }
        b.creator_ids.sort_unstable();
        b.creator_ids.dedup();
    }
    buckets.sort_by_key(|b| std::cmp::Reverse(b.count));
    Grouping {
        total,
        unfiltered_total: snapshot.total(),
        buckets,
    }
}

fn hash_key(task: &Task, opts: &GroupOptions, h: &mut impl Hasher) {
    task.state.hash(h);
    task.locked.hash(h);
    task.frames.len().hash(h);
    for f in &task.frames {
        f.function.hash(h);
        f.file.hash(h);
        f.line.hash(h);
        if opts.exact_args {
            f.args.hash(h);
        }
    }
    creator_site(task).hash(h);
    if opts.by_labels {
        task.labels.hash(h);
    }
}

fn same_key(a: &Task, b: &Task, opts: &GroupOptions) -> bool {
    a.state == b.state
        && a.locked == b.locked
        && a.frames.len() == b.frames.len()
        && a.frames.iter().zip(&b.frames).all(|(x, y)| {
            x.function == y.function
                && x.file == y.file
                && x.line == y.line
                && (!opts.exact_args || x.args == y.args)
        })
        && creator_site(a) == creator_site(b)
        && (!opts.by_labels || a.labels == b.labels)
}

fn creator_site(task: &Task) -> Option<(&str, &str, u32)> {
    task.creator
        .as_ref()
        .map(|c| (&*c.function, &*c.file, c.line))
}

fn new_bucket(task: &Task) -> Bucket {
    Bucket {
        count: 0,
        state: task.state.clone(),
        locked: task.locked,
        wait: Some(WaitRange {
            min: u64::MAX,
            max: 0,
        }),
        created_by: task.creator.as_ref().map(|c| Creator {
            goroutine: None,
            ..c.clone()
        }),
        creator_ids: Vec::new(),
        frames: task.frames.clone(),
        elided: false,
        ids: Vec::new(),
        names: Vec::new(),
        labels: Vec::new(),
    }
}

fn add_task(b: &mut Bucket, any_minutes: &mut bool, task: &Task) {
    b.count += task.count;
    if let Some(w) = &mut b.wait {
        let m = task.wait_minutes.unwrap_or(0);
        w.min = w.min.min(m);
        w.max = w.max.max(m);
    }
    *any_minutes |= task.wait_minutes.is_some();
    if let Some(g) = task.creator.as_ref().and_then(|c| c.goroutine) {
        b.creator_ids.push(g);
    }
    for (mine, theirs) in b.frames.iter_mut().zip(&task.frames) {
        if mine.args.is_some() && mine.args != theirs.args {
            mine.args = None;
        }
    }
    b.elided |= task.elided;
    if let Some(id) = task.id {
        b.ids.push(id);
    }
    if let Some(name) = &task.name
        && b.names.len() < DISTINCT_KEPT
        && !b.names.contains(name)
    {
        b.names.push(name.clone());
    }
    if !task.labels.is_empty() && b.labels.len() < DISTINCT_KEPT && !b.labels.contains(&task.labels)
    {
        b.labels.push(task.labels.clone());
    }
}
