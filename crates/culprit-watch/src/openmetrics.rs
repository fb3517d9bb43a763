//! A sample as Prometheus metrics, in OpenMetrics 1.0 text or the classic text format
//! 0.0.4, with the names of client_golang's process collector, cAdvisor and client_golang's
//! Go collector.

use std::fmt::Write as _;

use crate::sample::{ProcessSample, Sample};

/// The two exposition formats Prometheus negotiates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// OpenMetrics 1.0 text (`# UNIT`, `# EOF`).
    OpenMetrics,
    /// The classic Prometheus text format 0.0.4.
    Text,
}

impl Format {
    /// Picks the format from an HTTP `Accept` header, as Prometheus' scraper and
    /// client_golang's handler do: OpenMetrics only when asked for.
    pub fn from_accept(accept: Option<&str>) -> Self {
        match accept {
            Some(a) if a.contains("application/openmetrics-text") => Self::OpenMetrics,
            _ => Self::Text,
        }
    }

    /// The HTTP `Content-Type` of this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
            Self::Text => "text/plain; version=0.0.4; charset=utf-8",
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Counter,
    Gauge,
    Summary,
}

/// Label pairs of one point.
type Labels = Vec<(&'static str, String)>;

/// One metric family being built.
struct Family {
    name: &'static str,
    kind: Kind,
    unit: Option<&'static str>,
    help: &'static str,
    /// (name suffix, labels, value)
    points: Vec<(&'static str, Labels, f64)>,
}

impl Family {
    fn new(name: &'static str, kind: Kind, unit: Option<&'static str>, help: &'static str) -> Self {
        Self {
            name,
            kind,
            unit,
            help,
            points: Vec::new(),
        }
    }

    fn point(&mut self, labels: Labels, value: f64) {
        let suffix = if self.kind == Kind::Counter {
            "_total"
        } else {
            ""
        };
        self.points.push((suffix, labels, value));
    }
}

/// Renders every metric of `sample`.
pub fn render(sample: &Sample, format: Format) -> String {
    let mut out = String::new();
    for family in families(sample) {
        write_family(&mut out, &family, format);
    }
    if format == Format::OpenMetrics {
        out.push_str("# EOF\n");
    }
    out
}

fn families(sample: &Sample) -> Vec<Family> {
    use Kind::{Counter, Gauge, Summary};
    let tree = &sample.tree;
    let tree_labels = || {
        vec![
            ("pid", "tree".to_string()),
            ("command", tree.command.clone()),
        ]
    };
    let proc_labels =
        |p: &ProcessSample| vec![("pid", p.pid.to_string()), ("command", p.command.clone())];
    let mut fams = Vec::new();

    let mut per_process =
        |name, kind, unit, help, of: fn(&ProcessSample) -> f64, total: Option<f64>| {
            let mut f = Family::new(name, kind, unit, help);
            for p in &sample.processes {
                f.point(proc_labels(p), of(p));
            }
            if let Some(total) = total {
                f.point(tree_labels(), total);
            }
            fams.push(f);
        };
    per_process(
        "process_cpu_seconds",
        Counter,
        Some("seconds"),
        "Total user and system CPU time spent in seconds (pid=\"tree\": the whole tree, with reaped children).",
        |p| p.cpu_seconds,
        Some(tree.cpu_seconds),
    );
    per_process(
        "process_resident_memory_bytes",
        Gauge,
        Some("bytes"),
        "Resident memory size in bytes.",
        |p| p.rss_bytes as f64,
        Some(tree.rss_bytes as f64),
    );
    per_process(
        "process_virtual_memory_bytes",
        Gauge,
        Some("bytes"),
        "Virtual memory size in bytes.",
        |p| p.vsize_bytes as f64,
        Some(tree.vsize_bytes as f64),
    );
    per_process(
        "process_open_fds",
        Gauge,
        None,
        "Number of open file descriptors.",
        |p| p.fds as f64,
        Some(tree.fds as f64),
    );
    per_process(
        "process_threads",
        Gauge,
        None,
        "Number of OS threads in the process.",
        |p| p.threads as f64,
        Some(tree.threads as f64),
    );
    let root_start = sample
        .processes
        .first()
        .filter(|_| tree.root_pid.is_some())
        .map(|p| p.start_time_seconds);
    per_process(
        "process_start_time_seconds",
        Gauge,
        Some("seconds"),
        "Start time of the process since unix epoch in seconds.",
        |p| p.start_time_seconds,
        root_start,
    );

    let mut ctx = Family::new(
        "culprit_process_context_switches",
        Counter,
        None,
        "Context switches, voluntary (waits) and involuntary (preemptions).",
    );
    let mut faults = Family::new(
        "culprit_process_page_faults",
        Counter,
        None,
        "Page faults, minor and major (pid=\"tree\": with reaped children).",
    );
    let with = |mut l: Labels, k: &'static str, v: &str| {
        l.push((k, v.to_string()));
        l
    };
    for p in &sample.processes {
        ctx.point(
            with(proc_labels(p), "kind", "voluntary"),
            p.voluntary_ctxt_switches as f64,
        );
        ctx.point(
            with(proc_labels(p), "kind", "involuntary"),
            p.nonvoluntary_ctxt_switches as f64,
        );
        faults.point(with(proc_labels(p), "kind", "minor"), p.minor_faults as f64);
        faults.point(with(proc_labels(p), "kind", "major"), p.major_faults as f64);
    }
    ctx.point(
        with(tree_labels(), "kind", "voluntary"),
        tree.voluntary_ctxt_switches as f64,
    );
    ctx.point(
        with(tree_labels(), "kind", "involuntary"),
        tree.nonvoluntary_ctxt_switches as f64,
    );
    faults.point(
        with(tree_labels(), "kind", "minor"),
        tree.minor_faults as f64,
    );
    faults.point(
        with(tree_labels(), "kind", "major"),
        tree.major_faults as f64,
    );
    fams.push(ctx);
    fams.push(faults);
    let mut count = Family::new(
        "culprit_tree_processes",
        Gauge,
        None,
        "Live processes in the watched tree or cgroup.",
    );
    count.point(tree_labels(), tree.processes as f64);
    fams.push(count);
    let mut started = Family::new(
        "culprit_tree_processes_started",
        Counter,
        None,
        "Processes that joined the tree since watching began.",
    );
    started.point(tree_labels(), tree.processes_started_total as f64);
    fams.push(started);

    if let Some(c) = &sample.cgroup {
        let id = || vec![("id", c.path.clone())];
        let mut opt = |name, kind, unit, help, value: Option<f64>| {
            if let Some(v) = value {
                let mut f = Family::new(name, kind, unit, help);
                f.point(id(), v);
                fams.push(f);
            }
        };
        let bytes = |v: Option<u64>| v.map(|b| b as f64);
        opt(
            "container_cpu_usage_seconds",
            Counter,
            Some("seconds"),
            "Cumulative cpu time consumed in seconds.",
            c.cpu_usage_seconds,
        );
        opt(
            "container_cpu_user_seconds",
            Counter,
            Some("seconds"),
            "Cumulative user cpu time consumed in seconds.",
            c.cpu_user_seconds,
        );
        opt(
            "container_cpu_system_seconds",
            Counter,
            Some("seconds"),
            "Cumulative system cpu time consumed in seconds.",
            c.cpu_system_seconds,
        );
        opt(
            "container_cpu_cfs_periods",
            Counter,
            None,
            "Number of elapsed enforcement period intervals.",
            bytes(c.cpu_periods),
        );
        opt(
            "container_cpu_cfs_throttled_periods",
            Counter,
            None,
            "Number of throttled period intervals.",
            bytes(c.cpu_throttled_periods),
        );
        opt(
            "container_cpu_cfs_throttled_seconds",
            Counter,
            Some("seconds"),
            "Total time duration the container has been throttled.",
            c.cpu_throttled_seconds,
        );
        opt(
            "container_memory_usage_bytes",
            Gauge,
            Some("bytes"),
            "Current memory usage in bytes, including all memory regardless of when it was accessed.",
            bytes(c.memory_usage_bytes),
        );
        opt(
            "container_memory_working_set_bytes",
            Gauge,
            Some("bytes"),
            "Current working set in bytes (usage minus inactive file).",
            bytes(c.memory_working_set_bytes),
        );
        opt(
            "container_memory_rss",
            Gauge,
            None,
            "Size of RSS (anonymous memory) in bytes.",
            bytes(c.memory_rss_bytes),
        );
        opt(
            "container_memory_cache",
            Gauge,
            None,
            "Number of bytes of page cache memory.",
            bytes(c.memory_cache_bytes),
        );
        opt(
            "container_spec_memory_limit_bytes",
            Gauge,
            Some("bytes"),
            "Memory limit for the container.",
            bytes(c.memory_limit_bytes),
        );
        opt(
            "container_threads",
            Gauge,
            None,
            "Number of tasks (threads) in the container (pids.current).",
            bytes(c.pids_current),
        );
        opt(
            "container_threads_max",
            Gauge,
            None,
            "Maximum number of tasks in the container (pids.max).",
            bytes(c.pids_max),
        );
    }

    if let Some(g) = &sample.go {
        let mut gauge = |name, unit, help, value: f64| {
            let mut f = Family::new(name, Gauge, unit, help);
            f.point(Vec::new(), value);
            fams.push(f);
        };
        if let Some(n) = g.goroutines {
            gauge(
                "go_goroutines",
                None,
                "Number of goroutines that currently exist.",
                n as f64,
            );
        }
        gauge(
            "go_memstats_heap_alloc_bytes",
            Some("bytes"),
            "Number of heap bytes allocated and still in use.",
            g.heap_alloc_bytes as f64,
        );
        gauge(
            "go_memstats_heap_inuse_bytes",
            Some("bytes"),
            "Number of heap bytes that are in use.",
            g.heap_inuse_bytes as f64,
        );
        gauge(
            "go_memstats_heap_sys_bytes",
            Some("bytes"),
            "Number of heap bytes obtained from system.",
            g.heap_sys_bytes as f64,
        );
        gauge(
            "go_memstats_heap_objects",
            None,
            "Number of allocated objects.",
            g.heap_objects as f64,
        );
        gauge(
            "go_memstats_sys_bytes",
            Some("bytes"),
            "Number of bytes obtained from system.",
            g.sys_bytes as f64,
        );
        gauge(
            "go_memstats_next_gc_bytes",
            Some("bytes"),
            "Number of heap bytes when next garbage collection will take place.",
            g.next_gc_bytes as f64,
        );
        gauge(
            "go_memstats_last_gc_time_seconds",
            Some("seconds"),
            "Number of seconds since 1970 of last garbage collection.",
            g.last_gc_unix_seconds,
        );
        gauge(
            "go_memstats_gc_cpu_fraction",
            None,
            "The fraction of this program's available CPU time used by the GC since the program started.",
            g.gc_cpu_fraction,
        );
        let mut gc = Family::new(
            "go_gc_duration_seconds",
            Summary,
            Some("seconds"),
            "A summary of the pause duration of garbage collection cycles.",
        );
        for (q, v) in ["0", "0.25", "0.5", "0.75", "1"]
            .iter()
            .zip(g.pause_quantiles_seconds)
        {
            gc.points
                .push(("", vec![("quantile", (*q).to_string())], v));
        }
        if let Some(sum) = g.pause_total_seconds {
            gc.points.push(("_sum", Vec::new(), sum));
        }
        gc.points.push(("_count", Vec::new(), g.num_gc as f64));
        fams.push(gc);
    }
    fams
}

fn write_family(out: &mut String, f: &Family, format: Format) {
    if f.points.is_empty() {
        return;
    }
    let (kind, head) = match (f.kind, format) {
        (Kind::Counter, Format::Text) => ("counter", format!("{}_total", f.name)),
        (Kind::Counter, Format::OpenMetrics) => ("counter", f.name.to_string()),
        (Kind::Gauge, _) => ("gauge", f.name.to_string()),
        (Kind::Summary, _) => ("summary", f.name.to_string()),
    };
    let help = f.help.replace('\\', "\\\\").replace('\n', "\\n");
    let _ = writeln!(out, "# HELP {head} {help}");
    let _ = writeln!(out, "# TYPE {head} {kind}");
    if let (Some(unit), Format::OpenMetrics) = (f.unit, format) {
        let _ = writeln!(out, "# UNIT {head} {unit}");
    }
    for (suffix, labels, value) in &f.points {
        out.push_str(f.name);
        out.push_str(suffix);
        if !labels.is_empty() {
            out.push('{');
            for (i, (k, v)) in labels.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                let _ = write!(out, "{k}=\"{}\"", escape_label(v));
            }
            out.push('}');
        }
        let _ = writeln!(out, " {}", number(*value));
    }
}

fn escape_label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Both formats spell infinities `+Inf`/`-Inf` and not-a-number `NaN`.
fn number(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        }
    } else {
        v.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::{CgroupSample, TreeTotals};

    fn sample() -> Sample {
        Sample {
            time: "2026-01-01T00:00:00.000000Z".into(),
            unix_seconds: 0.0,
            interval_seconds: None,
            tree: TreeTotals {
                root_pid: Some(7),
                command: "sh".into(),
                cpu_seconds: 2.5,
                processes: 1,
                ..TreeTotals::default()
            },
            processes: vec![ProcessSample {
                pid: 7,
                command: "we\"ird\\".into(),
                cpu_seconds: 1.5,
                ..ProcessSample::default()
            }],
            cgroup: Some(CgroupSample {
                version: 1,
                path: "/a".into(),
                cpu_usage_seconds: Some(3.0),
                ..CgroupSample::default()
            }),
            go: None,
            errors: Vec::new(),
        }
    }

    #[test]
    fn openmetrics_counter_has_unit_and_total_suffix() {
        let text = render(&sample(), Format::OpenMetrics);
        assert!(
            text.contains(
                "# TYPE process_cpu_seconds counter\n# UNIT process_cpu_seconds seconds\n"
            )
        );
        assert!(
            text.contains("process_cpu_seconds_total{pid=\"7\",command=\"we\\\"ird\\\\\"} 1.5\n")
        );
        assert!(text.contains("process_cpu_seconds_total{pid=\"tree\",command=\"sh\"} 2.5\n"));
        assert!(text.contains("container_cpu_usage_seconds_total{id=\"/a\"} 3\n"));
        assert!(
            !text.contains("container_memory_usage_bytes"),
            "absent values are not exposed"
        );
        assert!(text.ends_with("# EOF\n"));
    }

    #[test]
    fn classic_text_names_counters_in_full() {
        let text = render(&sample(), Format::Text);
        assert!(text.contains("# TYPE process_cpu_seconds_total counter\n"));
        assert!(!text.contains("# UNIT") && !text.contains("# EOF"));
        assert_eq!(number(f64::INFINITY), "+Inf");
    }
}
