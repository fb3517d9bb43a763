//! Causal profiling.

use clap::Subcommand;

/// Commands of this group.
#[derive(Subcommand)]
pub enum Command {
    /// (not built yet)
    Causal,
}

/// Runs one command of this group.
pub fn run(cmd: Command) -> anyhow::Result<()> {
    match cmd {
        Command::Causal => anyhow::bail!("not built yet"),
    }
}
