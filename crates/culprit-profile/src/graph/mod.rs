//! Aggregation of samples into pprof's call graph and call tree.
