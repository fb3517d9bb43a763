//! The attack engine.
//!
//! [`Attack::start`] spawns worker threads (one per core, or fewer at modest rates) that
//! share nothing but a hit counter. Plain-`http://` HTTP/1.1 attacks run an epoll event
//! loop per thread (`engine.rs`); TLS, HTTP/2, h2c and unix sockets run hyper on a
//! current-thread tokio runtime per thread. Each worker owns one connection. The [`Pacer`] turns a hit number into its due time, so
//! every hit has a scheduled time independent of how fast the server answers. Per thread,
//! one dispatcher claims hit numbers from a shared counter, sleeps on one timer until the
//! hit is due and hands it to an idle worker (`dispatch.rs`); when every worker is busy it
//! starts another one (up to `max_workers`), and once none may be started the hit waits
//! for a free worker and its latency (counted from the schedule) shows the wait. Without
//! pacing (rate 0) workers take the next number themselves as soon as they are free.
//!
//! Results flow in batches to a collector thread that keeps running [`Metrics`] and hands
//! every batch to a [`Sink`] (the result log, a live view, or an embedding program).
//!
//! ```no_run
//! use culprit_load::attack::{Attack, Config};
//! use culprit_load::{pacer::Pacer, rate::Rate, targets};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let targets = targets::parse("GET http://127.0.0.1:8080/\n", targets::Format::Http,
//!     &Default::default(), &mut |p| std::fs::read(p))?;
//! let config = Config {
//!     pacer: Pacer::Constant(Rate::per_second(100)),
//!     duration: Some(std::time::Duration::from_secs(5)),
//!     ..Config::default()
//! };
//! let sink = |batch: &[culprit_load::results::HitResult]| -> std::io::Result<()> {
//!     println!("{} results", batch.len());
//!     Ok(())
//! };
//! let attack = Attack::start(config, targets, Box::new(sink))?;
//! let stop = attack.stopper(); // stop.stop() from anywhere ends the attack early
//! # drop(stop);
//! let summary = attack.wait()?;
//! println!("p99 {} ns", summary.latencies.p99);
//! # Ok(()) }
//! ```

mod client;
mod dispatch;
mod engine;
mod epoll;
pub mod h1;
mod request;
mod resolve;
mod rxtime;
mod sendq;
mod timer;
mod tls;

use std::cell::{Cell, RefCell};
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub use resolve::DnsTtl;
pub use tls::{TlsOptions, pem_certs, pem_key};

use crate::metrics::{Metrics, Summary};
use crate::pacer::Pacer;
use crate::rate::Rate;
use crate::results::HitResult;
use crate::targets::Target;
use client::{Client, WorkerConn};
use dispatch::{Board, Due, Mailbox};
use sendq::SendQueue;
pub use sendq::SendWindow;

/// Which HTTP version to speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Protocol {
    /// HTTP/1.1, and HTTP/2 over TLS when the server picks it by ALPN.
    #[default]
    Auto,
    /// HTTP/1.1 only (ALPN offers only `http/1.1`).
    Http1,
    /// HTTP/2 with prior knowledge over plain TCP (h2c); HTTP/2 by ALPN over TLS.
    H2c,
}

/// How to attack.
#[derive(Debug)]
pub struct Config {
    /// When hits are due.
    pub pacer: Pacer,
    /// How long to attack; `None` runs until stopped.
    pub duration: Option<Duration>,
    /// Workers at the start (each is one request in flight).
    pub workers: usize,
    /// Most workers ever; with rate 0 this many run from the start.
    pub max_workers: usize,
    /// HTTP/2 connections per host, shared by all workers (HTTP/1.1 uses one connection
    /// per worker).
    pub h2_connections: usize,
    /// Reuse connections (`false` sends `Connection: close` and reconnects every hit).
    pub keepalive: bool,
    /// HTTP version.
    pub protocol: Protocol,
    /// TLS trust and identity.
    pub tls: TlsOptions,
    /// Per-hit timeout, from connect to the last body byte.
    pub timeout: Duration,
    /// Redirects to follow; −1 does not follow them (3xx counts as success).
    pub redirects: i32,
    /// Stop reading response bodies after this many bytes.
    pub max_body: Option<u64>,
    /// Connect to this unix socket instead of the URL's host.
    pub unix_socket: Option<PathBuf>,
    /// How long DNS answers are kept.
    pub dns_ttl: DnsTtl,
    /// Worker threads (each runs its own single-threaded runtime); 0 picks one per core,
    /// or for paced plain-`http://` HTTP/1.1 attacks one per [`PACED_RATE_PER_THREAD`]
    /// hits/s of peak rate, up to one per core.
    pub threads: usize,
    /// Results per batch handed to the sink (also flushed every 10 ms).
    pub batch: usize,
    /// At a paced rate, hits due within this window of each other go out together, when
    /// the last of them is due, so they share one wake-up of the attacker and of the
    /// server. No hit goes out more than the window late, and its latency (taken from its
    /// due time) includes the wait.
    pub send_window: SendWindow,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            pacer: Pacer::Constant(Rate::per_second(50)),
            duration: None,
            workers: 10,
            max_workers: 1000,
            h2_connections: 1,
            keepalive: true,
            protocol: Protocol::Auto,
            tls: TlsOptions::default(),
            timeout: Duration::from_secs(30),
            redirects: 10,
            max_body: None,
            unix_socket: None,
            dns_ttl: DnsTtl::Forever,
            threads: 0,
            batch: 512,
            send_window: SendWindow::Auto,
        }
    }
}

/// Receives results as they come in, in batches, on the collector thread.
pub trait Sink: Send {
    /// Called once before any batch with the attack's start time (Unix nanoseconds).
    fn start(&mut self, _start_unix_ns: u64) -> std::io::Result<()> {
        Ok(())
    }

    /// Takes one batch; an error stops the attack and is returned by [`Attack::wait`].
    fn results(&mut self, batch: &[HitResult]) -> std::io::Result<()>;
}

impl<F: FnMut(&[HitResult]) -> std::io::Result<()> + Send> Sink for F {
    fn results(&mut self, batch: &[HitResult]) -> std::io::Result<()> {
        self(batch)
    }
}

impl<W: std::io::Write + Send> Sink for crate::results::LogWriter<W> {
    fn start(&mut self, start_unix_ns: u64) -> std::io::Result<()> {
        self.write_header(start_unix_ns)
    }

    fn results(&mut self, batch: &[HitResult]) -> std::io::Result<()> {
        self.write_batch(batch)
    }
}

/// Why an attack could not start or finish.
#[derive(Debug, thiserror::Error)]
pub enum AttackError {
    /// No targets to hit.
    #[error("no targets")]
    NoTargets,
    /// A flag combination that cannot work.
    #[error("{0}")]
    Config(String),
    /// TLS setup failed.
    #[error("tls: {0}")]
    Tls(String),
    /// A thread or runtime could not start.
    #[error("starting the attack: {0}")]
    Start(std::io::Error),
    /// The sink failed (e.g. the log's disk is full).
    #[error("writing results: {0}")]
    Sink(std::io::Error),
}

/// State every thread shares.
struct Shared {
    /// Held for the attack (the epoll engine reads receive stamps).
    _stamping: Option<rxtime::Stamping>,
    next_hit: AtomicU64,
    stopped: AtomicBool,
    stop: tokio::sync::Notify,
    workers: AtomicUsize,
    max_workers: usize,
    start: Instant,
}

/// Ends an attack early from any thread; cheap to clone.
#[derive(Clone)]
pub struct Stopper(Arc<Shared>);

impl Stopper {
    /// Stops scheduling hits; in-flight hits finish (bounded by the timeout).
    pub fn stop(&self) {
        self.0.stopped.store(true, Ordering::SeqCst);
        self.0.stop.notify_waiters();
    }
}

/// A running attack.
pub struct Attack {
    shared: Arc<Shared>,
    start_unix_ns: u64,
    metrics: Arc<Mutex<Metrics>>,
    workers: Vec<JoinHandle<()>>,
    collector: JoinHandle<Result<(), std::io::Error>>,
}

impl Attack {
    /// Starts attacking `targets` (round-robin) and returns at once.
    pub fn start(
        config: Config,
        targets: Vec<Target>,
        sink: Box<dyn Sink>,
    ) -> Result<Attack, AttackError> {
        if targets.is_empty() {
            return Err(AttackError::NoTargets);
        }
        let unpaced = config.pacer.is_unpaced();
        let max_workers = config.max_workers.max(1);
        let initial = if unpaced {
            max_workers
        } else {
            config.workers.clamp(1, max_workers)
        };
        if unpaced && config.duration.is_none() && max_workers == 0 {
            return Err(AttackError::Config("rate 0 needs --max-workers".into()));
        }
        let needs_tls = targets.iter().any(|t| t.url.scheme_str() == Some("https"));
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        // TLS, HTTP/2 and unix sockets go through hyper and cost several times the CPU per
        // hit of the direct HTTP/1.1 path the per-thread rate was measured with.
        let direct = !needs_tls
            && config.protocol != Protocol::H2c
            && config.unix_socket.is_none()
            && targets
                .iter()
                .all(|t| !t.headers.contains_key(http::header::TRANSFER_ENCODING));
        let threads = match config.threads {
            0 if direct => default_threads(&config.pacer, cores),
            0 => cores,
            n => n,
        }
        .min(initial)
        .max(1);
        let tls = if needs_tls {
            let alpn: Vec<Vec<u8>> = match config.protocol {
                Protocol::Http1 => vec![b"http/1.1".to_vec()],
                _ => vec![b"h2".to_vec(), b"http/1.1".to_vec()],
            };
            Some(tls::client_config(&config.tls, alpn)?)
        } else {
            None
        };
        let stamping = direct.then(rxtime::Stamping::hold).flatten();
        let share = |t: usize| initial / threads + usize::from(t < initial % threads);
        let mut warm = Vec::new();
        if direct {
            let limit = config.timeout.min(WARM_CONNECT_LIMIT);
            for t in 0..threads {
                warm.push(
                    engine::Warm::new(&config, &targets, share(t), limit)
                        .map_err(AttackError::Start)?,
                );
            }
        }
        let mut warm = warm.into_iter();
        let shared = Arc::new(Shared {
            _stamping: stamping,
            next_hit: AtomicU64::new(0),
            stopped: AtomicBool::new(false),
            stop: tokio::sync::Notify::new(),
            workers: AtomicUsize::new(initial),
            max_workers,
            start: Instant::now(),
        });
        let start_unix_ns = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        let metrics = Arc::new(Mutex::new(Metrics::new()));
        let (tx, rx) = mpsc::channel::<Vec<HitResult>>();
        let collector = {
            let metrics = metrics.clone();
            let shared = shared.clone();
            let mut sink = sink;
            std::thread::Builder::new()
                .name("culprit-collect".into())
                .spawn(move || -> std::io::Result<()> {
                    let mut failure = sink.start(start_unix_ns).err();
                    if failure.is_some() {
                        Stopper(shared.clone()).stop();
                    }
                    for batch in rx {
                        if let Ok(mut m) = metrics.lock() {
                            for r in &batch {
                                m.add(start_unix_ns, r);
                            }
                        }
                        if failure.is_none()
                            && let Err(e) = sink.results(&batch)
                        {
                            failure = Some(e);
                            Stopper(shared.clone()).stop();
                        }
                    }
                    failure.map_or(Ok(()), Err)
                })
                .map_err(AttackError::Start)?
        };
        let config = Arc::new(config);
        let targets = Arc::new(targets);
        let mut workers = Vec::with_capacity(threads);
        for t in 0..threads {
            let count = share(t);
            let h2_conns = config.h2_connections.div_ceil(threads).max(1);
            let (config, targets, shared, tls, tx) = (
                config.clone(),
                targets.clone(),
                shared.clone(),
                tls.clone(),
                tx.clone(),
            );
            let name = format!("culprit-attack-{t}");
            if let Some(warm) = warm.next() {
                let engine = engine::Engine::new(warm, shared, config, tx);
                let handle = std::thread::Builder::new()
                    .name(name)
                    .spawn(move || engine.run())
                    .map_err(AttackError::Start)?;
                workers.push(handle);
                continue;
            }
            let handle = std::thread::Builder::new()
                .name(name)
                .spawn(move || {
                    let rt = match tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                    {
                        Ok(rt) => rt,
                        Err(_) => return,
                    };
                    let local = tokio::task::LocalSet::new();
                    let client = Client::new(&config, &targets, tls, h2_conns);
                    let ctx = Rc::new(ThreadCtx {
                        shared,
                        config,
                        client,
                        board: Board::default(),
                        batch: RefCell::new(Vec::with_capacity(1024)),
                        tx,
                        live: Cell::new(0),
                        done: tokio::sync::Notify::new(),
                        next_worker_id: Cell::new(0),
                    });
                    local.block_on(&rt, thread_main(ctx, count));
                })
                .map_err(AttackError::Start)?;
            workers.push(handle);
        }
        drop(tx);
        Ok(Attack {
            shared,
            start_unix_ns,
            metrics,
            workers,
            collector,
        })
    }

    /// A handle that stops this attack early.
    pub fn stopper(&self) -> Stopper {
        Stopper(self.shared.clone())
    }

    /// When the attack started, in Unix nanoseconds; results' times are offsets from it.
    pub fn start_unix_ns(&self) -> u64 {
        self.start_unix_ns
    }

    /// Time since the start on the attack's monotonic clock.
    pub fn elapsed(&self) -> Duration {
        self.shared.start.elapsed()
    }

    /// Metrics over every result collected so far.
    pub fn snapshot(&self) -> Summary {
        self.metrics.lock().map(|m| m.summary()).unwrap_or_default()
    }

    /// True once every worker has finished.
    pub fn is_finished(&self) -> bool {
        self.workers.iter().all(JoinHandle::is_finished)
    }

    /// Waits for the attack to end and returns its metrics.
    pub fn wait(self) -> Result<Summary, AttackError> {
        for w in self.workers {
            let _ = w.join();
        }
        match self.collector.join() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(AttackError::Sink(e)),
            Err(_) => {
                return Err(AttackError::Sink(std::io::Error::other(
                    "result collector panicked",
                )));
            }
        }
        let m = self.metrics.lock().map(|m| m.summary()).unwrap_or_default();
        Ok(m)
    }
}

/// Runs an attack to the end: [`Attack::start`] then [`Attack::wait`].
pub fn run(
    config: Config,
    targets: Vec<Target>,
    sink: Box<dyn Sink>,
) -> Result<Summary, AttackError> {
    Attack::start(config, targets, sink)?.wait()
}

/// How long the epoll engine waits for its first connections before the clock starts.
const WARM_CONNECT_LIMIT: Duration = Duration::from_secs(1);

/// Hits per second one thread paces comfortably. Each thread sleeps between its own hits,
/// so fewer threads wake up fewer times for the same rate: at 20k/s on two cores one
/// thread took 25–35% less CPU than two (`bench/attack.sh`).
pub const PACED_RATE_PER_THREAD: f64 = 25_000.0;

/// Threads for `pacer` on a machine with `cores` cores.
fn default_threads(pacer: &Pacer, cores: usize) -> usize {
    let peak = match *pacer {
        Pacer::Constant(r) if !r.is_max() => r.hz(),
        Pacer::Sine { mean, amp, .. } => mean.hz() + amp.hz(),
        Pacer::Linear { start, slope } if slope <= 0.0 => start.hz(),
        Pacer::Constant(_) | Pacer::Linear { .. } => return cores,
    };
    ((peak / PACED_RATE_PER_THREAD).ceil() as usize).clamp(1, cores)
}

/// One thread's share of the attack.
struct ThreadCtx {
    shared: Arc<Shared>,
    config: Arc<Config>,
    client: Client,
    board: Board,
    batch: RefCell<Vec<HitResult>>,
    tx: mpsc::Sender<Vec<HitResult>>,
    live: Cell<usize>,
    done: tokio::sync::Notify,
    next_worker_id: Cell<usize>,
}

impl ThreadCtx {
    fn spawn_worker(self: &Rc<Self>) {
        let id = self.next_worker_id.get();
        self.next_worker_id.set(id + 1);
        self.live.set(self.live.get() + 1);
        tokio::task::spawn_local(worker(self.clone(), id));
    }

    fn push(&self, r: HitResult) {
        let mut batch = self.batch.borrow_mut();
        batch.push(r);
        if batch.len() >= self.config.batch {
            let full = std::mem::replace(&mut *batch, Vec::with_capacity(self.config.batch));
            let _ = self.tx.send(full);
        }
    }

    fn flush(&self) {
        let mut batch = self.batch.borrow_mut();
        if !batch.is_empty() {
            let full = std::mem::replace(&mut *batch, Vec::with_capacity(self.config.batch));
            let _ = self.tx.send(full);
        }
    }

    fn now_ns(&self) -> u64 {
        self.shared.start.elapsed().as_nanos() as u64
    }

    /// The attack's duration in ns from the start, if it has one.
    fn limit_ns(&self) -> Option<u64> {
        self.config.duration.map(|d| d.as_nanos() as u64)
    }
}

async fn thread_main(ctx: Rc<ThreadCtx>, workers: usize) {
    for _ in 0..workers {
        ctx.spawn_worker();
    }
    if !ctx.config.pacer.is_unpaced() {
        ctx.live.set(ctx.live.get() + 1);
        tokio::task::spawn_local(dispatcher(ctx.clone()));
    }
    let mut tick = tokio::time::interval(Duration::from_millis(10));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    while ctx.live.get() > 0 {
        tokio::select! {
            _ = tick.tick() => ctx.flush(),
            _ = ctx.done.notified() => {}
        }
    }
    ctx.flush();
}

/// Paces this thread's share of the hits: claims the hits of the next send window, sleeps
/// until it goes out ([`SendWindow`]) and hands each to an idle worker, starting one (up
/// to the limit) when none is idle, as Vegeta does. Hits already due go out without
/// sleeping, so one wake serves every hit that fell due meanwhile.
async fn dispatcher(ctx: Rc<ThreadCtx>) {
    let shared = &ctx.shared;
    let pacer = ctx.config.pacer;
    let limit = ctx.limit_ns();
    // Falls back to tokio's millisecond timer if timerfds are unavailable.
    let timer = timer::Timer::new().ok();
    let stop = shared.stop.notified();
    tokio::pin!(stop);
    let mut queue = SendQueue::new(ctx.config.send_window, pacer);
    let mut claims_done = false;
    'hits: loop {
        if shared.stopped.load(Ordering::Relaxed) {
            break;
        }
        // A thread that can neither hand a hit over nor start a worker leaves the next
        // hits to the other threads.
        if queue.is_empty()
            && !ctx.board.has_idle()
            && shared.workers.load(Ordering::Relaxed) >= shared.max_workers
        {
            tokio::select! {
                _ = ctx.board.idle_worker() => {}
                _ = &mut stop => break,
            }
        }
        if !claims_done {
            claims_done = !queue.fill(&shared.next_hit, limit, usize::MAX);
        }
        let Some(send_at) = queue.send_at() else {
            break;
        };
        let deadline = shared.start + Duration::from_nanos(send_at);
        if deadline > Instant::now() {
            let wait = async {
                match &timer {
                    Some(t) if t.sleep_until(deadline).await.is_ok() => {}
                    _ => tokio::time::sleep_until(deadline.into()).await,
                }
            };
            tokio::select! {
                _ = wait => {}
                _ = &mut stop => break,
            }
        }
        let now = shared.start.elapsed().as_nanos() as u64;
        while let Some(mut due) = queue.first_due(now) {
            queue.pop();
            while let Err(back) = ctx.board.hand_off(due) {
                due = back;
                let grew = shared
                    .workers
                    .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |w| {
                        (w < shared.max_workers).then_some(w + 1)
                    })
                    .is_ok();
                if grew {
                    ctx.spawn_worker();
                }
                tokio::select! {
                    _ = ctx.board.idle_worker() => {}
                    _ = &mut stop => break 'hits,
                }
            }
        }
    }
    ctx.board.close();
    ctx.live.set(ctx.live.get() - 1);
    ctx.done.notify_one();
}

/// Sends hits on one connection: hits the dispatcher hands over when paced, otherwise the
/// next number from the shared counter as soon as the previous hit is done.
async fn worker(ctx: Rc<ThreadCtx>, id: usize) {
    let shared = &ctx.shared;
    let unpaced = ctx.config.pacer.is_unpaced();
    let limit = ctx.limit_ns();
    let n_targets = ctx.client.target_count() as u64;
    let mut conn = WorkerConn::new();
    let mailbox = Rc::new(Mailbox::default());
    loop {
        let Due { seq, scheduled_ns } = if unpaced {
            if shared.stopped.load(Ordering::Relaxed) {
                break;
            }
            let due = Due {
                seq: shared.next_hit.fetch_add(1, Ordering::Relaxed),
                scheduled_ns: ctx.now_ns(),
            };
            if limit.is_some_and(|l| due.scheduled_ns >= l) {
                break;
            }
            due
        } else {
            match ctx.board.next(&mailbox).await {
                Some(due) => due,
                None => break,
            }
        };
        let sent_ns = ctx.now_ns();
        let target = (seq % n_targets) as usize;
        let out = ctx.client.hit(target, id, &mut conn).await;
        let done_ns = ctx.now_ns();
        ctx.push(HitResult {
            seq,
            target: target as u32,
            scheduled_ns,
            sent_ns,
            done_ns,
            status: out.status,
            bytes_in: out.bytes_in,
            bytes_out: out.bytes_out,
            error: out.error,
        });
    }
    ctx.live.set(ctx.live.get() - 1);
    ctx.done.notify_one();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modest_rates_use_fewer_threads() {
        let constant = |hz| Pacer::Constant(Rate::per_second(hz));
        assert_eq!(default_threads(&constant(5_000), 8), 1);
        assert_eq!(default_threads(&constant(20_000), 8), 1);
        assert_eq!(default_threads(&constant(60_000), 8), 3);
        assert_eq!(default_threads(&constant(1_000_000), 8), 8);
        assert_eq!(default_threads(&constant(0), 8), 8);
        let sine = Pacer::Sine {
            mean: Rate::per_second(20_000),
            amp: Rate::per_second(10_000),
            period: Duration::from_secs(1),
        };
        assert_eq!(default_threads(&sine, 8), 2);
        let ramp = |slope| Pacer::Linear {
            start: Rate::per_second(1_000),
            slope,
        };
        assert_eq!(default_threads(&ramp(10.0), 8), 8);
        assert_eq!(default_threads(&ramp(-10.0), 8), 1);
    }
}
