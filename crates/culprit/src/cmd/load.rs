//! Load generation: `attack`, `report`, `plot` (Vegeta's commands and flags).

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Args, Subcommand, ValueEnum};
use culprit_load::attack::{
    Attack, Config, DnsTtl, Protocol, SendWindow, TlsOptions, pem_certs, pem_key,
};
use culprit_load::metrics::Metrics;
use culprit_load::pacer::Pacer;
use culprit_load::plot::Plot;
use culprit_load::rate::Rate;
use culprit_load::reporters::{self, Kind};
use culprit_load::results::{LogReader, LogWriter};
use culprit_load::{godur, targets};

/// Commands of this group.
#[derive(Subcommand)]
pub enum Command {
    /// Send HTTP requests at a steady rate and log every result (like `vegeta attack`).
    Attack(Box<AttackArgs>),
    /// Summarise one or more result logs (like `vegeta report`); logs merge losslessly.
    Report(ReportArgs),
    /// Plot result logs as a self-contained HTML page: latency over time and throughput.
    Plot(PlotArgs),
}

#[derive(Clone, Copy, ValueEnum)]
enum TargetFormat {
    Http,
    Json,
}

#[derive(Clone, Copy, PartialEq, ValueEnum)]
enum PacerKind {
    Constant,
    Linear,
    Sine,
}

/// `culprit attack` flags.
#[derive(Args)]
pub struct AttackArgs {
    /// Targets file (default: stdin)
    #[arg(short = 't', long = "targets", value_name = "FILE")]
    targets: Option<PathBuf>,
    /// Targets format
    #[arg(long, value_enum, default_value = "http")]
    format: TargetFormat,
    /// Body file for targets that name none
    #[arg(long, value_name = "FILE")]
    body: Option<PathBuf>,
    /// Header for every request, `Key: Value` (repeatable)
    #[arg(short = 'H', long = "header", value_name = "K: V")]
    headers: Vec<String>,
    /// Hits per period: 1000, 1000/1s, 50/100ms; 0 = as fast as --max-workers allow
    #[arg(short, long, default_value = "50/1s")]
    rate: String,
    /// Rate shape over time
    #[arg(long, value_enum, default_value = "constant")]
    pacer: PacerKind,
    /// Linear pacer: change of the rate in hits/s per second
    #[arg(long, default_value_t = 0.0, allow_hyphen_values = true)]
    slope: f64,
    /// Sine pacer: amplitude, as a rate
    #[arg(long, value_name = "RATE", default_value = "0")]
    sine_amp: String,
    /// Sine pacer: period of one wave
    #[arg(long, value_name = "DUR", default_value = "1m")]
    sine_period: String,
    /// How long to attack (0 = until Ctrl-C)
    #[arg(short, long, default_value = "0s")]
    duration: String,
    /// Connections (workers) at the start; HTTP/1.1 carries one request per connection
    #[arg(long, alias = "workers", default_value_t = 10)]
    connections: usize,
    /// Most connections (workers) opened when sends fall behind; with --rate 0 the concurrency
    #[arg(long, alias = "max-workers", default_value_t = 1000)]
    max_connections: usize,
    /// HTTP/2 connections per host, shared by all workers
    #[arg(long, default_value_t = 1)]
    h2_connections: usize,
    /// Reuse connections
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    keepalive: bool,
    /// Speak only HTTP/1.1 (no HTTP/2 via ALPN)
    #[arg(long, conflicts_with = "h2c")]
    http1: bool,
    /// HTTP/2 without TLS, with prior knowledge
    #[arg(long)]
    h2c: bool,
    /// Accept any TLS certificate
    #[arg(short = 'k', long)]
    insecure: bool,
    /// Trust these PEM root certificates instead of the system's
    #[arg(long, value_name = "FILE")]
    root_certs: Vec<PathBuf>,
    /// Client certificate chain (PEM)
    #[arg(long, value_name = "FILE", requires = "key")]
    cert: Option<PathBuf>,
    /// Client private key (PEM)
    #[arg(long, value_name = "FILE", requires = "cert")]
    key: Option<PathBuf>,
    /// Per-request timeout, from connect to the last body byte
    #[arg(long, default_value = "30s")]
    timeout: String,
    /// Redirects to follow; -1 does not follow them
    #[arg(long, default_value_t = 10, allow_hyphen_values = true)]
    redirects: i32,
    /// Read at most this many response body bytes (-1 = all)
    #[arg(long, default_value_t = -1, allow_hyphen_values = true)]
    max_body: i64,
    /// Connect to this unix socket instead of the URL's host
    #[arg(long, value_name = "PATH")]
    unix_socket: Option<PathBuf>,
    /// Keep DNS answers this long (0 = the whole attack, -1 = never)
    #[arg(long, default_value = "0s", allow_hyphen_values = true)]
    dns_ttl: String,
    /// Worker threads (0 = one per core; paced plain-HTTP attacks: one per 25k hits/s of peak rate)
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Paced attacks: hits due within this long of each other go out
    /// together, sharing one wake-up of attacker and server; none goes out more than this
    /// late, and its latency includes the wait. auto = about three hits' spacing, from
    /// 250us to 500us; 0 = every hit at its time
    #[arg(long, value_name = "DUR|auto", default_value = "auto")]
    send_window: String,
    /// Result log (default: stdout when it is not a terminal)
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
}

/// `culprit report` flags.
#[derive(Args)]
pub struct ReportArgs {
    /// text, json, hdr or hist[0,1ms,5ms,...]
    #[arg(long = "type", default_value = "text")]
    kind: String,
    /// Print a report every interval while reading (e.g. from a running attack)
    #[arg(long, value_name = "DUR")]
    every: Option<String>,
    /// Write the report here (default: stdout)
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Result logs (default or `-`: stdin)
    files: Vec<PathBuf>,
}

/// `culprit plot` flags.
#[derive(Args)]
pub struct PlotArgs {
    /// Page title
    #[arg(long, default_value = "culprit attack")]
    title: String,
    /// Write the HTML here (default: stdout)
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Result logs (default or `-`: stdin)
    files: Vec<PathBuf>,
}

/// Runs one command of this group.
pub fn run(cmd: Command) -> anyhow::Result<()> {
    match cmd {
        Command::Attack(a) => attack(*a),
        Command::Report(r) => report(r),
        Command::Plot(p) => plot(p),
    }
}

fn flag_duration(flag: &str, s: &str) -> anyhow::Result<Duration> {
    godur::parse(s).with_context(|| format!("--{flag}"))
}

fn flag_rate(flag: &str, s: &str) -> anyhow::Result<Rate> {
    s.parse::<Rate>().with_context(|| format!("--{flag}"))
}

fn read_file(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("reading {}", path.display()))
}

fn build_config(a: &AttackArgs) -> anyhow::Result<Config> {
    let rate = flag_rate("rate", &a.rate)?;
    let pacer = match a.pacer {
        PacerKind::Constant => Pacer::Constant(rate),
        PacerKind::Linear => Pacer::Linear {
            start: rate,
            slope: a.slope,
        },
        PacerKind::Sine => {
            let amp = flag_rate("sine-amp", &a.sine_amp)?;
            if amp.hz() > rate.hz() {
                bail!("--sine-amp {amp} exceeds --rate {rate}: the rate would go negative");
            }
            Pacer::Sine {
                mean: rate,
                amp,
                period: flag_duration("sine-period", &a.sine_period)?,
            }
        }
    };
    if pacer.is_unpaced() && a.pacer != PacerKind::Constant {
        bail!("--rate 0 works only with the constant pacer");
    }
    let duration = flag_duration("duration", &a.duration)?;
    let dns_ttl = match a.dns_ttl.trim() {
        "-1" => DnsTtl::Never,
        s => match flag_duration("dns-ttl", s)? {
            d if d.is_zero() => DnsTtl::Forever,
            d => DnsTtl::For(d),
        },
    };
    let mut tls = TlsOptions {
        insecure: a.insecure,
        ..TlsOptions::default()
    };
    for path in &a.root_certs {
        tls.root_certs
            .extend(pem_certs(&read_file(path)?, &path.display().to_string())?);
    }
    if let (Some(cert), Some(key)) = (&a.cert, &a.key) {
        tls.client_auth = Some((
            pem_certs(&read_file(cert)?, &cert.display().to_string())?,
            pem_key(&read_file(key)?, &key.display().to_string())?,
        ));
    }
    if a.connections == 0 {
        bail!("--connections must be at least 1");
    }
    Ok(Config {
        pacer,
        duration: (!duration.is_zero()).then_some(duration),
        workers: a.connections,
        max_workers: a.max_connections.max(a.connections),
        h2_connections: a.h2_connections.max(1),
        keepalive: a.keepalive,
        protocol: if a.h2c {
            Protocol::H2c
        } else if a.http1 {
            Protocol::Http1
        } else {
            Protocol::Auto
        },
        tls,
        timeout: flag_duration("timeout", &a.timeout)?,
        redirects: a.redirects,
        max_body: u64::try_from(a.max_body).ok(),
        unix_socket: a.unix_socket.clone(),
        dns_ttl,
        threads: a.threads,
        send_window: match a.send_window.as_str() {
            "auto" => SendWindow::Auto,
            d => SendWindow::Fixed(flag_duration("send-window", d)?),
        },
        ..Config::default()
    })
}

fn load_targets(a: &AttackArgs) -> anyhow::Result<Vec<targets::Target>> {
    let mut defaults = targets::Defaults::default();
    for h in &a.headers {
        let (k, v) = h
            .split_once(':')
            .with_context(|| format!("-H {h:?}: expected `Key: Value`"))?;
        let name = http::HeaderName::from_bytes(k.trim().as_bytes())
            .with_context(|| format!("-H {h:?}: invalid header name"))?;
        let value = http::HeaderValue::from_str(v.trim())
            .with_context(|| format!("-H {h:?}: invalid header value"))?;
        defaults.headers.append(name, value);
    }
    if let Some(body) = &a.body {
        defaults.body = read_file(body)?.into();
    }
    let (text, source) = match &a.targets {
        Some(p) => (read_file(p)?, p.display().to_string()),
        None => {
            let mut buf = Vec::new();
            io::stdin()
                .read_to_end(&mut buf)
                .context("reading targets from stdin")?;
            (buf, "stdin".to_string())
        }
    };
    let text = String::from_utf8(text).with_context(|| format!("{source}: not UTF-8 text"))?;
    let format = match a.format {
        TargetFormat::Http => targets::Format::Http,
        TargetFormat::Json => targets::Format::Json,
    };
    targets::parse(&text, format, &defaults, &mut |p| std::fs::read(p))
        .with_context(|| format!("targets from {source}"))
}

fn attack(a: AttackArgs) -> anyhow::Result<()> {
    let config = build_config(&a)?;
    let duration = config.duration;
    let targets = load_targets(&a)?;
    let out: Box<dyn Write + Send> = match &a.output {
        Some(p) => Box::new(File::create(p).with_context(|| format!("creating {}", p.display()))?),
        None => {
            if io::stdout().is_terminal() {
                bail!("stdout is a terminal: give -o FILE or pipe into `culprit report`");
            }
            Box::new(io::stdout())
        }
    };
    let sink = LogWriter::new(BufWriter::with_capacity(256 * 1024, out));
    let attack = Attack::start(config, targets, Box::new(sink))?;
    let stopper = attack.stopper();
    let interrupted = Arc::new(std::sync::atomic::AtomicBool::new(false));
    {
        let interrupted = interrupted.clone();
        ctrlc::set_handler(move || {
            if interrupted.swap(true, std::sync::atomic::Ordering::SeqCst) {
                std::process::exit(130);
            }
            stopper.stop();
        })
        .context("installing the Ctrl-C handler")?;
    }
    let live = io::stderr().is_terminal().then(|| live_bar(duration));
    while !attack.is_finished() {
        std::thread::sleep(Duration::from_millis(200));
        if let Some(bar) = &live {
            let s = attack.snapshot();
            let elapsed = attack.elapsed();
            bar.set_position(elapsed.as_millis() as u64);
            let errors = s.requests - (s.success * s.requests as f64).round() as u64;
            bar.set_message(format!(
                "{} hits  {:.1}/s  p50 {}  p99 {}  errors {}",
                s.requests,
                s.requests as f64 / elapsed.as_secs_f64().max(1e-9),
                godur::format(Duration::from_nanos(s.latencies.p50)),
                godur::format(Duration::from_nanos(s.latencies.p99)),
                errors
            ));
        }
    }
    attack.wait()?;
    if let Some(bar) = live {
        bar.finish_and_clear();
    }
    Ok(())
}

fn live_bar(duration: Option<Duration>) -> indicatif::ProgressBar {
    let style = match duration {
        Some(_) => {
            indicatif::ProgressStyle::with_template("{elapsed:>4}/{duration:4} [{bar:25}] {msg}")
        }
        None => indicatif::ProgressStyle::with_template("{elapsed:>4} {spinner} {msg}"),
    }
    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    let bar = indicatif::ProgressBar::with_draw_target(
        duration.map(|d| d.as_millis() as u64),
        indicatif::ProgressDrawTarget::stderr(),
    );
    bar.set_style(style.progress_chars("=> "));
    bar
}

fn open_input(path: &Path) -> anyhow::Result<(String, Box<dyn Read + Send>)> {
    if path == Path::new("-") {
        return Ok(("stdin".into(), Box::new(io::stdin())));
    }
    let f = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    Ok((path.display().to_string(), Box::new(f)))
}

fn inputs(files: &[PathBuf]) -> Vec<PathBuf> {
    if files.is_empty() {
        vec![PathBuf::from("-")]
    } else {
        files.to_vec()
    }
}

/// Feeds every record of `path` to `f` with the log's start time.
fn read_log(
    path: &Path,
    mut f: impl FnMut(u64, &culprit_load::results::HitResult),
) -> anyhow::Result<()> {
    let (name, input) = open_input(path)?;
    let mut reader = LogReader::new(io::BufReader::with_capacity(256 * 1024, input))
        .with_context(|| name.clone())?;
    let start = reader.start_unix_ns();
    let mut n = 0u64;
    while let Some(r) = reader.next_record().with_context(|| name.clone())? {
        f(start, &r);
        n += 1;
    }
    if reader.truncated() {
        eprintln!("culprit: {name}: log ends in a partial record; read {n} whole records");
    }
    Ok(())
}

fn report(r: ReportArgs) -> anyhow::Result<()> {
    let kind: Kind = r.kind.parse()?;
    let new_metrics = || match &kind {
        Kind::Hist(b) => Metrics::with_buckets(b.clone()),
        _ => Metrics::new(),
    };
    let mut out: Box<dyn Write> = match &r.output {
        Some(p) => Box::new(File::create(p).with_context(|| format!("creating {}", p.display()))?),
        None => Box::new(io::stdout().lock()),
    };
    let files = inputs(&r.files);
    let Some(every) = r.every.as_deref() else {
        let mut total = new_metrics();
        for f in &files {
            read_log(f, |start, hit| total.add(start, hit))?;
        }
        out.write_all(reporters::render(&total, &kind).as_bytes())?;
        return Ok(());
    };
    let every = flag_duration("every", every)?;
    if every.is_zero() {
        bail!("--every must be longer than zero");
    }
    let shared = Arc::new(Mutex::new(new_metrics()));
    let readers: Vec<_> = files
        .into_iter()
        .map(|f| {
            let shared = shared.clone();
            std::thread::spawn(move || {
                read_log(&f, |start, hit| {
                    if let Ok(mut m) = shared.lock() {
                        m.add(start, hit);
                    }
                })
            })
        })
        .collect();
    let mut next = Instant::now() + every;
    loop {
        let done = readers.iter().all(|h| h.is_finished());
        if done {
            break;
        }
        std::thread::sleep(
            next.saturating_duration_since(Instant::now())
                .min(Duration::from_millis(50)),
        );
        if Instant::now() >= next {
            next += every;
            let text = shared
                .lock()
                .map(|m| reporters::render(&m, &kind))
                .unwrap_or_default();
            out.write_all(text.as_bytes())?;
            out.flush()?;
        }
    }
    for h in readers {
        h.join()
            .map_err(|_| anyhow::anyhow!("log reader panicked"))??;
    }
    let text = shared
        .lock()
        .map(|m| reporters::render(&m, &kind))
        .unwrap_or_default();
    out.write_all(text.as_bytes())?;
    Ok(())
}

fn plot(p: PlotArgs) -> anyhow::Result<()> {
    let mut plot = Plot::new();
    for f in inputs(&p.files) {
        read_log(&f, |start, hit| plot.add(start, hit))?;
    }
    let html = plot.render(&p.title);
    match &p.output {
        Some(path) => {
            std::fs::write(path, html).with_context(|| format!("writing {}", path.display()))?
        }
        None => io::stdout().write_all(html.as_bytes())?,
    }
    Ok(())
}
