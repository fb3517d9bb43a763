//! Comparing two runs: the change of each measure with a noise estimate, top function
//! changes, and whether each finding of the first run is gone in the second.

use std::collections::HashMap;

use serde::Serialize;

use crate::findings::Finding;
use crate::run::RunData;
use crate::stacks::Stacks;

/// One measure in both runs.
#[derive(Clone, Debug, Serialize)]
pub struct Change {
    /// What is measured.
    pub name: String,
    /// Unit for display (`s`, `/s`, `bytes`, `count`).
    pub unit: String,
    /// Value in run A.
    pub a: f64,
    /// Value in run B.
    pub b: f64,
    /// Relative change, `b / a - 1`.
    pub relative: f64,
    /// 95% interval of the relative change, when per-second samples allow one.
    pub interval: Option<(f64, f64)>,
}

impl Change {
    fn new(name: &str, unit: &str, a: f64, b: f64, interval: Option<(f64, f64)>) -> Self {
        Self {
            name: name.into(),
            unit: unit.into(),
            a,
            b,
            relative: if a != 0.0 { b / a - 1.0 } else { 0.0 },
            interval,
        }
    }

    /// Whether the interval excludes zero (the change is beyond the run-to-run noise).
    pub fn significant(&self) -> bool {
        self.interval.is_some_and(|(lo, hi)| lo > 0.0 || hi < 0.0)
    }
}

/// Mean and 95% interval of `mean(b)/mean(a) - 1` by Welch's t-interval on the difference,
/// scaled by `mean(a)`. `None` with fewer than two samples on a side.
pub fn relative_interval(a: &[f64], b: &[f64]) -> Option<(f64, f64)> {
    if a.len() < 2 || b.len() < 2 {
        return None;
    }
    let stats = |x: &[f64]| {
        let n = x.len() as f64;
        let m = x.iter().sum::<f64>() / n;
        let v = x.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (n - 1.0);
        (m, v, n)
    };
    let (ma, va, na) = stats(a);
    let (mb, vb, nb) = stats(b);
    if ma == 0.0 {
        return None;
    }
    let se2 = va / na + vb / nb;
    let se = se2.sqrt();
    // Welch–Satterthwaite degrees of freedom, then a t quantile.
    let df = if se2 > 0.0 {
        se2.powi(2) / ((va / na).powi(2) / (na - 1.0) + (vb / nb).powi(2) / (nb - 1.0))
    } else {
        1e9
    };
    let t = t975(df);
    let d = mb - ma;
    Some(((d - t * se) / ma, (d + t * se) / ma))
}

/// The 97.5% quantile of Student's t with `df` degrees of freedom (table, then normal).
fn t975(df: f64) -> f64 {
    const TABLE: [f64; 10] = [12.71, 4.30, 3.18, 2.78, 2.57, 2.45, 2.36, 2.31, 2.26, 2.23];
    if df < 1.0 {
        return TABLE[0];
    }
    let i = df.floor() as usize;
    match TABLE.get(i.saturating_sub(1)) {
        Some(&t) => t,
        None if df < 20.0 => 2.13,
        None if df < 30.0 => 2.06,
        None => 1.96,
    }
}

/// A finding of run A and what became of it in run B.
#[derive(Clone, Debug, Serialize)]
pub struct FindingStatus {
    /// The run-A finding.
    pub finding: Finding,
    /// True when run B has no finding of the same kind naming the same first function.
    pub gone: bool,
    /// The matching run-B score when it is still there.
    pub b_score: Option<f64>,
}

/// One function's share change.
#[derive(Clone, Debug, Serialize)]
pub struct FuncChange {
    /// Function name.
    pub name: String,
    /// Per-request value in A (cum).
    pub a: f64,
    /// Per-request value in B (cum).
    pub b: f64,
}

/// Everything the comparison says.
#[derive(Clone, Debug, Serialize)]
pub struct Comparison {
    /// Headline measures.
    pub changes: Vec<Change>,
    /// Run-A findings with their fate.
    pub findings: Vec<FindingStatus>,
    /// Biggest CPU changes per request (seconds).
    pub cpu_changes: Vec<FuncChange>,
    /// Biggest allocation changes per request (bytes).
    pub alloc_changes: Vec<FuncChange>,
}

fn in_window(run: &RunData) -> Vec<&crate::run::LoadSecond> {
    let (a, b) = run.window();
    let w: Vec<_> = run
        .load
        .iter()
        .filter(|s| s.t >= a.ceil() && s.t + 1.0 <= b.floor() + 1e-9 && s.requests > 0)
        .collect();
    if w.len() >= 2 {
        w
    } else {
        run.load.iter().filter(|s| s.requests > 0).collect()
    }
}

fn mean(x: &[f64]) -> f64 {
    if x.is_empty() {
        0.0
    } else {
        x.iter().sum::<f64>() / x.len() as f64
    }
}

/// Per-request cum of every function, and whether it is on the spine (nearly every
/// stack: thread start, `main`, the server loop).
fn per_request(s: &Stacks, requests: f64, scale: f64) -> Vec<(String, f64, bool)> {
    let spine = s.total as f64 * SPINE_SHARE;
    s.functions()
        .into_iter()
        .map(|f| {
            let on_spine = f.cum as f64 >= spine;
            (f.name, f.cum as f64 * scale / requests.max(1.0), on_spine)
        })
        .collect()
}

/// Share of all samples above which a function is part of the spine.
const SPINE_SHARE: f64 = 0.9;

fn by_name(v: &[(String, f64, bool)]) -> HashMap<&str, (f64, bool)> {
    v.iter()
        .map(|(k, x, spine)| (k.as_str(), (*x, *spine)))
        .collect()
}

fn func_changes(a: &[(String, f64, bool)], b: &[(String, f64, bool)], n: usize) -> Vec<FuncChange> {
    let (ia, ib) = (by_name(a), by_name(b));
    // Spine frames shrink exactly as much as the total and say nothing of where it went.
    let spine_or_absent = |i: &HashMap<&str, (f64, bool)>, k: &str| i.get(k).is_none_or(|x| x.1);
    let mut names: Vec<&str> = ia
        .keys()
        .chain(ib.keys())
        .copied()
        .filter(|k| !(spine_or_absent(&ia, k) && spine_or_absent(&ib, k)))
        .collect();
    names.sort_unstable();
    names.dedup();
    let get = |i: &HashMap<&str, (f64, bool)>, k: &str| i.get(k).map_or(0.0, |x| x.0);
    let mut out: Vec<FuncChange> = names
        .into_iter()
        .map(|k| FuncChange {
            name: k.to_owned(),
            a: get(&ia, k),
            b: get(&ib, k),
        })
        .collect();
    out.sort_by(|x, y| (y.b - y.a).abs().total_cmp(&(x.b - x.a).abs()));
    out.truncate(n);
    out
}

/// Compares run `a` (before) with run `b` (after).
pub fn compare(a: &RunData, b: &RunData, fa: &[Finding], fb: &[Finding]) -> Comparison {
    let (wa, wb) = (in_window(a), in_window(b));
    let series = |w: &[&crate::run::LoadSecond], f: &dyn Fn(&crate::run::LoadSecond) -> f64| {
        w.iter().map(|s| f(s)).collect::<Vec<f64>>()
    };
    let mut changes = Vec::new();
    for (name, unit, f) in [
        (
            "throughput",
            "/s",
            &(|s: &crate::run::LoadSecond| s.requests as f64)
                as &dyn Fn(&crate::run::LoadSecond) -> f64,
        ),
        ("mean latency", "s", &|s: &crate::run::LoadSecond| s.mean),
        ("p50 latency", "s", &|s: &crate::run::LoadSecond| s.p50),
        ("p99 latency", "s", &|s: &crate::run::LoadSecond| s.p99),
        ("errors", "/s", &|s: &crate::run::LoadSecond| {
            s.errors as f64
        }),
    ] {
        let (xa, xb) = (series(&wa, f), series(&wb, f));
        if xa.is_empty() || xb.is_empty() {
            continue;
        }
        changes.push(Change::new(
            name,
            unit,
            mean(&xa),
            mean(&xb),
            relative_interval(&xa, &xb),
        ));
    }
    let reqs = |r: &RunData| r.load_in_window().map_or(0.0, |l| l.requests as f64);
    let (ra, rb) = (reqs(a), reqs(b));
    let mut cpu_changes = Vec::new();
    // The process tree's CPU comes from the kernel's accounting of every thread; a
    // sampled profile undercounts threads that run less than one sampling period.
    let process_cpu = a.process_cpu_in_window().zip(b.process_cpu_in_window());
    if let Some((ca, cb)) = process_cpu
        && ra > 0.0
        && rb > 0.0
    {
        changes.push(Change::new("CPU per request", "s", ca / ra, cb / rb, None));
    }
    if let (Some(pa), Some(pb)) = (&a.cpu, &b.cpu) {
        let (sa, sb) = (Stacks::new(pa, Some("cpu")), Stacks::new(pb, Some("cpu")));
        if ra > 0.0 && rb > 0.0 {
            if process_cpu.is_none() {
                changes.push(Change::new(
                    "CPU per request",
                    "s",
                    sa.total as f64 / 1e9 / ra,
                    sb.total as f64 / 1e9 / rb,
                    None,
                ));
            }
            cpu_changes =
                func_changes(&per_request(&sa, ra, 1e-9), &per_request(&sb, rb, 1e-9), 12);
        }
    }
    let mut alloc_changes = Vec::new();
    if let (Some(pa), Some(pb)) = (&a.allocs, &b.allocs) {
        let (sa, sb) = (
            Stacks::new(pa, Some("alloc_space")),
            Stacks::new(pb, Some("alloc_space")),
        );
        if ra > 0.0 && rb > 0.0 {
            changes.push(Change::new(
                "bytes allocated per request",
                "bytes",
                sa.total as f64 / ra,
                sb.total as f64 / rb,
                None,
            ));
            alloc_changes =
                func_changes(&per_request(&sa, ra, 1.0), &per_request(&sb, rb, 1.0), 12);
        }
    }
    if let (Some(ga), Some(gb)) = (a.runtime_in_window(), b.runtime_in_window()) {
        let (da, db) = (a.window(), b.window());
        changes.push(Change::new(
            "GC cycles per second",
            "/s",
            ga.gc_cycles as f64 / (da.1 - da.0).max(1e-3),
            gb.gc_cycles as f64 / (db.1 - db.0).max(1e-3),
            None,
        ));
    }
    let goroutines = |r: &RunData| {
        r.goroutine.as_ref().map(|p| {
            p.samples
                .iter()
                .filter_map(|s| s.values.first())
                .sum::<i64>() as f64
        })
    };
    if let (Some(x), Some(y)) = (goroutines(a), goroutines(b)) {
        changes.push(Change::new("goroutines at peak", "count", x, y, None));
    }
    let findings = fa
        .iter()
        .map(|f| {
            let same = fb
                .iter()
                .find(|g| g.kind == f.kind && g.functions.first() == f.functions.first());
            FindingStatus {
                finding: f.clone(),
                gone: same.is_none(),
                b_score: same.map(|g| g.score),
            }
        })
        .collect();
    Comparison {
        changes,
        findings,
        cpu_changes,
        alloc_changes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_excludes_zero_for_a_clear_drop() {
        let a = [10.0, 11.0, 9.5, 10.5, 10.2];
        let b = [5.0, 5.5, 4.8, 5.1, 5.2];
        let (lo, hi) = relative_interval(&a, &b).unwrap();
        assert!(lo < -0.45 && hi > -0.55 && hi < 0.0, "{lo} {hi}");
        let same = relative_interval(&a, &a).unwrap();
        assert!(same.0 < 0.0 && same.1 > 0.0);
        assert!(relative_interval(&a[..1], &b).is_none());
    }
}
