//! One capture window against a Go service, on one clock: start snapshots of the cumulative
//! profiles, CPU profile chunks across the window, goroutine snapshots during it, end
//! snapshots and the heap, then the deltas. Every file is written as soon as it arrives, so
//! an interrupted run keeps what it has.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use culprit_profile::Profile;

use crate::capture::{CaptureError, Endpoint};
use crate::combine;
use crate::run::{Artifact, RuntimePoint, files};

/// Profile kinds a capture can take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// CPU profile (`profile?seconds=N`), in chunks merged into one.
    Cpu,
    /// Heap at the end.
    Heap,
    /// Allocations during the window (end minus start snapshot).
    Allocs,
    /// Goroutines: proto and `?debug=2` text.
    Goroutine,
    /// Mutex contention during the window.
    Mutex,
    /// Blocking during the window.
    Block,
    /// Execution trace over the window.
    Trace,
}

impl Kind {
    /// Every kind, in `--kinds` spelling order.
    pub const ALL: [Kind; 7] = [
        Kind::Cpu,
        Kind::Heap,
        Kind::Allocs,
        Kind::Goroutine,
        Kind::Mutex,
        Kind::Block,
        Kind::Trace,
    ];

    /// Reads one `--kinds` word.
    pub fn parse(word: &str) -> Result<Kind, String> {
        Ok(match word.trim() {
            "cpu" | "profile" => Kind::Cpu,
            "heap" => Kind::Heap,
            "allocs" => Kind::Allocs,
            "goroutine" | "goroutines" => Kind::Goroutine,
            "mutex" => Kind::Mutex,
            "block" => Kind::Block,
            "trace" => Kind::Trace,
            other => {
                return Err(format!(
                    "unknown profile kind {other:?} (expected cpu, heap, allocs, goroutine, mutex, block, trace)"
                ));
            }
        })
    }

    fn endpoint(self) -> &'static str {
        match self {
            Kind::Cpu => "profile",
            Kind::Heap => "heap",
            Kind::Allocs => "allocs",
            Kind::Goroutine => "goroutine",
            Kind::Mutex => "mutex",
            Kind::Block => "block",
            Kind::Trace => "trace",
        }
    }
}

/// What to capture and when, relative to the session's clock.
#[derive(Clone, Debug)]
pub struct Plan {
    /// Kinds to capture.
    pub kinds: Vec<Kind>,
    /// When the window opens.
    pub start: Duration,
    /// How long it stays open.
    pub window: Duration,
    /// Longest CPU profile request (shorter chunks lose less on interruption).
    pub cpu_chunk: Duration,
    /// Goroutine snapshots spread over the window.
    pub goroutine_snapshots: usize,
}

/// A capture session writing into a run directory.
pub struct Session {
    ep: Endpoint,
    dir: PathBuf,
    clock: Instant,
    stop: Arc<AtomicBool>,
    artifacts: Mutex<Vec<Artifact>>,
    progress: Box<dyn Fn(&str) + Send + Sync>,
}

/// What a window produced (also on disk).
#[derive(Default)]
pub struct Captured {
    /// The window actually covered, seconds on the session clock.
    pub window: (f64, f64),
}

impl Session {
    /// A session on `ep` writing into `dir`, timing everything from `clock`; `stop` ends
    /// it early.
    pub fn new(
        ep: Endpoint,
        dir: &Path,
        clock: Instant,
        stop: Arc<AtomicBool>,
        progress: Box<dyn Fn(&str) + Send + Sync>,
    ) -> Self {
        Self {
            ep,
            dir: dir.to_path_buf(),
            clock,
            stop,
            artifacts: Mutex::new(Vec::new()),
            progress,
        }
    }

    /// Seconds on the session clock.
    pub fn now(&self) -> f64 {
        self.clock.elapsed().as_secs_f64()
    }

    /// Artifacts recorded so far.
    pub fn artifacts(&self) -> Vec<Artifact> {
        self.artifacts.lock().map(|a| a.clone()).unwrap_or_default()
    }

    fn stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// Sleeps until `at` on the session clock; false when stopped first.
    fn sleep_until(&self, at: Duration) -> bool {
        loop {
            if self.stopped() {
                return false;
            }
            let now = self.clock.elapsed();
            if now >= at {
                return true;
            }
            std::thread::sleep((at - now).min(Duration::from_millis(100)));
        }
    }

    fn record(&self, a: Artifact) {
        if let Some(e) = &a.error {
            (self.progress)(&format!("capture failed: {e}"));
        }
        if let Ok(mut list) = self.artifacts.lock() {
            list.push(a);
        }
    }

    /// Fetches a pprof endpoint and records the attempt; writes the bytes to `file` if given.
    fn fetch(&self, kind: &str, what: &str, busy: Duration, file: Option<&str>) -> Option<Vec<u8>> {
        let start = self.now();
        let result = self.ep.pprof(what, busy);
        let end = self.now();
        let source = self.ep.pprof_url(what);
        match result {
            Ok(bytes) => {
                let mut a = Artifact {
                    kind: kind.into(),
                    file: file.unwrap_or_default().into(),
                    source,
                    start_secs: start,
                    end_secs: end,
                    bytes: bytes.len() as u64,
                    error: None,
                };
                if let Some(f) = file
                    && let Err(e) = std::fs::write(self.dir.join(f), &bytes)
                {
                    a.error = Some(format!("writing {f}: {e}"));
                }
                self.record(a);
                Some(bytes)
            }
            Err(e) => {
                self.record(Artifact {
                    kind: kind.into(),
                    source,
                    start_secs: start,
                    end_secs: end,
                    error: Some(e.to_string()),
                    ..Artifact::default()
                });
                None
            }
        }
    }

    fn parse(&self, kind: &str, bytes: Option<Vec<u8>>) -> Option<Profile> {
        let bytes = bytes?;
        match culprit_profile::parse(&bytes) {
            Ok(p) => Some(p),
            Err(e) => {
                self.note_error(kind, format!("{kind} profile did not parse: {e}"));
                None
            }
        }
    }

    fn note_error(&self, kind: &str, error: String) {
        let t = self.now();
        self.record(Artifact {
            kind: kind.into(),
            start_secs: t,
            end_secs: t,
            error: Some(error),
            ..Artifact::default()
        });
    }

    /// Writes a derived profile (delta or merge) as gzipped proto.
    fn write_profile(&self, kind: &str, file: &str, p: &Profile, start: f64) {
        let bytes = culprit_profile::encode_gzip(p);
        let mut a = Artifact {
            kind: kind.into(),
            file: file.into(),
            source: "derived".into(),
            start_secs: start,
            end_secs: self.now(),
            bytes: bytes.len() as u64,
            error: None,
        };
        if let Err(e) = std::fs::write(self.dir.join(file), &bytes) {
            a.error = Some(format!("writing {file}: {e}"));
            a.file.clear();
        }
        self.record(a);
    }

    /// Runs one capture window per `plan`. Returns the window covered; stops early (keeping
    /// what it has) when the stop flag is raised.
    pub fn run(&self, plan: &Plan) -> Captured {
        let has = |k: Kind| plan.kinds.contains(&k);
        if !self.sleep_until(plan.start) {
            return Captured::default();
        }
        let opened = self.now();
        let end = plan.start + plan.window;
        (self.progress)("capture window open");
        let cumulative: Vec<Kind> = [Kind::Allocs, Kind::Mutex, Kind::Block]
            .into_iter()
            .filter(|&k| has(k))
            .collect();
        std::thread::scope(|s| {
            let before: Vec<_> = cumulative
                .iter()
                .map(|&k| {
                    s.spawn(move || {
                        let file = format!("{}-start.pb.gz", k.endpoint());
                        let b = self.fetch(k.endpoint(), k.endpoint(), Duration::ZERO, Some(&file));
                        (k, self.parse(k.endpoint(), b))
                    })
                })
                .collect();
            let cpu = has(Kind::Cpu).then(|| s.spawn(move || self.cpu_chunks(plan, end)));
            let trace = has(Kind::Trace).then(|| {
                s.spawn(move || {
                    let secs = plan.window.as_secs().max(1);
                    self.fetch(
                        "trace",
                        &format!("trace?seconds={secs}"),
                        Duration::from_secs(secs),
                        Some("trace.out"),
                    );
                })
            });
            let goroutines = has(Kind::Goroutine).then(|| s.spawn(move || self.goroutines(plan)));
            let before: Vec<(Kind, Option<Profile>)> =
                before.into_iter().filter_map(|h| h.join().ok()).collect();
            self.sleep_until(end);
            // End snapshots and the heap, together.
            let after: Vec<_> = cumulative
                .iter()
                .map(|&k| {
                    s.spawn(move || {
                        let file = format!("{}-end.pb.gz", k.endpoint());
                        let b = self.fetch(k.endpoint(), k.endpoint(), Duration::ZERO, Some(&file));
                        (k, self.parse(k.endpoint(), b))
                    })
                })
                .collect();
            if has(Kind::Heap) {
                self.fetch("heap", "heap", Duration::ZERO, Some(files::HEAP));
            }
            for h in after {
                let Ok((k, Some(after))) = h.join() else {
                    continue;
                };
                let Some(Some(before)) = before.iter().find(|(b, _)| *b == k).map(|(_, p)| p)
                else {
                    continue;
                };
                let file = match k {
                    Kind::Allocs => files::ALLOCS,
                    Kind::Mutex => files::MUTEX,
                    _ => files::BLOCK,
                };
                match combine::delta(before, &after) {
                    Ok(d) => self.write_profile(k.endpoint(), file, &d, opened),
                    Err(e) => self.note_error(k.endpoint(), format!("{} delta: {e}", k.endpoint())),
                }
            }
            if let Some(h) = cpu {
                let _ = h.join();
            }
            if let Some(h) = goroutines {
                let _ = h.join();
            }
            if let Some(h) = trace {
                let _ = h.join();
            }
        });
        Captured {
            window: (opened, self.now().min(end.as_secs_f64()).max(opened)),
        }
    }

    /// CPU profile chunks until `end` (or stop), merged into `cpu.pb.gz`.
    fn cpu_chunks(&self, plan: &Plan, end: Duration) {
        let started = self.now();
        let mut chunks = Vec::new();
        let mut i = 0;
        while !self.stopped() {
            let left = end.saturating_sub(self.clock.elapsed());
            let secs = left.min(plan.cpu_chunk).as_secs();
            if secs == 0 {
                break;
            }
            let file = format!("cpu-{i:02}.pb.gz");
            let bytes = self.fetch(
                "cpu-chunk",
                &format!("profile?seconds={secs}"),
                Duration::from_secs(secs),
                Some(&file),
            );
            match self.parse("cpu", bytes) {
                Some(p) => chunks.push(p),
                None => break,
            }
            i += 1;
        }
        if chunks.is_empty() {
            return;
        }
        match combine::merge(&chunks) {
            Ok(m) => self.write_profile("cpu", files::CPU, &m, started),
            Err(e) => self.note_error("cpu", format!("merging CPU chunks: {e}")),
        }
    }

    /// Goroutine snapshots spread over the window; keeps the fullest one as the peak and
    /// merges all of them for the findings.
    fn goroutines(&self, plan: &Plan) {
        let n = plan.goroutine_snapshots.max(1);
        let mut snaps: Vec<Profile> = Vec::new();
        let mut peak: Option<(i64, Vec<u8>, Vec<u8>)> = None;
        for i in 0..n {
            let at = plan.start + plan.window.mul_f64((i as f64 + 1.0) / (n as f64 + 1.0));
            if !self.sleep_until(at) {
                break;
            }
            let Some(proto) = self.fetch("goroutine-snapshot", "goroutine", Duration::ZERO, None)
            else {
                continue;
            };
            let text = self.fetch("goroutine-text", "goroutine?debug=2", Duration::ZERO, None);
            let Some(p) = self.parse("goroutine", Some(proto.clone())) else {
                continue;
            };
            let total: i64 = p.samples.iter().filter_map(|s| s.values.first()).sum();
            if peak.as_ref().is_none_or(|(t, _, _)| total > *t) {
                peak = Some((total, proto, text.unwrap_or_default()));
            }
            snaps.push(p);
        }
        if let Some((_, proto, text)) = peak {
            self.write_bytes("goroutine", files::GOROUTINE, &proto);
            if !text.is_empty() {
                self.write_bytes("goroutines-text", files::GOROUTINES_TEXT, &text);
            }
        }
        if !snaps.is_empty() {
            let t = self.now();
            match combine::merge(&snaps) {
                Ok(m) => {
                    self.write_profile("goroutine-snapshots", files::GOROUTINE_SNAPSHOTS, &m, t)
                }
                Err(e) => self.note_error("goroutine", format!("merging snapshots: {e}")),
            }
        }
    }

    fn write_bytes(&self, kind: &str, file: &str, bytes: &[u8]) {
        let t = self.now();
        let mut a = Artifact {
            kind: kind.into(),
            file: file.into(),
            source: self.ep.pprof_url("goroutine"),
            start_secs: t,
            end_secs: t,
            bytes: bytes.len() as u64,
            error: None,
        };
        if let Err(e) = std::fs::write(self.dir.join(file), bytes) {
            a.error = Some(format!("writing {file}: {e}"));
        }
        self.record(a);
    }

    /// Polls Go runtime stats every `every` until stopped or `until` is set; reads
    /// `/debug/vars`, falling back to the MemStats block of `heap?debug=1`.
    pub fn poll_runtime(&self, every: Duration, until: &AtomicBool) -> Vec<RuntimePoint> {
        let mut out = Vec::new();
        let mut use_heap = false;
        let mut failures = 0;
        let mut next = self.clock.elapsed();
        while !self.stopped() && !until.load(Ordering::SeqCst) {
            let t = self.now();
            let stats = if use_heap {
                self.ep
                    .pprof("heap?debug=1", Duration::ZERO)
                    .map_err(|e| e.to_string())
                    .and_then(|b| {
                        culprit_watch::go_stats::parse_heap_trailer(&b).map_err(|e| e.to_string())
                    })
            } else {
                match self.ep.origin_get("/debug/vars") {
                    Ok(b) => culprit_watch::go_stats::parse_expvar(&b)
                        .map(|(m, _)| m)
                        .map_err(|e| e.to_string()),
                    Err(CaptureError::Status { status: 404, .. }) => {
                        use_heap = true;
                        continue;
                    }
                    Err(e) => Err(e.to_string()),
                }
            };
            match stats {
                Ok(m) => out.push(RuntimePoint {
                    t,
                    heap_alloc: m.heap_alloc,
                    next_gc: m.next_gc,
                    num_gc: m.num_gc,
                    pause_total_ns: m.pause_total_ns.unwrap_or(0),
                    total_alloc: m.total_alloc,
                    gc_cpu_fraction: m.gc_cpu_fraction,
                }),
                Err(e) => {
                    failures += 1;
                    if failures == 3 {
                        self.note_error("runtime", format!("Go runtime stats: {e}"));
                    }
                }
            }
            next += every;
            while !self.stopped() && !until.load(Ordering::SeqCst) && self.clock.elapsed() < next {
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        out
    }
}
