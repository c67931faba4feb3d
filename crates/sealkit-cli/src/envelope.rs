//! `sealkit envelope` — placeholder until the component's commands land.

use crate::failure::{CliError, CliResult};

/// Subcommands of `sealkit envelope`.
#[derive(clap::Subcommand)]
pub enum Command {
    /// Not available yet.
    Pending,
}

/// Runs one subcommand.
pub fn run(_command: Command) -> CliResult {
    Err(CliError::new("unavailable", "this command is not available yet"))
}
