//! The experiment loop, on a thread of its own that is never sampled.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::config::Config;
use crate::counters::{self, BEGIN, END, THROUGHPUT};
use crate::objects::{self, Mapping};
use crate::sampler::{self, DELAY_SIZE, NONE, SCOPE, SELECTED, SELECTED_SAMPLES, Scope, WAITING};
use crate::{delay, output, table::Table};

static RUNNING: AtomicBool = AtomicBool::new(false);
static STOP: AtomicBool = AtomicBool::new(false);
static STARTED_NS: AtomicU64 = AtomicU64::new(0);
static FINISHED: AtomicBool = AtomicBool::new(false);

/// Visits an experiment should see; shorter experiments are lengthened until they do.
const TARGET_DELTA: usize = 5;
/// Pause between experiments so threads pay leftover delays before the next one starts.
const COOL_OFF: Duration = Duration::from_millis(10);

/// True once profiling has started in this process.
pub fn running() -> bool {
    RUNNING.load(Ordering::Acquire)
}

/// Writes a message to standard error.
pub fn warn(msg: &str) {
    let line = format!("culprit causal: {msg}\n");
    // SAFETY: writing a live buffer to stderr.
    unsafe { libc::write(2, line.as_ptr().cast(), line.len()) };
}

fn monotonic_ns() -> u64 {
    static EPOCH: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    EPOCH.get_or_init(Instant::now).elapsed().as_nanos() as u64
}

/// Loads the scope, installs sampling and starts the experiment thread.
pub fn start() {
    let Some(cfg) = Config::from_env() else {
        return;
    };
    let table = match std::fs::read(&cfg.table)
        .ok()
        .and_then(|b| Table::decode(&b))
    {
        Some(t) => t,
        None => {
            warn(&format!(
                "cannot read line table {}; not profiling",
                cfg.table
            ));
            return;
        }
    };
    if !output::open(&cfg.out) {
        warn(&format!("cannot open {}; not profiling", cfg.out));
        return;
    }
    let counts = (0..table.lines.len()).map(|_| AtomicU64::new(0)).collect();
    let reported = (0..table.lines.len()).map(|_| AtomicU64::new(0)).collect();
    let fixed = cfg.fixed_line.as_ref().and_then(|want| {
        let id = table
            .lines
            .iter()
            .position(|l| l == want || l.ends_with(&format!("/{want}")));
        if id.is_none() {
            warn(&format!(
                "--fixed-line {want} is not a line in scope; choosing lines by samples"
            ));
        }
        id
    });
    let maps = (0..table.objects.len())
        .map(|_| Mapping::default())
        .collect();
    let scope = SCOPE.get_or_init(|| Scope {
        table,
        maps,
        counts,
        reported,
    });
    objects::refresh(&scope.table, &scope.maps, true);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    STARTED_NS.store(monotonic_ns(), Ordering::Relaxed);
    output::append(&format!("startup\ttime={now}\n"));
    sampler::install(cfg.period);
    RUNNING.store(true, Ordering::Release);
    sampler::start_thread();
    let params = Box::new(Params {
        fixed_line: fixed.map(|i| i as u32),
        fixed_speedup: cfg.fixed_speedup,
        experiment: cfg.experiment,
    });
    spawn(params);
}

struct Params {
    fixed_line: Option<u32>,
    fixed_speedup: Option<u32>,
    experiment: Duration,
}

fn spawn(params: Box<Params>) {
    extern "C" fn body(p: *mut libc::c_void) -> *mut libc::c_void {
        // SAFETY: `p` is the Box leaked below, handed over once.
        let params = unsafe { Box::from_raw(p.cast::<Params>()) };
        experiments(&params);
        std::ptr::null_mut()
    }
    let real: unsafe extern "C" fn(
        *mut libc::pthread_t,
        *const libc::pthread_attr_t,
        extern "C" fn(*mut libc::c_void) -> *mut libc::c_void,
        *mut libc::c_void,
    ) -> libc::c_int = {
        // SAFETY: dlsym with a NUL-terminated name; checked for null below.
        let p = unsafe { libc::dlsym(libc::RTLD_NEXT, c"pthread_create".as_ptr()) };
        if p.is_null() {
            warn("cannot find pthread_create; not profiling");
            return;
        }
        // SAFETY: pthread_create has this signature.
        unsafe { std::mem::transmute::<*mut libc::c_void, _>(p) }
    };
    let raw = Box::into_raw(params);
    // SAFETY: a zeroed pthread_t is a valid out-parameter; blocking SIGPROF in the new
    // thread is inherited from our mask, restored right after.
    unsafe {
        let mut t: libc::pthread_t = std::mem::zeroed();
        let mut block: libc::sigset_t = std::mem::zeroed();
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut block);
        libc::sigaddset(&mut block, libc::SIGPROF);
        libc::pthread_sigmask(libc::SIG_BLOCK, &block, &mut old);
        if real(&mut t, std::ptr::null(), body, raw.cast()) != 0 {
            drop(Box::from_raw(raw));
            warn("cannot start the experiment thread; not profiling");
        } else {
            libc::pthread_detach(t);
        }
        libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
    }
}

/// A small xorshift generator; experiments need variety, not quality.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Picks up objects the program loaded or unloaded since the last look.
fn watch_loader() {
    if let Some(s) = SCOPE.get() {
        objects::refresh(&s.table, &s.maps, false);
    }
}

fn sleep_unless_stopped(d: Duration) -> bool {
    let end = Instant::now() + d;
    while !STOP.load(Ordering::Acquire) {
        watch_loader();
        let now = Instant::now();
        if now >= end {
            return true;
        }
        std::thread::sleep((end - now).min(Duration::from_millis(5)));
    }
    false
}

fn experiments(p: &Params) {
    let Some(scope) = SCOPE.get() else { return };
    let mut rng = Rng(monotonic_ns() | 1);
    let mut length = p.experiment;
    let mut n = 0u64;
    while !STOP.load(Ordering::Acquire) {
        // A third of experiments measure the baseline; the rest pick 5..=100% evenly. A
        // fixed speed-up alternates with the baseline so it can still be compared.
        let pct = match p.fixed_speedup {
            Some(x) if n % 2 == 1 => x,
            Some(_) => 0,
            None if rng.next().is_multiple_of(3) => 0,
            None => 5 * (1 + (rng.next() % 20) as u32),
        };
        SELECTED_SAMPLES.store(0, Ordering::Release);
        SELECTED.store(p.fixed_line.map_or(WAITING, |l| l + 1), Ordering::Release);
        let wait_until = Instant::now() + Duration::from_secs(1);
        while SELECTED.load(Ordering::Acquire) == WAITING {
            if STOP.load(Ordering::Acquire) || Instant::now() > wait_until {
                break;
            }
            watch_loader();
            std::thread::sleep(Duration::from_millis(1));
        }
        let selected = SELECTED.load(Ordering::Acquire);
        if selected == WAITING || selected == NONE {
            SELECTED.store(NONE, Ordering::Release);
            continue;
        }
        let line = &scope.table.lines[(selected - 1) as usize];
        let delay_size = sampler::period_ns() * u64::from(pct) / 100;
        let before = counters::snapshot();
        let g0 = delay::GLOBAL.load(Ordering::Acquire);
        let t0 = monotonic_ns();
        DELAY_SIZE.store(delay_size, Ordering::Release);
        let completed = sleep_unless_stopped(length);
        DELAY_SIZE.store(0, Ordering::Release);
        let t1 = monotonic_ns();
        let g1 = delay::GLOBAL.load(Ordering::Acquire);
        let after = counters::snapshot();
        SELECTED.store(NONE, Ordering::Release);
        if !completed {
            break;
        }
        let duration = (t1 - t0).saturating_sub(g1 - g0);
        let mut rec = format!(
            "experiment\tselected={line}\tspeedup={:.2}\tduration={duration}\tselected-samples={}\n",
            f64::from(pct) / 100.0,
            SELECTED_SAMPLES.load(Ordering::Acquire)
        );
        let mut min_delta = usize::MAX;
        let mut latency_names = Vec::new();
        for (name, kind, count) in &after.counts {
            let delta = count - before.get(name, *kind);
            match *kind {
                THROUGHPUT => {
                    min_delta = min_delta.min(delta);
                    let _ = writeln!(rec, "throughput-point\tname={name}\tdelta={delta}");
                }
                BEGIN | END if !latency_names.contains(name) => latency_names.push(name.clone()),
                _ => {}
            }
        }
        for name in latency_names {
            let arrivals = after.get(&name, BEGIN) - before.get(&name, BEGIN);
            let departures = after.get(&name, END) - before.get(&name, END);
            let in_flight = after.get(&name, BEGIN) as f64 - after.get(&name, END) as f64;
            min_delta = min_delta.min(arrivals);
            let _ = writeln!(
                rec,
                "latency-point\tname={name}\tarrivals={arrivals}\tdepartures={departures}\tdifference={in_flight}"
            );
        }
        output::append(&rec);
        n += 1;
        if n.is_multiple_of(10) {
            output::append(&samples_records(scope));
        }
        // Lengthen experiments that saw too few visits to measure; shorten generous ones.
        if min_delta < TARGET_DELTA {
            length = (length * 2).min(Duration::from_secs(10));
        } else if min_delta > TARGET_DELTA * 4 && length > p.experiment {
            length /= 2;
        }
        if !sleep_unless_stopped(COOL_OFF) {
            break;
        }
    }
}

/// `runtime` and per-line `samples` records for what was sampled since the last call
/// (coz writes deltas; readers sum them). Safe to call from two threads.
fn samples_records(scope: &Scope) -> String {
    let mut s = format!(
        "runtime\ttime={}\n",
        monotonic_ns() - STARTED_NS.load(Ordering::Relaxed)
    );
    for (i, c) in scope.counts.iter().enumerate() {
        let now = c.load(Ordering::Relaxed);
        let new = now.saturating_sub(scope.reported[i].swap(now, Ordering::AcqRel));
        if new > 0 {
            let _ = writeln!(s, "samples\tlocation={}\tcount={new}", scope.table.lines[i]);
        }
    }
    s
}

/// Stops experiments and writes the final records.
pub fn finish() {
    if !running() || FINISHED.swap(true, Ordering::AcqRel) {
        return;
    }
    STOP.store(true, Ordering::Release);
    DELAY_SIZE.store(0, Ordering::Release);
    sampler::stop_thread();
    if let Some(scope) = SCOPE.get() {
        let mut s = samples_records(scope);
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        let _ = writeln!(s, "shutdown\ttime={now}");
        output::append(&s);
    }
}
