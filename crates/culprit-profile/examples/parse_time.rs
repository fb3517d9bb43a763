//! Reads and parses each profile given, printing the time the parse took and what it held:
//! the decoding half of `culprit top`, for benchmarks. Run under `/usr/bin/time -v` for
//! peak memory.
//!
//! `cargo run --release -p culprit-profile --example parse_time -- FILE...`

use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    for path in std::env::args().skip(1) {
        let bytes = std::fs::read(&path)?;
        let start = Instant::now();
        let p = culprit_profile::parse(&bytes)?;
        let took = start.elapsed();
        let inflate = if culprit_profile::codec::is_gzip(&bytes) {
            let start = Instant::now();
            let raw = culprit_profile::codec::gunzip(&bytes)?;
            format!(
                ", {:.3}s of it gunzip to {} MB",
                start.elapsed().as_secs_f64(),
                raw.len() >> 20
            )
        } else {
            String::new()
        };
        println!(
            "{path}: parsed in {:.3}s{inflate}: {} samples, {} locations, {} functions",
            took.as_secs_f64(),
            p.samples.len(),
            p.locations.len(),
            p.functions.len()
        );
    }
    Ok(())
}
