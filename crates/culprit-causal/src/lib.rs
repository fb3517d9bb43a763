//! Causal profiling data: coz's `profile.coz` records ([`cozfile`]), the speed-up curves
//! coz's viewer derives from them ([`analysis`]), and their text and HTML views
//! ([`render`]). Pure: bytes in, values out.

pub mod analysis;
pub mod cozfile;
pub mod linetable;
pub mod render;
pub mod runtime;

pub use analysis::{Analysis, LineCurve, analyze};
pub use cozfile::{ParseError, Record, parse, write};
