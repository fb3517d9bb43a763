//! `report.html`: findings first, then the load, CPU, allocations, goroutines, heap/GC and
//! process views of one run, and the capture log.

use std::fmt::Write;

use super::{esc, findings_section, flame, page, top_table};
use crate::findings::Finding;
use crate::run::RunData;
use crate::units;
use culprit_chart::{Line, line_chart};

/// Renders the whole report page for `run` with its `findings`.
pub fn render(run: &RunData, findings: &[Finding]) -> String {
    let m = &run.manifest;
    let target = m
        .target
        .url
        .clone()
        .or_else(|| m.target.command.as_ref().map(|c| c.join(" ")))
        .unwrap_or_default();
    let mut meta = format!("{} · started {}", esc(&target), esc(&m.started));
    if let Some(l) = &m.load {
        let _ = write!(meta, " · rate {} for {:.0}s", esc(&l.rate), l.duration_secs);
    }
    let _ = write!(meta, " · culprit {}", esc(&m.version));
    let mut body = String::new();
    if !m.complete {
        let _ = write!(
            body,
            "<div class=\"banner\" id=\"incomplete\"><b>Incomplete run.</b> {} Everything captured before that point is included.</div>",
            esc(m
                .incomplete_reason
                .as_deref()
                .unwrap_or("The run did not finish."))
        );
    }
    body.push_str(&findings_section(findings, None));
    body.push_str(&load_section(run));
    body.push_str(&cpu_section(run));
    body.push_str(&alloc_section(run));
    body.push_str(&goroutine_section(run));
    body.push_str(&runtime_section(run));
    body.push_str(&log_section(run));
    page("culprit investigation", &meta, &body)
}

fn ms(v: f64) -> String {
    units::seconds(v)
}

fn load_section(run: &RunData) -> String {
    let mut s = String::from("<section id=\"load\"><h2>Latency, throughput and errors</h2>");
    if run.load.is_empty() {
        s.push_str("<p class=\"muted\">No load was driven in this run.</p></section>");
        return s;
    }
    let total: u64 = run.load.iter().map(|l| l.requests).sum();
    let errors: u64 = run.load.iter().map(|l| l.errors).sum();
    let secs = run.load.len().max(1) as f64;
    if let Some(w) = run.load_in_window() {
        let _ = write!(
            s,
            "<p>{total} responses ({:.1}/s), {errors} errors. In the profile window: {} requests, mean latency {}.</p>",
            total as f64 / secs,
            w.requests,
            ms(w.mean_latency)
        );
    }
    let window = Some(run.window());
    let pts = |f: &dyn Fn(&crate::run::LoadSecond) -> f64| -> Vec<(f64, f64)> {
        run.load
            .iter()
            .filter(|l| l.requests > 0)
            .map(|l| (l.t, f(l)))
            .collect()
    };
    s.push_str(&line_chart(
        "chart-latency",
        &[
            Line {
                name: "p99".into(),
                color: "#c0392b",
                points: pts(&|l| l.p99),
            },
            Line {
                name: "p50".into(),
                color: "#2e86de",
                points: pts(&|l| l.p50),
            },
            Line {
                name: "mean".into(),
                color: "#27ae60",
                points: pts(&|l| l.mean),
            },
        ],
        &ms,
        window,
    ));
    let all = |f: &dyn Fn(&crate::run::LoadSecond) -> f64| -> Vec<(f64, f64)> {
        run.load.iter().map(|l| (l.t, f(l))).collect()
    };
    s.push_str(&line_chart(
        "chart-throughput",
        &[
            Line {
                name: "responses/s".into(),
                color: "#2e86de",
                points: all(&|l| l.requests as f64),
            },
            Line {
                name: "errors/s".into(),
                color: "#c0392b",
                points: all(&|l| l.errors as f64),
            },
        ],
        &|v| format!("{v:.0}/s"),
        window,
    ));
    s.push_str("</section>");
    s
}

fn cpu_section(run: &RunData) -> String {
    let mut s = String::from("<section id=\"cpu\"><h2>Top CPU</h2>");
    match &run.cpu {
        Some(p) => {
            s.push_str(&top_table(p, "cpu", 20, "top-cpu"));
            s.push_str(&flame(p, "cpu", None, "CPU"));
        }
        None => s.push_str("<p class=\"muted\">No CPU profile was captured.</p>"),
    }
    s.push_str("</section>");
    s
}

fn alloc_section(run: &RunData) -> String {
    let mut s = String::from("<section id=\"allocs\"><h2>Top allocators in the window</h2>");
    match &run.allocs {
        Some(p) => {
            s.push_str("<div class=\"cols\"><div><h3>by space (alloc_space)</h3>");
            s.push_str(&top_table(p, "alloc_space", 15, "top-alloc-space"));
            s.push_str("</div><div><h3>by count (alloc_objects)</h3>");
            s.push_str(&top_table(p, "alloc_objects", 15, "top-alloc-objects"));
            s.push_str("</div></div>");
            s.push_str(&flame(p, "alloc_space", None, "Allocated bytes"));
        }
        None => s.push_str("<p class=\"muted\">No allocation profile was captured.</p>"),
    }
    s.push_str("</section>");
    s
}

fn goroutine_section(run: &RunData) -> String {
    let mut s = String::from("<section id=\"goroutines\"><h2>Goroutine groups at peak load</h2>");
    let snapshot = run
        .goroutines_text
        .as_deref()
        .and_then(|b| culprit_dump::parse(b).ok())
        .or_else(|| {
            run.goroutine
                .as_ref()
                .and_then(|p| culprit_dump::from_profile(p).ok())
        });
    let Some(snap) = snapshot else {
        s.push_str("<p class=\"muted\">No goroutine dump was captured.</p></section>");
        return s;
    };
    let g = culprit_dump::group(
        &snap,
        &culprit_dump::Filter::default(),
        &culprit_dump::GroupOptions::default(),
    );
    let _ = write!(
        s,
        "<p>{} goroutines in {} groups.</p><table id=\"goroutine-groups\"><thead><tr><th>count</th><th class=\"name\">state</th><th class=\"name\">waiting in</th><th class=\"name\">stack (innermost first)</th></tr></thead><tbody>",
        g.total,
        g.buckets.len()
    );
    for b in g.buckets.iter().take(20) {
        let head = b.headline().map(|f| f.function.clone()).unwrap_or_default();
        let stack: Vec<String> = b.frames.iter().take(6).map(|f| esc(&f.function)).collect();
        let _ = write!(
            s,
            "<tr><td>{}</td><td class=\"name\">{}</td><td class=\"name\">{}</td><td class=\"name\">{}</td></tr>",
            b.count,
            esc(b.state.as_deref().unwrap_or("")),
            esc(&head),
            stack.join("<br>")
        );
    }
    s.push_str("</tbody></table></section>");
    s
}

fn runtime_section(run: &RunData) -> String {
    let mut s = String::from("<section id=\"runtime\"><h2>Heap and GC over time</h2>");
    let window = Some(run.window());
    if run.runtime.is_empty() {
        s.push_str(
            "<p class=\"muted\">No Go runtime statistics (no /debug/vars or heap?debug=1).</p>",
        );
    } else {
        let heap: Vec<(f64, f64)> = run
            .runtime
            .iter()
            .map(|p| (p.t, p.heap_alloc as f64))
            .collect();
        let next: Vec<(f64, f64)> = run
            .runtime
            .iter()
            .map(|p| (p.t, p.next_gc as f64))
            .collect();
        s.push_str(&line_chart(
            "chart-heap",
            &[
                Line {
                    name: "heap in use (HeapAlloc)".into(),
                    color: "#8e44ad",
                    points: heap,
                },
                Line {
                    name: "next GC target".into(),
                    color: "#95a5a6",
                    points: next,
                },
            ],
            &units::bytes,
            window,
        ));
        let gc: Vec<(f64, f64)> = run
            .runtime
            .windows(2)
            .map(|w| {
                let dt = (w[1].t - w[0].t).max(1e-3);
                (w[1].t, w[1].num_gc.saturating_sub(w[0].num_gc) as f64 / dt)
            })
            .collect();
        let pause: Vec<(f64, f64)> = run
            .runtime
            .windows(2)
            .map(|w| {
                let dt = (w[1].t - w[0].t).max(1e-3);
                let p = w[1].pause_total_ns.saturating_sub(w[0].pause_total_ns) as f64 / 1e9;
                (w[1].t, p / dt * 1000.0)
            })
            .collect();
        s.push_str(&line_chart(
            "chart-gc",
            &[
                Line {
                    name: "GC cycles/s".into(),
                    color: "#d35400",
                    points: gc,
                },
                Line {
                    name: "GC pause ms/s".into(),
                    color: "#7f8c8d",
                    points: pause,
                },
            ],
            &|v| format!("{v:.1}"),
            window,
        ));
    }
    if !run.process.is_empty() {
        s.push_str("<h2>Process tree</h2>");
        let cpu: Vec<(f64, f64)> = run.process.iter().map(|p| (p.t, p.cpu_cores)).collect();
        s.push_str(&line_chart(
            "chart-process-cpu",
            &[Line {
                name: "CPU cores".into(),
                color: "#c0392b",
                points: cpu,
            }],
            &|v| format!("{v:.2}"),
            window,
        ));
        let rss: Vec<(f64, f64)> = run.process.iter().map(|p| (p.t, p.rss as f64)).collect();
        s.push_str(&line_chart(
            "chart-process-rss",
            &[Line {
                name: "RSS".into(),
                color: "#8e44ad",
                points: rss,
            }],
            &units::bytes,
            window,
        ));
        let threads: Vec<(f64, f64)> = run
            .process
            .iter()
            .map(|p| (p.t, p.threads as f64))
            .collect();
        s.push_str(&line_chart(
            "chart-process-threads",
            &[Line {
                name: "threads".into(),
                color: "#2e86de",
                points: threads,
            }],
            &|v| format!("{v:.0}"),
            window,
        ));
    }
    s.push_str("</section>");
    s
}

fn log_section(run: &RunData) -> String {
    let mut s = String::from(
        "<section id=\"log\"><h2>Capture log</h2><table><thead><tr><th class=\"name\">kind</th><th class=\"name\">file</th><th>start</th><th>end</th><th>bytes</th><th class=\"name\">problem</th></tr></thead><tbody>",
    );
    for a in &run.manifest.artifacts {
        let _ = write!(
            s,
            "<tr><td class=\"name\">{}</td><td class=\"name\">{}</td><td>{:.1}s</td><td>{:.1}s</td><td>{}</td><td class=\"name\">{}</td></tr>",
            esc(&a.kind),
            esc(&a.file),
            a.start_secs,
            a.end_secs,
            a.bytes,
            esc(a.error.as_deref().unwrap_or(""))
        );
    }
    s.push_str("</tbody></table>");
    for n in &run.manifest.notes {
        let _ = write!(s, "<p class=\"muted\">{}</p>", esc(n));
    }
    s.push_str("</section>");
    s
}
