//! The whole loop: capture, investigate, compare, demo.

use clap::Subcommand;

/// Commands of this group.
#[derive(Subcommand)]
pub enum Command {
    /// (not built yet)
    Investigate,
}

/// Runs one command of this group.
pub fn run(cmd: Command) -> anyhow::Result<()> {
    match cmd {
        Command::Investigate => anyhow::bail!("not built yet"),
    }
}
