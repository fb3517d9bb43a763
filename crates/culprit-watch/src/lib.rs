//! Process-tree, cgroup and Go runtime metrics over time.
//!
//! [`Sampler`] reads a process and all its descendants from /proc (or the processes of a
//! cgroup), the cgroup's CPU, throttling and memory counters (v1 or v2), and optionally a
//! Go service's `runtime.MemStats`, into one [`Sample`]. [`openmetrics::render`] exposes a
//! sample under the names Prometheus users know.
//!
//! The parsers (`proc_files`, `cgroup_files`, `go_stats`) are pure: bytes in, values out.
//! The sampler and the HTTP client are the edges that do I/O.

pub mod cgroup;
pub mod cgroup_files;
mod error;
pub mod go_client;
pub mod go_stats;
pub mod openmetrics;
pub mod proc_files;
mod proc_table;
mod sample;
mod sampler;

pub use cgroup::{CgroupDirs, CgroupReader};
pub use error::{Error, ParseError};
pub use sample::{CgroupSample, GoSample, ProcessSample, Sample, TreeTotals};
pub use sampler::{Sampler, Target};
