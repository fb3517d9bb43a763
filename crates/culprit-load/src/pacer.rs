//! Pacers: when the n-th hit of an attack is due. Pure math, no clocks, so the schedule is
//! the same whatever the machine does; the engine measures lateness against it.

use std::f64::consts::TAU;
use std::time::Duration;

use crate::rate::Rate;

/// The shape of the request rate over time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Pacer {
    /// A steady rate; `Rate` 0 means no pacing at all (as fast as the workers go).
    Constant(Rate),
    /// `start` hits/s at time zero, changing by `slope` hits/s every second.
    Linear {
        /// Rate at the start of the attack.
        start: Rate,
        /// Change of the rate, in hits/s per second (may be negative).
        slope: f64,
    },
    /// `mean + amp·sin(2πt/period)` hits/s.
    Sine {
        /// Mean rate.
        mean: Rate,
        /// Amplitude; must not exceed `mean` so the rate never goes negative.
        amp: Rate,
        /// Length of one full wave.
        period: Duration,
    },
}

impl Pacer {
    /// True when hits are not scheduled at all (rate 0).
    pub fn is_unpaced(&self) -> bool {
        matches!(self, Pacer::Constant(r) if r.is_max())
    }

    /// Rate at `t` seconds into the attack, in hits/s.
    pub fn rate_at(&self, t: f64) -> f64 {
        match *self {
            Pacer::Constant(r) => r.hz(),
            Pacer::Linear { start, slope } => (start.hz() + slope * t).max(0.0),
            Pacer::Sine { mean, amp, period } => {
                mean.hz() + amp.hz() * (TAU * t / period.as_secs_f64()).sin()
            }
        }
    }

    /// Offset from the attack's start at which hit `n` (0-based) is due, or `None` when it
    /// never is (a ramp that has fallen to zero) or the pacer is unpaced.
    pub fn due(&self, n: u64) -> Option<Duration> {
        match *self {
            Pacer::Constant(r) => {
                if r.is_max() {
                    return None;
                }
                let ns = u128::from(n) * r.per.as_nanos() / u128::from(r.freq);
                Some(Duration::from_nanos(u64::try_from(ns).ok()?))
            }
            Pacer::Linear { start, slope } => {
                let r0 = start.hz();
                let n = n as f64;
                let t = if slope.abs() < 1e-12 {
                    if r0 <= 0.0 {
                        return None;
                    }
                    n / r0
                } else {
                    // Solve r0·t + slope·t²/2 = n for the first t ≥ 0.
                    let disc = r0 * r0 + 2.0 * slope * n;
                    if disc < 0.0 {
                        return None;
                    }
                    (disc.sqrt() - r0) / slope
                };
                Duration::try_from_secs_f64(t).ok()
            }
            Pacer::Sine { mean, amp, period } => {
                let (m, a, p) = (mean.hz(), amp.hz().min(mean.hz()), period.as_secs_f64());
                if m <= 0.0 || p <= 0.0 {
                    return None;
                }
                // hits(t) = m·t + a·p/2π·(1 − cos(2πt/p)) is monotonic because a ≤ m:
                // bisect between bounds that bracket the root.
                let n = n as f64;
                let hits = |t: f64| m * t + a * p / TAU * (1.0 - (TAU * t / p).cos());
                let (mut lo, mut hi) = (n / (m + a), n / (m - a).max(m * 1e-9));
                for _ in 0..100 {
                    let mid = (lo + hi) / 2.0;
                    if hits(mid) < n {
                        lo = mid;
                    } else {
                        hi = mid;
                    }
                    if hi - lo < 1e-10 {
                        break;
                    }
                }
                Duration::try_from_secs_f64(hi).ok()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn constant_spaces_hits_evenly() {
        let p = Pacer::Constant(Rate::per_second(1000));
        assert_eq!(p.due(0), Some(Duration::ZERO));
        assert_eq!(p.due(1), Some(Duration::from_millis(1)));
        assert_eq!(p.due(1000), Some(Duration::from_secs(1)));
        assert_eq!(Pacer::Constant(Rate::per_second(0)).due(3), None);
    }

    #[test]
    fn linear_ramp_integrates() {
        // From 10/s rising by 10/s²: hits(t) = 10t + 5t²; hits(2) = 40.
        let p = Pacer::Linear {
            start: Rate::per_second(10),
            slope: 10.0,
        };
        let t = p.due(40).map(|d| d.as_secs_f64()).unwrap_or(0.0);
        assert!((t - 2.0).abs() < 1e-6, "{t}");
    }

    #[test]
    fn sine_averages_to_mean_over_a_period() {
        let p = Pacer::Sine {
            mean: Rate::per_second(100),
            amp: Rate::per_second(50),
            period: Duration::from_secs(4),
        };
        let t = p.due(400).map(|d| d.as_secs_f64()).unwrap_or(0.0);
        assert!((t - 4.0).abs() < 1e-6, "{t}");
    }

    proptest! {
        #[test]
        fn schedules_never_go_backwards(freq in 1u64..100_000, slope in -50.0f64..50.0, n in 0u64..100_000) {
            for p in [
                Pacer::Constant(Rate::per_second(freq)),
                Pacer::Linear { start: Rate::per_second(freq), slope },
                Pacer::Sine { mean: Rate::per_second(freq), amp: Rate::per_second(freq / 2), period: Duration::from_secs(3) },
            ] {
                if let (Some(a), Some(b)) = (p.due(n), p.due(n + 1)) {
                    prop_assert!(a <= b, "{p:?} n={n} {a:?} > {b:?}");
                }
            }
        }
    }
}
