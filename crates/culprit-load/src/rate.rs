//! Request rates in Vegeta's syntax: `1000` (per second), `1000/1s`, `50/100ms`, `10/m`.

use std::time::Duration;

use crate::godur;

/// A number of hits per a period. `freq == 0` means "as fast as possible".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// Hits per `per`.
    pub freq: u64,
    /// The period `freq` is counted over; never zero.
    pub per: Duration,
}

/// A rate string that is not `N` or `N/DURATION`.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid rate {input:?}: {reason}")]
pub struct RateError {
    /// The text that was given.
    pub input: String,
    /// What was expected.
    pub reason: String,
}

impl Rate {
    /// `freq` hits per second.
    pub fn per_second(freq: u64) -> Self {
        Rate {
            freq,
            per: Duration::from_secs(1),
        }
    }

    /// Hits per second as a float (0 for "as fast as possible").
    pub fn hz(&self) -> f64 {
        self.freq as f64 / self.per.as_secs_f64()
    }

    /// True for `0`: no pacing, as fast as the workers go.
    pub fn is_max(&self) -> bool {
        self.freq == 0
    }
}

impl std::str::FromStr for Rate {
    type Err = RateError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let err = |reason: String| RateError {
            input: input.to_string(),
            reason,
        };
        let (freq, per) = match input.split_once('/') {
            Some((f, p)) => (f, Some(p)),
            None => (input, None),
        };
        let freq: u64 = freq
            .trim()
            .parse()
            .map_err(|_| err("expected a whole number of hits, as in 1000 or 50/100ms".into()))?;
        let per = match per {
            None => Duration::from_secs(1),
            Some(p) => {
                let p = p.trim();
                // `10/s` means `10/1s`, as in Vegeta.
                let p = if p.starts_with(|c: char| c.is_ascii_digit()) {
                    p.to_string()
                } else {
                    format!("1{p}")
                };
                godur::parse(&p).map_err(|e| err(e.to_string()))?
            }
        };
        if per.is_zero() {
            return Err(err("the period must be longer than zero".into()));
        }
        Ok(Rate { freq, per })
    }
}

impl std::fmt::Display for Rate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.freq, godur::format(self.per))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_vegeta_rates() {
        assert_eq!("1000".parse(), Ok(Rate::per_second(1000)));
        assert_eq!("1000/1s".parse(), Ok(Rate::per_second(1000)));
        let r: Rate = "50/100ms".parse().unwrap_or(Rate::per_second(0));
        assert_eq!(r.hz(), 500.0);
        let r: Rate = "60/m".parse().unwrap_or(Rate::per_second(0));
        assert_eq!(r.hz(), 1.0);
        assert!("fast".parse::<Rate>().is_err());
        assert!("10/0s".parse::<Rate>().is_err());
        assert!("10/xs".parse::<Rate>().is_err());
    }
}
