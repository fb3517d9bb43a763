//! culprit's main job: capture what a service does under load, name the likely culprit, and
//! compare a run before a fix with a run after it.
//!
//! - [`capture`]: fetches a Go service's `/debug/pprof/*` endpoints (timeouts, headers, TLS).
//! - [`combine`]: allocation deltas and merged CPU chunks, as proper profiles.
//! - [`findings`]: the pure findings engine, profiles and series in, ranked suspects out.
//! - [`run`]: the run directory and its `manifest.json`.

pub mod capture;
pub mod combine;
pub mod compare;
pub mod demo;
pub mod findings;
pub mod html;
pub mod run;
pub mod session;
pub mod stacks;
pub mod units;
