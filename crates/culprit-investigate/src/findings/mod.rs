//! The findings engine: captured profiles and series in, ranked suspects out.
//!
//! Each rule looks for one well-known way services get slow (the ones the field reports
//! describe: connections rebuilt per request, a constructor churning the heap, requests
//! queueing on one lock, stack growth, one hot code path) and scores it by the share of the
//! service's time it explains, so findings from different rules rank on one scale.

mod alloc;
mod cpu;
mod locks;

use culprit_profile::Profile;
use serde::{Deserialize, Serialize};

use crate::stacks::Stacks;

/// One suspect, with the numbers that point at it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable rule name, e.g. `tls-handshake-churn`, `allocation-churn`, `lock-contention`.
    pub kind: String,
    /// One-line statement of what is wrong, with the key number.
    pub title: String,
    /// Estimated share (0–1) of the service's CPU or request time this explains.
    pub score: f64,
    /// Functions it names, most specific first.
    pub functions: Vec<String>,
    /// The measurements behind it.
    pub evidence: Vec<Evidence>,
    /// The usual fix.
    pub advice: String,
}

/// One measurement supporting a finding.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// What was measured.
    pub name: String,
    /// Its value, in `unit`.
    pub value: f64,
    /// `%` (value is a fraction 0–1), `bytes`, `bytes/s`, `s`, `/s`, `count` or `ratio`.
    pub unit: String,
}

impl Evidence {
    fn new(name: &str, value: f64, unit: &str) -> Self {
        Self {
            name: name.into(),
            value,
            unit: unit.into(),
        }
    }

    /// The value formatted for people: `42.0%`, `1.2 MB/s`, `3.4 s`.
    pub fn display_value(&self) -> String {
        match self.unit.as_str() {
            "%" => format!("{:.1}%", self.value * 100.0),
            "bytes" => crate::units::bytes(self.value),
            "bytes/s" => format!("{}/s", crate::units::bytes(self.value)),
            "s" => crate::units::seconds(self.value),
            "/s" => format!("{:.1}/s", self.value),
            "count" => format!("{:.0}", self.value),
            "ratio" => format!("{:.2}", self.value),
            other => format!("{} {other}", self.value),
        }
    }
}

/// What the load generator saw during the capture window.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LoadSummary {
    /// Requests completed in the window.
    pub requests: u64,
    /// Of which failed.
    pub errors: u64,
    /// Mean latency, seconds.
    pub mean_latency: f64,
}

/// Go runtime counters over the window (differences of two memstats readings).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RuntimeWindow {
    /// GC cycles completed.
    pub gc_cycles: u64,
    /// Total stop-the-world pause, seconds.
    pub gc_pause: f64,
    /// Bytes allocated.
    pub alloc_bytes: u64,
}

/// Everything the rules read. Cumulative profiles (allocs, mutex, block) are window deltas.
#[derive(Clone, Copy, Debug, Default)]
pub struct Inputs<'a> {
    /// CPU profile over the window.
    pub cpu: Option<&'a Profile>,
    /// Allocations during the window.
    pub allocs: Option<&'a Profile>,
    /// Mutex contention during the window.
    pub mutex: Option<&'a Profile>,
    /// Blocking during the window.
    pub block: Option<&'a Profile>,
    /// Goroutine stacks under load (one or several snapshots merged).
    pub goroutines: Option<&'a Profile>,
    /// Window length, seconds.
    pub window_secs: f64,
    /// Load generator figures for the window.
    pub load: Option<&'a LoadSummary>,
    /// Go runtime counters for the window.
    pub runtime: Option<&'a RuntimeWindow>,
}

/// Findings below this score are noise, not suspects.
const MIN_SCORE: f64 = 0.05;

/// Runs every rule and returns the findings, most suspicious first.
pub fn analyze(inputs: &Inputs<'_>) -> Vec<Finding> {
    let cpu = inputs.cpu.map(|p| Stacks::new(p, Some("cpu")));
    let mut out = Vec::new();
    if let Some(cpu) = &cpu {
        out.extend(cpu::tls_churn(cpu, inputs));
        out.extend(cpu::stack_growth(cpu));
    }
    out.extend(alloc::allocation_churn(cpu.as_ref(), inputs));
    out.extend(locks::lock_contention(inputs));
    if let Some(cpu) = &cpu {
        let named: Vec<String> = out.iter().flat_map(|f| f.functions.clone()).collect();
        out.extend(cpu::hot_path(cpu, &named, inputs.window_secs));
        if !out.iter().any(|f| f.kind == "allocation-churn") {
            out.extend(alloc::gc_pressure(cpu));
        }
    }
    out.retain(|f| f.score >= MIN_SCORE);
    out.sort_by(|a, b| b.score.total_cmp(&a.score));
    out
}

/// Share of CPU spent in the Go garbage collector (background marking, assists, sweeping).
pub fn gc_share(cpu: &Stacks) -> f64 {
    const GC: &[&str] = &[
        "runtime.gcBgMarkWorker",
        "runtime.gcAssistAlloc",
        "runtime.bgsweep",
        "runtime.bgscavenge",
        "runtime.gcMarkTermination",
        "runtime.gcStart",
        "runtime.sweepone",
    ];
    cpu.share(|f| GC.contains(&f))
}

/// Share of CPU in the allocator itself.
fn malloc_share(cpu: &Stacks) -> f64 {
    cpu.share(|f| {
        f == "runtime.mallocgc" || f == "malloc" || f == "__libc_malloc" || f == "_int_malloc"
    })
}

/// The program's own frame closest to code matched by `pred`: for each sample, the first
/// non-library frame above the outermost match; the heaviest such frame wins.
fn own_caller(stacks: &Stacks, pred: impl Fn(&str) -> bool) -> Option<String> {
    let mut map: std::collections::HashMap<&str, i64> = std::collections::HashMap::new();
    for (frames, v) in &stacks.samples {
        if let Some(pos) = frames.iter().rposition(|f| pred(f))
            && let Some(own) = frames.iter().skip(pos + 1).find(|f| !stacks.is_library(f))
        {
            *map.entry(own).or_default() += v;
        }
    }
    map.into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(a.0)))
        .map(|(k, _)| k.to_string())
}

/// Percent text for titles.
fn pct(x: f64) -> String {
    format!("{:.0}%", x * 100.0)
}

#[cfg(test)]
mod tests;
