//! Goroutine and thread snapshots: parse every Go goroutine dump form, group what
//! everything waits on.
//!
//! Bytes in, values out. [`parse`] recognises the form by itself (`?debug=2`, SIGQUIT/
//! SIGABRT/panic/deadlock tracebacks, `?debug=1`, the proto profile, race reports) and
//! never fails on damaged text: what it cannot use is listed in [`Snapshot::skipped`]
//! with line ranges and reasons. [`group()`] turns a [`Snapshot`] into [`Bucket`]s, biggest
//! first; [`render`] prints them as text or the JSON every `culprit` stack view shares.
//!
//! Native thread probes build a [`Snapshot`] of [`Task`]s themselves and reuse the rest.

pub mod group;
pub mod model;

pub use group::{Bucket, Filter, GroupOptions, Grouping, WaitRange, group};
pub use model::{Creator, Format, Frame, Name, Skipped, Snapshot, Task};
