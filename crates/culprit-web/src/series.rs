//! Metrics over time as charts: from `culprit watch` samples (process tree, cgroup, Go
//! runtime) or from an investigate run's load, process and runtime readings. Pure: samples
//! in, chart data out; [`Chart::svg`] draws one with the shared chart code.

use culprit_chart::{Line, PALETTE, line_chart};
use culprit_investigate::run::RunData;
use culprit_watch::Sample;
use serde_json::{Value, json};

/// How a chart's values read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// Bytes, shown as kB/MB/GB (powers of 1024, as pprof prints them).
    Bytes,
    /// CPU cores.
    Cores,
    /// Plain counts.
    Count,
    /// Milliseconds.
    Millis,
    /// Percent.
    Percent,
    /// Events per second.
    PerSecond,
}

impl Unit {
    /// The unit's name in the API.
    pub fn name(self) -> &'static str {
        match self {
            Unit::Bytes => "bytes",
            Unit::Cores => "cores",
            Unit::Count => "count",
            Unit::Millis => "ms",
            Unit::Percent => "percent",
            Unit::PerSecond => "per_second",
        }
    }

    /// A value as the axis and tips show it.
    pub fn label(self, v: f64) -> String {
        match self {
            Unit::Bytes => bytes_label(v),
            Unit::Cores => format!("{}", round(v, 2)),
            Unit::Count => format!("{}", round(v, 1)),
            Unit::Millis => format!("{}ms", round(v, 2)),
            Unit::Percent => format!("{}%", round(v, 1)),
            Unit::PerSecond => format!("{}/s", round(v, 1)),
        }
    }
}

fn round(v: f64, digits: i32) -> f64 {
    let m = 10f64.powi(digits);
    (v * m).round() / m
}

fn bytes_label(v: f64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut v = v;
    let mut i = 0;
    while v.abs() >= 1024.0 && i + 1 < UNITS.len() {
        v /= 1024.0;
        i += 1;
    }
    format!("{}{}", round(v, if i == 0 { 0 } else { 1 }), UNITS[i])
}

/// One chart: lines sharing a y axis.
#[derive(Clone, Debug)]
pub struct Chart {
    /// Stable id (`cpu`, `rss`, `go-heap`, ...).
    pub id: &'static str,
    /// Heading.
    pub title: &'static str,
    /// What the values are.
    pub unit: Unit,
    /// The lines, (seconds since the first reading, value).
    pub lines: Vec<Line>,
    /// A span to shade (the profile window of a run), seconds.
    pub window: Option<(f64, f64)>,
}

impl Chart {
    fn new(id: &'static str, title: &'static str, unit: Unit) -> Self {
        Chart {
            id,
            title,
            unit,
            lines: Vec::new(),
            window: None,
        }
    }

    fn line(mut self, name: &str, points: Vec<(f64, f64)>) -> Self {
        let color = PALETTE[self.lines.len() % PALETTE.len()];
        self.lines.push(Line {
            name: name.to_owned(),
            color,
            points,
        });
        self
    }

    /// Readings over all lines.
    pub fn points(&self) -> usize {
        self.lines.iter().map(|l| l.points.len()).sum()
    }

    /// The lines as drawn: at most [`MAX_DRAWN`] points each.
    pub fn drawn(&self) -> Vec<Line> {
        self.lines
            .iter()
            .map(|l| Line {
                points: envelope(&l.points, MAX_DRAWN),
                ..l.clone()
            })
            .collect()
    }

    /// The chart as inline SVG (plus its legend).
    pub fn svg(&self) -> String {
        let unit = self.unit;
        line_chart(
            &format!("chart-{}", self.id),
            &self.drawn(),
            &|v| unit.label(v),
            self.window,
        )
    }

    /// The chart's data (as drawn) and drawing for the API.
    pub fn json(&self) -> Value {
        let drawn = self.drawn();
        json!({
            "id": self.id,
            "title": self.title,
            "unit": self.unit.name(),
            "readings": self.points(),
            "points": drawn.iter().map(|l| l.points.len()).sum::<usize>(),
            "lines": drawn.iter().map(|l| json!({"name": l.name, "points": l.points})).collect::<Vec<_>>(),
            "svg": self.svg(),
        })
    }
}

/// Points drawn per line at most: a day of one-second readings would otherwise make
/// every chart tens of megabytes of SVG.
pub const MAX_DRAWN: usize = 1200;

/// `points` reduced to at most `max`: consecutive runs become their lowest and highest
/// point, in time order, so spikes and dips survive the reduction.
pub fn envelope(points: &[(f64, f64)], max: usize) -> Vec<(f64, f64)> {
    if points.len() <= max || max < 2 {
        return points.to_vec();
    }
    let per = points.len().div_ceil(max / 2);
    let mut out = Vec::with_capacity(max);
    for run in points.chunks(per) {
        let lo = run.iter().min_by(|a, b| a.1.total_cmp(&b.1));
        let hi = run.iter().max_by(|a, b| a.1.total_cmp(&b.1));
        if let (Some(&lo), Some(&hi)) = (lo, hi) {
            if lo.0 == hi.0 {
                out.push(lo);
            } else if lo.0 < hi.0 {
                out.extend([lo, hi]);
            } else {
                out.extend([hi, lo]);
            }
        }
    }
    out
}

/// A set of charts over one time range.
#[derive(Clone, Debug, Default)]
pub struct Series {
    /// Readings the charts were drawn from.
    pub samples: usize,
    /// Time of the first reading, RFC 3339, when known.
    pub start: Option<String>,
    /// The charts, in reading order; charts without any point are left out.
    pub charts: Vec<Chart>,
}

impl Series {
    fn push(&mut self, chart: Chart) {
        if chart.points() > 0 {
            self.charts.push(chart);
        }
    }
}

/// Charts of `culprit watch` samples: the process tree always, the cgroup and the Go
/// runtime when the samples have them. Time is seconds since the first sample.
pub fn from_watch(samples: &[Sample]) -> Series {
    let t0 = samples.first().map_or(0.0, |s| s.unix_seconds);
    let pts = |f: &dyn Fn(&Sample) -> Option<f64>| -> Vec<(f64, f64)> {
        samples
            .iter()
            .filter_map(|s| f(s).map(|v| (s.unix_seconds - t0, v)))
            .collect()
    };
    // Rates from cumulative counters, between consecutive samples that both have them.
    let rate = |f: &dyn Fn(&Sample) -> Option<f64>, scale: f64| -> Vec<(f64, f64)> {
        samples
            .windows(2)
            .filter_map(|w| {
                let (a, b) = (w.first()?, w.get(1)?);
                let dt = b.unix_seconds - a.unix_seconds;
                let dv = f(b)? - f(a)?;
                (dt > 0.0 && dv >= 0.0).then(|| (b.unix_seconds - t0, dv / dt * scale))
            })
            .collect()
    };
    let mut s = Series {
        samples: samples.len(),
        start: samples.first().map(|s| s.time.clone()),
        charts: Vec::new(),
    };
    let tree = |f: fn(&culprit_watch::TreeTotals) -> f64| pts(&move |s| Some(f(&s.tree)));
    s.push(
        Chart::new("cpu", "CPU cores (process tree)", Unit::Cores)
            .line("CPU cores", pts(&|s| s.tree.cpu_cores)),
    );
    s.push(
        Chart::new("rss", "Resident memory (RSS)", Unit::Bytes)
            .line("RSS", tree(|t| t.rss_bytes as f64)),
    );
    s.push(
        Chart::new("vsize", "Virtual memory", Unit::Bytes)
            .line("vsize", tree(|t| t.vsize_bytes as f64)),
    );
    s.push(
        Chart::new("threads", "Threads", Unit::Count).line("threads", tree(|t| t.threads as f64)),
    );
    s.push(
        Chart::new("fds", "Open file descriptors", Unit::Count).line("fds", tree(|t| t.fds as f64)),
    );
    s.push(
        Chart::new("processes", "Processes", Unit::Count)
            .line("processes", tree(|t| t.processes as f64)),
    );
    let cg = |f: fn(&culprit_watch::CgroupSample) -> Option<f64>| {
        pts(&move |s| s.cgroup.as_ref().and_then(f))
    };
    s.push(
        Chart::new("cgroup-cpu", "cgroup CPU cores", Unit::Cores)
            .line("CPU cores", cg(|c| c.cpu_cores))
            .line("quota", cg(|c| c.cpu_quota_cores)),
    );
    s.push(
        Chart::new(
            "cgroup-throttling",
            "cgroup CPU throttling (share of CFS periods throttled)",
            Unit::Percent,
        )
        .line("throttled periods", throttled_share(samples, t0)),
    );
    s.push(
        Chart::new("cgroup-memory", "cgroup memory", Unit::Bytes)
            .line("usage", cg(|c| c.memory_usage_bytes.map(|v| v as f64)))
            .line(
                "working set",
                cg(|c| c.memory_working_set_bytes.map(|v| v as f64)),
            )
            .line("limit", cg(|c| c.memory_limit_bytes.map(|v| v as f64))),
    );
    let go =
        |f: fn(&culprit_watch::GoSample) -> Option<f64>| pts(&move |s| s.go.as_ref().and_then(f));
    s.push(
        Chart::new("go-heap", "Go heap", Unit::Bytes)
            .line(
                "heap in use (HeapAlloc)",
                go(|g| Some(g.heap_alloc_bytes as f64)),
            )
            .line("next GC target", go(|g| Some(g.next_gc_bytes as f64))),
    );
    s.push(
        Chart::new("go-gc", "Go GC pauses", Unit::Millis)
            .line(
                "pause ms per second",
                rate(&|s| s.go.as_ref().and_then(|g| g.pause_total_seconds), 1e3),
            )
            .line(
                "longest pause since previous sample",
                go(|g| {
                    g.recent_pauses_seconds
                        .iter()
                        .copied()
                        .reduce(f64::max)
                        .map(|p| p * 1e3)
                }),
            ),
    );
    s.push(
        Chart::new("go-goroutines", "Goroutines", Unit::Count)
            .line("goroutines", go(|g| g.goroutines.map(|n| n as f64))),
    );
    s
}

/// Percent of CFS periods throttled between consecutive samples.
fn throttled_share(samples: &[Sample], t0: f64) -> Vec<(f64, f64)> {
    let counters = |s: &Sample| {
        let c = s.cgroup.as_ref()?;
        Some((c.cpu_periods?, c.cpu_throttled_periods?))
    };
    samples
        .windows(2)
        .filter_map(|w| {
            let (a, b) = (w.first()?, w.get(1)?);
            let ((pa, ta), (pb, tb)) = (counters(a)?, counters(b)?);
            let periods = pb.checked_sub(pa)?;
            let throttled = tb.checked_sub(ta)?;
            (periods > 0).then(|| {
                (
                    b.unix_seconds - t0,
                    throttled as f64 / periods as f64 * 100.0,
                )
            })
        })
        .collect()
}

/// Charts of a run's readings on the run clock, the profile window shaded.
pub fn from_run(run: &RunData) -> Series {
    let window = run.manifest.window;
    let mut s = Series {
        samples: run.load.len().max(run.process.len()).max(run.runtime.len()),
        start: Some(run.manifest.started.clone()).filter(|t| !t.is_empty()),
        charts: Vec::new(),
    };
    let load = |f: fn(&culprit_investigate::run::LoadSecond) -> f64| -> Vec<(f64, f64)> {
        run.load.iter().map(|l| (l.t, f(l))).collect()
    };
    let answered = |f: fn(&culprit_investigate::run::LoadSecond) -> f64| -> Vec<(f64, f64)> {
        run.load
            .iter()
            .filter(|l| l.requests > 0)
            .map(|l| (l.t, f(l)))
            .collect()
    };
    let proc_ = |f: fn(&culprit_investigate::run::ProcessPoint) -> f64| -> Vec<(f64, f64)> {
        run.process.iter().map(|p| (p.t, f(p))).collect()
    };
    let rt = |f: fn(&culprit_investigate::run::RuntimePoint) -> f64| -> Vec<(f64, f64)> {
        run.runtime.iter().map(|p| (p.t, f(p))).collect()
    };
    let pause_rate: Vec<(f64, f64)> = run
        .runtime
        .windows(2)
        .filter_map(|w| {
            let (a, b) = (w.first()?, w.get(1)?);
            let dt = b.t - a.t;
            let dp = b.pause_total_ns.checked_sub(a.pause_total_ns)?;
            (dt > 0.0).then(|| (b.t, dp as f64 / 1e6 / dt))
        })
        .collect();
    let charts = [
        Chart::new("latency", "Latency", Unit::Millis)
            .line("p99", answered(|l| l.p99 * 1e3))
            .line("p50", answered(|l| l.p50 * 1e3))
            .line("mean", answered(|l| l.mean * 1e3)),
        Chart::new("throughput", "Responses per second", Unit::PerSecond)
            .line("responses/s", load(|l| l.requests as f64))
            .line("errors/s", load(|l| l.errors as f64)),
        Chart::new("cpu", "CPU cores (process)", Unit::Cores)
            .line("CPU cores", proc_(|p| p.cpu_cores)),
        Chart::new("rss", "Resident memory (RSS)", Unit::Bytes)
            .line("RSS", proc_(|p| p.rss as f64)),
        Chart::new("threads", "Threads", Unit::Count).line("threads", proc_(|p| p.threads as f64)),
        Chart::new("go-heap", "Go heap", Unit::Bytes)
            .line("heap in use (HeapAlloc)", rt(|p| p.heap_alloc as f64))
            .line("next GC target", rt(|p| p.next_gc as f64)),
        Chart::new("go-gc", "Go GC pauses", Unit::Millis).line("pause ms per second", pause_rate),
    ];
    for mut c in charts {
        c.window = window;
        s.push(c);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_keeps_spikes_and_bounds_points() {
        let pts: Vec<(f64, f64)> = (0..10_000)
            .map(|i| (i as f64, if i == 4321 { 99.0 } else { (i % 7) as f64 }))
            .collect();
        let e = envelope(&pts, 1000);
        assert!(e.len() <= 1000, "{}", e.len());
        assert!(e.contains(&(4321.0, 99.0)));
        assert!(e.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(envelope(&pts[..10], 1000), &pts[..10]);
    }

    #[test]
    fn labels_read_like_the_cli() {
        assert_eq!(Unit::Bytes.label(1536.0), "1.5kB");
        assert_eq!(Unit::Bytes.label(10.0 * 1024.0 * 1024.0), "10MB");
        assert_eq!(Unit::Bytes.label(0.0), "0B");
        assert_eq!(Unit::Cores.label(0.256), "0.26");
        assert_eq!(Unit::Percent.label(12.34), "12.3%");
    }

    fn sample(t: f64, cores: Option<f64>) -> Sample {
        Sample {
            time: String::new(),
            unix_seconds: t,
            interval_seconds: cores.map(|_| 1.0),
            tree: culprit_watch::TreeTotals {
                cpu_cores: cores,
                rss_bytes: 1 << 20,
                threads: 3,
                ..Default::default()
            },
            processes: Vec::new(),
            cgroup: None,
            go: None,
            errors: Vec::new(),
        }
    }

    #[test]
    fn watch_charts_have_one_point_per_sample() {
        let s = from_watch(&[
            sample(100.0, None),
            sample(101.0, Some(0.5)),
            sample(102.0, Some(1.0)),
        ]);
        let ids: Vec<&str> = s.charts.iter().map(|c| c.id).collect();
        assert_eq!(ids, ["cpu", "rss", "vsize", "threads", "fds", "processes"]);
        let cpu = &s.charts[0];
        assert_eq!(cpu.points(), 2);
        assert_eq!(cpu.lines[0].points[0], (1.0, 0.5));
        assert_eq!(s.charts[1].points(), 3);
    }
}
