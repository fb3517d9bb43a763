//! Flame graphs for culprit: stacks merged into a tree ([`tree`]), coloured by package kind
//! or by change against a base ([`colour`]), written as one self-contained interactive SVG
//! ([`svg`]); plus per-function before/after changes ([`changes`]).
//!
//! ```no_run
//! # fn demo(profile: &culprit_profile::Profile) -> std::io::Result<()> {
//! use culprit_flame::{svg, tree::{Side, StackSet}};
//! let mut stacks = StackSet::new();
//! stacks.add_profile(profile, Side::Value, |s| s.values[0]);
//! let tree = stacks.build(0);
//! svg::write_svg(&tree, &svg::Options::default(), &mut std::io::stdout())?;
//! # Ok(()) }
//! ```

pub mod changes;
pub mod colour;
pub mod svg;
pub mod tree;
pub mod units;
