//! pprof's `top` (`-text`) report.

use culprit_profile::graph;
use culprit_profile::transform::{Prepared, units};
use serde::Serialize;

use crate::{Options, Report, header};

/// One row of `top`, with raw values in the sample type's unit.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TopRow {
    /// Frame name at the report's granularity.
    pub name: String,
    /// `(inline)` or `(partial-inline)` when the frame was inlined into its callers.
    #[serde(skip)]
    pub inline_label: &'static str,
    /// Value of samples ending here.
    pub flat: i64,
    /// `flat` as a percentage of the total.
    pub flat_pct: f64,
    /// Running sum of `flat_pct`.
    pub sum_pct: f64,
    /// Value of samples passing through here.
    pub cum: i64,
    /// `cum` as a percentage of the total.
    pub cum_pct: f64,
}

fn pct(v: i64, total: i64) -> f64 {
    if total == 0 {
        0.0
    } else {
        (v as f64 / total as f64 * 100.0).abs()
    }
}

struct TopData<'a> {
    rpt: Report<'a>,
    labels: Vec<String>,
    rows: Vec<TopRow>,
}

fn compute<'a>(prep: &'a Prepared, opts: &Options) -> TopData<'a> {
    let mut rpt = Report::new(prep, opts.clone());
    let t = graph::trimmed(&rpt.index, prep, &rpt.opts.trim_options());
    rpt.select_output_unit(&t.graph);
    let labels = header::report_labels(&rpt, &t.graph, t.orig_count, t.dropped_nodes);
    let total = prep.total;
    let mut flat_sum = 0i64;
    let rows = t
        .graph
        .nodes
        .iter()
        .map(|n| {
            let (mut inline, mut noinline) = (false, false);
            for e in t.graph.in_edges(&rpt.index, n.id) {
                if e.inline {
                    inline = true;
                } else {
                    noinline = true;
                }
            }
            let (flat, cum) = (n.flat_value(), n.cum_value());
            flat_sum = flat_sum.wrapping_add(flat);
            TopRow {
                name: rpt.index.name(n.id).to_string(),
                inline_label: match (inline, noinline) {
                    (true, true) => "(partial-inline)",
                    (true, false) => "(inline)",
                    _ => "",
                },
                flat,
                flat_pct: pct(flat, total),
                sum_pct: pct(flat_sum, total),
                cum,
                cum_pct: pct(cum, total),
            }
        })
        .collect();
    TopData { rpt, labels, rows }
}

/// The rows `top` shows, for callers that lay them out themselves.
pub fn top_rows(prep: &Prepared, opts: &Options) -> Vec<TopRow> {
    compute(prep, opts).rows
}

/// pprof's `top` text, byte for byte.
pub fn top(prep: &Prepared, opts: &Options) -> String {
    let d = compute(prep, opts);
    let total = prep.total;
    let mut out = d.labels.join("\n");
    out.push('\n');
    out.push_str(&format!(
        "{:>10} {:>5}% {:>5}% {:>10} {:>5}%\n",
        "flat", "flat", "sum", "cum", "cum"
    ));
    let mut flat_sum = 0i64;
    for r in &d.rows {
        flat_sum = flat_sum.wrapping_add(r.flat);
        let inl = if r.inline_label.is_empty() {
            String::new()
        } else {
            format!(" {}", r.inline_label)
        };
        out.push_str(&format!(
            "{:>10} {} {} {:>10} {}  {}{}\n",
            d.rpt.format_value(r.flat),
            units::percentage(r.flat, total),
            units::percentage(flat_sum, total),
            d.rpt.format_value(r.cum),
            units::percentage(r.cum, total),
            r.name,
            inl
        ));
    }
    out
}

#[derive(Serialize)]
struct TopJson<'a> {
    sample_type: SampleType<'a>,
    total: i64,
    rows: &'a [TopRow],
}

#[derive(Serialize)]
pub(crate) struct SampleType<'a> {
    #[serde(rename = "type")]
    pub(crate) kind: &'a str,
    pub(crate) unit: &'a str,
}

/// `top` as JSON: `{"sample_type":{"type","unit"},"total":N,"rows":[{"name","flat",
/// "flat_pct","sum_pct","cum","cum_pct"}]}` with raw values.
pub fn top_json(prep: &Prepared, opts: &Options) -> String {
    let d = compute(prep, opts);
    let j = TopJson {
        sample_type: SampleType {
            kind: &prep.sample_type.kind,
            unit: &prep.sample_type.unit,
        },
        total: prep.total,
        rows: &d.rows,
    };
    serde_json::to_string_pretty(&j).unwrap_or_default()
}
