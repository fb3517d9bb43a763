//! Speed-up curves from causal experiments, computed as coz's viewer does: experiments are
//! pooled per (line, progress point, speed-up); a pooled point's period is total duration
//! over total visits; program speed-up is the baseline (0%) period's relative reduction.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::cozfile::Record;

/// Pooled points with fewer progress-point visits than this are noise; coz's viewer uses
/// the same threshold (its experiments target at least this many visits).
pub const MIN_DELTA: u64 = 5;

/// One pooled point of a speed-up curve.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct CurvePoint {
    /// Virtual speed-up of the line, as a whole percent (0 to 100).
    pub line_speedup_pct: u32,
    /// Experiments pooled into this point.
    pub experiments: u64,
    /// Progress-point visits (throughput) or arrivals (latency) in them.
    pub visits: u64,
    /// Nanoseconds per visit (throughput) or mean latency (latency).
    pub period_ns: f64,
    /// Program speed-up relative to the 0% baseline, as a fraction (0.25 = 25% faster).
    pub program_speedup: f64,
}

/// Least-squares line through a curve's points (x = line speed-up, y = program speed-up).
#[derive(Clone, Copy, Debug, Serialize, PartialEq)]
pub struct Fit {
    /// Program speed-up per unit of line speed-up.
    pub slope: f64,
    /// Coefficient of determination.
    pub r2: f64,
}

/// The speed-up curve of one source line against one progress point.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct LineCurve {
    /// `file:line` of the line sped up.
    pub line: String,
    /// Progress point measured.
    pub progress_point: String,
    /// The 0% point, if the line has a usable one; without it there is no curve.
    pub baseline: Option<CurvePoint>,
    /// Points in increasing line speed-up, the baseline first.
    pub points: Vec<CurvePoint>,
    /// Distinct speed-ups that had any data (usable or not).
    pub speedups_seen: usize,
    /// Linear fit, when there are at least two points.
    pub fit: Option<Fit>,
    /// Largest program speed-up among the points (never below 0).
    pub max_speedup: f64,
    /// coz's "impact": the largest area under the curve normalised by its width.
    pub impact: f64,
}

impl LineCurve {
    /// Predicted program speed-up when the line is made `line_speedup` (0..1) faster:
    /// the measured point if there is one at that speed-up, else the fitted line.
    pub fn predict(&self, line_speedup: f64) -> Option<f64> {
        let pct = (line_speedup * 100.0).round() as u32;
        if let Some(p) = self.points.iter().find(|p| p.line_speedup_pct == pct) {
            return Some(p.program_speedup);
        }
        self.fit.map(|f| f.slope * line_speedup)
    }
}

/// Everything derived from one causal profile.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Analysis {
    /// Number of experiments in the file.
    pub experiments: usize,
    /// Profiler runtime in nanoseconds (the last `runtime` record).
    pub runtime_ns: u64,
    /// Samples per line over the whole run, most first.
    pub samples: Vec<(String, u64)>,
    /// Curves, ranked by best measured speed-up then slope; lines without a curve last.
    pub curves: Vec<LineCurve>,
}

#[derive(Default)]
struct Pool {
    experiments: u64,
    delta: u64,
    duration: u64,
    arrivals: u64,
    difference: f64,
    latency: bool,
}

impl Pool {
    /// Nanoseconds per visit, or mean latency by Little's law; `None` when undefined.
    fn period(&self) -> Option<f64> {
        if self.latency {
            if self.arrivals == 0 || self.duration == 0 {
                return None;
            }
            let rate = self.arrivals as f64 / self.duration as f64;
            Some(self.difference / rate)
        } else {
            (self.delta > 0).then(|| self.duration as f64 / self.delta as f64)
        }
    }

    fn visits(&self) -> u64 {
        if self.latency {
            self.arrivals
        } else {
            self.delta
        }
    }
}

type Pools = BTreeMap<u32, Pool>;

/// Derives curves from a profile's records.
pub fn analyze(records: &[Record]) -> Analysis {
    // Lines keep the order they were first selected in, like the viewer.
    let mut lines: Vec<(String, BTreeMap<String, Pools>)> = Vec::new();
    let mut samples: BTreeMap<String, u64> = BTreeMap::new();
    let mut experiments = 0;
    let mut runtime_ns = 0;
    let mut current: Option<(usize, u32, u64)> = None;
    for r in records {
        match r {
            Record::Experiment {
                selected,
                speedup,
                duration,
                ..
            } => {
                experiments += 1;
                let idx = match lines.iter().position(|(l, _)| l == selected) {
                    Some(i) => i,
                    None => {
                        lines.push((selected.clone(), BTreeMap::new()));
                        lines.len() - 1
                    }
                };
                // coz 0.2.2 writes a negative effective duration (more delay inserted than
                // time passed) as a wrapped 64-bit number: such an experiment measured
                // nothing, and its points are left out.
                current = (i64::try_from(*duration).is_ok())
                    .then(|| (idx, (speedup * 100.0).round() as u32, *duration));
            }
            Record::Throughput { name, delta } => {
                if let Some((idx, pct, duration)) = current {
                    let pool = lines[idx]
                        .1
                        .entry(name.clone())
                        .or_default()
                        .entry(pct)
                        .or_default();
                    pool.experiments += 1;
                    pool.delta = pool.delta.saturating_add(*delta);
                    pool.duration = pool.duration.saturating_add(duration);
                }
            }
            Record::Latency {
                name,
                arrivals,
                difference,
                ..
            } => {
                if let Some((idx, pct, duration)) = current {
                    let pool = lines[idx]
                        .1
                        .entry(name.clone())
                        .or_default()
                        .entry(pct)
                        .or_default();
                    pool.latency = true;
                    // Running duration-weighted mean of the in-flight difference.
                    let total = pool.duration.saturating_add(duration);
                    if total > 0 {
                        pool.difference = (pool.difference * pool.duration as f64
                            + difference * duration as f64)
                            / total as f64;
                    }
                    pool.experiments += 1;
                    pool.arrivals = pool.arrivals.saturating_add(*arrivals);
                    pool.duration = total;
                }
            }
            Record::Samples { location, count } => {
                *samples.entry(location.clone()).or_default() += count;
            }
            Record::Runtime { time } => runtime_ns = *time,
            Record::Startup { .. } | Record::Shutdown { .. } => {}
        }
    }

    let mut curves: Vec<LineCurve> = lines
        .into_iter()
        .flat_map(|(line, points)| {
            points
                .into_iter()
                .map(move |(pp, pools)| curve(line.clone(), pp, &pools))
        })
        .collect();
    // Rank by the best measured speed-up (coz's "max speedup" order), then by slope; lines
    // without a curve go last. coz's default "impact" order (area under the curve) is
    // thrown by one noisy early point: on the shared test profile it ranks the fast worker
    // above the real bottleneck. The sort is stable, so equals keep first-selected order.
    curves.sort_by(|a, b| {
        let slope = |c: &LineCurve| c.fit.map_or(f64::NEG_INFINITY, |f| f.slope);
        b.max_speedup
            .total_cmp(&a.max_speedup)
            .then(slope(b).total_cmp(&slope(a)))
            .then(b.baseline.is_some().cmp(&a.baseline.is_some()))
    });
    let mut samples: Vec<(String, u64)> = samples.into_iter().collect();
    samples.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    Analysis {
        experiments,
        runtime_ns,
        samples,
        curves,
    }
}

fn curve(line: String, progress_point: String, pools: &Pools) -> LineCurve {
    let usable = |p: &Pool| p.visits() >= MIN_DELTA && p.period().is_some_and(f64::is_finite);
    let baseline_period = pools
        .get(&0)
        .filter(|p| usable(p))
        .and_then(Pool::period)
        .filter(|&p| p > 0.0);
    let mut points = Vec::new();
    if let Some(base) = baseline_period {
        for (&pct, pool) in pools {
            if !usable(pool) {
                continue;
            }
            let Some(period) = pool.period() else {
                continue;
            };
            // Shorter is better for both a period and a latency, so a positive value is a
            // speed-up either way (coz's viewer negates latency curves; we do not).
            let speedup = (base - period) / base;
            points.push(CurvePoint {
                line_speedup_pct: pct,
                experiments: pool.experiments,
                visits: pool.visits(),
                period_ns: period,
                program_speedup: speedup,
            });
        }
    }
    let baseline = points.first().filter(|p| p.line_speedup_pct == 0).cloned();
    let fit = fit(&points);
    let max_speedup = points.iter().map(|p| p.program_speedup).fold(0.0, f64::max);
    LineCurve {
        line,
        progress_point,
        baseline,
        speedups_seen: pools.len(),
        fit,
        max_speedup,
        impact: impact(&points),
        points,
    }
}

fn fit(points: &[CurvePoint]) -> Option<Fit> {
    if points.len() < 2 {
        return None;
    }
    let n = points.len() as f64;
    let xs = points.iter().map(|p| f64::from(p.line_speedup_pct) / 100.0);
    let ys = points.iter().map(|p| p.program_speedup);
    let mx = xs.clone().sum::<f64>() / n;
    let my = ys.clone().sum::<f64>() / n;
    let (mut sxx, mut sxy, mut syy) = (0.0, 0.0, 0.0);
    for (x, y) in xs.zip(ys) {
        sxx += (x - mx) * (x - mx);
        sxy += (x - mx) * (y - my);
        syy += (y - my) * (y - my);
    }
    if sxx == 0.0 {
        return None;
    }
    let r2 = if syy == 0.0 {
        1.0
    } else {
        sxy * sxy / (sxx * syy)
    };
    Some(Fit {
        slope: sxy / sxx,
        r2,
    })
}

/// coz's viewer ranks by the largest running area under the curve divided by the width
/// covered so far; a line whose curve rises early and stays up scores highest.
fn impact(points: &[CurvePoint]) -> f64 {
    let mut area = 0.0;
    let mut best: f64 = 0.0;
    for w in points.windows(2) {
        let (a, b) = (&w[0], &w[1]);
        let (xa, xb) = (
            f64::from(a.line_speedup_pct) / 100.0,
            f64::from(b.line_speedup_pct) / 100.0,
        );
        area += (a.program_speedup + b.program_speedup) / 2.0 * (xb - xa);
        if xb > 0.0 {
            best = best.max(area / xb);
        }
    }
    best
}
