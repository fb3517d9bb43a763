//! Linux probes for culprit: a `perf_event` sampling profiler that writes pprof profiles
//! ([`record::Recorder`]), and stack snapshots of every thread of a live process taken with
//! ptrace ([`threads::snapshot`]).
//!
//! Stacks are unwound in user space from a copy of the stack ([`unwind`]): DWARF CFI where
//! the object has it, frame pointers elsewhere, so release builds without frame pointers
//! still get whole stacks. Addresses are symbolized with blazesym ([`symbolize`]).

pub mod error;
pub mod maps;
pub mod object_info;
pub mod perf;
pub mod procinfo;
pub mod profile_builder;
pub mod record;
pub mod record_format;
pub mod sampler;
pub mod symbolize;
pub mod threads;
pub mod unwind;

pub use error::ProbeError;
pub use record::{RecordOptions, Recorder};
