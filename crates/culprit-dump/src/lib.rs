//! Goroutine and thread snapshots: parse every Go goroutine dump form, group what
//! everything waits on.
//!
//! Bytes in, values out. [`parse`] recognises the form by itself (`?debug=2`, SIGQUIT/
//! SIGABRT/panic/deadlock tracebacks, `?debug=1`, the proto profile, race reports) and
//! never fails on damaged text: what it cannot use is listed in [`Snapshot::skipped`]
//! with line ranges and reasons. [`group()`] turns a [`Snapshot`] into [`Bucket`]s, biggest
//! first; [`render`] prints them as text or the JSON every `culprit` stack view shares.
//!
//! Native thread probes build a [`Snapshot`] of [`Task`]s themselves and reuse the rest:
//!
//! ```
//! use culprit_dump::{Filter, Frame, GroupOptions, Snapshot, Task, group, render};
//! let mut t = Task::new();
//! t.id = Some(4242);
//! t.state = Some("S".into());
//! t.name = Some("worker".into());
//! t.extra.push(("wchan".into(), "futex_wait_queue".into()));
//! t.frames.push(Frame::new("__lll_lock_wait", "", 0));
//! let snap = Snapshot { tasks: vec![t.clone(), t], ..Snapshot::default() };
//! let g = group(&snap, &Filter::default(), &GroupOptions::default());
//! assert_eq!(g.buckets[0].count, 2);
//! println!("{}", render::text(&g, render::Noun::THREADS));
//! ```

mod debug1;
pub mod error;
pub mod group;
mod lines;
pub mod model;
mod proto;
pub mod render;
mod traceback;

pub use error::DumpError;
pub use group::{Bucket, Filter, GroupOptions, Grouping, WaitRange, group};
pub use model::{Creator, Format, Frame, Name, Skipped, Snapshot, Task};
pub use proto::from_profile;

/// Parses any goroutine dump form, detected from the bytes. Text never fails: unusable
/// lines end up in [`Snapshot::skipped`]. Binary input must be a goroutine profile.
pub fn parse(data: &[u8]) -> Result<Snapshot, DumpError> {
    if data.is_empty() {
        return Err(DumpError::Empty);
    }
    if culprit_profile::codec::is_gzip(data) {
        return proto::parse(data);
    }
    let head = data.get(..data.len().min(4096)).unwrap_or(data);
    let binary =
        head.contains(&0) || std::str::from_utf8(head).is_err_and(|e| e.error_len().is_some());
    if binary && let Ok(snap) = proto::parse(data) {
        return Ok(snap);
    }
    let text = String::from_utf8_lossy(data);
    if text
        .lines()
        .any(|l| l.starts_with("goroutine profile: total "))
    {
        return Ok(debug1::parse(&text));
    }
    let snap = traceback::parse(&text);
    if binary && snap.tasks.is_empty() {
        // Report why the bytes are not a profile rather than a page of skipped "lines".
        return proto::parse(data);
    }
    Ok(snap)
}
