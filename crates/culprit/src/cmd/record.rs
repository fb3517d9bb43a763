//! Native sampling profiler: `culprit record`.

use std::path::PathBuf;
use std::process::Command as Process;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Subcommand;
use culprit_probe::record::{RecordOptions, Recorder};

/// Commands of this group.
#[derive(Subcommand)]
pub enum Command {
    /// Sample the CPU of a process (or a command) and write a pprof profile.
    ///
    /// Samples every thread with the kernel's cpu-clock event, including threads and child
    /// processes started during the recording, unwinds user stacks with DWARF CFI or frame
    /// pointers, adds kernel frames when permitted, and symbolizes.
    Record {
        /// Profile this running process.
        #[arg(long, short = 'p', conflicts_with = "command")]
        pid: Option<u32>,
        /// Samples per second of CPU time per thread.
        #[arg(long, short = 'F', default_value_t = 99)]
        frequency: u64,
        /// Stop after this long (`10s`, `500ms`, `2m`); default: until Ctrl-C or the target
        /// exits. With a command, the command is sent SIGTERM when the time is up.
        #[arg(long, short = 'd', value_parser = humantime::parse_duration)]
        duration: Option<Duration>,
        /// Where to write the profile.
        #[arg(long, short = 'o', default_value = "culprit-record.pb.gz")]
        output: PathBuf,
        /// Leave kernel frames out.
        #[arg(long)]
        no_kernel: bool,
        /// User stack bytes copied per sample for DWARF unwinding.
        #[arg(long, default_value_t = 16384)]
        stack_bytes: u32,
        /// The command to run and profile (after `--`).
        #[arg(last = true, value_name = "CMD")]
        command: Vec<String>,
    },
}

/// Runs one command of this group.
pub fn run(cmd: Command) -> anyhow::Result<()> {
    match cmd {
        Command::Record {
            pid,
            frequency,
            duration,
            output,
            no_kernel,
            stack_bytes,
            command,
        } => {
            anyhow::ensure!(frequency > 0, "--frequency must be at least 1");
            let opts = RecordOptions {
                frequency_hz: frequency,
                stack_bytes,
                kernel: !no_kernel,
            };
            record(pid, command, duration, &output, &opts)
        }
    }
}

fn record(
    pid: Option<u32>,
    command: Vec<String>,
    duration: Option<Duration>,
    output: &PathBuf,
    opts: &RecordOptions,
) -> anyhow::Result<()> {
    let interrupted = Arc::new(AtomicBool::new(false));
    {
        let flag = interrupted.clone();
        // A second handler cannot be installed in one process; recording still works
        // without one, it just cannot be ended early by Ctrl-C.
        let _ = ctrlc::set_handler(move || flag.store(true, Ordering::Relaxed));
    }
    let (recorder, mut child) = match (pid, command.split_first()) {
        (Some(pid), _) => (Recorder::attach(pid, opts)?, None),
        (None, Some((program, args))) => {
            let mut p = Process::new(program);
            p.args(args);
            let (rec, child) = Recorder::spawn(&mut p, opts)?;
            (rec, Some(child))
        }
        (None, None) => anyhow::bail!("say what to profile: --pid PID or -- CMD ARGS"),
    };
    let progress = indicatif::ProgressBar::new_spinner();
    progress.set_draw_target(indicatif::ProgressDrawTarget::stderr());
    let start = Instant::now();
    let mut exit_note = None;
    loop {
        std::thread::sleep(Duration::from_millis(50));
        progress.set_message(format!(
            "recording pid {}: {} samples, {:.1}s",
            recorder.pid(),
            recorder.samples(),
            start.elapsed().as_secs_f64()
        ));
        progress.tick();
        if let Some(c) = child.as_mut() {
            if let Some(status) = c.try_wait().context("waiting for the command")? {
                if !status.success() {
                    exit_note = Some(format!("command exited with {status}"));
                }
                child = None;
                break;
            }
        } else if !std::path::Path::new(&format!("/proc/{}", recorder.pid())).exists() {
            exit_note = Some(format!("process {} exited", recorder.pid()));
            break;
        }
        if interrupted.load(Ordering::Relaxed) || duration.is_some_and(|d| start.elapsed() >= d) {
            break;
        }
    }
    progress.finish_and_clear();
    let pid = recorder.pid();
    let kernel = recorder.kernel_frames();
    let profile = recorder.stop()?;
    if let Some(mut c) = child {
        // SAFETY: sending SIGTERM to our own child.
        unsafe { libc::kill(c.id() as libc::pid_t, libc::SIGTERM) };
        let _ = c.wait();
    }
    let bytes = culprit_profile::encode_gzip(&profile);
    std::fs::write(output, bytes).with_context(|| format!("writing {}", output.display()))?;
    let samples: i64 = profile
        .samples
        .iter()
        .filter_map(|s| s.values.first())
        .sum();
    let threads: std::collections::BTreeSet<_> = profile
        .samples
        .iter()
        .flat_map(|s| {
            s.labels
                .iter()
                .filter(|(k, _)| &**k == "thread")
                .map(|(_, v)| v)
        })
        .collect();
    eprintln!(
        "culprit: {samples} samples of pid {pid} over {} threads in {:.1}s written to {}{}",
        threads.len(),
        start.elapsed().as_secs_f64(),
        output.display(),
        if kernel {
            ""
        } else {
            " (no kernel frames: not permitted)"
        }
    );
    if samples == 0 {
        eprintln!("culprit: no samples: the target used no CPU while recording");
    } else if profile.functions.is_empty() {
        eprintln!(
            "culprit: no symbols found: the binaries are stripped; addresses and mappings are kept \
             (install debug symbols or build with -g)"
        );
    }
    if let Some(note) = exit_note {
        eprintln!("culprit: {note}");
    }
    Ok(())
}
