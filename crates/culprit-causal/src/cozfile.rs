//! The `profile.coz` format: one record per line, a kind then tab-separated `key=value`
//! fields. coz appends one run after another to the same file, so a file may hold several
//! `startup` records.

use std::fmt::Write as _;

/// One line of a causal profile.
#[derive(Clone, Debug, PartialEq)]
pub enum Record {
    /// A run started (`time` in ns since the epoch).
    Startup {
        /// Wall-clock time, nanoseconds since the Unix epoch.
        time: u64,
    },
    /// A run ended.
    Shutdown {
        /// Wall-clock time, nanoseconds since the Unix epoch.
        time: u64,
    },
    /// Time the profiler has been running, in nanoseconds.
    Runtime {
        /// Elapsed nanoseconds.
        time: u64,
    },
    /// Samples seen in a source line since the last `samples` record of that line.
    Samples {
        /// `file:line`.
        location: String,
        /// Number of samples.
        count: u64,
    },
    /// One performance experiment: a line virtually sped up for a while.
    Experiment {
        /// `file:line` of the line sped up.
        selected: String,
        /// Virtual speed-up of the line, 0.0 to 1.0.
        speedup: f64,
        /// Effective duration in nanoseconds (inserted delays already subtracted).
        duration: u64,
        /// Samples that fell in the selected line during the experiment.
        selected_samples: u64,
    },
    /// Visits of a throughput progress point during the preceding experiment.
    Throughput {
        /// Progress point name.
        name: String,
        /// Visits.
        delta: u64,
    },
    /// Begin/end counts of a latency progress point during the preceding experiment.
    Latency {
        /// Progress point name.
        name: String,
        /// Begin visits.
        arrivals: u64,
        /// End visits.
        departures: u64,
        /// Arrivals minus departures at the end of the experiment.
        difference: f64,
    },
}

/// A line of a causal profile that could not be read.
#[derive(Debug, thiserror::Error)]
#[error("line {line}: {msg}")]
pub struct ParseError {
    /// 1-based line number.
    pub line: usize,
    /// What was wrong.
    pub msg: String,
}

struct Fields<'a> {
    line: usize,
    pairs: Vec<(&'a str, &'a str)>,
}

impl<'a> Fields<'a> {
    fn err(&self, msg: impl Into<String>) -> ParseError {
        ParseError {
            line: self.line,
            msg: msg.into(),
        }
    }

    fn str(&self, key: &str) -> Result<&'a str, ParseError> {
        self.pairs
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| *v)
            .ok_or_else(|| self.err(format!("missing field `{key}`")))
    }

    fn num<T: std::str::FromStr>(&self, key: &str) -> Result<T, ParseError> {
        let v = self.str(key)?;
        v.parse()
            .map_err(|_| self.err(format!("field `{key}` is not a number: {v:?}")))
    }
}

/// Parses a whole `profile.coz`. Blank lines are skipped; an unknown record kind or a
/// malformed field is an error naming the line.
pub fn parse(text: &str) -> Result<Vec<Record>, ParseError> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let raw = raw.trim_end_matches('\r');
        if raw.trim().is_empty() {
            continue;
        }
        let mut parts = raw.split('\t');
        let kind = parts.next().unwrap_or_default();
        let mut pairs = Vec::new();
        for p in parts {
            let (k, v) = p.split_once('=').ok_or_else(|| ParseError {
                line,
                msg: format!("field {p:?} is not key=value"),
            })?;
            pairs.push((k, v));
        }
        let f = Fields { line, pairs };
        let rec = match kind {
            "startup" => Record::Startup {
                time: f.num("time")?,
            },
            "shutdown" => Record::Shutdown {
                time: f.num("time")?,
            },
            "runtime" => Record::Runtime {
                time: f.num("time")?,
            },
            "samples" => Record::Samples {
                location: f.str("location")?.to_owned(),
                count: f.num("count")?,
            },
            "experiment" => {
                let speedup: f64 = f.num("speedup")?;
                if !(0.0..=1.0).contains(&speedup) {
                    return Err(f.err(format!("speedup {speedup} is outside 0..1")));
                }
                Record::Experiment {
                    selected: f.str("selected")?.to_owned(),
                    speedup,
                    duration: f.num("duration")?,
                    selected_samples: f.num("selected-samples").unwrap_or(0),
                }
            }
            "throughput-point" | "progress-point" => Record::Throughput {
                name: f.str("name")?.to_owned(),
                delta: f.num("delta")?,
            },
            "latency-point" => Record::Latency {
                name: f.str("name")?.to_owned(),
                arrivals: f.num("arrivals")?,
                departures: f.num("departures")?,
                difference: f.num("difference")?,
            },
            other => return Err(f.err(format!("unknown record kind {other:?}"))),
        };
        out.push(rec);
    }
    Ok(out)
}

/// Writes records in coz's format, one per line.
pub fn write(records: &[Record]) -> String {
    let mut s = String::new();
    for r in records {
        // Writing to a String cannot fail.
        let _ = match r {
            Record::Startup { time } => writeln!(s, "startup\ttime={time}"),
            Record::Shutdown { time } => writeln!(s, "shutdown\ttime={time}"),
            Record::Runtime { time } => writeln!(s, "runtime\ttime={time}"),
            Record::Samples { location, count } => {
                writeln!(s, "samples\tlocation={location}\tcount={count}")
            }
            Record::Experiment {
                selected,
                speedup,
                duration,
                selected_samples,
            } => writeln!(
                s,
                "experiment\tselected={selected}\tspeedup={speedup:.2}\tduration={duration}\tselected-samples={selected_samples}"
            ),
            Record::Throughput { name, delta } => {
                writeln!(s, "throughput-point\tname={name}\tdelta={delta}")
            }
            Record::Latency {
                name,
                arrivals,
                departures,
                difference,
            } => writeln!(
                s,
                "latency-point\tname={name}\tarrivals={arrivals}\tdepartures={departures}\tdifference={difference}"
            ),
        };
    }
    s
}
