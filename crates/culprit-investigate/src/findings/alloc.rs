//! Rules about allocation: one constructor churning the heap, and GC pressure in general.

use super::{Evidence, Finding, Inputs, gc_share, malloc_share, pct};
use crate::stacks::Stacks;
use crate::units;

/// Whether a function name reads like a constructor (`NewWriter`, `newFoo`, `Foo::new`).
fn is_constructor(name: &str) -> bool {
    let last = name.rsplit(['.', ':']).next().unwrap_or(name);
    last.starts_with("New") || last.starts_with("new") || last.starts_with("make")
}

/// Allocation rate under which no allocation path is churn.
const MIN_CHURN_BYTES_PER_SEC: f64 = 1e6;

/// Allocation volume dominated by one call path, with the GC and allocator CPU it costs.
pub(super) fn allocation_churn(cpu: Option<&Stacks>, inputs: &Inputs<'_>) -> Option<Finding> {
    let allocs = Stacks::new(inputs.allocs?, Some("alloc_space"));
    if allocs.total <= 0 {
        return None;
    }
    // Below this rate Go's 4 MB minimum heap goal means a collection every few seconds at
    // most: whatever the shares say (a near-idle process's CPU is mostly GC), nothing churns.
    if (allocs.total as f64) < MIN_CHURN_BYTES_PER_SEC * inputs.window_secs.max(1e-3) {
        return None;
    }
    let path = allocs.dominant_path(0.5);
    // Frames of the runtime's allocator are how, not who: stop above them.
    let path: Vec<_> = path
        .into_iter()
        .skip_while(|(f, _)| f == "runtime.goexit" || f == "runtime.main")
        .take_while(|(f, _)| !f.starts_with("runtime."))
        .collect();
    let deepest = path.last()?.clone();
    let own_idx = path.iter().rposition(|(f, _)| !allocs.is_library(f));
    // Name the constructor: the deepest constructor-like frame on the path, else the deepest.
    let ctor_idx = path
        .iter()
        .rposition(|(f, _)| is_constructor(f))
        .filter(|&i| own_idx.is_none_or(|o| i >= o))
        .unwrap_or(path.len() - 1);
    let (ctor, ctor_bytes) = path.get(ctor_idx)?.clone();
    let share = ctor_bytes as f64 / allocs.total as f64;
    let window = inputs.window_secs.max(1e-3);
    let mut functions = vec![ctor.clone()];
    // The chain from the constructor up to the program's own code, most specific first.
    let chain_end = own_idx.unwrap_or(0);
    for i in (chain_end..ctor_idx).rev() {
        if let Some((f, _)) = path.get(i)
            && !functions.contains(f)
        {
            functions.push(f.clone());
        }
    }
    if deepest.0 != ctor && !functions.contains(&deepest.0) {
        functions.push(deepest.0.clone());
    }
    let mut evidence = vec![
        Evidence::new(&format!("allocated bytes under {ctor}"), share, "%"),
        Evidence::new("bytes allocated in window", allocs.total as f64, "bytes"),
        Evidence::new("allocation rate", allocs.total as f64 / window, "bytes/s"),
    ];
    if let Some(objs) = inputs.allocs.map(|p| Stacks::new(p, Some("alloc_objects"))) {
        evidence.push(Evidence::new(
            "objects allocated in window",
            objs.total as f64,
            "count",
        ));
    }
    if let Some(load) = inputs.load.filter(|l| l.requests > 0) {
        evidence.push(Evidence::new(
            &format!("bytes per request from {ctor}"),
            ctor_bytes as f64 / load.requests as f64,
            "bytes",
        ));
    }
    let mut cost = 0.3;
    let mut cost_text = String::new();
    if let Some(cpu) = cpu {
        let gc = gc_share(cpu);
        let malloc = malloc_share(cpu);
        let ctor_cpu = cpu.cum_of(&ctor) as f64 / cpu.total.max(1) as f64;
        evidence.push(Evidence::new("CPU in garbage collection", gc, "%"));
        evidence.push(Evidence::new(
            "CPU in the allocator (mallocgc)",
            malloc,
            "%",
        ));
        evidence.push(Evidence::new(&format!("CPU under {ctor}"), ctor_cpu, "%"));
        cost = (gc + malloc.max(ctor_cpu)).min(1.0);
        cost_text = format!("; GC takes {} of CPU", pct(gc));
    }
    if let Some(rt) = inputs.runtime {
        evidence.push(Evidence::new(
            "GC cycles in window",
            rt.gc_cycles as f64,
            "count",
        ));
        evidence.push(Evidence::new(
            "GC cycles per second",
            rt.gc_cycles as f64 / window,
            "/s",
        ));
        evidence.push(Evidence::new("GC pause total", rt.gc_pause, "s"));
    }
    let via = functions
        .get(1)
        .map(|c| format!(" (via {c})"))
        .unwrap_or_default();
    Some(Finding {
        kind: "allocation-churn".into(),
        title: format!(
            "{ctor}{via} allocates {} of all bytes, {}{cost_text}",
            pct(share),
            format_args!("{}/s", units::bytes(allocs.total as f64 / window)),
        ),
        score: share * cost,
        functions,
        evidence,
        advice: "Reuse the object instead of constructing it per request (a sync.Pool, or a \
                 Reset method on a pooled instance)."
            .into(),
    })
}

/// A large GC share of CPU with no single allocation path to blame.
pub(super) fn gc_pressure(cpu: &Stacks) -> Option<Finding> {
    let gc = gc_share(cpu);
    if gc < 0.15 {
        return None;
    }
    Some(Finding {
        kind: "gc-pressure".into(),
        title: format!("Garbage collection takes {} of CPU", pct(gc)),
        score: gc,
        functions: vec!["runtime.gcBgMarkWorker".into()],
        evidence: vec![Evidence::new("CPU in garbage collection", gc, "%")],
        advice: "Capture an allocation profile (allocs) over the same window to find who \
                 allocates; reduce or pool those allocations."
            .into(),
    })
}
