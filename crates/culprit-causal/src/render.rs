//! Views of an [`Analysis`]: a terminal table with per-line curves, and a self-contained
//! HTML page with one speed-up plot per line.

use std::fmt::Write as _;

use crate::analysis::{Analysis, LineCurve};

fn pct(x: f64) -> String {
    format!("{:+.1}%", x * 100.0)
}

/// The ranking table, then each line's curve: speed-up, experiments, visits, period and
/// program speed-up per point.
pub fn text(name: &str, a: &Analysis) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "Profile: {name}");
    let _ = writeln!(
        s,
        "Experiments: {} | Runtime: {:.1}s",
        a.experiments,
        a.runtime_ns as f64 / 1e9
    );
    let width = a
        .curves
        .iter()
        .map(|c| c.line.len())
        .max()
        .unwrap_or(0)
        .max("Source Line".len());
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "{:<width$} |   Slope |    R² | Max Speedup | Points | Progress point",
        "Source Line"
    );
    let _ = writeln!(
        s,
        "{}-+---------+-------+-------------+--------+---------------",
        "-".repeat(width)
    );
    for c in &a.curves {
        let (slope, r2) = match c.fit {
            Some(f) => (format!("{:7.3}", f.slope), format!("{:5.2}", f.r2)),
            None => (format!("{:>7}", "N/A"), format!("{:>5}", "N/A")),
        };
        let points = if c.points.is_empty() {
            c.speedups_seen
        } else {
            c.points.len()
        };
        let _ = writeln!(
            s,
            "{:<width$} | {slope} | {r2} | {:>11} | {points:>6} | {}",
            c.line,
            pct(c.max_speedup),
            c.progress_point
        );
    }
    for c in &a.curves {
        let _ = writeln!(s);
        curve_text(&mut s, c);
    }
    s
}

fn curve_text(s: &mut String, c: &LineCurve) {
    let _ = writeln!(s, "== line {}  progress point {}", c.line, c.progress_point);
    let Some(b) = &c.baseline else {
        let _ = writeln!(s, "   no usable 0% baseline: no curve for this line");
        return;
    };
    let _ = writeln!(
        s,
        "   baseline period {:.2} ms/visit ({} visits, {} expts)",
        b.period_ns / 1e6,
        b.visits,
        b.experiments
    );
    let _ = writeln!(
        s,
        "   line_speedup  n_expts  visits  period_ms  program_speedup"
    );
    for p in &c.points {
        let _ = writeln!(
            s,
            "   {:>9}%  {:>9}  {:>6}  {:>9.2}  {:>15}",
            p.line_speedup_pct,
            p.experiments,
            p.visits,
            p.period_ns / 1e6,
            pct(p.program_speedup)
        );
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// An SVG plot of one curve: program speed-up against line speed-up, points sized by the
/// experiments behind them, with the fitted line.
pub fn curve_svg(c: &LineCurve) -> String {
    const W: f64 = 360.0;
    const H: f64 = 220.0;
    const L: f64 = 48.0;
    const B: f64 = 28.0;
    let ys: Vec<f64> = c.points.iter().map(|p| p.program_speedup).collect();
    let ymax = ys.iter().copied().fold(0.1_f64, f64::max) * 1.1;
    let ymin = ys.iter().copied().fold(-0.1_f64, f64::min) * 1.1;
    let x = |v: f64| L + v * (W - L - 10.0);
    let y = |v: f64| 10.0 + (ymax - v) / (ymax - ymin) * (H - B - 10.0);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="10">"#
    );
    let _ = write!(
        s,
        r##"<line x1="{L}" x2="{}" y1="{y0}" y2="{y0}" stroke="#999"/><line x1="{L}" x2="{L}" y1="10" y2="{}" stroke="#999"/>"##,
        W - 10.0,
        H - B,
        y0 = y(0.0)
    );
    for t in [0.0, 0.25, 0.5, 0.75, 1.0] {
        let _ = write!(
            s,
            r#"<text x="{}" y="{}" text-anchor="middle">{}%</text>"#,
            x(t),
            H - B + 14.0,
            (t * 100.0) as u32
        );
    }
    for t in [ymin, 0.0, ymax] {
        let _ = write!(
            s,
            r#"<text x="{}" y="{}" text-anchor="end">{:+.0}%</text>"#,
            L - 4.0,
            y(t) + 3.0,
            t * 100.0
        );
    }
    let _ = write!(
        s,
        r#"<text x="{}" y="{}" text-anchor="middle">line speed-up</text>"#,
        x(0.5),
        H - 2.0
    );
    if let Some(f) = c.fit {
        let _ = write!(
            s,
            r##"<line class="fit" x1="{}" y1="{}" x2="{}" y2="{}" stroke="#d62728" stroke-dasharray="4 3"/>"##,
            x(0.0),
            y(0.0),
            x(1.0),
            y(f.slope)
        );
    }
    for p in &c.points {
        let r = 2.0 + (p.experiments as f64).sqrt().min(6.0);
        let _ = write!(
            s,
            r##"<circle class="pt" cx="{:.1}" cy="{:.1}" r="{r:.1}" fill="#1f77b4" fill-opacity="0.7"><title>line +{}%: program {} ({} experiments, {} visits)</title></circle>"##,
            x(f64::from(p.line_speedup_pct) / 100.0),
            y(p.program_speedup),
            p.line_speedup_pct,
            pct(p.program_speedup),
            p.experiments,
            p.visits
        );
    }
    s.push_str("</svg>");
    s
}

/// A self-contained HTML page: the ranking table and a plot per line that has a curve.
pub fn html(name: &str, a: &Analysis) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>culprit causal: {n}</title>\
         <style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}\
         td,th{{padding:2px 8px;border-bottom:1px solid #ddd;text-align:right}}td:first-child{{text-align:left}}\
         .plots{{display:flex;flex-wrap:wrap;gap:1em}}figure{{margin:0}}</style></head><body>\
         <h1>Causal profile</h1><p>{n}: {e} experiments, {r:.1}s</p>\
         <table id=\"ranking\"><tr><th>Source line</th><th>Progress point</th><th>Slope</th><th>R²</th><th>Max speed-up</th><th>Points</th></tr>",
        n = escape(name),
        e = a.experiments,
        r = a.runtime_ns as f64 / 1e9
    );
    for c in &a.curves {
        let (slope, r2) = c.fit.map_or(("N/A".to_owned(), "N/A".to_owned()), |f| {
            (format!("{:.3}", f.slope), format!("{:.2}", f.r2))
        });
        let _ = write!(
            s,
            "<tr><td>{}</td><td>{}</td><td>{slope}</td><td>{r2}</td><td>{}</td><td>{}</td></tr>",
            escape(&c.line),
            escape(&c.progress_point),
            pct(c.max_speedup),
            c.points.len()
        );
    }
    s.push_str("</table><div class=\"plots\">");
    for c in a.curves.iter().filter(|c| c.baseline.is_some()) {
        let _ = write!(
            s,
            "<figure><figcaption>{} ({})</figcaption>{}</figure>",
            escape(&c.line),
            escape(&c.progress_point),
            curve_svg(c)
        );
    }
    s.push_str("</div></body></html>\n");
    s
}
