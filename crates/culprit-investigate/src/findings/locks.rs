//! Requests queueing on one lock: goroutines parked in `sync` lock calls, with the mutex and
//! block profiles' wait time.

use std::collections::HashMap;

use super::{Evidence, Finding, Inputs, pct};
use crate::stacks::Stacks;

fn is_lock_wait(f: &str) -> bool {
    matches!(
        f,
        "sync.(*Mutex).Lock"
            | "sync.(*Mutex).lockSlow"
            | "sync.(*RWMutex).Lock"
            | "sync.(*RWMutex).RLock"
            | "sync.runtime_SemacquireMutex"
            | "sync.runtime_SemacquireRWMutex"
            | "sync.runtime_SemacquireRWMutexR"
            | "pthread_mutex_lock"
            | "__lll_lock_wait"
    ) || f.starts_with("std::sync::mutex::Mutex<") && f.ends_with(">::lock")
        || f.starts_with("std::sys::sync::mutex::")
}

/// Goroutines waiting on network input are idle connections, not queued work.
fn is_idle(frames: &[String]) -> bool {
    frames.iter().any(|f| {
        f == "internal/poll.runtime_pollWait"
            || f == "runtime.netpollblock"
            || f == "net/http.(*persistConn).readLoop"
            || f == "net/http.(*persistConn).writeLoop"
    })
}

/// The program's frame that asked for the lock (first own frame above the lock call).
fn lock_site<'a>(stacks: &Stacks, frames: &'a [String]) -> Option<&'a str> {
    let pos = frames.iter().rposition(|f| is_lock_wait(f))?;
    frames
        .iter()
        .skip(pos + 1)
        .find(|f| !stacks.is_library(f))
        .or_else(|| frames.get(pos + 1))
        .map(String::as_str)
}

/// The lock function a stack waits in, outermost first (`sync.(*Mutex).Lock`).
fn lock_fn(frames: &[String]) -> Option<&str> {
    frames
        .iter()
        .rev()
        .find(|f| is_lock_wait(f))
        .map(String::as_str)
}

/// Most in-flight goroutines parked on one lock, or much wait time in the mutex profile.
pub(super) fn lock_contention(inputs: &Inputs<'_>) -> Option<Finding> {
    let window = inputs.window_secs.max(1e-3);
    // Goroutine snapshot: group lock waiters by where they ask for the lock.
    let mut waiting: HashMap<(String, String), i64> = HashMap::new();
    let (mut busy, mut total) = (0i64, 0i64);
    if let Some(g) = inputs.goroutines {
        let s = Stacks::new(g, None);
        for (frames, v) in &s.samples {
            total += v;
            if is_idle(frames) {
                continue;
            }
            busy += v;
            if let (Some(site), Some(lf)) = (lock_site(&s, frames), lock_fn(frames)) {
                *waiting
                    .entry((site.to_string(), lf.to_string()))
                    .or_default() += v;
            }
        }
    }
    let top = waiting
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)));
    let goroutine_share = top
        .as_ref()
        .map_or(0.0, |(_, n)| *n as f64 / busy.max(1) as f64);
    // Mutex profile: delay per unlocking site during the window.
    let mut delay_secs = 0.0;
    let mut holder = None;
    if let Some(m) = inputs.mutex {
        let s = Stacks::new(m, Some("delay"));
        delay_secs = s.total as f64 / 1e9;
        holder = s
            .callers_of(|f| f == "sync.(*Mutex).Unlock" || f == "sync.(*RWMutex).Unlock")
            .into_iter()
            .next()
            .map(|(f, _)| f);
    }
    let mut block_lock_secs = 0.0;
    if let Some(b) = inputs.block {
        let s = Stacks::new(b, Some("delay"));
        block_lock_secs = s.value_where(is_lock_wait) as f64 / 1e9;
    }
    let wait_secs = delay_secs.max(block_lock_secs);
    let wait_share = inputs
        .load
        .filter(|l| l.requests > 0 && l.mean_latency > 0.0)
        .map(|l| (wait_secs / (l.requests as f64 * l.mean_latency)).min(1.0));
    let score = goroutine_share.max(wait_share.unwrap_or(0.0));
    if score < 0.05 || (top.is_none() && holder.is_none()) {
        return None;
    }
    let mut functions = Vec::new();
    let mut evidence = Vec::new();
    let site_text = if let Some(((site, lf), n)) = &top {
        functions.push(lf.clone());
        functions.push(site.clone());
        evidence.push(Evidence::new(
            &format!("goroutines waiting in {lf} from {site}"),
            *n as f64,
            "count",
        ));
        evidence.push(Evidence::new("goroutines in flight", busy as f64, "count"));
        evidence.push(Evidence::new("goroutines in total", total as f64, "count"));
        evidence.push(Evidence::new(
            "share of in-flight goroutines waiting on this lock",
            goroutine_share,
            "%",
        ));
        format!(
            "{} of in-flight goroutines wait in {lf} from {site}",
            pct(goroutine_share)
        )
    } else {
        format!("{:.1}s of lock wait per second", wait_secs / window)
    };
    if let Some(h) = &holder {
        if !functions.contains(h) {
            functions.push(h.clone());
        }
        evidence.push(Evidence::new(
            &format!("lock wait released by {h} (mutex profile)"),
            delay_secs,
            "s",
        ));
    }
    if wait_secs > 0.0 {
        evidence.push(Evidence::new(
            "lock wait per second of wall time",
            wait_secs / window,
            "ratio",
        ));
    }
    if let Some(w) = wait_share {
        evidence.push(Evidence::new("share of request time spent waiting", w, "%"));
    }
    Some(Finding {
        kind: "lock-contention".into(),
        title: format!("Requests queue on one lock: {site_text}"),
        score,
        functions,
        evidence,
        advice: "Hold the lock only around the shared-state update; do slow work (I/O, \
                 hashing, encoding) outside it, or shard the lock."
            .into(),
    })
}
