//! The seam between the kernel and the aggregation: anything that yields sample events.

use std::time::Duration;

use crate::record_format::Event;

/// A source of sampling events; [`crate::perf::PerfSampler`] is the kernel one, tests feed
/// their own.
pub trait Sampler: Send {
    /// Blocks until events may be ready or `timeout` passes.
    fn wait(&mut self, timeout: Duration);
    /// Appends every event available now to `out`.
    fn drain(&mut self, out: &mut Vec<Event>);
    /// Stops producing new events; already buffered ones can still be drained.
    fn stop(&mut self);
}
