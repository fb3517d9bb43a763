//! Aggregates results into Vegeta's metrics, with HDR histograms so metrics from several
//! logs (several machines) merge without losing precision.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use hdrhistogram::Histogram;

use crate::results::HitResult;

/// Distinct error strings kept; the rest are counted but not listed.
const MAX_ERRORS: usize = 1000;
/// Longest latency the histograms hold exactly (longer ones are clamped): one hour.
const MAX_TRACKED_NS: u64 = 3_600_000_000_000;

/// Running totals over any number of results, from any number of logs.
#[derive(Clone)]
pub struct Metrics {
    latency: Histogram<u64>,
    service: Histogram<u64>,
    lateness: Histogram<u64>,
    requests: u64,
    success: u64,
    bytes_in: u64,
    bytes_out: u64,
    earliest: Option<u64>,
    latest: Option<u64>,
    end: Option<u64>,
    status_codes: BTreeMap<u16, u64>,
    errors: BTreeSet<String>,
    buckets: Vec<u64>,
    bucket_counts: Vec<u64>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

fn histogram() -> Histogram<u64> {
    // Bounds are constants that are always valid; fall back to auto-resize just in case.
    Histogram::new_with_bounds(1, MAX_TRACKED_NS, 3)
        .or_else(|_| Histogram::new(3))
        .unwrap_or_else(|_| unreachable!("3 significant figures is a valid precision"))
}

impl Metrics {
    /// Empty metrics.
    pub fn new() -> Self {
        Metrics {
            latency: histogram(),
            service: histogram(),
            lateness: histogram(),
            requests: 0,
            success: 0,
            bytes_in: 0,
            bytes_out: 0,
            earliest: None,
            latest: None,
            end: None,
            status_codes: BTreeMap::new(),
            errors: BTreeSet::new(),
            buckets: Vec::new(),
            bucket_counts: Vec::new(),
        }
    }

    /// Empty metrics that also count exact latency buckets (for the `hist` report); `bounds`
    /// are ascending lower edges, the last bucket is open-ended.
    pub fn with_buckets(bounds: Vec<Duration>) -> Self {
        let mut m = Self::new();
        m.bucket_counts = vec![0; bounds.len()];
        m.buckets = bounds.into_iter().map(|d| d.as_nanos() as u64).collect();
        m
    }

    /// Adds one result from a log that started at `start_unix_ns`.
    pub fn add(&mut self, start_unix_ns: u64, r: &HitResult) {
        let sent = start_unix_ns.saturating_add(r.sent_ns);
        let done = start_unix_ns.saturating_add(r.done_ns);
        let latency = r.done_ns.saturating_sub(r.scheduled_ns);
        self.requests += 1;
        self.success += u64::from(r.is_success());
        self.bytes_in = self.bytes_in.saturating_add(r.bytes_in);
        self.bytes_out = self.bytes_out.saturating_add(r.bytes_out);
        self.latency.saturating_record(latency.max(1));
        self.service
            .saturating_record(r.done_ns.saturating_sub(r.sent_ns).max(1));
        self.lateness
            .saturating_record(r.sent_ns.saturating_sub(r.scheduled_ns).max(1));
        self.earliest = Some(self.earliest.map_or(sent, |e| e.min(sent)));
        self.latest = Some(self.latest.map_or(sent, |l| l.max(sent)));
        self.end = Some(self.end.map_or(done, |e| e.max(done)));
        *self.status_codes.entry(r.status).or_default() += 1;
        if let Some(e) = &r.error
            && self.errors.len() < MAX_ERRORS
            && !self.errors.contains(e)
        {
            self.errors.insert(e.clone());
        }
        if let Some(i) = self.buckets.iter().rposition(|&lo| latency >= lo) {
            self.bucket_counts[i] += 1;
        }
    }

    /// Folds `other` in; histograms merge losslessly.
    pub fn merge(&mut self, other: &Metrics) {
        // Same bounds on both sides, so adding cannot fail.
        let _ = self.latency.add(&other.latency);
        let _ = self.service.add(&other.service);
        let _ = self.lateness.add(&other.lateness);
        self.requests += other.requests;
        self.success += other.success;
        self.bytes_in = self.bytes_in.saturating_add(other.bytes_in);
        self.bytes_out = self.bytes_out.saturating_add(other.bytes_out);
        let pick = |a: Option<u64>, b: Option<u64>, f: fn(u64, u64) -> u64| match (a, b) {
            (Some(a), Some(b)) => Some(f(a, b)),
            (a, b) => a.or(b),
        };
        self.earliest = pick(self.earliest, other.earliest, u64::min);
        self.latest = pick(self.latest, other.latest, u64::max);
        self.end = pick(self.end, other.end, u64::max);
        for (k, v) in &other.status_codes {
            *self.status_codes.entry(*k).or_default() += v;
        }
        for e in &other.errors {
            if self.errors.len() >= MAX_ERRORS {
                break;
            }
            self.errors.insert(e.clone());
        }
        if self.buckets == other.buckets {
            for (a, b) in self.bucket_counts.iter_mut().zip(&other.bucket_counts) {
                *a += b;
            }
        }
    }

    /// Number of results seen.
    pub fn requests(&self) -> u64 {
        self.requests
    }

    /// Latency histogram (nanoseconds, from the scheduled time).
    pub fn latency_histogram(&self) -> &Histogram<u64> {
        &self.latency
    }

    /// Exact bucket counts, paired with their lower edges in nanoseconds.
    pub fn buckets(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.buckets
            .iter()
            .copied()
            .zip(self.bucket_counts.iter().copied())
    }

    /// The summary Vegeta's reports show.
    pub fn summary(&self) -> Summary {
        let earliest = self.earliest.unwrap_or(0);
        let latest = self.latest.unwrap_or(0);
        let end = self.end.unwrap_or(0);
        let duration = latest.saturating_sub(earliest);
        let wait = end.saturating_sub(latest);
        let secs = duration as f64 / 1e9;
        let rate = if secs > 0.0 {
            self.requests as f64 / secs
        } else {
            0.0
        };
        let total_secs = (duration + wait) as f64 / 1e9;
        let throughput = if total_secs > 0.0 {
            self.success as f64 / total_secs
        } else {
            0.0
        };
        let mean = |total: u64| {
            if self.requests > 0 {
                total as f64 / self.requests as f64
            } else {
                0.0
            }
        };
        Summary {
            latencies: Latencies::of(&self.latency),
            service_times: Latencies::of(&self.service),
            send_lateness: Latencies::of(&self.lateness),
            bytes_in: ByteMetrics {
                total: self.bytes_in,
                mean: mean(self.bytes_in),
            },
            bytes_out: ByteMetrics {
                total: self.bytes_out,
                mean: mean(self.bytes_out),
            },
            earliest_unix_ns: earliest,
            latest_unix_ns: latest,
            end_unix_ns: end,
            duration,
            wait,
            requests: self.requests,
            rate,
            throughput,
            success: if self.requests > 0 {
                self.success as f64 / self.requests as f64
            } else {
                0.0
            },
            status_codes: self
                .status_codes
                .iter()
                .map(|(k, v)| (k.to_string(), *v))
                .collect(),
            errors: self.errors.iter().cloned().collect(),
        }
    }
}

/// Latency distribution in nanoseconds (Vegeta's JSON field names).
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct Latencies {
    /// Sum of all latencies.
    pub total: u64,
    /// Mean.
    pub mean: u64,
    /// Median.
    #[serde(rename = "50th")]
    pub p50: u64,
    /// 90th percentile.
    #[serde(rename = "90th")]
    pub p90: u64,
    /// 95th percentile.
    #[serde(rename = "95th")]
    pub p95: u64,
    /// 99th percentile.
    #[serde(rename = "99th")]
    pub p99: u64,
    /// Largest.
    pub max: u64,
    /// Smallest.
    pub min: u64,
}

impl Latencies {
    fn of(h: &Histogram<u64>) -> Self {
        if h.is_empty() {
            return Latencies::default();
        }
        Latencies {
            total: (h.mean() * h.len() as f64) as u64,
            mean: h.mean() as u64,
            p50: h.median_equivalent(h.value_at_quantile(0.5)),
            p90: h.median_equivalent(h.value_at_quantile(0.9)),
            p95: h.median_equivalent(h.value_at_quantile(0.95)),
            p99: h.median_equivalent(h.value_at_quantile(0.99)),
            max: h.max(),
            min: h.min(),
        }
    }
}

/// Byte totals.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct ByteMetrics {
    /// Sum over all requests.
    pub total: u64,
    /// Mean per request.
    pub mean: f64,
}

/// Everything a report prints. Durations are nanoseconds.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Summary {
    /// Latency from each hit's scheduled time to its response.
    pub latencies: Latencies,
    /// Time from the actual send to the response.
    pub service_times: Latencies,
    /// How late sends were against the schedule.
    pub send_lateness: Latencies,
    /// Response body bytes.
    pub bytes_in: ByteMetrics,
    /// Request body bytes.
    pub bytes_out: ByteMetrics,
    /// First send, Unix nanoseconds.
    pub earliest_unix_ns: u64,
    /// Last send, Unix nanoseconds.
    pub latest_unix_ns: u64,
    /// Last response, Unix nanoseconds.
    pub end_unix_ns: u64,
    /// From the first send to the last.
    pub duration: u64,
    /// From the last send to the last response.
    pub wait: u64,
    /// Number of hits.
    pub requests: u64,
    /// Hits per second over `duration`.
    pub rate: f64,
    /// Successful hits per second over `duration + wait`.
    pub throughput: f64,
    /// Fraction of hits with a 2xx/3xx status and no error.
    pub success: f64,
    /// Count per status code (0 = no response).
    pub status_codes: BTreeMap<String, u64>,
    /// Distinct errors.
    pub errors: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(seq: u64, latency_ms: u64, status: u16) -> HitResult {
        HitResult {
            seq,
            scheduled_ns: seq * 1_000_000,
            sent_ns: seq * 1_000_000,
            done_ns: seq * 1_000_000 + latency_ms * 1_000_000,
            status,
            bytes_in: 10,
            ..HitResult::default()
        }
    }

    #[test]
    fn merging_equals_adding_everything_to_one() {
        let (mut a, mut b, mut all) = (Metrics::new(), Metrics::new(), Metrics::new());
        for i in 0..100 {
            let r = hit(i, i % 17, if i % 10 == 0 { 500 } else { 200 });
            if i % 2 == 0 {
                a.add(7, &r)
            } else {
                b.add(7, &r)
            }
            all.add(7, &r);
        }
        a.merge(&b);
        assert_eq!(a.summary(), all.summary());
        let s = all.summary();
        assert_eq!(s.requests, 100);
        assert!((s.success - 0.9).abs() < 1e-9);
        assert_eq!(s.status_codes.get("500"), Some(&10));
    }
}
