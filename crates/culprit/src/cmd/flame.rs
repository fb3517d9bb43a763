//! Flame graphs, differential views and the web UI.

use clap::Subcommand;

/// Commands of this group.
#[derive(Subcommand)]
pub enum Command {
    /// (not built yet)
    Flame,
}

/// Runs one command of this group.
pub fn run(cmd: Command) -> anyhow::Result<()> {
    match cmd {
        Command::Flame => anyhow::bail!("not built yet"),
    }
}
