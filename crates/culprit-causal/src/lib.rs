//! Causal profiling data: coz's `profile.coz` records ([`cozfile`]), the speed-up curves
//! coz's viewer derives from them ([`analysis`]), and their text and HTML views
//! ([`render`]); and for a run, the in-scope source lines of a program's objects
//! ([`linetable`], [`dynamic`], [`tablefile`]). Pure: bytes in, values out, except
//! [`objects`], which reads the program's files, and [`runtime`], which installs the
//! preload library.

pub mod analysis;
pub mod cozfile;
pub mod dynamic;
pub mod linetable;
pub mod objects;
pub mod render;
pub mod runtime;
pub mod tablefile;

pub use analysis::{Analysis, LineCurve, analyze};
pub use cozfile::{ParseError, Record, parse, write};
