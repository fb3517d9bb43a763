//! `culprit`: one binary for the whole performance investigation loop.
//!
//! Each command group lives in its own module under `cmd/`; this file only wires them up.

mod cmd;

use clap::{Parser, Subcommand};

/// Find out why a service is slow, and prove the fix.
#[derive(Parser)]
#[command(name = "culprit", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    #[command(flatten)]
    Profile(cmd::profile::Command),
    #[command(flatten)]
    Flame(cmd::flame::Command),
    #[command(flatten)]
    Load(cmd::load::Command),
    #[command(flatten)]
    Record(cmd::record::Command),
    #[command(flatten)]
    Goroutines(cmd::goroutines::Command),
    #[command(flatten)]
    Threads(cmd::threads::Command),
    #[command(flatten)]
    Watch(cmd::watch::Command),
    #[command(flatten)]
    Investigate(cmd::investigate::Command),
    #[command(flatten)]
    Causal(cmd::causal::Command),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Profile(c) => cmd::profile::run(c),
        Command::Flame(c) => cmd::flame::run(c),
        Command::Load(c) => cmd::load::run(c),
        Command::Record(c) => cmd::record::run(c),
        Command::Goroutines(c) => cmd::goroutines::run(c),
        Command::Threads(c) => cmd::threads::run(c),
        Command::Watch(c) => cmd::watch::run(c),
        Command::Investigate(c) => cmd::investigate::run(c),
        Command::Causal(c) => cmd::causal::run(c),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("culprit: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
