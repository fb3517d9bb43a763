//! Runs `culprit top`'s pipeline on each profile given, printing how long each stage took
//! (read and parse, prepare, report) and the peak RSS after it to stderr, and the report to
//! stdout: for finding which stage a slow or large `top` spends its time and memory in.
//!
//! `cargo run --release -p culprit-report --example top_time -- FILE...`

use std::time::Instant;

use culprit_profile::transform::{self, Options};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    for path in std::env::args().skip(1) {
        let t = Instant::now();
        let p = culprit_profile::parse_reader(std::fs::File::open(&path)?)?;
        let parse = (t.elapsed(), peak_rss());
        let t = Instant::now();
        let prep = transform::prepare(vec![p], Vec::new(), &Options::default())?;
        let prepare = (t.elapsed(), peak_rss());
        let t = Instant::now();
        let out = culprit_report::top(&prep, &culprit_report::Options::default());
        let report = (t.elapsed(), peak_rss());
        print!("{out}");
        eprintln!(
            "{path}: read+parse {:.3}s ({}), prepare {:.3}s ({}), top {:.3}s ({})",
            parse.0.as_secs_f64(),
            parse.1,
            prepare.0.as_secs_f64(),
            prepare.1,
            report.0.as_secs_f64(),
            report.1
        );
    }
    Ok(())
}

/// The process's peak resident set so far, from /proc (empty where there is none).
fn peak_rss() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .map(|v| format!("peak {}", v.trim()))
        })
        .unwrap_or_default()
}
