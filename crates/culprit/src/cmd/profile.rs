//! Reading profiles: top, peek, tree, traces, tags, raw, convert — pprof's reports with
//! pprof's flags as long options.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Args, Subcommand, ValueEnum};
use culprit_profile::transform::{self, BaseMode, Granularity, Prepared};
use culprit_profile::{Profile, text};
use culprit_report as report;

/// Commands of this group.
#[derive(Subcommand)]
pub enum Command {
    /// Functions by flat (or --cum) value, as `go tool pprof -top`.
    Top(Reported),
    /// Callers and callees of the functions matching REGEX, as `go tool pprof -peek`.
    Peek {
        /// Regex selecting the functions to show.
        regex: String,
        #[command(flatten)]
        rest: Reported,
    },
    /// Every node with its callers and callees, as `go tool pprof -tree`.
    Tree(Reported),
    /// Every sample's stack and labels, as `go tool pprof -traces`.
    Traces(Reported),
    /// Label values and their share of the total, as `go tool pprof -tags`.
    Tags(Reported),
    /// The parsed profile dumped as text, as `go tool pprof -raw`.
    Raw(Reported),
    /// Re-encode the merged, filtered profile as profile.proto or folded stacks.
    Convert {
        /// Output format.
        #[arg(long, value_enum)]
        to: ConvertTo,
        /// Write here instead of standard output.
        #[arg(short, long)]
        output: Option<PathBuf>,
        #[command(flatten)]
        rest: Reported,
    },
}

/// Target formats of `convert`.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ConvertTo {
    /// Gzipped profile.proto, readable by `go tool pprof`.
    Proto,
    /// Folded stacks (`a;b;c 12`), for FlameGraph tools.
    Folded,
}

/// Report output format.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// pprof's text layout.
    #[default]
    Text,
    /// JSON with raw values.
    Json,
}

/// The report flags and the profiles they apply to.
#[derive(Args, Clone, Debug)]
pub struct Reported {
    #[command(flatten)]
    pub args: ReportArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Profiles to read and merge: files or http(s) URLs.
    #[arg(required = true, value_name = "PROFILE")]
    pub profiles: Vec<String>,
}

/// pprof's report flags as long options, shared by every command that reads profiles
/// (`top`, `flame`, `web`, ...): flatten it with `#[command(flatten)]` and call
/// [`prepare`] so all of them compute the same numbers.
#[derive(Args, Clone, Debug, Default)]
pub struct ReportArgs {
    /// Sample value to report, by name (`alloc_space`, `inuse_` optional) or index.
    #[arg(long = "sample-index", visible_alias = "sample_index")]
    pub sample_index: Option<String>,
    /// Report the mean value per event instead of the total.
    #[arg(long)]
    pub mean: bool,
    /// Legacy value selectors, as pprof's `-alloc_space` etc.
    #[arg(long = "alloc-space", hide = true)]
    pub alloc_space: bool,
    #[arg(long = "alloc-objects", hide = true)]
    pub alloc_objects: bool,
    #[arg(long = "inuse-space", hide = true)]
    pub inuse_space: bool,
    #[arg(long = "inuse-objects", hide = true)]
    pub inuse_objects: bool,
    #[arg(long = "total-delay", hide = true)]
    pub total_delay: bool,
    #[arg(long = "mean-delay", hide = true)]
    pub mean_delay: bool,
    #[arg(long = "contentions", hide = true)]
    pub contentions: bool,
    /// Keep only samples with a frame matching this regex.
    #[arg(long)]
    pub focus: Option<String>,
    /// Drop samples with a frame matching this regex.
    #[arg(long)]
    pub ignore: Option<String>,
    /// Remove frames matching this regex from stacks.
    #[arg(long)]
    pub hide: Option<String>,
    /// Keep only frames matching this regex in stacks.
    #[arg(long)]
    pub show: Option<String>,
    /// Drop the callers of the outermost frame matching this regex.
    #[arg(long = "show-from")]
    pub show_from: Option<String>,
    /// Drop the callees of the first frame matching this regex.
    #[arg(long = "prune-from")]
    pub prune_from: Option<String>,
    /// Keep samples whose labels match: `key=regex`, `regex,...`, or a range like `1mb:2gb`.
    #[arg(long)]
    pub tagfocus: Option<String>,
    /// Drop samples whose labels match (same syntax as --tagfocus).
    #[arg(long)]
    pub tagignore: Option<String>,
    /// Keep only label keys matching this regex.
    #[arg(long)]
    pub tagshow: Option<String>,
    /// Remove label keys matching this regex.
    #[arg(long)]
    pub taghide: Option<String>,
    /// Node granularity: functions, filefunctions, files, lines or addresses.
    #[arg(long)]
    pub granularity: Option<Granularity>,
    /// Same as --granularity lines.
    #[arg(long)]
    pub lines: bool,
    /// Same as --granularity files.
    #[arg(long)]
    pub files: bool,
    /// Same as --granularity functions.
    #[arg(long)]
    pub functions: bool,
    /// Same as --granularity filefunctions.
    #[arg(long)]
    pub filefunctions: bool,
    /// Same as --granularity addresses.
    #[arg(long)]
    pub addresses: bool,
    /// Attribute inlined functions to their callers.
    #[arg(long)]
    pub noinlines: bool,
    /// Subtract these profiles (pprof's -base).
    #[arg(long, value_name = "PROFILE")]
    pub base: Vec<String>,
    /// Subtract these profiles, percentages relative to them (pprof's -diff_base).
    #[arg(long = "diff-base", value_name = "PROFILE", conflicts_with = "base")]
    pub diff_base: Vec<String>,
    /// Scale the profiles to the base's total before subtracting.
    #[arg(long)]
    pub normalize: bool,
    /// Percentages relative to the focused samples.
    #[arg(long = "relative-percentages")]
    pub relative_percentages: bool,
    /// Sort by cumulative value.
    #[arg(long)]
    pub cum: bool,
    /// Sort by flat value (the default).
    #[arg(long, conflicts_with = "cum")]
    pub flat: bool,
    /// Show at most this many nodes.
    #[arg(long)]
    pub nodecount: Option<usize>,
    /// Hide nodes below this fraction of the total.
    #[arg(long, default_value_t = 0.005)]
    pub nodefraction: f64,
    /// Hide edges below this fraction of the total.
    #[arg(long, default_value_t = 0.001)]
    pub edgefraction: f64,
    /// Unit for values (`minimum` picks one; `ms`, `MB`, ...).
    #[arg(long, default_value = "minimum")]
    pub unit: String,
    /// Leave out the profile header lines.
    #[arg(long = "compact-labels")]
    pub compact_labels: bool,
    /// Seconds to wait for a profile URL.
    #[arg(long, default_value_t = 60)]
    pub timeout: u64,
}

impl ReportArgs {
    /// The transform options these flags select.
    pub fn transform_options(&self) -> anyhow::Result<transform::Options> {
        let legacy: Vec<&str> = [
            (self.total_delay, "total_delay"),
            (self.mean_delay, "mean_delay"),
            (self.contentions, "contentions"),
            (self.inuse_space, "inuse_space"),
            (self.inuse_objects, "inuse_objects"),
            (self.alloc_space, "alloc_space"),
            (self.alloc_objects, "alloc_objects"),
        ]
        .into_iter()
        .filter_map(|(on, n)| on.then_some(n))
        .collect();
        let (legacy_index, legacy_mean) = transform::legacy_sample_index(&legacy);
        if self.sample_index.is_some() && legacy_index.is_some() {
            eprintln!(
                "Multiple value selections, ignoring --{}",
                legacy[0].replace('_', "-")
            );
        }
        let shorthand: Vec<Granularity> = [
            (self.lines, Granularity::Lines),
            (self.files, Granularity::Files),
            (self.functions, Granularity::Functions),
            (self.filefunctions, Granularity::FileFunctions),
            (self.addresses, Granularity::Addresses),
        ]
        .into_iter()
        .filter_map(|(on, g)| on.then_some(g))
        .chain(self.granularity)
        .collect();
        if shorthand.len() > 1 {
            bail!(
                "conflicting granularity options: pick one of --granularity, --lines, --files, --functions, --filefunctions, --addresses"
            );
        }
        Ok(transform::Options {
            sample_index: self.sample_index.clone().or(legacy_index),
            mean: self.mean || legacy_mean,
            focus: self.focus.clone(),
            ignore: self.ignore.clone(),
            hide: self.hide.clone(),
            show: self.show.clone(),
            show_from: self.show_from.clone(),
            prune_from: self.prune_from.clone(),
            tagfocus: self.tagfocus.clone(),
            tagignore: self.tagignore.clone(),
            tagshow: self.tagshow.clone(),
            taghide: self.taghide.clone(),
            granularity: shorthand.first().copied().unwrap_or_default(),
            noinlines: self.noinlines,
            relative_percentages: self.relative_percentages,
            base_mode: if self.diff_base.is_empty() {
                BaseMode::Subtract
            } else {
                BaseMode::Diff
            },
            normalize: self.normalize,
            skip_self_merge: false,
        })
    }

    /// The report layout options these flags select.
    pub fn report_options(&self) -> report::Options {
        report::Options {
            node_count: self.nodecount,
            node_fraction: self.nodefraction,
            edge_fraction: self.edgefraction,
            cum: self.cum,
            unit: self.unit.clone(),
            compact_labels: self.compact_labels,
            drop_negative: false,
        }
    }

    fn bases(&self) -> &[String] {
        if self.diff_base.is_empty() {
            &self.base
        } else {
            &self.diff_base
        }
    }
}

/// Reads one profile from a file or an http(s) URL.
pub fn load(source: &str, timeout: Duration) -> anyhow::Result<Profile> {
    let data = if source.starts_with("http://") || source.starts_with("https://") {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .build()
            .into();
        let resp = agent
            .get(source)
            .call()
            .with_context(|| format!("fetching {source}"))?;
        let mut buf = Vec::new();
        resp.into_body()
            .into_reader()
            .take(1 << 31)
            .read_to_end(&mut buf)
            .with_context(|| format!("reading {source}"))?;
        buf
    } else {
        // Streamed, so a gzipped file is not held compressed while it is decoded.
        let file = std::fs::File::open(source).with_context(|| format!("reading {source}"))?;
        return culprit_profile::parse_reader(file)
            .with_context(|| format!("parsing profile {source}"));
    };
    culprit_profile::parse(&data).with_context(|| format!("parsing profile {source}"))
}

/// Reads `profiles` (and the bases the flags name) and prepares them as `go tool pprof`
/// would for a report with these flags. Prints pprof's warnings to stderr.
pub fn prepare(args: &ReportArgs, profiles: &[String]) -> anyhow::Result<Prepared> {
    prepare_with(args, profiles, args.transform_options()?)
}

pub(crate) fn prepare_with(
    args: &ReportArgs,
    profiles: &[String],
    opts: transform::Options,
) -> anyhow::Result<Prepared> {
    let timeout = Duration::from_secs(args.timeout);
    let load_all = |srcs: &[String]| -> anyhow::Result<Vec<Profile>> {
        srcs.iter().map(|s| load(s, timeout)).collect()
    };
    let sources = load_all(profiles)?;
    let bases = load_all(args.bases())?;
    let prepared = transform::prepare(sources, bases, &opts)?;
    for w in &prepared.warnings {
        eprintln!("{w}");
    }
    Ok(prepared)
}

fn emit(s: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    quiet_broken_pipe(out.write_all(s.as_bytes()).and_then(|()| out.flush()))
}

/// A reader that stopped reading (`| head`) is not an error.
fn quiet_broken_pipe(r: std::io::Result<()>) -> anyhow::Result<()> {
    match r {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => Ok(r?),
    }
}

/// Runs one command of this group.
pub fn run(cmd: Command) -> anyhow::Result<()> {
    match cmd {
        Command::Top(r) => {
            let p = prepare(&r.args, &r.profiles)?;
            let o = r.args.report_options();
            emit(&match r.format {
                Format::Text => report::top(&p, &o),
                Format::Json => report::top_json(&p, &o) + "\n",
            })
        }
        Command::Peek { regex, rest: r } => {
            let p = prepare(&r.args, &r.profiles)?;
            let o = r.args.report_options();
            emit(&match r.format {
                Format::Text => report::tree(&p, &o, Some(&regex))?,
                Format::Json => report::tree_json(&p, &o, Some(&regex))? + "\n",
            })
        }
        Command::Tree(r) => {
            let p = prepare(&r.args, &r.profiles)?;
            let o = r.args.report_options();
            emit(&match r.format {
                Format::Text => report::tree(&p, &o, None)?,
                Format::Json => report::tree_json(&p, &o, None)? + "\n",
            })
        }
        Command::Traces(r) => {
            let p = prepare(&r.args, &r.profiles)?;
            let o = r.args.report_options();
            match r.format {
                // Streamed: a large profile's traces run to gigabytes.
                Format::Text => {
                    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
                    quiet_broken_pipe(
                        report::write_traces(&p, &o, &mut out).and_then(|()| out.flush()),
                    )
                }
                Format::Json => emit(&(report::traces_json(&p, &o) + "\n")),
            }
        }
        Command::Tags(r) => {
            let p = prepare(&r.args, &r.profiles)?;
            let o = r.args.report_options();
            emit(&match r.format {
                Format::Text => report::tags(&p, &o),
                Format::Json => report::tags_json(&p, &o) + "\n",
            })
        }
        Command::Raw(r) => {
            let p = prepare_raw(&r.args, &r.profiles)?;
            if r.format == Format::Json {
                bail!(
                    "raw has no JSON form; use `convert --to proto` for a machine-readable profile"
                );
            }
            emit(&text::to_string_with(&p.profile, text::Style::Go119))
        }
        Command::Convert {
            to,
            output,
            rest: r,
        } => {
            let p = prepare_raw(&r.args, &r.profiles)?;
            let mut buf = Vec::new();
            match to {
                ConvertTo::Proto => buf = culprit_profile::encode_gzip(&p.profile),
                ConvertTo::Folded => {
                    culprit_profile::folded::write(&p.profile, p.value_index, &mut buf)?
                }
            }
            match output {
                Some(path) => std::fs::write(&path, &buf)
                    .with_context(|| format!("writing {}", path.display())),
                None => {
                    let mut out = std::io::stdout().lock();
                    out.write_all(&buf)?;
                    Ok(out.flush()?)
                }
            }
        }
    }
}

/// pprof prepares `-raw` and `-proto` output at address granularity with inlining kept.
fn prepare_raw(args: &ReportArgs, profiles: &[String]) -> anyhow::Result<Prepared> {
    let mut opts = args.transform_options()?;
    opts.granularity = Granularity::Addresses;
    opts.noinlines = false;
    prepare_with(args, profiles, opts)
}
