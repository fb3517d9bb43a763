//! Constant-rate HTTP load generation in the manner of Vegeta.
//!
//! - [`targets`]: Vegeta's http and JSON target formats.
//! - [`rate`] and [`pacer`]: when each hit is due.
//! - [`attack`]: the engine; [`attack::Attack::start`] is the embedding API.
//! - [`results`]: one record per hit and the crash-safe append-only log.
//! - [`metrics`]: mergeable HDR metrics; [`reporters`]: text, JSON, histogram, HDR output.
//! - [`plot`]: a self-contained HTML plot of latency over time and throughput.
//! - [`godur`]: Go-style duration strings.

pub mod attack;
pub mod godur;
pub mod metrics;
pub mod pacer;
pub mod plot;
pub mod rate;
pub mod reporters;
pub mod results;
pub mod targets;
