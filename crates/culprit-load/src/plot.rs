//! A self-contained HTML plot (inline data and script, no network) of latency over time —
//! every hit as a dot, with p50/p90/p99 lines — and throughput over time.

use std::fmt::Write as _;

use crate::results::HitResult;

/// Most dots drawn; longer attacks are thinned evenly (the percentile lines use every hit).
const MAX_DOTS: usize = 30_000;
/// Most time buckets for the percentile and throughput lines.
const MAX_BUCKETS: u64 = 300;

/// Collects hits from one or more logs for plotting.
#[derive(Default)]
pub struct Plot {
    /// (scheduled time in Unix ns, latency ns, success)
    hits: Vec<(u64, u64, bool)>,
}

impl Plot {
    /// An empty plot.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a hit from a log that started at `start_unix_ns`.
    pub fn add(&mut self, start_unix_ns: u64, r: &HitResult) {
        self.hits.push((
            start_unix_ns.saturating_add(r.scheduled_ns),
            r.latency().as_nanos() as u64,
            r.is_success(),
        ));
    }

    /// The HTML page.
    pub fn render(mut self, title: &str) -> String {
        self.hits.sort_unstable_by_key(|h| h.0);
        let t0 = self.hits.first().map_or(0, |h| h.0);
        let span = self.hits.last().map_or(0, |h| h.0) - t0;
        let width = (span / MAX_BUCKETS).max(100_000_000);
        let nb = (span / width + 1) as usize;
        let mut buckets: Vec<Vec<u64>> = vec![Vec::new(); nb];
        let mut ok = vec![0u64; nb];
        for &(t, lat, success) in &self.hits {
            let b = (((t - t0) / width) as usize).min(nb - 1);
            buckets[b].push(lat);
            ok[b] += u64::from(success);
        }
        let stride = self.hits.len().div_ceil(MAX_DOTS).max(1);
        let mut data = String::from("{\"dots\":[");
        for (i, &(t, lat, success)) in self.hits.iter().step_by(stride).enumerate() {
            if i > 0 {
                data.push(',');
            }
            let _ = write!(
                data,
                "[{:.4},{:.4},{}]",
                (t - t0) as f64 / 1e9,
                lat as f64 / 1e6,
                u8::from(success)
            );
        }
        data.push_str("],\"buckets\":[");
        let secs = width as f64 / 1e9;
        for (i, lats) in buckets.iter_mut().enumerate() {
            lats.sort_unstable();
            let q = |p: f64| {
                lats.get(((lats.len() as f64 * p) as usize).min(lats.len().saturating_sub(1)))
                    .map_or(0.0, |&v| v as f64 / 1e6)
            };
            if i > 0 {
                data.push(',');
            }
            let _ = write!(
                data,
                "[{:.4},{:.3},{:.3},{:.3},{:.3},{:.3}]",
                i as f64 * secs,
                q(0.5),
                q(0.9),
                q(0.99),
                lats.len() as f64 / secs,
                ok[i] as f64 / secs
            );
        }
        data.push_str("]}");
        let title = escape(title);
        format!(
            "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>{title}</title>\n<style>{CSS}</style></head>\n<body><h1>{title}</h1>\n<p>{n} hits; latency is counted from each hit's scheduled time.</p>\n<h2>Latency over time (ms)</h2><canvas id=\"lat\" width=\"1100\" height=\"420\"></canvas>\n<p class=\"key\"><span style=\"color:#4a7fd4\">&#9679; success</span> <span style=\"color:#d43c3c\">&#9679; error</span> <span style=\"color:#222\">&#9472; p50</span> <span style=\"color:#e08a00\">&#9472; p90</span> <span style=\"color:#b0008a\">&#9472; p99</span></p>\n<h2>Throughput (hits/s)</h2><canvas id=\"thr\" width=\"1100\" height=\"260\"></canvas>\n<p class=\"key\"><span style=\"color:#888\">&#9472; sent</span> <span style=\"color:#2a9d4a\">&#9472; successful</span></p>\n<script>const DATA={data};\n{JS}</script></body></html>\n",
            n = self.hits.len(),
        )
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

const CSS: &str = "body{font:14px system-ui,sans-serif;margin:24px;color:#222}canvas{border:1px solid #ddd}h2{font-size:16px;margin:18px 0 6px}.key span{margin-right:14px}";

const JS: &str = r#"
function axes(ctx, W, H, P, xmax, ymax, ylabel) {
  ctx.strokeStyle = '#999'; ctx.fillStyle = '#444'; ctx.font = '11px sans-serif';
  ctx.beginPath(); ctx.moveTo(P, 10); ctx.lineTo(P, H - P); ctx.lineTo(W - 10, H - P); ctx.stroke();
  for (let i = 0; i <= 5; i++) {
    const y = H - P - (H - P - 10) * i / 5, v = ymax * i / 5;
    ctx.fillText(v.toPrecision(3), 4, y + 4);
    ctx.strokeStyle = '#eee'; ctx.beginPath(); ctx.moveTo(P, y); ctx.lineTo(W - 10, y); ctx.stroke();
    const x = P + (W - 10 - P) * i / 5;
    ctx.fillText((xmax * i / 5).toPrecision(3) + 's', x - 10, H - P + 16);
  }
  ctx.fillText(ylabel, P + 4, 20);
}
function plot(id, series, dots, ylabel) {
  const c = document.getElementById(id), ctx = c.getContext('2d');
  const W = c.width, H = c.height, P = 50;
  let xmax = 0, ymax = 0;
  for (const d of dots) { xmax = Math.max(xmax, d[0]); ymax = Math.max(ymax, d[1]); }
  for (const s of series) for (const p of s.pts) { xmax = Math.max(xmax, p[0]); ymax = Math.max(ymax, p[1]); }
  xmax = xmax || 1; ymax = (ymax || 1) * 1.05;
  const X = x => P + (W - 10 - P) * x / xmax, Y = y => H - P - (H - P - 10) * y / ymax;
  axes(ctx, W, H, P, xmax, ymax, ylabel);
  for (const d of dots) { ctx.fillStyle = d[2] ? 'rgba(74,127,212,0.35)' : 'rgba(212,60,60,0.7)'; ctx.fillRect(X(d[0]) - 1, Y(d[1]) - 1, 2, 2); }
  for (const s of series) {
    ctx.strokeStyle = s.color; ctx.lineWidth = 1.5; ctx.beginPath();
    s.pts.forEach((p, i) => i ? ctx.lineTo(X(p[0]), Y(p[1])) : ctx.moveTo(X(p[0]), Y(p[1])));
    ctx.stroke(); ctx.lineWidth = 1;
  }
}
const B = DATA.buckets;
plot('lat', [
  {color: '#222', pts: B.map(b => [b[0], b[1]])},
  {color: '#e08a00', pts: B.map(b => [b[0], b[2]])},
  {color: '#b0008a', pts: B.map(b => [b[0], b[3]])},
], DATA.dots, 'ms');
plot('thr', [
  {color: '#888', pts: B.map(b => [b[0], b[4]])},
  {color: '#2a9d4a', pts: B.map(b => [b[0], b[5]])},
], [], 'hits/s');
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_offline_html() {
        let mut p = Plot::new();
        for i in 0..1000u64 {
            p.add(
                5,
                &HitResult {
                    seq: i,
                    scheduled_ns: i * 10_000_000,
                    sent_ns: i * 10_000_000,
                    done_ns: i * 10_000_000 + 1_000_000,
                    status: 200,
                    ..HitResult::default()
                },
            );
        }
        let html = p.render("a <b> test");
        assert!(html.contains("a &lt;b&gt; test"));
        assert!(!html.contains("http://") && !html.contains("https://"));
        assert!(html.contains("const DATA={\"dots\":[[0.0000,1.0000,1]"));
    }
}
