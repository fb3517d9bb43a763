//! What threads of a live process wait on: `culprit threads`.

use clap::{Subcommand, ValueEnum};
use culprit_dump::{Filter, GroupOptions, group, render};

/// Output forms.
#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    /// Groups with their stacks, biggest first.
    Text,
    /// `{"total":N,"groups":[...]}`, the shape `culprit goroutines --format json` prints.
    Json,
}

/// Commands of this group.
#[derive(Subcommand)]
pub enum Command {
    /// Stop every thread of a live process for a moment, take its stack, and group the
    /// threads by what they wait on.
    ///
    /// Needs no cooperation from the process (ptrace seize and interrupt, then detach);
    /// shows each group's state and system call, and how long the process was stopped.
    Threads {
        /// The process.
        pid: u32,
        /// Output form.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Keep threads whose state contains this (`sleeping`, `futex`, `read`).
        #[arg(long)]
        state: Option<String>,
        /// Keep threads with a frame matching this regex.
        #[arg(long)]
        function: Option<String>,
    },
}

/// Runs one command of this group.
pub fn run(cmd: Command) -> anyhow::Result<()> {
    match cmd {
        Command::Threads {
            pid,
            format,
            state,
            function,
        } => {
            let snap = culprit_probe::threads::snapshot(pid)?;
            let filter = Filter {
                state,
                function: function.map(|f| regex::Regex::new(&f)).transpose()?,
            };
            let grouping = group(&snap.snapshot, &filter, &GroupOptions::default());
            let stopped_us = snap.stopped_for.as_micros();
            match format {
                Format::Text => {
                    println!(
                        "process {pid} was stopped for {:.3} ms",
                        stopped_us as f64 / 1000.0
                    );
                    print!("{}", render::text(&grouping, render::Noun::THREADS));
                }
                Format::Json => {
                    let mut v = render::json(&grouping);
                    if let Some(obj) = v.as_object_mut() {
                        obj.insert("pid".into(), pid.into());
                        obj.insert("stopped_us".into(), (stopped_us as u64).into());
                    }
                    println!("{v}");
                }
            }
            Ok(())
        }
    }
}
