//! `culprit compare RUN_A RUN_B`: terminal summary and `compare.html`.

use std::path::Path;

use anyhow::Context;
use culprit_investigate::compare::compare;
use culprit_investigate::html::compare::{describe, render, show};
use culprit_investigate::run::RunData;

/// Compares two run directories and writes the page.
pub fn run(a: &Path, b: &Path, output: Option<&Path>) -> anyhow::Result<()> {
    let ra = RunData::load(a)?;
    let rb = RunData::load(b)?;
    let fa = ra.findings.clone().unwrap_or_else(|| ra.analyze());
    let fb = rb.findings.clone().unwrap_or_else(|| rb.analyze());
    let cmp = compare(&ra, &rb, &fa, &fb);
    println!("A: {}\nB: {}", a.display(), b.display());
    for c in &cmp.changes {
        println!("  {}", describe(c));
    }
    if cmp.findings.is_empty() {
        println!("run A had no findings");
    }
    for s in &cmp.findings {
        let fate = if s.gone {
            "GONE in B".to_string()
        } else {
            format!("STILL in B ({:.0}%)", s.b_score.unwrap_or(0.0) * 100.0)
        };
        println!(
            "  finding [{}] {} — {fate}",
            s.finding.kind, s.finding.title
        );
    }
    for (label, rows, unit) in [
        ("CPU", &cmp.cpu_changes, "s"),
        ("allocations", &cmp.alloc_changes, "bytes"),
    ] {
        if rows.is_empty() {
            continue;
        }
        println!("  biggest {label} changes per request:");
        for r in rows.iter().take(5) {
            println!(
                "    {:>10} → {:>10}  {}",
                show(r.a, unit),
                show(r.b, unit),
                r.name
            );
        }
    }
    let out = output
        .map(Path::to_path_buf)
        .unwrap_or_else(|| b.join("compare.html"));
    std::fs::write(&out, render(&ra, &rb, &cmp))
        .with_context(|| format!("writing {}", out.display()))?;
    println!("comparison: {}", out.display());
    Ok(())
}
