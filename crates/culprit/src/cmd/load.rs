//! Load generation: attack, report, plot.

use clap::Subcommand;

/// Commands of this group.
#[derive(Subcommand)]
pub enum Command {
    /// (not built yet)
    Attack,
}

/// Runs one command of this group.
pub fn run(cmd: Command) -> anyhow::Result<()> {
    match cmd {
        Command::Attack => anyhow::bail!("not built yet"),
    }
}
