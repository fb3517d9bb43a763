//! The run directory: `manifest.json`, every artifact, the series, `findings.json` and the
//! pages. [`RunData::load`] reads one back for reports and comparisons.

use std::path::{Path, PathBuf};

use culprit_profile::Profile;
use serde::{Deserialize, Serialize};

use crate::findings::{Finding, LoadSummary, RuntimeWindow};

/// Why a run directory could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The failure.
        source: std::io::Error,
    },
    /// A JSON file did not parse.
    #[error("{path}: line {line}: {msg}")]
    Json {
        /// The file.
        path: PathBuf,
        /// 1-based line of the problem.
        line: usize,
        /// What was wrong.
        msg: String,
    },
    /// A profile in the run did not parse.
    #[error("{path}: {source}")]
    Profile {
        /// The file.
        path: PathBuf,
        /// The failure.
        source: culprit_profile::ParseError,
    },
}

/// What a run was pointed at.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Target {
    /// The service URL (pprof origin or load target).
    pub url: Option<String>,
    /// The command culprit started, for `investigate -- CMD`.
    pub command: Option<Vec<String>>,
    /// The process watched.
    pub pid: Option<u32>,
}

/// The load that was driven.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LoadPlan {
    /// Rate as given (`100`, `50/100ms`).
    pub rate: String,
    /// Planned duration, seconds.
    pub duration_secs: f64,
    /// Target lines (method and URL).
    pub targets: Vec<String>,
}

/// One captured file, or one capture that failed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Artifact {
    /// What it is: `cpu`, `allocs`, `heap`, `goroutine`, `goroutines-text`, ...
    pub kind: String,
    /// File name inside the run directory (empty when the capture failed).
    pub file: String,
    /// Where it came from (URL or `native`).
    pub source: String,
    /// Start and end on the run clock, seconds.
    pub start_secs: f64,
    /// See `start_secs`.
    pub end_secs: f64,
    /// Size in bytes.
    pub bytes: u64,
    /// Why it failed, if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// `manifest.json`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// `culprit` and its version.
    pub tool: String,
    /// Version of culprit that wrote the run.
    pub version: String,
    /// The command line.
    pub command: Vec<String>,
    /// Start, RFC 3339 UTC.
    pub started: String,
    /// End, RFC 3339 UTC.
    pub ended: String,
    /// Start, Unix milliseconds (zero of the run clock).
    pub started_unix_ms: u64,
    /// False when the run was interrupted or failed part way.
    pub complete: bool,
    /// Why the run is incomplete.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incomplete_reason: Option<String>,
    /// What was investigated.
    pub target: Target,
    /// The load driven, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load: Option<LoadPlan>,
    /// Profile window on the run clock, seconds `[start, end]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<(f64, f64)>,
    /// Every capture, in the order it finished.
    pub artifacts: Vec<Artifact>,
    /// Anything worth knowing about how the run went.
    #[serde(default)]
    pub notes: Vec<String>,
}

/// Load figures for one second of the run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LoadSecond {
    /// Second on the run clock (start of the bucket).
    pub t: f64,
    /// Responses completed in this second.
    pub requests: u64,
    /// Of which failed (error or status outside 200–399).
    pub errors: u64,
    /// Mean latency, seconds.
    pub mean: f64,
    /// Median latency, seconds.
    pub p50: f64,
    /// 99th percentile latency, seconds.
    pub p99: f64,
    /// Slowest, seconds.
    pub max: f64,
}

/// Go runtime readings at one moment.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RuntimePoint {
    /// Seconds on the run clock.
    pub t: f64,
    /// Live heap bytes (`HeapAlloc`).
    pub heap_alloc: u64,
    /// Heap target of the next GC (`NextGC`).
    pub next_gc: u64,
    /// GC cycles since start (`NumGC`).
    pub num_gc: u64,
    /// Total stop-the-world pause since start, nanoseconds.
    pub pause_total_ns: u64,
    /// Bytes allocated since start (`TotalAlloc`).
    pub total_alloc: u64,
    /// GC's CPU fraction since start.
    pub gc_cpu_fraction: f64,
}

/// Process-tree readings at one moment.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ProcessPoint {
    /// Seconds on the run clock.
    pub t: f64,
    /// CPU cores in use over the last interval.
    pub cpu_cores: f64,
    /// Resident memory, bytes.
    pub rss: u64,
    /// Threads.
    pub threads: u64,
}

/// File names inside a run directory.
pub mod files {
    /// The manifest.
    pub const MANIFEST: &str = "manifest.json";
    /// Ranked findings.
    pub const FINDINGS: &str = "findings.json";
    /// Per-second load figures.
    pub const LOAD: &str = "load.json";
    /// Go runtime readings.
    pub const RUNTIME: &str = "runtime.json";
    /// Process-tree readings.
    pub const PROCESS: &str = "process.json";
    /// CPU profile over the window.
    pub const CPU: &str = "cpu.pb.gz";
    /// Allocations during the window (delta).
    pub const ALLOCS: &str = "allocs.pb.gz";
    /// Heap at the end of the window.
    pub const HEAP: &str = "heap.pb.gz";
    /// Mutex contention during the window (delta).
    pub const MUTEX: &str = "mutex.pb.gz";
    /// Blocking during the window (delta).
    pub const BLOCK: &str = "block.pb.gz";
    /// Goroutines at peak load.
    pub const GOROUTINE: &str = "goroutine.pb.gz";
    /// All goroutine snapshots merged (counts summed over snapshots).
    pub const GOROUTINE_SNAPSHOTS: &str = "goroutine-snapshots.pb.gz";
    /// Goroutines at peak load as `?debug=2` text.
    pub const GOROUTINES_TEXT: &str = "goroutines.txt";
    /// The report page.
    pub const REPORT: &str = "report.html";
}

/// A run read back from its directory.
#[derive(Clone, Debug, Default)]
pub struct RunData {
    /// The directory.
    pub dir: PathBuf,
    /// Its manifest.
    pub manifest: Manifest,
    /// Per-second load.
    pub load: Vec<LoadSecond>,
    /// Go runtime readings.
    pub runtime: Vec<RuntimePoint>,
    /// Process readings.
    pub process: Vec<ProcessPoint>,
    /// CPU profile.
    pub cpu: Option<Profile>,
    /// Allocation delta.
    pub allocs: Option<Profile>,
    /// Heap.
    pub heap: Option<Profile>,
    /// Mutex delta.
    pub mutex: Option<Profile>,
    /// Block delta.
    pub block: Option<Profile>,
    /// Goroutines at peak.
    pub goroutine: Option<Profile>,
    /// Goroutine snapshots merged.
    pub goroutine_snapshots: Option<Profile>,
    /// Goroutines at peak as text.
    pub goroutines_text: Option<Vec<u8>>,
    /// Findings, when already computed.
    pub findings: Option<Vec<Finding>>,
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> RunError + '_ {
    move |source| RunError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Reads a JSON file, `None` when it does not exist.
fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<Option<T>, RunError> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_err(path)(e)),
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| RunError::Json {
            path: path.to_path_buf(),
            line: e.line(),
            msg: e.to_string(),
        })
}

/// Writes `value` as pretty JSON to `path`.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), RunError> {
    let text = serde_json::to_vec_pretty(value).map_err(|e| RunError::Json {
        path: path.to_path_buf(),
        line: 0,
        msg: e.to_string(),
    })?;
    std::fs::write(path, text).map_err(io_err(path))
}

fn read_profile(path: &Path) -> Result<Option<Profile>, RunError> {
    match std::fs::read(path) {
        Ok(b) => culprit_profile::parse(&b)
            .map(Some)
            .map_err(|source| RunError::Profile {
                path: path.to_path_buf(),
                source,
            }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_err(path)(e)),
    }
}

impl RunData {
    /// Reads the run in `dir`; missing artifacts are `None`, broken ones are errors.
    pub fn load(dir: &Path) -> Result<Self, RunError> {
        let manifest_path = dir.join(files::MANIFEST);
        let manifest = read_json(&manifest_path)?.ok_or_else(|| RunError::Io {
            path: manifest_path.clone(),
            source: std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "no manifest.json: not a culprit run directory",
            ),
        })?;
        let text = dir.join(files::GOROUTINES_TEXT);
        Ok(Self {
            dir: dir.to_path_buf(),
            manifest,
            load: read_json(&dir.join(files::LOAD))?.unwrap_or_default(),
            runtime: read_json(&dir.join(files::RUNTIME))?.unwrap_or_default(),
            process: read_json(&dir.join(files::PROCESS))?.unwrap_or_default(),
            cpu: read_profile(&dir.join(files::CPU))?,
            allocs: read_profile(&dir.join(files::ALLOCS))?,
            heap: read_profile(&dir.join(files::HEAP))?,
            mutex: read_profile(&dir.join(files::MUTEX))?,
            block: read_profile(&dir.join(files::BLOCK))?,
            goroutine: read_profile(&dir.join(files::GOROUTINE))?,
            goroutine_snapshots: read_profile(&dir.join(files::GOROUTINE_SNAPSHOTS))?,
            goroutines_text: match std::fs::read(&text) {
                Ok(b) => Some(b),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                Err(e) => return Err(io_err(&text)(e)),
            },
            findings: read_json(&dir.join(files::FINDINGS))?,
        })
    }

    /// The profile window, seconds on the run clock.
    pub fn window(&self) -> (f64, f64) {
        self.manifest.window.unwrap_or_else(|| {
            let end = self.load.last().map_or(0.0, |s| s.t + 1.0);
            (0.0, end)
        })
    }

    /// CPU seconds the watched process tree used over the profile window, from its
    /// per-second readings (kernel accounting, unlike a sampled profile); `None` without
    /// two readings in the window.
    pub fn process_cpu_in_window(&self) -> Option<f64> {
        let (a, b) = self.window();
        let (mut cpu, mut covered) = (0.0, 0.0);
        for pair in self.process.windows(2) {
            let [p, q] = pair else { continue };
            if p.t >= a && q.t <= b + 1e-9 {
                cpu += q.cpu_cores * (q.t - p.t);
                covered += q.t - p.t;
            }
        }
        // Readings cover most of the window; scale their rate to all of it.
        (covered > 0.0).then(|| cpu / covered * (b - a))
    }

    /// Load figures summed over the profile window.
    pub fn load_in_window(&self) -> Option<LoadSummary> {
        let (a, b) = self.window();
        let secs: Vec<&LoadSecond> = self
            .load
            .iter()
            .filter(|s| s.t >= a.floor() && s.t < b.ceil())
            .collect();
        let requests: u64 = secs.iter().map(|s| s.requests).sum();
        if requests == 0 {
            return None;
        }
        let errors = secs.iter().map(|s| s.errors).sum();
        let mean = secs.iter().map(|s| s.mean * s.requests as f64).sum::<f64>() / requests as f64;
        Some(LoadSummary {
            requests,
            errors,
            mean_latency: mean,
        })
    }

    /// Go runtime counters between the readings nearest the window's ends.
    pub fn runtime_in_window(&self) -> Option<RuntimeWindow> {
        let (a, b) = self.window();
        let first = self.runtime.iter().find(|p| p.t >= a - 0.5)?;
        let last = self.runtime.iter().rev().find(|p| p.t <= b + 0.5)?;
        if last.t <= first.t {
            return None;
        }
        Some(RuntimeWindow {
            gc_cycles: last.num_gc.saturating_sub(first.num_gc),
            gc_pause: last.pause_total_ns.saturating_sub(first.pause_total_ns) as f64 / 1e9,
            alloc_bytes: last.total_alloc.saturating_sub(first.total_alloc),
        })
    }

    /// Runs the findings engine over this run.
    pub fn analyze(&self) -> Vec<Finding> {
        let load = self.load_in_window();
        let runtime = self.runtime_in_window();
        let (a, b) = self.window();
        let inputs = crate::findings::Inputs {
            cpu: self.cpu.as_ref(),
            allocs: self.allocs.as_ref(),
            mutex: self.mutex.as_ref(),
            block: self.block.as_ref(),
            goroutines: self
                .goroutine_snapshots
                .as_ref()
                .or(self.goroutine.as_ref()),
            window_secs: (b - a).max(0.0),
            load: load.as_ref(),
            runtime: runtime.as_ref(),
        };
        crate::findings::analyze(&inputs)
    }
}
