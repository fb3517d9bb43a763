//! The whole loop: capture, investigate, compare, demo.

mod compare;
mod demo;
mod live;
mod summary;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Subcommand};
use culprit_investigate::capture::{ClientOptions, Endpoint, parse_header};
use culprit_investigate::run::{self, Manifest, files};
use culprit_investigate::session::{Kind, Plan, Session};

/// Commands of this group.
#[derive(Subcommand)]
pub enum Command {
    /// Capture a Go service's /debug/pprof endpoints over a window into a run directory.
    Capture(CaptureArgs),
    /// Drive load at a service, capture what it does, and name the likely culprit.
    Investigate(InvestigateArgs),
    /// Compare two runs: throughput/latency change with noise, profile changes, findings gone.
    Compare(CompareArgs),
    /// Investigate a built-in service with a seeded bottleneck (needs nothing installed).
    Demo(DemoArgs),
    /// Serve the demo service (started by `culprit demo`).
    #[command(hide = true)]
    DemoService(demo::ServiceArgs),
}

/// How to reach the pprof endpoints.
#[derive(Args, Clone)]
pub struct ClientArgs {
    /// Extra request header for the service, `'Name: value'` (repeatable).
    #[arg(short = 'H', long = "header", value_parser = parse_header)]
    headers: Vec<(String, String)>,
    /// Accept any TLS certificate.
    #[arg(long)]
    insecure: bool,
    /// Time allowed per endpoint request, beyond its own profiling time (e.g. 10s).
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    timeout: Duration,
}

impl ClientArgs {
    fn options(&self) -> ClientOptions {
        ClientOptions {
            headers: self.headers.clone(),
            insecure: self.insecure,
            timeout: self.timeout,
        }
    }
}

/// `culprit capture`.
#[derive(Args)]
pub struct CaptureArgs {
    /// Service URL (`http://host:port`) or its pprof base (`.../debug/pprof`).
    url: String,
    /// Profile kinds, comma separated: cpu,heap,allocs,goroutine,mutex,block,trace.
    #[arg(long, default_value = "cpu,heap,allocs,goroutine,mutex,block", value_parser = parse_kinds)]
    kinds: Kinds,
    /// Window length in seconds (CPU profile, allocation delta, trace).
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    #[command(flatten)]
    client: ClientArgs,
    /// Output directory.
    #[arg(short = 'o', long)]
    output: PathBuf,
}

/// A parsed `--kinds` list.
#[derive(Clone)]
pub struct Kinds(Vec<Kind>);

fn parse_kinds(s: &str) -> Result<Kinds, String> {
    s.split(',')
        .filter(|w| !w.trim().is_empty())
        .map(Kind::parse)
        .collect::<Result<Vec<_>, _>>()
        .map(Kinds)
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    culprit_load::godur::parse(s).map_err(|e| e.to_string())
}

/// `culprit investigate`.
#[derive(Args)]
pub struct InvestigateArgs {
    /// Service URL: the load target (unless --targets) and where /debug/pprof lives.
    url: Option<String>,
    /// Requests per second (`100`, `50/100ms`), as in `culprit attack`.
    #[arg(long, default_value = "50")]
    rate: String,
    /// How long to drive load.
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    duration: Duration,
    /// Targets file in Vegeta's http format (default: `GET URL`).
    #[arg(long)]
    targets: Option<PathBuf>,
    /// Targets file format.
    #[arg(long, default_value = "http", value_parser = ["http", "json"])]
    format: String,
    /// pprof base when it differs from URL (e.g. a separate debug port).
    #[arg(long)]
    pprof: Option<String>,
    /// Also sample this process tree's CPU, RSS and threads.
    #[arg(long)]
    pid: Option<u32>,
    /// Profile kinds to capture from the Go service.
    #[arg(long, default_value = "cpu,heap,allocs,goroutine,mutex,block", value_parser = parse_kinds)]
    kinds: Kinds,
    /// Initial load workers.
    #[arg(long, default_value_t = 10)]
    workers: usize,
    /// Most load workers.
    #[arg(long, default_value_t = 1000)]
    max_workers: usize,
    /// Per-request timeout of the load.
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    hit_timeout: Duration,
    #[command(flatten)]
    client: ClientArgs,
    /// Run directory (default runs/<date-time>).
    #[arg(short = 'o', long)]
    output: Option<PathBuf>,
    /// Start this service and profile it natively (perf_event) instead of via pprof.
    #[arg(last = true)]
    command: Vec<String>,
}

/// `culprit compare`.
#[derive(Args)]
pub struct CompareArgs {
    /// The run before the fix.
    run_a: PathBuf,
    /// The run after the fix.
    run_b: PathBuf,
    /// Where to write the page (default RUN_B/compare.html).
    #[arg(short = 'o', long)]
    output: Option<PathBuf>,
}

/// `culprit demo`.
#[derive(Args)]
pub struct DemoArgs {
    /// Also run the repaired service and compare the two runs.
    #[arg(long)]
    fixed: bool,
    /// Length of each run.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    duration: Duration,
    /// Requests per second.
    #[arg(long, default_value = "100")]
    rate: String,
    /// Where the runs go (default runs/demo-<date-time>).
    #[arg(short = 'o', long)]
    output: Option<PathBuf>,
}

/// Runs one command of this group.
pub fn run(cmd: Command) -> anyhow::Result<()> {
    match cmd {
        Command::Capture(a) => capture(a),
        Command::Investigate(a) => investigate(a),
        Command::Compare(a) => compare::run(&a.run_a, &a.run_b, a.output.as_deref()),
        Command::Demo(a) => demo::run(&a),
        Command::DemoService(a) => demo::serve(&a),
    }
}

fn capture(a: CaptureArgs) -> anyhow::Result<()> {
    std::fs::create_dir_all(&a.output)
        .with_context(|| format!("creating {}", a.output.display()))?;
    let ep = Endpoint::new(&a.url, a.client.options())?;
    let clock = std::time::Instant::now();
    let stop = live::interrupt_flag();
    let started = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    let session = Session::new(
        ep,
        &a.output,
        clock,
        stop.clone(),
        Box::new(|m: &str| eprintln!("{m}")),
    );
    let done = std::sync::atomic::AtomicBool::new(false);
    let plan = Plan {
        kinds: a.kinds.0.clone(),
        start: Duration::ZERO,
        window: Duration::from_secs(a.seconds.max(1)),
        cpu_chunk: Duration::from_secs(a.seconds.max(1)),
        goroutine_snapshots: 1,
    };
    eprintln!("capturing {} for {}s", a.url, a.seconds);
    let (captured, runtime) = std::thread::scope(|s| {
        let rt = s.spawn(|| session.poll_runtime(Duration::from_secs(1), &done));
        let c = session.run(&plan);
        done.store(true, std::sync::atomic::Ordering::SeqCst);
        (c, rt.join().unwrap_or_default())
    });
    if !runtime.is_empty() {
        run::write_json(&a.output.join(files::RUNTIME), &runtime)?;
    }
    let interrupted = stop.load(std::sync::atomic::Ordering::SeqCst);
    let artifacts = session.artifacts();
    let manifest = Manifest {
        tool: "culprit".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        command: std::env::args().collect(),
        started,
        ended: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        complete: !interrupted,
        incomplete_reason: interrupted.then(|| "Interrupted (Ctrl-C).".to_string()),
        target: run::Target {
            url: Some(a.url.clone()),
            ..run::Target::default()
        },
        window: Some(captured.window),
        artifacts: artifacts.clone(),
        ..Manifest::default()
    };
    run::write_json(&a.output.join(files::MANIFEST), &manifest)?;
    let failed: Vec<_> = artifacts.iter().filter(|x| x.error.is_some()).collect();
    for x in artifacts
        .iter()
        .filter(|x| x.error.is_none() && !x.file.is_empty())
    {
        println!(
            "{:<20} {:>10} bytes  {}",
            x.kind,
            x.bytes,
            a.output.join(&x.file).display()
        );
    }
    for x in &failed {
        println!(
            "{:<20} FAILED  {}",
            x.kind,
            x.error.as_deref().unwrap_or("")
        );
    }
    println!("manifest: {}", a.output.join(files::MANIFEST).display());
    if !failed.is_empty() && failed.len() == artifacts.len() {
        anyhow::bail!("every capture failed");
    }
    Ok(())
}

fn investigate(a: InvestigateArgs) -> anyhow::Result<()> {
    let dir = a.output.clone().unwrap_or_else(live::default_dir);
    let mut child = None;
    let (pprof, native_pid, target) = if a.command.is_empty() {
        let url = a
            .url
            .clone()
            .context("give the service URL, or `-- CMD ARGS` to start it")?;
        let pprof = a.pprof.clone().unwrap_or_else(|| url.clone());
        (
            Some(pprof),
            None,
            run::Target {
                url: Some(url),
                pid: a.pid,
                command: None,
            },
        )
    } else {
        let url = a.url.clone().context(
            "give the URL to load, e.g. `culprit investigate http://127.0.0.1:8080/ -- ./server`",
        )?;
        let c = demo::start_and_wait(&a.command, &url)?;
        let pid = c.id();
        child = Some(c);
        (
            None,
            Some(pid),
            run::Target {
                url: Some(url),
                pid: Some(pid),
                command: Some(a.command.clone()),
            },
        )
    };
    let url = target.url.clone().unwrap_or_default();
    let targets = load_targets(&url, a.targets.as_deref(), &a.format)?;
    let result = live::investigate(live::Live {
        pprof,
        targets,
        rate_text: a.rate.clone(),
        rate: a
            .rate
            .parse()
            .map_err(|e| anyhow::anyhow!("--rate {}: {e}", a.rate))?,
        duration: a.duration,
        workers: a.workers,
        max_workers: a.max_workers,
        hit_timeout: a.hit_timeout,
        client: a.client.options(),
        kinds: a.kinds.0.clone(),
        watch_pid: a.pid.or(native_pid),
        native_pid,
        dir,
        target,
    });
    if let Some(mut c) = child {
        let _ = c.kill();
        let _ = c.wait();
    }
    let outcome = result?;
    summary::print(&outcome);
    Ok(())
}

/// The load's targets: the file given, or `GET URL`.
pub fn load_targets(
    url: &str,
    file: Option<&std::path::Path>,
    format: &str,
) -> anyhow::Result<Vec<culprit_load::targets::Target>> {
    let (text, name) = match file {
        Some(f) => (
            std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?,
            f.display().to_string(),
        ),
        None => (format!("GET {url}\n"), "the URL".to_string()),
    };
    let fmt = if format == "json" {
        culprit_load::targets::Format::Json
    } else {
        culprit_load::targets::Format::Http
    };
    culprit_load::targets::parse(&text, fmt, &Default::default(), &mut |p| std::fs::read(p))
        .with_context(|| format!("targets in {name}"))
}
