//! Settings passed by `culprit causal` through the environment.

use std::time::Duration;

/// What the runtime was asked to do.
pub struct Config {
    /// Line table file written by the driver.
    pub table: String,
    /// Where to append the causal profile.
    pub out: String,
    /// Only experiment on this line (`file:line`), if set.
    pub fixed_line: Option<String>,
    /// Only run this speed-up (percent), if set.
    pub fixed_speedup: Option<u32>,
    /// CPU time between samples of one thread.
    pub period: Duration,
    /// First experiment length; adapted to progress-point visits afterwards.
    pub experiment: Duration,
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

impl Config {
    /// Reads the configuration; `None` when the runtime was not asked to run (no table).
    pub fn from_env() -> Option<Self> {
        let table = var("CULPRIT_CAUSAL_TABLE")?;
        let ms = |name: &str, default: u64| {
            var(name)
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(default)
        };
        Some(Self {
            table,
            out: var("CULPRIT_CAUSAL_OUT").unwrap_or_else(|| "profile.coz".into()),
            fixed_line: var("CULPRIT_CAUSAL_FIXED_LINE"),
            fixed_speedup: var("CULPRIT_CAUSAL_FIXED_SPEEDUP").and_then(|v| v.parse().ok()),
            period: Duration::from_micros(ms("CULPRIT_CAUSAL_PERIOD_US", 1000).max(100)),
            experiment: Duration::from_millis(ms("CULPRIT_CAUSAL_EXPERIMENT_MS", 500).max(50)),
        })
    }
}
