//! Process tree, cgroup and Go runtime metrics over time.

use clap::Subcommand;

/// Commands of this group.
#[derive(Subcommand)]
pub enum Command {
    /// (not built yet)
    Watch,
}

/// Runs one command of this group.
pub fn run(cmd: Command) -> anyhow::Result<()> {
    match cmd {
        Command::Watch => anyhow::bail!("not built yet"),
    }
}
