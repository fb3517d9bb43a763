//! Transforms applied before reporting: sample index, filters, granularity, merge, base.
