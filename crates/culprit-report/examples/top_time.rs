//! Runs `culprit top`'s pipeline on each profile given, printing how long each stage took
//! (read and parse, prepare, report) to stderr and the report to stdout: for finding which
//! stage a slow `top` spends its time in.
//!
//! `cargo run --release -p culprit-report --example top_time -- FILE...`

use std::time::Instant;

use culprit_profile::transform::{self, Options};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    for path in std::env::args().skip(1) {
        let t = Instant::now();
        let p = culprit_profile::parse_reader(std::fs::File::open(&path)?)?;
        let parse = t.elapsed();
        let t = Instant::now();
        let prep = transform::prepare(vec![p], Vec::new(), &Options::default())?;
        let prepare = t.elapsed();
        let t = Instant::now();
        let out = culprit_report::top(&prep, &culprit_report::Options::default());
        let report = t.elapsed();
        print!("{out}");
        eprintln!(
            "{path}: read+parse {:.3}s prepare {:.3}s top {:.3}s",
            parse.as_secs_f64(),
            prepare.as_secs_f64(),
            report.as_secs_f64()
        );
    }
    Ok(())
}
