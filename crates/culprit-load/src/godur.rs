//! Go-style durations (`1m30s`, `100ms`, `1.5µs`): parsing and Go's `Duration.String` form,
//! so flags and reports read like Vegeta's.

use std::time::Duration;

/// A duration string that is not a Go duration.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid duration {input:?}: {reason}")]
pub struct DurationError {
    /// The text that was given.
    pub input: String,
    /// What was wrong with it.
    pub reason: &'static str,
}

/// Parses a Go duration: one or more `<decimal><unit>` with units `ns us µs ms s m h`;
/// a bare `0` is zero.
pub fn parse(input: &str) -> Result<Duration, DurationError> {
    let err = |reason| DurationError {
        input: input.to_string(),
        reason,
    };
    let s = input.trim();
    if s == "0" {
        return Ok(Duration::ZERO);
    }
    if s.is_empty() {
        return Err(err(
            "expected a number followed by a unit such as 10s or 100ms",
        ));
    }
    let mut rest = s;
    let mut total: f64 = 0.0;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if num_len == 0 {
            return Err(err("expected a number"));
        }
        let value: f64 = rest[..num_len]
            .parse()
            .map_err(|_| err("expected a number"))?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" | "μs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            "" => return Err(err("missing unit (ns, us, ms, s, m, h)")),
            _ => return Err(err("unknown unit (expected ns, us, ms, s, m or h)")),
        };
        rest = &rest[unit_len..];
        total += value * scale;
    }
    Duration::try_from_secs_f64(total).map_err(|_| err("out of range"))
}

/// Formats like Go's `time.Duration.String`: `0s`, `750ns`, `1.5µs`, `12.345ms`, `1m2.5s`.
pub fn format(d: Duration) -> String {
    let ns = d.as_nanos();
    if ns == 0 {
        return "0s".into();
    }
    if ns < 1_000 {
        return format!("{ns}ns");
    }
    if ns < 1_000_000 {
        return fixed(ns, 1_000, "µs");
    }
    if ns < 1_000_000_000 {
        return fixed(ns, 1_000_000, "ms");
    }
    let hours = ns / 3_600_000_000_000;
    let minutes = (ns / 60_000_000_000) % 60;
    let secs = fixed(ns % 60_000_000_000, 1_000_000_000, "s");
    match (hours, minutes) {
        (0, 0) => secs,
        (0, m) => format!("{m}m{secs}"),
        (h, m) => format!("{h}h{m}m{secs}"),
    }
}

/// `value/unit` with the fraction's trailing zeros dropped.
fn fixed(value: u128, unit: u128, suffix: &str) -> String {
    let whole = value / unit;
    let frac = value % unit;
    if frac == 0 {
        return format!("{whole}{suffix}");
    }
    let width = unit.ilog10() as usize;
    let digits = format!("{frac:0width$}");
    format!("{whole}.{}{suffix}", digits.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_go() {
        assert_eq!(format(Duration::ZERO), "0s");
        assert_eq!(format(Duration::from_nanos(750)), "750ns");
        assert_eq!(format(Duration::from_nanos(1_500)), "1.5µs");
        assert_eq!(format(Duration::from_nanos(90_438_129)), "90.438129ms");
        assert_eq!(
            format(Duration::from_nanos(10_094_965_987)),
            "10.094965987s"
        );
        assert_eq!(format(Duration::from_secs(62)), "1m2s");
        assert_eq!(format(Duration::from_secs(3600)), "1h0m0s");
    }

    #[test]
    fn parses_go_durations() {
        assert_eq!(parse("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse("100ms"), Ok(Duration::from_millis(100)));
        assert_eq!(parse("1.5us"), Ok(Duration::from_nanos(1500)));
        assert_eq!(parse("0"), Ok(Duration::ZERO));
        assert!(parse("10").is_err());
        assert!(parse("10x").is_err());
        assert!(parse("").is_err());
    }
}
