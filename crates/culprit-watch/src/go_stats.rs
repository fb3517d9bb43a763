//! Parsers of the Go runtime's `runtime.MemStats` as expvar (`/debug/vars`) and
//! net/http/pprof (`/debug/pprof/heap?debug=1`, `/debug/pprof/goroutine?debug=1`) publish
//! them: bytes in, values out.

use serde::Deserialize;

use crate::error::ParseError;
use crate::sample::GoSample;

/// The part of `runtime.MemStats` the sampler reports.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct MemStats {
    /// `Sys`.
    pub sys: u64,
    /// `TotalAlloc`.
    pub total_alloc: u64,
    /// `HeapAlloc`.
    pub heap_alloc: u64,
    /// `HeapSys`.
    pub heap_sys: u64,
    /// `HeapInuse`.
    pub heap_inuse: u64,
    /// `HeapObjects`.
    pub heap_objects: u64,
    /// `NextGC`.
    #[serde(rename = "NextGC")]
    pub next_gc: u64,
    /// `LastGC`, nanoseconds since the Unix epoch.
    #[serde(rename = "LastGC")]
    pub last_gc: u64,
    /// `PauseTotalNs`; the heap profile's trailer does not carry it.
    pub pause_total_ns: Option<u64>,
    /// `PauseNs`, the ring of the last 256 pauses.
    pub pause_ns: Vec<u64>,
    /// `NumGC`.
    #[serde(rename = "NumGC")]
    pub num_gc: u64,
    /// `GCCPUFraction`.
    #[serde(rename = "GCCPUFraction")]
    pub gc_cpu_fraction: f64,
}

#[derive(Deserialize)]
struct Expvar {
    memstats: Option<MemStats>,
    goroutines: Option<serde_json::Value>,
}

/// Parses expvar's `/debug/vars` JSON. Returns the memstats and the goroutine count when
/// the service publishes a numeric `goroutines` variable (a common custom var; expvar has
/// none by default).
pub fn parse_expvar(bytes: &[u8]) -> Result<(MemStats, Option<u64>), ParseError> {
    let vars: Expvar = serde_json::from_slice(bytes)
        .map_err(|e| ParseError::new("/debug/vars", e.line(), format!("not expvar JSON: {e}")))?;
    let memstats = vars
        .memstats
        .ok_or_else(|| ParseError::new("/debug/vars", 1, "no memstats variable"))?;
    Ok((memstats, vars.goroutines.and_then(|g| g.as_u64())))
}

const HEAP: &str = "/debug/pprof/heap?debug=1";

/// Parses the `# runtime.MemStats` trailer of a legacy text heap profile.
pub fn parse_heap_trailer(bytes: &[u8]) -> Result<MemStats, ParseError> {
    let text = String::from_utf8_lossy(bytes);
    let mut lines = text.lines().enumerate();
    if !lines.any(|(_, l)| l.trim() == "# runtime.MemStats") {
        return Err(ParseError::new(HEAP, 1, "no '# runtime.MemStats' block"));
    }
    let mut m = MemStats::default();
    for (i, line) in lines {
        let Some((key, value)) = line.strip_prefix("# ").and_then(|l| l.split_once(" = ")) else {
            continue;
        };
        let err = |p: String| ParseError::new(HEAP, i + 1, p);
        let num = |v: &str| {
            v.trim()
                .parse::<u64>()
                .map_err(|_| err(format!("{key} is not a number: {v:?}")))
        };
        match key {
            "Sys" => m.sys = num(value)?,
            "TotalAlloc" => m.total_alloc = num(value)?,
            "HeapAlloc" => m.heap_alloc = num(value)?,
            "HeapSys" => m.heap_sys = num(value)?,
            "HeapInuse" => m.heap_inuse = num(value)?,
            "HeapObjects" => m.heap_objects = num(value)?,
            "NextGC" => m.next_gc = num(value)?,
            "LastGC" => m.last_gc = num(value)?,
            "NumGC" => m.num_gc = num(value)?,
            "GCCPUFraction" => {
                m.gc_cpu_fraction = value
                    .trim()
                    .parse()
                    .map_err(|_| err(format!("GCCPUFraction is not a number: {value:?}")))?;
            }
            "PauseNs" => {
                let list = value
                    .trim()
                    .strip_prefix('[')
                    .and_then(|v| v.strip_suffix(']'))
                    .ok_or_else(|| err("PauseNs is not a [list]".into()))?;
                m.pause_ns = list
                    .split_ascii_whitespace()
                    .map(num)
                    .collect::<Result<_, _>>()?;
            }
            _ => {}
        }
    }
    // The ring holds every pause while fewer than 256 GCs ran, so its sum is then exact.
    if m.num_gc <= m.pause_ns.len() as u64 {
        m.pause_total_ns = Some(m.pause_ns.iter().sum());
    }
    Ok(m)
}

/// Reads the total from the first line of `/debug/pprof/goroutine?debug=1`
/// (`goroutine profile: total N`).
pub fn parse_goroutine_total(bytes: &[u8]) -> Result<u64, ParseError> {
    let text = String::from_utf8_lossy(bytes);
    let first = text.lines().next().unwrap_or("");
    first
        .strip_prefix("goroutine profile: total ")
        .and_then(|n| n.trim().parse().ok())
        .ok_or_else(|| {
            ParseError::new(
                "/debug/pprof/goroutine?debug=1",
                1,
                format!("expected 'goroutine profile: total N', got {first:?}"),
            )
        })
}

/// Turns memstats into a sample. `prev_num_gc` is `NumGC` of the previous sample, so the
/// pauses of the GCs in between can be listed.
pub fn go_sample(
    source: &str,
    m: &MemStats,
    prev_num_gc: Option<u64>,
    goroutines: Option<u64>,
) -> GoSample {
    let ring = m.pause_ns.len() as u64;
    // GC number n (1-based) left its pause at PauseNs[(n-1) % 256].
    let pause_of = |n: u64| -> Option<f64> {
        let i = usize::try_from((n.checked_sub(1)?) % ring.max(1)).ok()?;
        m.pause_ns.get(i).map(|&ns| ns as f64 / 1e9)
    };
    let recent_from = prev_num_gc
        .unwrap_or(m.num_gc)
        .max(m.num_gc.saturating_sub(ring));
    let recent_pauses_seconds = (recent_from + 1..=m.num_gc).filter_map(pause_of).collect();
    let kept = m.num_gc.min(ring);
    let mut last: Vec<f64> = (m.num_gc - kept + 1..=m.num_gc)
        .filter_map(pause_of)
        .collect();
    last.sort_by(f64::total_cmp);
    GoSample {
        source: source.to_string(),
        heap_alloc_bytes: m.heap_alloc,
        heap_inuse_bytes: m.heap_inuse,
        heap_sys_bytes: m.heap_sys,
        heap_objects: m.heap_objects,
        sys_bytes: m.sys,
        next_gc_bytes: m.next_gc,
        total_alloc_bytes: m.total_alloc,
        num_gc: m.num_gc,
        pause_total_seconds: m.pause_total_ns.map(|ns| ns as f64 / 1e9),
        last_gc_unix_seconds: m.last_gc as f64 / 1e9,
        recent_pauses_seconds,
        pause_quantiles_seconds: [0.0, 0.25, 0.5, 0.75, 1.0].map(|q| quantile(&last, q)),
        gc_cpu_fraction: m.gc_cpu_fraction,
        goroutines,
    }
}

/// Quantile of sorted values by the index rule of Go's `debug.ReadGCStats`
/// (`PauseQuantiles`): the value at `q * (len - 1)`, rounded down.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let last = sorted.len().saturating_sub(1);
    let i = (q * last as f64) as usize;
    sorted.get(i.min(last)).copied().unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_and_recent_pauses() {
        let m = MemStats {
            num_gc: 258,
            pause_ns: (0..256).map(|i| 1000 * (i + 1)).collect(),
            ..MemStats::default()
        };
        // GC 257 is at index 0, GC 258 at index 1.
        let s = go_sample("expvar", &m, Some(256), None);
        assert_eq!(s.recent_pauses_seconds, vec![1e-6, 2e-6]);
        assert_eq!(s.pause_quantiles_seconds[0], 1e-6);
        assert_eq!(s.pause_quantiles_seconds[4], 256e-6);
        let first = go_sample("expvar", &m, None, None);
        assert!(first.recent_pauses_seconds.is_empty());
        let none = go_sample("expvar", &MemStats::default(), None, None);
        assert_eq!(none.pause_quantiles_seconds, [0.0; 5]);
    }

    #[test]
    fn goroutine_total() {
        assert_eq!(
            parse_goroutine_total(b"goroutine profile: total 102\n50 @ 0x1\n").unwrap(),
            102
        );
        assert!(parse_goroutine_total(b"heap profile: 1").is_err());
    }
}
