//! Line charts as inline SVG: time on x, one or more series on a shared y axis.

use std::fmt::Write;

use super::esc;

/// One series.
pub struct Line {
    /// Legend name.
    pub name: String,
    /// Stroke colour.
    pub color: &'static str,
    /// (seconds on the run clock, value) points.
    pub points: Vec<(f64, f64)>,
}

const W: f64 = 900.0;
const H: f64 = 220.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 14.0;
const BOTTOM: f64 = 28.0;

/// Draws `lines` with y labels from `fmt`; a shaded band marks `window` when given.
pub fn line_chart(
    id: &str,
    lines: &[Line],
    fmt: &dyn Fn(f64) -> String,
    window: Option<(f64, f64)>,
) -> String {
    let all = lines.iter().flat_map(|l| l.points.iter());
    let (mut x0, mut x1, mut y1) = (f64::MAX, f64::MIN, 0.0f64);
    for &(x, y) in all {
        x0 = x0.min(x);
        x1 = x1.max(x);
        if y.is_finite() {
            y1 = y1.max(y);
        }
    }
    let total: usize = lines.iter().map(|l| l.points.len()).sum();
    if total == 0 {
        return format!("<p class=\"muted\" id=\"{id}\">No data.</p>");
    }
    if x1 <= x0 {
        x1 = x0 + 1.0;
    }
    if y1 <= 0.0 {
        y1 = 1.0;
    }
    y1 *= 1.08;
    let sx = |x: f64| LEFT + (x - x0) / (x1 - x0) * (W - LEFT - RIGHT);
    let sy = |y: f64| TOP + (1.0 - y / y1) * (H - TOP - BOTTOM);
    let mut s = format!(
        "<svg class=\"chart\" id=\"{id}\" data-points=\"{total}\" width=\"{W}\" height=\"{H}\" viewBox=\"0 0 {W} {H}\" xmlns=\"http://www.w3.org/2000/svg\" font-size=\"11\" font-family=\"system-ui,sans-serif\">"
    );
    if let Some((a, b)) = window {
        let (a, b) = (sx(a.max(x0)), sx(b.min(x1)));
        if b > a {
            let _ = write!(
                s,
                "<rect x=\"{a:.1}\" y=\"{TOP}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#eef3fb\"><title>profile window</title></rect>",
                b - a,
                H - TOP - BOTTOM
            );
        }
    }
    for i in 0..=4 {
        let v = y1 / 4.0 * i as f64;
        let y = sy(v);
        let _ = write!(
            s,
            "<line x1=\"{LEFT}\" x2=\"{:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#e6e8ec\"/><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"#666\">{}</text>",
            W - RIGHT,
            LEFT - 6.0,
            y + 4.0,
            esc(&fmt(v))
        );
    }
    for i in 0..=5 {
        let t = x0 + (x1 - x0) / 5.0 * i as f64;
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#666\">{t:.0}s</text>",
            sx(t),
            H - 8.0
        );
    }
    for l in lines {
        if l.points.is_empty() {
            continue;
        }
        let pts: Vec<String> = l
            .points
            .iter()
            .filter(|(_, y)| y.is_finite())
            .map(|&(x, y)| format!("{:.1},{:.1}", sx(x), sy(y)))
            .collect();
        let _ = write!(
            s,
            "<polyline class=\"series\" data-series=\"{}\" data-n=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"1.8\" points=\"{}\"/>",
            esc(&l.name),
            pts.len(),
            l.color,
            pts.join(" ")
        );
        for &(x, y) in l.points.iter().filter(|(_, y)| y.is_finite()) {
            let _ = write!(
                s,
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"1.6\" fill=\"{}\" data-s=\"{}\" data-t=\"{x:.0}\" data-v=\"{}\"/>",
                sx(x),
                sy(y),
                l.color,
                esc(&l.name),
                esc(&fmt(y))
            );
        }
    }
    let _ = write!(
        s,
        "<text class=\"tip\" x=\"{:.1}\" y=\"{:.1}\" fill=\"#333\"></text></svg><div class=\"legend\">",
        LEFT + 6.0,
        TOP + 10.0
    );
    for l in lines {
        let _ = write!(
            s,
            "<span><i style=\"background:{}\"></i>{}</span>",
            l.color,
            esc(&l.name)
        );
    }
    s.push_str("</div>");
    s
}
