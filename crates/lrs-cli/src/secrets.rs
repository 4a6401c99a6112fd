//! `lrs secrets` (being written).

use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum SecretsCommand {}

pub fn run(command: &SecretsCommand) -> ExitCode {
    match *command {}
}
