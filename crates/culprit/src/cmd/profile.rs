//! Reading profiles: top, peek, tree, traces, tags, raw, convert.

use clap::Subcommand;

/// Commands of this group.
#[derive(Subcommand)]
pub enum Command {
    /// (not built yet)
    Top,
}

/// Runs one command of this group.
pub fn run(cmd: Command) -> anyhow::Result<()> {
    match cmd {
        Command::Top => anyhow::bail!("not built yet"),
    }
}
