//! What goroutines wait on: Go dumps grouped.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Subcommand, ValueEnum};
use culprit_dump::render::{self, Noun};
use culprit_dump::{Filter, Format, GroupOptions, Snapshot};

/// Commands of this group.
#[derive(Subcommand)]
pub enum Command {
    /// Group goroutines by what they wait on, from any Go dump: `?debug=2`, `?debug=1`,
    /// the proto goroutine profile, SIGQUIT/SIGABRT/panic/deadlock tracebacks.
    ///
    /// Goroutines with the same state, stack (function, file, line) and creator form one
    /// group; argument values are ignored unless --exact-args. Biggest group first.
    Goroutines {
        /// A dump file, `-` for stdin, or an http:// URL such as
        /// http://127.0.0.1:6060/debug/pprof/goroutine?debug=2
        source: String,
        /// Keep goroutines whose state contains this text (e.g. semacquire, "chan receive").
        #[arg(long)]
        state: Option<String>,
        /// Keep goroutines with a frame whose function matches this regex.
        #[arg(long = "match", value_name = "RE")]
        matches: Option<String>,
        /// Also require equal argument values to group (panicparse's exact mode).
        #[arg(long)]
        exact_args: bool,
        /// Also require equal pprof labels to group (as debug=1 and proto records do).
        #[arg(long)]
        by_labels: bool,
        /// Drop Go runtime-internal frames (runtime.gopark, runtime.goexit, wrappers), as a
        /// debug=2 dump does, so crash dumps and proto profiles read like debug=2.
        #[arg(long)]
        hide_runtime: bool,
        /// Output format.
        #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
        format: OutputFormat,
        /// Seconds to wait for a URL to answer.
        #[arg(long, default_value_t = 10.0)]
        timeout: f64,
    },
}

/// How results are printed.
#[derive(Clone, Copy, ValueEnum)]
pub enum OutputFormat {
    /// Groups with their stacks, for people.
    Text,
    /// `{"total":N,"groups":[...]}`, for programs.
    Json,
}

/// How many skipped ranges are listed before the rest are counted.
const SKIPPED_SHOWN: usize = 10;

/// Runs one command of this group.
pub fn run(cmd: Command) -> anyhow::Result<()> {
    let Command::Goroutines {
        source,
        state,
        matches,
        exact_args,
        by_labels,
        hide_runtime,
        format,
        timeout,
    } = cmd;
    let function = matches
        .map(|re| regex::Regex::new(&re).with_context(|| format!("--match {re:?}")))
        .transpose()?;
    let filter = Filter { state, function };
    let opts = GroupOptions {
        exact_args,
        by_labels,
    };
    let bytes = read_source(&source, timeout)?;
    let mut snap = culprit_dump::parse(&bytes).with_context(|| format!("reading {source}"))?;
    if hide_runtime {
        snap.hide_runtime_frames();
    }
    report_skipped(&snap, &source);
    if snap.format == Format::RaceReport {
        eprintln!(
            "{source}: this is a race detector report, not a goroutine dump; nothing to group"
        );
    } else if snap.tasks.is_empty() {
        bail!(
            "{source}: no goroutines found ({} part(s) skipped)",
            snap.skipped.len()
        );
    }
    let grouping = culprit_dump::group(&snap, &filter, &opts);
    match print(&snap, &grouping, format) {
        // `culprit goroutines dump | head` is a normal way to read.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

fn print(
    snap: &Snapshot,
    grouping: &culprit_dump::Grouping,
    format: OutputFormat,
) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    match format {
        OutputFormat::Text => {
            for h in &snap.headlines {
                writeln!(out, "{h}")?;
            }
            write!(out, "{}: ", snap.format.describe())?;
            out.write_all(render::text(grouping, Noun::GOROUTINES).as_bytes())?;
        }
        OutputFormat::Json => {
            let mut extra = serde_json::Map::new();
            extra.insert("format".into(), serde_json::to_value(snap.format)?);
            extra.insert("headlines".into(), serde_json::to_value(&snap.headlines)?);
            extra.insert("skipped".into(), serde_json::to_value(&snap.skipped)?);
            render::write_json(grouping, extra, std::io::BufWriter::new(&mut out))?;
            writeln!(out)?;
        }
    }
    out.flush()
}

fn read_source(source: &str, timeout: f64) -> anyhow::Result<Vec<u8>> {
    if source.starts_with("http://") || source.starts_with("https://") {
        return fetch(source, timeout);
    }
    if source == "-" {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf).context("reading stdin")?;
        return Ok(buf);
    }
    std::fs::read(source).with_context(|| format!("reading {source}"))
}

/// Largest body accepted from a URL (a 100k-goroutine debug=2 dump is ~150 MB).
const BODY_LIMIT: u64 = 4 << 30;

fn fetch(url: &str, timeout: f64) -> anyhow::Result<Vec<u8>> {
    let limit = Duration::try_from_secs_f64(timeout)
        .with_context(|| format!("--timeout {timeout}: not a duration"))?;
    if std::io::stderr().is_terminal() {
        eprintln!("fetching {url} (timeout {timeout}s)...");
    }
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(limit))
        .build()
        .into();
    let mut resp = match agent.get(url).call() {
        Ok(r) => r,
        Err(ureq::Error::Timeout(_)) => bail!(
            "{url} did not answer within {timeout}s: the process may be hung. \
             Capture a traceback instead: kill -QUIT <pid> (GOTRACEBACK=all) and pass its stderr"
        ),
        Err(e) => return Err(e).with_context(|| format!("fetching {url}")),
    };
    match resp
        .body_mut()
        .with_config()
        .limit(BODY_LIMIT)
        .read_to_vec()
    {
        Ok(b) => Ok(b),
        Err(ureq::Error::Timeout(_)) => bail!(
            "{url} stopped sending within {timeout}s (partial answer): the process may be hung"
        ),
        Err(e) => Err(e).with_context(|| format!("reading the answer of {url}")),
    }
}

fn report_skipped(snap: &Snapshot, source: &str) {
    let lines = render::skipped_text(snap);
    for l in lines.iter().take(SKIPPED_SHOWN) {
        eprintln!("{source}: {l}");
    }
    if lines.len() > SKIPPED_SHOWN {
        eprintln!(
            "{source}: ... and {} more skipped part(s) (--format json lists all)",
            lines.len() - SKIPPED_SHOWN
        );
    }
}
