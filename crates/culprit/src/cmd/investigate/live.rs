//! One investigation on one clock: the attack, the capture window (pprof or native), Go
//! runtime and process-tree polling; then the run directory, findings and report.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use culprit_investigate::capture::{ClientOptions, Endpoint};
use culprit_investigate::findings::Finding;
use culprit_investigate::run::{
    self, Artifact, LoadPlan, LoadSecond, Manifest, ProcessPoint, RunData, files,
};
use culprit_investigate::session::{Kind, Plan, Session};
use culprit_load::attack::{Attack, Config};
use culprit_load::pacer::Pacer;
use culprit_load::rate::Rate;
use culprit_load::results::HitResult;
use culprit_load::targets::Target;
use indicatif::{ProgressBar, ProgressStyle};

/// Everything one investigation needs.
pub struct Live {
    /// Service origin or pprof base for Go captures; `None` profiles natively.
    pub pprof: Option<String>,
    /// Requests to send.
    pub targets: Vec<Target>,
    /// Rate as given.
    pub rate_text: String,
    /// Parsed rate.
    pub rate: Rate,
    /// Attack length.
    pub duration: Duration,
    /// Workers at the start / at most.
    pub workers: usize,
    /// Upper bound of workers.
    pub max_workers: usize,
    /// Per-request timeout of the attack.
    pub hit_timeout: Duration,
    /// Endpoint client options.
    pub client: ClientOptions,
    /// Profile kinds for Go captures.
    pub kinds: Vec<Kind>,
    /// Process tree to watch.
    pub watch_pid: Option<u32>,
    /// Process to profile natively with perf_event (when `pprof` is `None`).
    pub native_pid: Option<u32>,
    /// Run directory.
    pub dir: PathBuf,
    /// What the manifest says was investigated.
    pub target: run::Target,
}

/// What a finished (or interrupted) run left.
pub struct Outcome {
    /// The run directory.
    pub dir: PathBuf,
    /// Ranked findings.
    pub findings: Vec<Finding>,
    /// False when interrupted.
    pub complete: bool,
}

/// The process-wide interrupt flag, set by the first Ctrl-C; the second one exits.
pub fn interrupt_flag() -> Arc<AtomicBool> {
    static FLAG: OnceLock<Arc<AtomicBool>> = OnceLock::new();
    FLAG.get_or_init(|| {
        let flag = Arc::new(AtomicBool::new(false));
        let f = flag.clone();
        let _ = ctrlc::set_handler(move || {
            if f.swap(true, Ordering::SeqCst) {
                std::process::exit(130);
            }
            eprintln!("\ninterrupted: keeping what was captured and writing the report (Ctrl-C again to quit now)");
        });
        flag
    })
    .clone()
}

/// Per-second load accumulator.
#[derive(Default)]
struct Second {
    requests: u64,
    errors: u64,
    latencies: Vec<f64>,
}

fn seconds_to_series(map: &BTreeMap<u64, Second>) -> Vec<LoadSecond> {
    map.iter()
        .map(|(t, s)| {
            let mut l = s.latencies.clone();
            l.sort_by(f64::total_cmp);
            let q = |p: f64| {
                if l.is_empty() {
                    0.0
                } else {
                    let i = ((l.len() as f64 * p).ceil() as usize).clamp(1, l.len()) - 1;
                    l.get(i).copied().unwrap_or(0.0)
                }
            };
            LoadSecond {
                t: *t as f64,
                requests: s.requests,
                errors: s.errors,
                mean: if l.is_empty() {
                    0.0
                } else {
                    l.iter().sum::<f64>() / l.len() as f64
                },
                p50: q(0.5),
                p99: q(0.99),
                max: l.last().copied().unwrap_or(0.0),
            }
        })
        .collect()
}

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

fn rfc3339_now() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

/// The default run directory, `runs/<date-time>`.
pub fn default_dir() -> PathBuf {
    let stamp = rfc3339_now().replace([':', '-'], "");
    Path::new("runs").join(stamp.trim_end_matches('Z'))
}

/// Runs the investigation and writes the run directory.
pub fn investigate(live: Live) -> anyhow::Result<Outcome> {
    std::fs::create_dir_all(&live.dir)
        .with_context(|| format!("creating run directory {}", live.dir.display()))?;
    let stop = interrupt_flag();
    let clock = Instant::now();
    let started_unix_ms = unix_ms();
    let mut manifest = Manifest {
        tool: "culprit".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        command: std::env::args().collect(),
        started: rfc3339_now(),
        started_unix_ms,
        complete: false,
        target: live.target.clone(),
        load: Some(LoadPlan {
            rate: live.rate_text.clone(),
            duration_secs: live.duration.as_secs_f64(),
            targets: live
                .targets
                .iter()
                .map(|t| format!("{} {}", t.method, t.url))
                .collect(),
        }),
        ..Manifest::default()
    };
    // Write a first manifest at once: an interrupted run is still a run directory.
    run::write_json(&live.dir.join(files::MANIFEST), &manifest)?;

    let progress = progress_bar(live.duration);
    let say = {
        let pb = progress.clone();
        move |m: &str| pb.println(m)
    };

    // The load, bucketed per second of the run clock.
    let seconds: Arc<Mutex<BTreeMap<u64, Second>>> = Arc::default();
    let attack_offset = clock.elapsed().as_secs_f64();
    let sink = {
        let seconds = seconds.clone();
        move |batch: &[HitResult]| -> std::io::Result<()> {
            if let Ok(mut map) = seconds.lock() {
                for r in batch {
                    let t = attack_offset + r.done_ns as f64 / 1e9;
                    let s = map.entry(t as u64).or_default();
                    s.requests += 1;
                    if !r.is_success() {
                        s.errors += 1;
                    }
                    s.latencies.push(r.latency().as_secs_f64());
                }
            }
            Ok(())
        }
    };
    let config = Config {
        pacer: Pacer::Constant(live.rate),
        duration: Some(live.duration),
        workers: live.workers,
        max_workers: live.max_workers,
        timeout: live.hit_timeout,
        ..Config::default()
    };
    let attack =
        Attack::start(config, live.targets.clone(), Box::new(sink)).context("starting the load")?;
    let stopper = attack.stopper();

    // The capture window: the steady part of the attack.
    let warmup =
        (live.duration.mul_f64(0.15)).clamp(Duration::from_millis(500), Duration::from_secs(5));
    let window_len = Duration::from_secs(
        (live.duration.saturating_sub(warmup).as_secs_f64() - 0.5)
            .floor()
            .max(1.0) as u64,
    );
    let plan = Plan {
        kinds: live.kinds.clone(),
        start: warmup,
        window: window_len,
        cpu_chunk: Duration::from_secs(5),
        goroutine_snapshots: 3,
    };
    let done = Arc::new(AtomicBool::new(false));
    let mut window = None;
    let mut runtime_points = Vec::new();
    let mut process_points = Vec::new();
    let mut artifacts: Vec<Artifact> = Vec::new();
    let mut notes = Vec::new();
    let session = match &live.pprof {
        Some(url) => Some(Session::new(
            Endpoint::new(url, live.client.clone())?,
            &live.dir,
            clock,
            stop.clone(),
            Box::new(say),
        )),
        None => None,
    };
    std::thread::scope(|s| -> anyhow::Result<()> {
        let ticker = s.spawn(|| {
            while !done.load(Ordering::SeqCst) {
                let snap = attack.snapshot();
                progress.set_position(clock.elapsed().as_millis() as u64);
                progress.set_message(format!(
                    "{} requests · mean {} · p99 {} · {:.1}% ok",
                    snap.requests,
                    culprit_investigate::units::seconds(snap.latencies.mean as f64 / 1e9),
                    culprit_investigate::units::seconds(snap.latencies.p99 as f64 / 1e9),
                    snap.success * 100.0
                ));
                if stop.load(Ordering::SeqCst) {
                    stopper.stop();
                }
                std::thread::sleep(Duration::from_millis(200));
            }
        });
        let (done_ref, stop_ref) = (&done, &stop);
        let watcher = live
            .watch_pid
            .map(|pid| s.spawn(move || watch_process(pid, clock, done_ref, stop_ref)));
        match &session {
            Some(session) => {
                let runtime = s.spawn(|| session.poll_runtime(Duration::from_secs(1), &done));
                let captured = session.run(&plan);
                window = Some(captured.window);
                wait_attack_end(&attack, &stop);
                done.store(true, Ordering::SeqCst);
                runtime_points = runtime.join().unwrap_or_default();
                artifacts = session.artifacts();
            }
            None => {
                let pid = live
                    .native_pid
                    .context("nothing to profile: no pprof URL and no process")?;
                match native_window(pid, clock, &plan, &stop, &live.dir) {
                    Ok((w, a)) => {
                        window = Some(w);
                        artifacts.push(a);
                    }
                    Err(e) => notes.push(format!("native profiling failed: {e:#}")),
                }
                wait_attack_end(&attack, &stop);
                done.store(true, Ordering::SeqCst);
            }
        }
        done.store(true, Ordering::SeqCst);
        if let Some(w) = watcher {
            process_points = w.join().unwrap_or_default();
        }
        let _ = ticker.join();
        Ok(())
    })?;
    let interrupted = stop.load(Ordering::SeqCst);
    if interrupted {
        stopper.stop();
    }
    let summary = attack.wait();
    progress.finish_and_clear();
    if let Err(e) = &summary {
        notes.push(format!("load: {e}"));
    }
    let load = seconds
        .lock()
        .map(|m| seconds_to_series(&m))
        .unwrap_or_default();
    run::write_json(&live.dir.join(files::LOAD), &load)?;
    if !runtime_points.is_empty() {
        run::write_json(&live.dir.join(files::RUNTIME), &runtime_points)?;
    }
    if !process_points.is_empty() {
        run::write_json(&live.dir.join(files::PROCESS), &process_points)?;
    }
    manifest.window = window;
    manifest.artifacts = artifacts;
    manifest.notes = notes;
    manifest.ended = rfc3339_now();
    manifest.complete = !interrupted;
    if interrupted {
        manifest.incomplete_reason = Some(format!(
            "Interrupted (Ctrl-C) {:.1}s into a {:.0}s run.",
            clock.elapsed().as_secs_f64(),
            live.duration.as_secs_f64()
        ));
    }
    run::write_json(&live.dir.join(files::MANIFEST), &manifest)?;
    finish(&live.dir, !interrupted)
}

/// Analyzes the run directory, writes `findings.json` and `report.html`.
pub fn finish(dir: &Path, complete: bool) -> anyhow::Result<Outcome> {
    let data = RunData::load(dir)?;
    let findings = data.analyze();
    run::write_json(&dir.join(files::FINDINGS), &findings)?;
    let html = culprit_investigate::html::report::render(&data, &findings);
    let report = dir.join(files::REPORT);
    std::fs::write(&report, html).with_context(|| format!("writing {}", report.display()))?;
    Ok(Outcome {
        dir: dir.to_path_buf(),
        findings,
        complete,
    })
}

fn wait_attack_end(attack: &Attack, stop: &AtomicBool) {
    while !attack.is_finished() && !stop.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn progress_bar(duration: Duration) -> ProgressBar {
    let pb = ProgressBar::new(duration.as_millis() as u64);
    if let Ok(style) = ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {msg}")
    {
        pb.set_style(style);
    }
    pb
}

/// Samples the process tree every second until `done`.
fn watch_process(
    pid: u32,
    clock: Instant,
    done: &AtomicBool,
    stop: &AtomicBool,
) -> Vec<ProcessPoint> {
    let mut out = Vec::new();
    let Ok(mut sampler) = culprit_watch::Sampler::new(culprit_watch::Target::Pid(pid)) else {
        return out;
    };
    while !done.load(Ordering::SeqCst) && !stop.load(Ordering::SeqCst) {
        match sampler.sample() {
            Ok(s) => out.push(ProcessPoint {
                t: clock.elapsed().as_secs_f64(),
                cpu_cores: s.tree.cpu_cores.unwrap_or(0.0),
                rss: s.tree.rss_bytes,
                threads: s.tree.threads,
            }),
            Err(_) => break,
        }
        let next = Instant::now() + Duration::from_secs(1);
        while Instant::now() < next && !done.load(Ordering::SeqCst) && !stop.load(Ordering::SeqCst)
        {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    out
}

/// Sampling rate of native CPU profiles (1 ms of a thread's CPU per sample).
const NATIVE_HZ: u64 = 1000;

/// Profiles `pid` natively over the plan's window and writes `cpu.pb.gz`.
fn native_window(
    pid: u32,
    clock: Instant,
    plan: &Plan,
    stop: &AtomicBool,
    dir: &Path,
) -> anyhow::Result<((f64, f64), Artifact)> {
    let sleep_until = |at: Duration| {
        while clock.elapsed() < at && !stop.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    sleep_until(plan.start);
    let start = clock.elapsed().as_secs_f64();
    // cpu-clock periods run per thread: at 99 Hz a thread-per-connection service whose
    // threads each use under 10 ms of CPU in the window yields no sample at all.
    let opts = culprit_probe::RecordOptions {
        frequency_hz: NATIVE_HZ,
        ..Default::default()
    };
    let recorder = culprit_probe::Recorder::attach(pid, &opts)
        .with_context(|| format!("attaching the sampler to process {pid}"))?;
    sleep_until(plan.start + plan.window);
    // The window ends when sampling stops; symbolizing afterwards is not part of it.
    let end = clock.elapsed().as_secs_f64();
    let profile = recorder.stop().context("stopping the sampler")?;
    let bytes = culprit_profile::encode_gzip(&profile);
    std::fs::write(dir.join(files::CPU), &bytes)
        .with_context(|| format!("writing {}", dir.join(files::CPU).display()))?;
    Ok((
        (start, end),
        Artifact {
            kind: "cpu".into(),
            file: files::CPU.into(),
            source: format!("native perf_event sampling of pid {pid}"),
            start_secs: start,
            end_secs: end,
            bytes: bytes.len() as u64,
            error: None,
        },
    ))
}
