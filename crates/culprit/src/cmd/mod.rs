//! One module per command group; each exposes a clap `Command` enum and `run`.

pub mod causal;
pub mod flame;
pub mod goroutines;
pub mod investigate;
pub mod load;
pub mod profile;
pub mod record;
pub mod threads;
pub mod watch;
