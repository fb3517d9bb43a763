//! `compare.html`: headline changes with noise, run A's findings and their fate in run B,
//! differential flame graphs and the biggest per-request function changes.

use std::fmt::Write;

use super::{esc, findings_section, flame, page};
use crate::compare::{Change, Comparison, FuncChange};
use crate::run::RunData;
use crate::units;

/// Formats a value of a change in its unit.
pub fn show(v: f64, unit: &str) -> String {
    match unit {
        "s" => units::seconds(v),
        "bytes" => units::bytes(v),
        "/s" => format!("{v:.1}/s"),
        _ => format!("{v:.0}"),
    }
}

/// One line of text for a change: `mean latency 12.3ms → 4.1ms (−66%, 95% CI −70%…−62%)`.
pub fn describe(c: &Change) -> String {
    let ci = c
        .interval
        .map(|(lo, hi)| format!(", 95% CI {:+.0}%…{:+.0}%", lo * 100.0, hi * 100.0))
        .unwrap_or_default();
    let noise = match c.interval {
        Some(_) if !c.significant() => " — within noise",
        _ => "",
    };
    format!(
        "{} {} → {} ({:+.1}%{ci}){noise}",
        c.name,
        show(c.a, &c.unit),
        show(c.b, &c.unit),
        c.relative * 100.0
    )
}

fn func_table(id: &str, rows: &[FuncChange], unit: &str) -> String {
    let mut s = format!(
        "<table id=\"{id}\"><thead><tr><th>A / request</th><th>B / request</th><th>change</th><th class=\"name\">function (cum)</th></tr></thead><tbody>"
    );
    for r in rows {
        let class = if r.b < r.a { "down" } else { "up" };
        let _ = write!(
            s,
            "<tr><td>{}</td><td>{}</td><td class=\"{class}\">{}</td><td class=\"name\">{}</td></tr>",
            show(r.a, unit),
            show(r.b, unit),
            show(r.b - r.a, unit),
            esc(&r.name)
        );
    }
    s.push_str("</tbody></table>");
    s
}

/// Renders the comparison page.
pub fn render(a: &RunData, b: &RunData, cmp: &Comparison) -> String {
    let meta = format!(
        "A: {} ({}) · B: {} ({})",
        esc(&a.dir.display().to_string()),
        esc(&a.manifest.started),
        esc(&b.dir.display().to_string()),
        esc(&b.manifest.started)
    );
    let mut body = String::from(
        "<section id=\"changes\"><h2>What changed</h2><table><thead><tr><th class=\"name\">measure</th><th>A</th><th>B</th><th>change</th><th>95% interval</th></tr></thead><tbody>",
    );
    for c in &cmp.changes {
        let class = if c.relative < 0.0 { "down" } else { "up" };
        let _ = write!(
            body,
            "<tr data-measure=\"{}\"><td class=\"name\">{}</td><td>{}</td><td>{}</td><td class=\"{class}\">{:+.1}%</td><td>{}</td></tr>",
            esc(&c.name),
            esc(&c.name),
            show(c.a, &c.unit),
            show(c.b, &c.unit),
            c.relative * 100.0,
            c.interval
                .map(|(lo, hi)| format!(
                    "{:+.0}% … {:+.0}%{}",
                    lo * 100.0,
                    hi * 100.0,
                    if c.significant() { "" } else { " (noise)" }
                ))
                .unwrap_or_else(|| "–".into())
        );
    }
    body.push_str("</tbody></table></section>");
    let findings: Vec<_> = cmp.findings.iter().map(|s| s.finding.clone()).collect();
    let status = |f: &crate::findings::Finding| -> String {
        match cmp.findings.iter().find(|s| &s.finding == f) {
            Some(s) if s.gone => " <span class=\"gone\">gone in B</span>".into(),
            Some(s) => format!(
                " <span class=\"still\">still in B ({:.0}%)</span>",
                s.b_score.unwrap_or(0.0) * 100.0
            ),
            None => String::new(),
        }
    };
    body.push_str(&findings_section(&findings, Some(&status)).replacen(
        "<h2>Findings</h2>",
        "<h2>Findings of run A, checked in run B</h2>",
        1,
    ));
    if let (Some(pa), Some(pb)) = (&a.cpu, &b.cpu) {
        body.push_str("<section id=\"cpu\"><h2>CPU: biggest changes per request</h2>");
        body.push_str(&func_table("cpu-changes", &cmp.cpu_changes, "s"));
        body.push_str(&flame(
            pb,
            "cpu",
            Some(pa),
            "CPU, B against A (red grew, blue shrank)",
        ));
        body.push_str("</section>");
    }
    if let (Some(pa), Some(pb)) = (&a.allocs, &b.allocs) {
        body.push_str("<section id=\"allocs\"><h2>Allocations: biggest changes per request</h2>");
        body.push_str(&func_table("alloc-changes", &cmp.alloc_changes, "bytes"));
        body.push_str(&flame(
            pb,
            "alloc_space",
            Some(pa),
            "Allocated bytes, B against A",
        ));
        body.push_str("</section>");
    }
    page("culprit comparison", &meta, &body)
}
