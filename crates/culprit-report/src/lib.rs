//! pprof's text reports, byte for byte as `go tool pprof` 1.19 prints them, and their JSON
//! forms: `top` ([`top`]), `peek`/`tree` ([`tree`]), `traces` ([`traces`]), `tags`
//! ([`tags`]).
//!
//! Every report starts from a [`Prepared`] profile (see
//! `culprit_profile::transform::prepare`) and [`Options`] that mirror pprof's trimming flags.

mod header;
mod tabwriter;
mod tags;
mod top;
mod traces;
mod tree;

use culprit_profile::graph::{NodeIndex, TrimOptions};
use culprit_profile::transform::{Prepared, units};

pub use tags::{tags, tags_json};
pub use top::{TopRow, top, top_json, top_rows};
pub use traces::{traces, traces_json, write_traces};
pub use tree::{tree, tree_json};

/// Why a report could not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `peek`'s regex matched no node.
    #[error("no matches found for regexp: {0}")]
    NoMatches(String),
    /// A regex option did not compile.
    #[error("parsing argument regexp {0}: {1}")]
    BadRegex(String, String),
}

/// pprof's report settings. `None` fields take the per-report default pprof uses.
#[derive(Clone, Debug)]
pub struct Options {
    /// Maximum nodes shown (pprof's `-nodecount`); default all for `top`, 80 for `tree`.
    pub node_count: Option<usize>,
    /// pprof's `-nodefraction` (default 0.005).
    pub node_fraction: f64,
    /// pprof's `-edgefraction` (default 0.001).
    pub edge_fraction: f64,
    /// Sort by cumulative value.
    pub cum: bool,
    /// Unit to print values in; `minimum` picks one per report as pprof does.
    pub unit: String,
    /// Omit the profile header lines (pprof's `-compact_labels`).
    pub compact_labels: bool,
    /// Drop nodes with negative values (pprof's `-drop_negative`).
    pub drop_negative: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            node_count: None,
            node_fraction: 0.005,
            edge_fraction: 0.001,
            cum: false,
            unit: "minimum".to_string(),
            compact_labels: false,
            drop_negative: false,
        }
    }
}

impl Options {
    fn trim_options(&self) -> TrimOptions {
        TrimOptions {
            node_fraction: self.node_fraction,
            edge_fraction: self.edge_fraction,
            node_count: self.node_count.unwrap_or(0),
            cum_sort: self.cum,
            drop_negative: self.drop_negative,
            edges_of: None,
        }
    }
}

/// Shared state of one report: the prepared profile, its frame index, and the unit values
/// are printed in.
struct Report<'a> {
    prep: &'a Prepared,
    index: NodeIndex<'a>,
    opts: Options,
    output_unit: String,
}

impl<'a> Report<'a> {
    fn new(prep: &'a Prepared, opts: Options) -> Self {
        Self {
            prep,
            index: NodeIndex::new(&prep.profile),
            output_unit: opts.unit.clone(),
            opts,
        }
    }

    fn sample_unit(&self) -> &str {
        &self.prep.sample_type.unit
    }

    fn format_value(&self, v: i64) -> String {
        units::scaled_label(v, self.sample_unit(), &self.output_unit)
    }

    /// pprof's `selectOutputUnit`: with `minimum`, one unit readable for both the smallest
    /// node value and the total.
    fn select_output_unit(&mut self, g: &culprit_profile::graph::Graph) {
        if self.opts.unit != "minimum" || g.nodes.is_empty() {
            return;
        }
        let mut min = 0i64;
        for n in &g.nodes {
            let mut v = n.flat_value().wrapping_abs();
            if v == 0 {
                v = n.cum_value().wrapping_abs();
            }
            if v > 0 && (min == 0 || v < min) {
                min = v;
            }
        }
        let max = self.prep.total;
        if min == 0 {
            min = max;
        }
        let su = self.sample_unit().to_string();
        let (_, min_unit) = units::scale(min, &su, "minimum");
        let (_, max_unit) = units::scale(max, &su, "minimum");
        let mut unit = min_unit.clone();
        if min_unit != max_unit && min.wrapping_mul(100) < max {
            unit = units::scale(min.wrapping_mul(100), &su, "minimum").1;
        }
        self.output_unit = if unit.is_empty() { su } else { unit };
    }
}
