//! The legend lines above pprof's reports: File, Build ID, comments, Type, Time, Duration,
//! active filters, "Showing nodes accounting for ...", "Dropped N nodes ...", "Showing top
//! N nodes out of M".

use culprit_profile::graph::{Graph, base_name};
use culprit_profile::transform::units;

use crate::Report;

/// pprof's `Time:` layout, `Jan 2, 2006 at 3:04pm (MST)`, in the local time zone (`TZ`).
fn format_time(nanos: i64) -> String {
    let Ok(ts) = jiff::Timestamp::from_nanosecond(i128::from(nanos)) else {
        return String::new();
    };
    let zoned = ts.to_zoned(jiff::tz::TimeZone::system());
    zoned.strftime("%b %-d, %Y at %-I:%M%P (%Z)").to_string()
}

/// pprof's `ProfileLabels`: what the profile is.
pub(crate) fn profile_labels(rpt: &Report) -> Vec<String> {
    let p = &rpt.prep.profile;
    let mut out = Vec::new();
    if let Some(m) = p.mappings.first() {
        if !m.file.is_empty() {
            out.push(format!("File: {}", base_name(&m.file)));
        }
        if !m.build_id.is_empty() {
            out.push(format!("Build ID: {}", m.build_id));
        }
    }
    for c in &p.comments {
        if !c.starts_with('#') {
            out.push(c.clone());
        }
    }
    if !rpt.prep.sample_type.kind.is_empty() {
        out.push(format!("Type: {}", rpt.prep.sample_type.kind));
    }
    if p.time_nanos != 0 {
        out.push(format!("Time: {}", format_time(p.time_nanos)));
    }
    if p.duration_nanos != 0 {
        let duration = units::label(p.duration_nanos, "nanoseconds");
        let total = rpt.prep.total;
        let (total_nanos, total_unit) = units::scale(total, rpt.sample_unit(), "nanoseconds");
        let ratio = if total_unit == "ns" && total_nanos != 0.0 {
            format!(
                "({})",
                units::percentage(total_nanos as i64, p.duration_nanos)
            )
        } else {
            String::new()
        };
        out.push(format!(
            "Duration: {duration}, Total samples = {} {ratio}",
            rpt.format_value(total)
        ));
    }
    out
}

/// pprof's `reportLabels` for the text reports (no dropped-edge line).
pub(crate) fn report_labels(
    rpt: &Report,
    g: &Graph,
    orig_count: usize,
    dropped_nodes: usize,
) -> Vec<String> {
    let mut out = if rpt.opts.compact_labels {
        Vec::new()
    } else {
        profile_labels(rpt)
    };
    let flat_sum = g
        .nodes
        .iter()
        .fold(0i64, |a, n| a.wrapping_add(n.flat_value()));
    let filters = &rpt.prep.active_filters;
    if !filters.is_empty() {
        out.push("Active filters:".to_string());
        for f in filters {
            let f = if f.len() > 80 {
                let mut cut = 80;
                while !f.is_char_boundary(cut) {
                    cut -= 1;
                }
                format!("{}…", &f[..cut])
            } else {
                f.clone()
            };
            out.push(format!("   {f}"));
        }
    }
    let total = rpt.prep.total;
    out.push(format!(
        "Showing nodes accounting for {}, {} of {} total",
        rpt.format_value(flat_sum),
        units::percentage(flat_sum, total).trim(),
        rpt.format_value(total)
    ));
    if total != 0 {
        if dropped_nodes > 0 {
            let cut = ((total as f64 * rpt.opts.node_fraction) as i64).wrapping_abs();
            out.push(format!(
                "Dropped {dropped_nodes} {} (cum <= {})",
                if dropped_nodes > 1 { "nodes" } else { "node" },
                rpt.format_value(cut)
            ));
        }
        let n = g.nodes.len();
        if n > 0 && n < orig_count {
            out.push(format!("Showing top {n} nodes out of {orig_count}"));
        }
    }
    out
}
