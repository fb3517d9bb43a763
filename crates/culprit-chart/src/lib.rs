//! Line charts as inline SVG: time on x (seconds), one or more series on a shared y axis
//! that starts at zero. Shared by the run report pages and the web UI, so a series looks
//! the same wherever it is shown.
//!
//! The SVG carries what pages and tests read back: `svg.chart[data-points]` (points drawn
//! in all), one `polyline.series[data-series][data-n]` per line and one `circle[data-s]
//! [data-t][data-v]` per point (series, seconds with one decimal, formatted value) for
//! hover tips, and an empty `text.tip` for the page to fill. A `div.legend` follows.
//!
//! ```
//! use culprit_chart::{Line, line_chart};
//! let cpu = Line { name: "CPU cores".into(), color: "#c0392b", points: vec![(0.0, 0.5), (1.0, 1.5)] };
//! let html = line_chart("cpu", &[cpu], &|v| format!("{v:.1}"), None);
//! assert!(html.contains("data-points=\"2\""));
//! ```

use std::fmt::Write;

/// One series.
#[derive(Clone, Debug, PartialEq)]
pub struct Line {
    /// Legend name.
    pub name: String,
    /// Stroke colour.
    pub color: &'static str,
    /// (seconds, value) points; non-finite values are not drawn.
    pub points: Vec<(f64, f64)>,
}

/// Colours for lines in order, readable on white and distinct from each other.
pub const PALETTE: [&str; 6] = [
    "#c0392b", "#2e86de", "#27ae60", "#8e44ad", "#d35400", "#7f8c8d",
];

const W: f64 = 900.0;
const H: f64 = 220.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 14.0;
const BOTTOM: f64 = 28.0;

/// Escapes text for HTML/SVG content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A time-axis label: seconds up to ten minutes, then minutes, then hours, so long watch
/// series stay readable.
pub fn time_label(secs: f64, span: f64) -> String {
    if span > 36_000.0 {
        format!("{:.1}h", secs / 3600.0)
    } else if span > 600.0 {
        format!("{:.0}m", secs / 60.0)
    } else if span < 5.0 {
        format!("{secs:.1}s")
    } else {
        format!("{secs:.0}s")
    }
}

/// Draws `lines` with y labels from `fmt`; a shaded band marks `window` (seconds) when
/// given. Returns `<p class="muted" id=ID>No data.</p>` when no line has a point.
pub fn line_chart(
    id: &str,
    lines: &[Line],
    fmt: &dyn Fn(f64) -> String,
    window: Option<(f64, f64)>,
) -> String {
    let drawn = |l: &Line| -> Vec<(f64, f64)> {
        l.points
            .iter()
            .copied()
            .filter(|(x, y)| x.is_finite() && y.is_finite())
            .collect()
    };
    let drawn: Vec<Vec<(f64, f64)>> = lines.iter().map(drawn).collect();
    let total: usize = drawn.iter().map(Vec::len).sum();
    if total == 0 {
        return format!("<p class=\"muted\" id=\"{}\">No data.</p>", esc(id));
    }
    let (mut x0, mut x1, mut y1) = (f64::MAX, f64::MIN, 0.0f64);
    for &(x, y) in drawn.iter().flatten() {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y1 = y1.max(y);
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
        "<svg class=\"chart\" id=\"{}\" data-points=\"{total}\" width=\"{W}\" height=\"{H}\" viewBox=\"0 0 {W} {H}\" xmlns=\"http://www.w3.org/2000/svg\" font-size=\"11\" font-family=\"system-ui,sans-serif\">",
        esc(id)
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
    let span = x1 - x0;
    for i in 0..=5 {
        let t = x0 + span / 5.0 * i as f64;
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#666\">{}</text>",
            sx(t),
            H - 8.0,
            time_label(t, span)
        );
    }
    for (l, pts) in lines.iter().zip(&drawn) {
        if pts.is_empty() {
            continue;
        }
        let coords: Vec<String> = pts
            .iter()
            .map(|&(x, y)| format!("{:.1},{:.1}", sx(x), sy(y)))
            .collect();
        let name = esc(&l.name);
        let _ = write!(
            s,
            "<polyline class=\"series\" data-series=\"{name}\" data-n=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"1.8\" points=\"{}\"/>",
            pts.len(),
            l.color,
            coords.join(" ")
        );
        for &(x, y) in pts {
            let _ = write!(
                s,
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"1.6\" fill=\"{}\" data-s=\"{name}\" data-t=\"{x:.1}\" data-v=\"{}\"/>",
                sx(x),
                sy(y),
                l.color,
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
    // Lines without a point have nothing to name.
    for (l, _) in lines.iter().zip(&drawn).filter(|(_, p)| !p.is_empty()) {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn line(name: &str, points: Vec<(f64, f64)>) -> Line {
        Line {
            name: name.into(),
            color: PALETTE[0],
            points,
        }
    }

    fn svg_part(html: &str) -> &str {
        html.split("<div class=\"legend\">").next().unwrap_or(html)
    }

    #[test]
    fn draws_every_finite_point_once() {
        let a = line("a", vec![(0.0, 1.0), (1.0, f64::NAN), (2.0, 3.0)]);
        let b = line("b<&>", vec![(0.5, 2.0)]);
        let html = line_chart("c1", &[a, b], &|v| format!("{v:.0}"), Some((0.5, 1.5)));
        assert!(html.contains("data-points=\"3\""), "{html}");
        assert!(html.contains("data-series=\"a\" data-n=\"2\""));
        assert!(html.contains("data-series=\"b&lt;&amp;&gt;\" data-n=\"1\""));
        assert_eq!(html.matches("<circle").count(), 3);
        assert!(html.contains("profile window"));
        assert!(svg_part(&html).ends_with("</svg>"));
        let empty = line("nothing", vec![]);
        let html = line_chart(
            "c2",
            &[line("a", vec![(0.0, 1.0)]), empty],
            &|v| v.to_string(),
            None,
        );
        assert!(!html.contains("nothing"), "{html}");
    }

    #[test]
    fn empty_and_flat_series() {
        assert!(
            line_chart("e", &[line("a", vec![])], &|v| v.to_string(), None).contains("No data.")
        );
        // One point, all zero: still a valid chart with a unit-height axis.
        let html = line_chart(
            "z",
            &[line("a", vec![(5.0, 0.0)])],
            &|v| v.to_string(),
            None,
        );
        assert!(html.contains("data-points=\"1\""));
        assert!(!html.contains("NaN") && !html.contains("inf"));
    }

    #[test]
    fn time_labels_follow_the_span() {
        assert_eq!(time_label(1.25, 2.0), "1.2s");
        assert_eq!(time_label(90.0, 300.0), "90s");
        assert_eq!(time_label(1800.0, 3600.0), "30m");
        assert_eq!(time_label(72_000.0, 86_400.0), "20.0h");
    }
}
