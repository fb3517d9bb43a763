//! Flame graphs, differential views and the web UI: `flame`, `diff`, `web`.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use culprit_flame::changes::{self, Changes};
use culprit_flame::svg;
use culprit_flame::tree::{Side, StackSet};
use culprit_flame::units::{percent, value_label};
use culprit_profile::transform::Prepared;

use super::profile::{Format, ReportArgs};

/// Commands of this group.
#[derive(Subcommand)]
pub enum Command {
    /// Draw a flame graph as an interactive SVG (click to zoom, search, hover); with
    /// `--base`, a differential one coloured by change of share.
    Flame(FlameArgs),
    /// List the functions whose share of the total changed most between two profiles.
    Diff(DiffArgs),
    /// Serve a local web UI on profiles (top table, flame graph, peek, source), goroutine
    /// dumps (grouped as `culprit goroutines` does), `culprit watch` series (charts) and
    /// causal profiles (ranking and speed-up curves).
    ///
    /// Each input's kind is recognised from its content; an investigate run directory
    /// loads everything it holds. Tabs appear only for the kinds loaded.
    Web(WebArgs),
}

/// Arguments of `culprit flame`.
#[derive(Args)]
pub struct FlameArgs {
    /// Profiles to draw (pprof proto, legacy, or folded stacks; files or URLs); several
    /// are merged. With `--base BEFORE`, the graph is differential: red for frames whose
    /// share of the total grew since BEFORE, blue for those that shrank.
    #[arg(required = true, value_name = "PROFILE")]
    pub profiles: Vec<String>,
    /// Write the SVG here instead of standard output.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Draw an icicle graph: the root at the top, callees below.
    #[arg(long)]
    pub inverted: bool,
    /// Title instead of the sample type and total.
    #[arg(long)]
    pub title: Option<String>,
    /// Image width in pixels.
    #[arg(long, default_value_t = 1200)]
    pub width: u32,
    /// Leave out frames narrower than this many pixels.
    #[arg(long = "min-width", default_value_t = 0.1)]
    pub min_width: f64,
    #[command(flatten)]
    pub report: ReportArgs,
}

/// Arguments of `culprit diff`.
#[derive(Args)]
pub struct DiffArgs {
    /// The profile from before the change (file or URL).
    pub before: String,
    /// The profile from after the change (file or URL).
    pub after: String,
    /// Rows to print in each direction.
    #[arg(short = 'n', long, default_value_t = 15)]
    pub count: usize,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    #[command(flatten)]
    pub report: ReportArgs,
}

/// Arguments of `culprit web`.
#[derive(Args)]
#[command(
    after_help = "Examples:\n  culprit web cpu.pb.gz heap.pb.gz\n  culprit web goroutines.txt series.jsonl profile.coz\n  culprit web runs/20261123T014208\n  culprit web http://127.0.0.1:6060/debug/pprof/goroutine?debug=2"
)]
pub struct WebArgs {
    /// What to serve, files or URLs, in any mix: pprof profiles (those with the same sample
    /// types are merged), goroutine dumps (debug=2, debug=1, proto, SIGQUIT/panic
    /// tracebacks), `culprit watch` series (.jsonl), causal profiles (profile.coz, culprit's
    /// or coz's), and `culprit investigate` run directories.
    #[arg(required = true, value_name = "INPUT")]
    pub profiles: Vec<String>,
    /// Seconds to wait for a URL to answer.
    #[arg(long, default_value_t = 60)]
    pub timeout: u64,
    /// Address to listen on (default: 127.0.0.1 on a free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub bind: String,
    /// Open the UI in a browser.
    #[arg(long)]
    pub open: bool,
}

/// Runs one command of this group.
pub fn run(cmd: Command) -> anyhow::Result<()> {
    match cmd {
        Command::Flame(a) => flame(a),
        Command::Diff(a) => diff(a),
        Command::Web(a) => web(a),
    }
}

/// Prepares `profiles` with the report flags, as `top` does, leaving out the bases: here
/// they are the "before" side of a comparison, not something to subtract.
fn prepare(flags: &ReportArgs, profiles: &[String]) -> anyhow::Result<Prepared> {
    let mut flags = flags.clone();
    flags.base.clear();
    flags.diff_base.clear();
    let opts = culprit_profile::transform::Options {
        skip_self_merge: true,
        ..flags.transform_options()?
    };
    super::profile::prepare_with(&flags, profiles, opts)
}

/// A sample's reported value, mean-divided when asked.
fn value_of(p: &Prepared) -> impl Fn(&culprit_profile::Sample) -> i64 + '_ {
    move |s| {
        let v = p.value(s);
        match p.mean_divisor(s) {
            0 => v,
            d => v / d,
        }
    }
}

fn file_names(paths: &[String]) -> String {
    paths
        .iter()
        .map(|p| p.rsplit('/').next().filter(|n| !n.is_empty()).unwrap_or(p))
        .collect::<Vec<_>>()
        .join(", ")
}

fn flame(a: FlameArgs) -> anyhow::Result<()> {
    if a.report.mean || a.report.mean_delay {
        bail!("--mean has no flame graph: means of callees do not add up to their caller's");
    }
    let after = prepare(&a.report, &a.profiles)?;
    let bases: Vec<String> = a
        .report
        .base
        .iter()
        .chain(&a.report.diff_base)
        .cloned()
        .collect();
    let unit = after.sample_type.unit.clone();
    let mut stacks = StackSet::new();
    stacks.add_profile(&after.profile, Side::Value, value_of(&after));
    let shown = stacks.total();
    let mut opts = svg::Options {
        unit: unit.clone(),
        total: after.total,
        inverted: a.inverted,
        width: a.width,
        min_width_px: a.min_width,
        ..svg::Options::default()
    };
    let mut subtitle = file_names(&a.profiles);
    if bases.is_empty() {
        opts.title = format!(
            "{} ({unit}): total {}",
            after.sample_type.kind,
            value_label(after.total, &unit)
        );
        if shown != after.total {
            subtitle.push_str(&format!(
                "; showing {} ({}) after filters",
                value_label(shown, &unit),
                percent(shown, after.total)
            ));
        }
    } else {
        let before = prepare(&a.report, &bases)?;
        stacks.add_profile(&before.profile, Side::Base, value_of(&before));
        opts.differential = true;
        opts.base_total = before.total;
        opts.title = format!(
            "{} ({unit}): before {}, after {}",
            after.sample_type.kind,
            value_label(before.total, &unit),
            value_label(after.total, &unit)
        );
        subtitle = format!(
            "{} → {}; colour = change of share of the total",
            file_names(&bases),
            subtitle
        );
    }
    for f in after.active_filters.iter() {
        subtitle.push_str("; ");
        subtitle.push_str(f);
    }
    opts.subtitle = subtitle;
    if let Some(t) = a.title {
        opts.title = t;
    }
    // Frames too narrow to draw are never built.
    let tree = stacks.build(svg::min_visible_value(&opts, shown));
    match &a.output {
        Some(path) => {
            let f = std::fs::File::create(path)
                .with_context(|| format!("creating {}", path.display()))?;
            svg::write_svg(&tree, &opts, &mut std::io::BufWriter::new(f))
                .with_context(|| format!("writing {}", path.display()))?;
        }
        None => svg::write_svg(&tree, &opts, &mut std::io::stdout().lock())?,
    }
    Ok(())
}

fn diff(a: DiffArgs) -> anyhow::Result<()> {
    let before = prepare(&a.report, std::slice::from_ref(&a.before))?;
    let after = prepare(&a.report, std::slice::from_ref(&a.after))?;
    let c = changes::function_changes(
        &before.profile,
        &value_of(&before),
        &after.profile,
        &value_of(&after),
    );
    let unit = after.sample_type.unit.clone();
    let mut out = std::io::stdout().lock();
    match a.format {
        Format::Json => writeln!(out, "{}", diff_json(&c, &after.sample_type, a.count))?,
        Format::Text => write_diff_text(
            &mut out,
            &c,
            &after.sample_type.kind,
            (&before.sample_type.unit, &unit),
            a.count,
        )?,
    }
    Ok(())
}

fn grew_and_shrank(c: &Changes, n: usize) -> (Vec<&changes::Change>, Vec<&changes::Change>) {
    let grew = c
        .functions
        .iter()
        .filter(|f| f.cum_pp > 0.0 || f.flat_pp > 0.0)
        .take(n)
        .collect();
    let mut shrank: Vec<_> = c
        .functions
        .iter()
        .filter(|f| f.cum_pp < 0.0 || (f.cum_pp == 0.0 && f.flat_pp < 0.0))
        .collect();
    shrank.reverse();
    shrank.truncate(n);
    (grew, shrank)
}

fn write_diff_text(
    out: &mut impl Write,
    c: &Changes,
    kind: &str,
    (was, unit): (&str, &str),
    n: usize,
) -> anyhow::Result<()> {
    writeln!(
        out,
        "{kind}: before {} total, after {} total ({:+.1}%)",
        value_label(c.before_total, was),
        value_label(c.after_total, unit),
        if c.before_total == 0 {
            0.0
        } else {
            (c.after_total - c.before_total) as f64 / c.before_total as f64 * 100.0
        }
    )?;
    writeln!(
        out,
        "Shares are of each profile's own total, so captures of different lengths compare fairly."
    )?;
    let (grew, shrank) = grew_and_shrank(c, n);
    for (heading, rows) in [("Grew", grew), ("Shrank", shrank)] {
        writeln!(out, "\n{heading}:")?;
        if rows.is_empty() {
            writeln!(out, "  (none)")?;
            continue;
        }
        writeln!(
            out,
            "{:>10} {:>10} {:>9} {:>10} {:>10} {:>9}  function",
            "flat was", "flat now", "flat pp", "cum was", "cum now", "cum pp"
        )?;
        for f in rows {
            writeln!(
                out,
                "{:>10} {:>10} {:>+9.2} {:>10} {:>10} {:>+9.2}  {}",
                value_label(f.before_flat, was),
                value_label(f.after_flat, unit),
                f.flat_pp,
                value_label(f.before_cum, was),
                value_label(f.after_cum, unit),
                f.cum_pp,
                f.name
            )?;
        }
    }
    Ok(())
}

fn diff_json(c: &Changes, st: &culprit_profile::ValueType, n: usize) -> serde_json::Value {
    let row = |f: &changes::Change| {
        serde_json::json!({
            "function": f.name,
            "before_flat": f.before_flat,
            "after_flat": f.after_flat,
            "before_cum": f.before_cum,
            "after_cum": f.after_cum,
            "flat_share_change_pp": f.flat_pp,
            "cum_share_change_pp": f.cum_pp,
        })
    };
    let (grew, shrank) = grew_and_shrank(c, n);
    serde_json::json!({
        "sample_type": st.kind,
        "unit": st.unit,
        "before_total": c.before_total,
        "after_total": c.after_total,
        "grew": grew.into_iter().map(row).collect::<Vec<_>>(),
        "shrank": shrank.into_iter().map(row).collect::<Vec<_>>(),
    })
}

/// Reads one input of `culprit web`: a URL's answer, a file or a run directory.
fn web_input(source: &str, timeout: u64) -> anyhow::Result<Vec<culprit_web::Input>> {
    if !(source.starts_with("http://") || source.starts_with("https://")) {
        return Ok(culprit_web::inputs::load_path(std::path::Path::new(
            source,
        ))?);
    }
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(std::time::Duration::from_secs(timeout)))
        .build()
        .into();
    let mut resp = agent
        .get(source)
        .call()
        .with_context(|| format!("fetching {source}"))?;
    let body = resp
        .body_mut()
        .with_config()
        .limit(1 << 31)
        .read_to_vec()
        .with_context(|| format!("reading {source}"))?;
    Ok(culprit_web::inputs::classify(source, &body)?)
}

fn web(a: WebArgs) -> anyhow::Result<()> {
    let mut inputs = Vec::new();
    for p in &a.profiles {
        inputs.extend(web_input(p, a.timeout)?);
    }
    let state = culprit_web::State::new(inputs, file_names(&a.profiles))?;
    state.warm();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&a.bind)
            .await
            .with_context(|| format!("binding {}", a.bind))?;
        let url = format!("http://{}/", listener.local_addr()?);
        println!("Serving the web UI at {url}");
        if a.open {
            let _ = std::process::Command::new("xdg-open").arg(&url).spawn();
        }
        axum::serve(listener, culprit_web::router(state)).await?;
        anyhow::Ok(())
    })
}
