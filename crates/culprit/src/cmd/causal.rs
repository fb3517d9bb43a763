//! Causal profiling: `culprit causal -- CMD` runs a program under the preload runtime and
//! writes coz's `profile.coz`; `culprit causal report FILE` shows its speed-up curves. The
//! lines in scope are those of the executable and of the shared objects it links or may
//! dlopen (`culprit_causal::objects`).

use std::path::{Path, PathBuf};
use std::process::Command as Process;

use anyhow::{Context, bail};
use clap::{Args, Subcommand, ValueEnum};
use culprit_causal::linetable::Scope;
use culprit_causal::objects;
use culprit_causal::{Analysis, analyze, render};

/// Commands of this group.
#[derive(Subcommand)]
pub enum Command {
    /// Which line, made faster, makes the program faster: run a program under the causal
    /// profiler (`culprit causal [OPTIONS] -- CMD ARGS`), or read a profile
    /// (`culprit causal report profile.coz`).
    Causal(CausalArgs),
}

/// `culprit causal`: a run, or the `report` subcommand.
#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct CausalArgs {
    #[command(subcommand)]
    sub: Option<Sub>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Subcommand)]
enum Sub {
    /// Speed-up curves and the ranking of lines from a causal profile (ours or coz's).
    Report(ReportArgs),
}

#[derive(Args)]
struct RunArgs {
    /// Only report these progress points (names as written by COZ_PROGRESS or progress!).
    #[arg(long = "progress", value_name = "NAME")]
    progress: Vec<String>,
    /// Source files whose lines may be sped up (glob on the path, or on the file name when
    /// it has no `/`), in the executable and its shared objects; default: the program's own
    /// sources, not system or toolchain ones.
    #[arg(long = "scope", value_name = "GLOB")]
    scope: Vec<String>,
    /// Shared objects (files, or directories of `.so` files) the program may dlopen from
    /// where culprit does not look. It looks at the libraries the executable links (found
    /// as ld.so finds them) and preloads, and at the `.so` files in the executable's
    /// directory, its RPATH/RUNPATH and the working directory; system libraries (under
    /// /lib* and /usr/lib*) and Rust toolchain ones are never in scope.
    #[arg(long = "lib", value_name = "PATH")]
    lib: Vec<PathBuf>,
    /// Experiment only on this line (`file:line`, the file as a path suffix).
    #[arg(long, value_name = "FILE:LINE")]
    fixed_line: Option<String>,
    /// Run only this virtual speed-up, in percent, alternating with 0% baseline experiments.
    #[arg(long, value_name = "PCT", value_parser = clap::value_parser!(u32).range(0..=100))]
    fixed_speedup: Option<u32>,
    /// Causal profile to append to, as coz does.
    #[arg(short = 'o', long, default_value = "profile.coz")]
    output: PathBuf,
    /// CPU time between samples of a thread, in microseconds.
    #[arg(long, default_value_t = 1000)]
    period_us: u64,
    /// Length of the first experiment, in milliseconds (adapted to progress afterwards).
    #[arg(long, default_value_t = 500)]
    experiment_ms: u64,
    /// The program and its arguments.
    #[arg(last = true, value_name = "CMD")]
    cmd: Vec<String>,
}

#[derive(Args)]
struct ReportArgs {
    /// Causal profile to read.
    #[arg(default_value = "profile.coz")]
    file: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Write to this file instead of standard output.
    #[arg(short = 'o', long)]
    output: Option<PathBuf>,
    /// Only report these progress points.
    #[arg(long = "progress", value_name = "NAME")]
    progress: Vec<String>,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
    Html,
}

/// Runs one command of this group.
pub fn run(cmd: Command) -> anyhow::Result<()> {
    let Command::Causal(args) = cmd;
    match args.sub {
        Some(Sub::Report(r)) => report(&r),
        None => profile(&args.run),
    }
}

fn load(file: &Path, progress: &[String]) -> anyhow::Result<Analysis> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let records = culprit_causal::parse(&text).with_context(|| format!("{}", file.display()))?;
    let mut a = analyze(&records);
    if !progress.is_empty() {
        a.curves.retain(|c| progress.contains(&c.progress_point));
    }
    Ok(a)
}

fn report(r: &ReportArgs) -> anyhow::Result<()> {
    let a = load(&r.file, &r.progress)?;
    let name = r.file.display().to_string();
    let out = match r.format {
        Format::Text => render::text(&name, &a),
        Format::Json => serde_json::to_string_pretty(&a)? + "\n",
        Format::Html => render::html(&name, &a),
    };
    match &r.output {
        Some(path) => {
            std::fs::write(path, out).with_context(|| format!("writing {}", path.display()))
        }
        None => {
            print!("{out}");
            Ok(())
        }
    }
}

fn find_program(name: &str) -> anyhow::Result<PathBuf> {
    if name.contains('/') {
        return Ok(PathBuf::from(name));
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .with_context(|| format!("{name}: not found on PATH"))
}

fn profile(r: &RunArgs) -> anyhow::Result<()> {
    let Some((prog, rest)) = r.cmd.split_first() else {
        bail!("give the program to profile after `--`, e.g. `culprit causal -- ./server`");
    };
    let exe = find_program(prog)?;
    let data = std::fs::read(&exe).with_context(|| format!("reading {}", exe.display()))?;
    if !data.windows(b"ld-linux".len()).any(|w| w == b"ld-linux") {
        bail!(
            "{}: statically linked, so a preload library cannot reach it (Go binaries are; \
             profile them with `culprit record` or their pprof endpoints)",
            exe.display()
        );
    }
    let scope = Scope::new(&r.scope).context("--scope")?;
    let program = objects::line_tables(&exe, &data, &r.lib, &scope)?;
    for note in &program.notes {
        eprintln!("culprit causal: {note}");
    }
    let work = tempdir()?;
    let table_path = work.join("lines.bin");
    std::fs::write(&table_path, program.tables.encode()).context("writing the line table")?;
    let rt = culprit_causal::runtime::install().context("installing the causal runtime")?;
    let preload = match std::env::var("LD_PRELOAD") {
        Ok(v) if !v.is_empty() => format!("{}:{v}", rt.display()),
        _ => rt.display().to_string(),
    };
    let out = std::path::absolute(&r.output).unwrap_or_else(|_| r.output.clone());
    eprintln!(
        "culprit causal: {} lines in scope of {}; writing {}",
        program.tables.lines.len(),
        objects::describe(&exe, &program),
        out.display()
    );
    let mut cmd = Process::new(&exe);
    cmd.args(rest)
        .env("LD_PRELOAD", preload)
        .env("CULPRIT_CAUSAL_TABLE", &table_path)
        .env("CULPRIT_CAUSAL_OUT", &out)
        .env("CULPRIT_CAUSAL_PERIOD_US", r.period_us.to_string())
        .env("CULPRIT_CAUSAL_EXPERIMENT_MS", r.experiment_ms.to_string());
    if let Some(l) = &r.fixed_line {
        cmd.env("CULPRIT_CAUSAL_FIXED_LINE", l);
    }
    if let Some(s) = r.fixed_speedup {
        cmd.env("CULPRIT_CAUSAL_FIXED_SPEEDUP", s.to_string());
    }
    let status = cmd
        .status()
        .with_context(|| format!("starting {}", exe.display()))?;
    let _ = std::fs::remove_dir_all(&work);
    match load(&out, &r.progress) {
        Ok(a) if a.experiments > 0 => {
            let text = render::text(&out.display().to_string(), &a);
            // The ranking table and the best line's curve are the summary; the rest is
            // one `culprit causal report` away.
            let summary: String = text
                .split("\n== line")
                .next()
                .unwrap_or_default()
                .to_owned();
            eprintln!("{summary}");
            eprintln!(
                "full curves: culprit causal report {} (--format html -o causal.html for plots)",
                out.display()
            );
        }
        Ok(_) => eprintln!(
            "culprit causal: no experiments completed; the program needs progress points \
             (COZ_PROGRESS from coz.h, or culprit-coz's progress!) and a run of a few seconds"
        ),
        Err(e) => eprintln!("culprit causal: {e:#}"),
    }
    if !status.success() {
        bail!("{} exited with {status}", exe.display());
    }
    Ok(())
}

fn tempdir() -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!(
        "culprit-causal-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos())
    ));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}
