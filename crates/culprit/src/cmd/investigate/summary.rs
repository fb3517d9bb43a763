//! The terminal summary printed when a run ends.

use super::live::Outcome;

/// Prints the top findings and where the report is.
pub fn print(o: &Outcome) {
    if !o.complete {
        println!("run interrupted: the report is marked incomplete");
    }
    if o.findings.is_empty() {
        println!("no suspect stood out (no rule explained more than 5% of the time)");
    }
    for (i, f) in o.findings.iter().take(3).enumerate() {
        println!("{}. [{:.0}%] {}", i + 1, f.score * 100.0, f.title);
        if !f.functions.is_empty() {
            println!("   functions: {}", f.functions.join(" ← "));
        }
        for e in f.evidence.iter().take(4) {
            println!("   {:<52} {}", e.name, e.display_value());
        }
        println!("   fix: {}", f.advice);
    }
    println!(
        "report: {}",
        o.dir
            .join(culprit_investigate::run::files::REPORT)
            .display()
    );
}
