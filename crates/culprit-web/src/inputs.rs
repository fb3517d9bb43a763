//! What the web UI serves, recognised by content: pprof profiles, goroutine dumps (every
//! form `culprit goroutines` reads), `culprit watch` series (JSON lines), causal profiles
//! (`profile.coz`, culprit's or coz's), and `culprit investigate` run directories, which
//! hold several of those.

use std::path::Path;

use culprit_dump::Snapshot;
use culprit_investigate::run::{RunData, RunError, files};
use culprit_profile::Profile;
use culprit_watch::Sample;

use crate::series::{self, Series};

/// One thing to show, named for the page.
pub struct Input {
    /// The file (or run directory entry) it came from.
    pub name: String,
    /// What it holds.
    pub kind: Kind,
    /// A profile may merge with others of the same sample types (loose files, as pprof
    /// merges its sources); a run's profiles are each shown alone (its mutex and block
    /// profiles share sample types but are not one thing).
    pub merge: bool,
}

/// The kinds of input.
pub enum Kind {
    /// A pprof profile (proto, legacy text or folded stacks).
    Profile(Profile),
    /// A goroutine dump.
    Goroutines(Snapshot),
    /// Metrics over time.
    Series(Series),
    /// A causal profile's speed-up curves.
    Causal(culprit_causal::Analysis),
}

/// Why an input could not be used. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// The file could not be read. (The cause is in the message, not chained, so
    /// `anyhow`'s `{:#}` does not print it twice.)
    #[error("{name}: {error}")]
    Io {
        /// The file.
        name: String,
        /// The failure.
        error: std::io::Error,
    },
    /// The file has no bytes.
    #[error("{name}: empty file")]
    Empty {
        /// The file.
        name: String,
    },
    /// A line of a JSON-lines file is not a `culprit watch` sample.
    #[error("{name}: line {line}: not a culprit watch sample: {msg}")]
    Series {
        /// The file.
        name: String,
        /// 1-based line number.
        line: usize,
        /// What was wrong.
        msg: String,
    },
    /// A `profile.coz` with a bad record.
    #[error("{name}: line {line}: {msg}")]
    Causal {
        /// The file.
        name: String,
        /// 1-based line number.
        line: usize,
        /// What was wrong.
        msg: String,
    },
    /// Neither a profile, a goroutine dump nor a series.
    #[error(
        "{name}: not a pprof profile, goroutine dump or culprit watch series (as a profile: {reason})"
    )]
    Unknown {
        /// The file.
        name: String,
        /// Why the profile parser refused it.
        reason: String,
    },
    /// A race detector report: its goroutines are the racing accesses, nothing to group.
    #[error("{name}: a race detector report, not a goroutine dump: nothing to show")]
    RaceReport {
        /// The file.
        name: String,
    },
    /// A run directory could not be read; the failure names the file inside it.
    #[error("{error}")]
    Run {
        /// The directory.
        name: String,
        /// The failure.
        error: RunError,
    },
    /// A directory that is not a run directory.
    #[error("{name}: a directory without manifest.json is not a culprit run directory")]
    NotRun {
        /// The directory.
        name: String,
    },
}

/// Reads a file or run directory.
pub fn load_path(path: &Path) -> Result<Vec<Input>, InputError> {
    let name = path.display().to_string();
    if path.is_dir() {
        if !path.join(files::MANIFEST).is_file() {
            return Err(InputError::NotRun { name });
        }
        return load_run(path);
    }
    let data = std::fs::read(path).map_err(|error| InputError::Io {
        name: name.clone(),
        error,
    })?;
    classify(&name, &data)
}

/// Recognises `data` (named `name` in errors). A goroutine profile in pprof form is both
/// a profile (for its flame graph) and a goroutine dump (for its groups).
pub fn classify(name: &str, data: &[u8]) -> Result<Vec<Input>, InputError> {
    let input = |kind| Input {
        name: name.to_owned(),
        kind,
        merge: true,
    };
    let first = data.iter().find(|b| !b.is_ascii_whitespace());
    let Some(&first) = first else {
        return Err(InputError::Empty {
            name: name.to_owned(),
        });
    };
    let head = data.get(..data.len().min(4096)).unwrap_or(data);
    let binary = culprit_profile::codec::is_gzip(data)
        || head.contains(&0)
        || std::str::from_utf8(head).is_err_and(|e| e.error_len().is_some());
    if binary {
        let p = profile(name, data)?;
        let mut out = Vec::new();
        if let Ok(snap) = culprit_dump::from_profile(&p) {
            out.push(input(Kind::Goroutines(snap)));
        }
        out.insert(0, input(Kind::Profile(p)));
        return Ok(out);
    }
    if is_coz(data) {
        let text = String::from_utf8_lossy(data);
        let records = culprit_causal::parse(&text).map_err(|e| InputError::Causal {
            name: name.to_owned(),
            line: e.line,
            msg: e.msg,
        })?;
        return Ok(vec![input(Kind::Causal(culprit_causal::analyze(&records)))]);
    }
    if first == b'{' {
        let samples = watch_samples(name, data)?;
        return Ok(vec![input(Kind::Series(series::from_watch(&samples)))]);
    }
    if let Ok(snap) = culprit_dump::parse(data) {
        if snap.format == culprit_dump::Format::RaceReport {
            return Err(InputError::RaceReport {
                name: name.to_owned(),
            });
        }
        if !snap.tasks.is_empty() {
            return Ok(vec![input(Kind::Goroutines(snap))]);
        }
    }
    Ok(vec![input(Kind::Profile(profile(name, data)?))])
}

/// Whether the first record is one of coz's (`startup`, `experiment`, ... then a tab).
fn is_coz(data: &[u8]) -> bool {
    const RECORDS: [&[u8]; 6] = [
        b"startup\t",
        b"runtime\t",
        b"experiment\t",
        b"throughput-point\t",
        b"latency-point\t",
        b"samples\t",
    ];
    let start = data
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(0);
    let rest = data.get(start..).unwrap_or_default();
    RECORDS.iter().any(|r| rest.starts_with(r))
}

fn profile(name: &str, data: &[u8]) -> Result<Profile, InputError> {
    culprit_profile::parse(data).map_err(|e| InputError::Unknown {
        name: name.to_owned(),
        reason: e.to_string(),
    })
}

/// Parses `culprit watch` JSON lines; blank lines are allowed.
pub fn watch_samples(name: &str, data: &[u8]) -> Result<Vec<Sample>, InputError> {
    data.split(|&b| b == b'\n')
        .enumerate()
        .filter(|(_, l)| !l.iter().all(u8::is_ascii_whitespace))
        .map(|(i, l)| {
            serde_json::from_slice(l).map_err(|e| InputError::Series {
                name: name.to_owned(),
                line: i + 1,
                msg: e.to_string(),
            })
        })
        .collect()
}

/// Everything a run directory holds: each profile on its own (a CPU profile and an
/// allocation delta do not merge), the goroutines (the `debug=2` text when captured, else
/// the goroutine profile), and the load, process and Go runtime readings as one series.
pub fn load_run(dir: &Path) -> Result<Vec<Input>, InputError> {
    let run_name = dir.display().to_string();
    let run = RunData::load(dir).map_err(|error| InputError::Run {
        name: run_name.clone(),
        error,
    })?;
    let base = dir
        .file_name()
        .map_or_else(|| run_name.clone(), |n| n.to_string_lossy().into_owned());
    let named = |file: &str, kind| Input {
        name: format!("{base}/{file}"),
        kind,
        merge: false,
    };
    let mut out = Vec::new();
    let profiles = [
        (files::CPU, &run.cpu),
        (files::ALLOCS, &run.allocs),
        (files::HEAP, &run.heap),
        (files::MUTEX, &run.mutex),
        (files::BLOCK, &run.block),
        (files::GOROUTINE, &run.goroutine),
    ];
    for (file, p) in profiles {
        if let Some(p) = p {
            out.push(named(file, Kind::Profile(p.clone())));
        }
    }
    let text = run
        .goroutines_text
        .as_deref()
        .and_then(|t| culprit_dump::parse(t).ok())
        .filter(|s| !s.tasks.is_empty());
    if let Some(snap) = text {
        out.push(named(files::GOROUTINES_TEXT, Kind::Goroutines(snap)));
    } else if let Some(snap) = run
        .goroutine
        .as_ref()
        .and_then(|p| culprit_dump::from_profile(p).ok())
    {
        out.push(named(files::GOROUTINE, Kind::Goroutines(snap)));
    }
    let s = series::from_run(&run);
    if !s.charts.is_empty() {
        out.push(named("series", Kind::Series(s)));
    }
    Ok(out)
}
