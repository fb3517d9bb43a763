//! What goroutines wait on: Go dumps grouped.

use clap::Subcommand;

/// Commands of this group.
#[derive(Subcommand)]
pub enum Command {
    /// (not built yet)
    Goroutines,
}

/// Runs one command of this group.
pub fn run(cmd: Command) -> anyhow::Result<()> {
    match cmd {
        Command::Goroutines => anyhow::bail!("not built yet"),
    }
}
