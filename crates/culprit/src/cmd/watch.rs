//! Process tree, cgroup and Go runtime metrics over time.

use std::fs::File;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::Child;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Subcommand;
use culprit_watch::openmetrics::{self, Format};
use culprit_watch::{Error as WatchError, Sample, Sampler, Target};

/// Commands of this group.
#[derive(Subcommand)]
pub enum Command {
    /// Sample a process tree, its cgroup and a Go runtime over time; write JSON lines and
    /// serve Prometheus metrics (process-exporter + cAdvisor + client_golang in one).
    Watch(WatchArgs),
}

/// Arguments of `culprit watch`.
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  culprit watch --pid 1234 -o series.jsonl\n  culprit watch --cgroup /sys/fs/cgroup/memory/mygroup --serve :9100\n  culprit watch --go http://127.0.0.1:6060 --duration 60s -- ./server -addr :6060"
)]
pub struct WatchArgs {
    /// Watch this process and all its descendants.
    #[arg(long, conflicts_with = "cgroup")]
    pid: Option<u32>,
    /// Watch the processes of this cgroup (a directory under /sys/fs/cgroup or a path
    /// inside the hierarchy such as /mygroup).
    #[arg(long)]
    cgroup: Option<PathBuf>,
    /// Time between samples.
    #[arg(long, default_value = "1s", value_parser = humantime::parse_duration)]
    interval: Duration,
    /// Stop after this long (default: until the process exits or Ctrl-C/SIGTERM).
    #[arg(long, value_parser = humantime::parse_duration)]
    duration: Option<Duration>,
    /// Write one JSON sample per line here (default: stdout when it is not a terminal).
    #[arg(short = 'o', long)]
    output: Option<PathBuf>,
    /// Base URL of a Go service with net/http/pprof (and expvar) to read runtime stats from.
    #[arg(long, value_name = "URL")]
    go: Option<String>,
    /// Serve Prometheus metrics on http://ADDR/metrics (`:9100` or `9100` bind 127.0.0.1;
    /// port 0 picks a free port). The address served is printed on stderr.
    #[arg(long, value_name = "ADDR")]
    serve: Option<String>,
    /// The command to start and watch.
    #[arg(last = true, value_name = "CMD")]
    command: Vec<String>,
}

/// Runs one command of this group.
pub fn run(cmd: Command) -> anyhow::Result<()> {
    match cmd {
        Command::Watch(args) => watch(args),
    }
}

fn watch(args: WatchArgs) -> anyhow::Result<()> {
    if args.interval.is_zero() {
        bail!("--interval must be more than 0");
    }
    let targets = usize::from(args.pid.is_some())
        + usize::from(args.cgroup.is_some())
        + usize::from(!args.command.is_empty());
    if targets != 1 {
        bail!("give exactly one of --pid PID, --cgroup PATH or -- CMD ARGS");
    }
    let (stop_tx, stop_rx) = mpsc::channel::<()>();
    ctrlc::set_handler(move || {
        let _ = stop_tx.send(());
    })
    .context("installing the Ctrl-C/SIGTERM handler")?;

    let mut child = match args.command.split_first() {
        Some((program, rest)) => Some(
            std::process::Command::new(program)
                .args(rest)
                .spawn()
                .with_context(|| format!("starting {program}"))?,
        ),
        None => None,
    };
    let target = match (&child, args.pid, &args.cgroup) {
        (Some(c), _, _) => Target::Pid(c.id()),
        (None, Some(pid), _) => Target::Pid(pid),
        (None, None, Some(path)) => Target::Cgroup(path.clone()),
        (None, None, None) => bail!("nothing to watch"),
    };
    let result = sample_loop(&args, target, child.as_mut(), &stop_rx);
    if let Some(c) = child.as_mut() {
        stop_child(c);
    }
    result
}

fn sample_loop(
    args: &WatchArgs,
    target: Target,
    child: Option<&mut Child>,
    stop: &mpsc::Receiver<()>,
) -> anyhow::Result<()> {
    let mut sampler = Sampler::new(target).context("starting the sampler")?;
    if child.is_some() {
        sampler = sampler.spawned();
    }
    if let Some(url) = &args.go {
        sampler = sampler.with_go(url.clone());
    }
    let latest: Arc<Mutex<Option<Sample>>> = Arc::new(Mutex::new(None));
    // Bound now so a busy port fails before any sampling, answered only once the first
    // sample exists: a scrape never sees an empty exposition (connections wait in the
    // listen backlog meanwhile).
    let mut server = match &args.serve {
        Some(addr) => {
            let addr = bind_addr(addr);
            let server = tiny_http::Server::http(&addr)
                .map_err(|e| anyhow::anyhow!("listening on {addr}: {e}"))?;
            // The real port, for `:0` (scripts and tests read it here, with no window
            // in which another process could take a port picked in advance).
            let bound = server.server_addr().to_ip().map_or(addr, |a| a.to_string());
            eprintln!("serving metrics on http://{bound}/metrics");
            Some(server)
        }
        None => None,
    };
    let mut out: Option<Box<dyn Write>> = match &args.output {
        Some(path) => Some(Box::new(
            File::create(path).with_context(|| format!("creating {}", path.display()))?,
        )),
        None if !std::io::stdout().is_terminal() => Some(Box::new(std::io::stdout())),
        None => None,
    };
    let live = std::io::stderr().is_terminal();
    let start = Instant::now();
    let mut next = start;
    loop {
        // Checked before sampling so the last sample sees the exited root as a zombie,
        // with everything it and its children used.
        let exited = child.as_deref().is_some_and(has_exited);
        let sample = match sampler.sample() {
            Ok(s) => s,
            Err(WatchError::NoProcess(_)) => break,
            Err(e) => return Err(e).context("sampling"),
        };
        // A --pid root that exited stays a zombie until its parent reaps it, which may
        // be never (or only after we stop): this sample holds its final figures.
        let exited = exited || root_is_zombie(&sample);
        if let Some(w) = out.as_mut() {
            // One write per line: a reader never sees half a sample, and a tree of
            // hundreds of processes costs one syscall, not one per JSON token.
            let mut line = serde_json::to_vec(&sample).context("encoding a sample")?;
            line.push(b'\n');
            w.write_all(&line)
                .and_then(|()| w.flush())
                .context("writing a sample")?;
        }
        if live {
            eprint!("\r\x1b[2K{}", live_line(&sample, start.elapsed()));
        }
        if let Ok(mut slot) = latest.lock() {
            *slot = Some(sample);
        }
        if let Some(server) = server.take() {
            serve(server, Arc::clone(&latest));
        }
        if exited {
            break;
        }
        if args.duration.is_some_and(|d| start.elapsed() >= d) {
            break;
        }
        next += args.interval;
        let mut wait = next.saturating_duration_since(Instant::now());
        if let Some(d) = args.duration {
            wait = wait.min((start + d).saturating_duration_since(Instant::now()));
        }
        match stop.recv_timeout(wait) {
            Ok(()) | Err(RecvTimeoutError::Disconnected) => break,
            Err(RecvTimeoutError::Timeout) => {}
        }
        if Instant::now() > next + args.interval {
            // Fell behind (a stopped machine, a slow Go service): skip, don't burst.
            next = Instant::now();
        }
    }
    if live {
        eprintln!();
    }
    Ok(())
}

/// True when the watched root process has exited and awaits reaping.
fn root_is_zombie(sample: &Sample) -> bool {
    sample.tree.root_pid.is_some_and(|root| {
        sample
            .processes
            .iter()
            .any(|p| p.pid == root && p.state == "Z")
    })
}

/// True when the child has exited, without reaping it (`waitid` with `WNOWAIT`).
fn has_exited(child: &Child) -> bool {
    let pid: libc::id_t = child.id();
    // SAFETY: waitid writes only into the siginfo we own; zeroed is a valid siginfo_t.
    unsafe {
        let mut info: libc::siginfo_t = std::mem::zeroed();
        let rc = libc::waitid(
            libc::P_PID,
            pid,
            &mut info,
            libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
        );
        rc == 0 && info.si_pid() != 0
    }
}

/// Ends the command we started (SIGTERM, as a supervisor would) and reaps it.
fn stop_child(child: &mut Child) {
    if let Ok(None) = child.try_wait()
        && let Ok(pid) = libc::pid_t::try_from(child.id())
    {
        // SAFETY: kill has no memory-safety preconditions; the pid is our unreaped child.
        unsafe {
            libc::kill(pid, libc::SIGTERM);
        }
    }
    let _ = child.wait();
}

/// `:9100` and `9100` mean 127.0.0.1:9100.
fn bind_addr(addr: &str) -> String {
    if let Some(port) = addr.strip_prefix(':') {
        format!("127.0.0.1:{port}")
    } else if addr.chars().all(|c| c.is_ascii_digit()) {
        format!("127.0.0.1:{addr}")
    } else {
        addr.to_string()
    }
}

/// Serves the latest sample on `/metrics` from a background thread.
fn serve(server: tiny_http::Server, latest: Arc<Mutex<Option<Sample>>>) {
    std::thread::spawn(move || {
        for request in server.incoming_requests() {
            let path = request.url().split('?').next().unwrap_or("");
            if path != "/metrics" {
                let _ = request.respond(
                    tiny_http::Response::from_string("see /metrics\n").with_status_code(404),
                );
                continue;
            }
            let accept = request
                .headers()
                .iter()
                .find(|h| h.field.equiv("Accept"))
                .map(|h| h.value.as_str().to_string());
            let format = Format::from_accept(accept.as_deref());
            let Some(sample) = latest.lock().ok().and_then(|s| s.clone()) else {
                // Unreachable while serving starts after the first sample; a failed
                // scrape beats an empty one that reads as "no processes".
                let _ = request.respond(
                    tiny_http::Response::from_string("no sample yet\n").with_status_code(503),
                );
                continue;
            };
            let body = openmetrics::render(&sample, format);
            let response = tiny_http::Response::from_string(body);
            let response =
                match tiny_http::Header::from_bytes("Content-Type", format.content_type()) {
                    Ok(h) => response.with_header(h),
                    Err(()) => response,
                };
            let _ = request.respond(response);
        }
    });
}

/// One compact status line for the terminal.
fn live_line(s: &Sample, elapsed: Duration) -> String {
    let t = &s.tree;
    let mut line = format!(
        "{:>5.0}s  {} procs  cpu {:.2} cores ({:.1}s)  rss {}  thr {}  fds {}  forks {:.1}/s",
        elapsed.as_secs_f64(),
        t.processes,
        t.cpu_cores.unwrap_or(0.0),
        t.cpu_seconds,
        bytes(t.rss_bytes),
        t.threads,
        t.fds,
        t.processes_started_per_second.unwrap_or(0.0),
    );
    if let Some(c) = &s.cgroup {
        line.push_str(&format!(
            "  | cgroup cpu {:.2} cores  throttled {}/{}  ws {}",
            c.cpu_cores.unwrap_or(0.0),
            c.cpu_throttled_periods.unwrap_or(0),
            c.cpu_periods.unwrap_or(0),
            c.memory_working_set_bytes.map_or("-".into(), bytes),
        ));
    }
    if let Some(g) = &s.go {
        line.push_str(&format!(
            "  | go heap {} next {} gc {} goroutines {}",
            bytes(g.heap_inuse_bytes),
            bytes(g.next_gc_bytes),
            g.num_gc,
            g.goroutines.map_or("-".into(), |n| n.to_string()),
        ));
    }
    line
}

fn bytes(b: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = b as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    format!("{v:.1}{}", UNITS.get(unit).copied().unwrap_or("B"))
}
