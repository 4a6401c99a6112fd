//! `lrs sas` (being written).

use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum SasCommand {}

pub fn run(command: &SasCommand) -> ExitCode {
    match *command {}
}
