//! Reports in Vegeta's layouts: `text`, `json`, `hist[...]` and the HDR percentile plot.

use std::fmt::Write as _;
use std::time::Duration;

use crate::godur;
use crate::metrics::{Latencies, Metrics};

/// Which report to print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// Vegeta's text report plus service time and send lateness.
    Text,
    /// The summary as JSON (Vegeta's field names; durations in nanoseconds).
    Json,
    /// Latency counts per bucket; the bounds are the buckets' lower edges.
    Hist(Vec<Duration>),
    /// HDR percentile distribution (`Value(ms) Percentile TotalCount 1/(1-Percentile)`).
    Hdr,
}

/// A report type that cannot be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid report type {input:?}: {reason}")]
pub struct KindError {
    input: String,
    reason: String,
}

impl std::str::FromStr for Kind {
    type Err = KindError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = |reason: &str| KindError {
            input: s.to_string(),
            reason: reason.to_string(),
        };
        match s {
            "text" => return Ok(Kind::Text),
            "json" => return Ok(Kind::Json),
            "hdr" | "hdrplot" => return Ok(Kind::Hdr),
            _ => {}
        }
        let Some(inner) = s.strip_prefix("hist[").and_then(|r| r.strip_suffix(']')) else {
            return Err(err("expected text, json, hdr or hist[0,1ms,5ms,...]"));
        };
        let mut bounds = Vec::new();
        for part in inner.split(',') {
            let d = godur::parse(part.trim()).map_err(|e| err(&e.to_string()))?;
            if bounds.last().is_some_and(|&last| d <= last) {
                return Err(err("bucket bounds must increase"));
            }
            bounds.push(d);
        }
        if bounds.is_empty() {
            return Err(err("hist needs at least one bound"));
        }
        Ok(Kind::Hist(bounds))
    }
}

/// Aligns cells like Go's tabwriter (min width 0, padding 2): every cell but a row's last
/// is padded to its column's widest cell plus two spaces.
fn tabulate(rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = Vec::new();
    for row in rows {
        for (i, cell) in row.iter().enumerate().take(row.len().saturating_sub(1)) {
            let w = cell.chars().count();
            if widths.len() <= i {
                widths.push(w);
            } else {
                widths[i] = widths[i].max(w);
            }
        }
    }
    let mut out = String::new();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            out.push_str(cell);
            if i + 1 < row.len() {
                let pad = widths[i] + 2 - cell.chars().count();
                out.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push('\n');
    }
    out
}

fn d(ns: u64) -> String {
    godur::format(Duration::from_nanos(ns))
}

fn latency_row(name: &str, l: &Latencies) -> Vec<String> {
    vec![
        name.into(),
        "[min, mean, 50, 90, 95, 99, max]".into(),
        [l.min, l.mean, l.p50, l.p90, l.p95, l.p99, l.max]
            .map(d)
            .join(", "),
    ]
}

/// Renders `m` as `kind`.
pub fn render(m: &Metrics, kind: &Kind) -> String {
    match kind {
        Kind::Text => text(m),
        Kind::Json => {
            serde_json::to_string(&m.summary()).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
                + "\n"
        }
        Kind::Hist(_) => hist(m),
        Kind::Hdr => hdr(m),
    }
}

fn text(m: &Metrics) -> String {
    let s = m.summary();
    let row = |a: &str, b: &str, c: String| vec![a.to_string(), b.to_string(), c];
    let codes: String = s
        .status_codes
        .iter()
        .map(|(k, v)| format!("{k}:{v}  "))
        .collect();
    let rows = vec![
        row(
            "Requests",
            "[total, rate, throughput]",
            format!("{}, {:.2}, {:.2}", s.requests, s.rate, s.throughput),
        ),
        row(
            "Duration",
            "[total, attack, wait]",
            format!(
                "{}, {}, {}",
                d(s.duration + s.wait),
                d(s.duration),
                d(s.wait)
            ),
        ),
        latency_row("Latencies", &s.latencies),
        latency_row("Service Time", &s.service_times),
        latency_row("Send Lateness", &s.send_lateness),
        row(
            "Bytes In",
            "[total, mean]",
            format!("{}, {:.2}", s.bytes_in.total, s.bytes_in.mean),
        ),
        row(
            "Bytes Out",
            "[total, mean]",
            format!("{}, {:.2}", s.bytes_out.total, s.bytes_out.mean),
        ),
        row("Success", "[ratio]", format!("{:.2}%", s.success * 100.0)),
        row("Status Codes", "[code:count]", codes),
    ];
    let mut out = tabulate(&rows);
    out.push_str("Error Set:\n");
    for e in &s.errors {
        out.push_str(e);
        out.push('\n');
    }
    out
}

fn hist(m: &Metrics) -> String {
    let buckets: Vec<(u64, u64)> = m.buckets().collect();
    let total: u64 = buckets.iter().map(|b| b.1).sum();
    let mut rows = vec![vec![
        "Bucket".to_string(),
        String::new(),
        "#".into(),
        "%".into(),
        "Histogram".into(),
    ]];
    for (i, &(lo, count)) in buckets.iter().enumerate() {
        let ratio = if total > 0 {
            count as f64 / total as f64
        } else {
            0.0
        };
        let hi = buckets.get(i + 1).map_or("+Inf".to_string(), |b| d(b.0));
        rows.push(vec![
            format!("[{},", d(lo)),
            format!("{hi}]"),
            count.to_string(),
            format!("{:.2}%", ratio * 100.0),
            "#".repeat((ratio * 75.0) as usize),
        ]);
    }
    tabulate(&rows)
}

/// HdrHistogram's percentile steps with 5 ticks per half distance, down to 1e-6 from 1.
fn quantiles() -> Vec<f64> {
    let mut qs = Vec::new();
    let mut lo = 0.0f64;
    let mut span = 0.5f64;
    while span > 1e-6 {
        for i in 0..5 {
            qs.push(lo + span * f64::from(i) / 5.0);
        }
        lo += span;
        span /= 2.0;
    }
    qs.push(1.0);
    qs
}

fn hdr(m: &Metrics) -> String {
    let h = m.latency_histogram();
    let mut rows = vec![vec![
        "Value(ms)".to_string(),
        "Percentile".into(),
        "TotalCount".into(),
        "1/(1-Percentile)".into(),
    ]];
    for q in quantiles() {
        let value_ms = if h.is_empty() {
            0.0
        } else {
            h.value_at_quantile(q) as f64 / 1e6
        };
        let inv = if q < 1.0 {
            1.0 / (1.0 - q)
        } else {
            f64::INFINITY
        };
        rows.push(vec![
            format!("{value_ms:.6}"),
            format!("{q:.6}"),
            ((q * h.len() as f64) as u64).to_string(),
            if inv.is_finite() {
                format!("{inv:.6}")
            } else {
                "+Inf".into()
            },
        ]);
    }
    let mut out = tabulate(&rows);
    let _ = writeln!(out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::HitResult;

    #[test]
    fn parses_report_kinds() {
        assert_eq!("text".parse(), Ok(Kind::Text));
        assert_eq!(
            "hist[0,1ms,5ms]".parse(),
            Ok(Kind::Hist(vec![
                Duration::ZERO,
                Duration::from_millis(1),
                Duration::from_millis(5)
            ]))
        );
        assert!("hist[5ms,1ms]".parse::<Kind>().is_err());
        assert!("hist[".parse::<Kind>().is_err());
        assert!("xml".parse::<Kind>().is_err());
    }

    #[test]
    fn text_report_has_vegeta_rows() {
        let mut m = Metrics::new();
        for i in 0..10u64 {
            m.add(
                0,
                &HitResult {
                    seq: i,
                    scheduled_ns: i * 100_000_000,
                    sent_ns: i * 100_000_000,
                    done_ns: i * 100_000_000 + 2_000_000,
                    status: 200,
                    bytes_in: 5,
                    ..HitResult::default()
                },
            );
        }
        let out = render(&m, &Kind::Text);
        assert!(
            out.starts_with("Requests       [total, rate, throughput]         10, 11.11, "),
            "{out}"
        );
        assert!(
            out.contains("Status Codes   [code:count]                      200:10  \n"),
            "{out}"
        );
        assert!(
            out.contains("Success        [ratio]                           100.00%"),
            "{out}"
        );
        let hist = render(
            &Metrics::with_buckets(vec![Duration::ZERO, Duration::from_millis(1)]),
            &Kind::Hist(vec![]),
        );
        assert!(hist.starts_with("Bucket"), "{hist}");
        assert_eq!(quantiles()[6], 0.55);
    }
}
