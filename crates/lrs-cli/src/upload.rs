//! `lrs upload` (being written).

use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct UploadArgs {}

pub fn run(_args: &UploadArgs) -> ExitCode {
    eprintln!("lrs upload: not available in this build yet");
    ExitCode::from(2)
}
