//! `lrs`: the LRS Wizard command line. A thin clap front end over `lrs-core`; every subcommand
//! renders engine results as text for people or JSON for scripts.

mod credentials;
mod inspect;
mod sas;
mod secrets;
mod upload;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Migrate SQL Server databases to Azure SQL Managed Instance with Log Replay Service.
#[derive(Debug, Parser)]
#[command(name = "lrs", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Read backup headers (like RESTORE HEADERONLY), plan each database's restore chain and check
    /// the LRS rules. Exit code 0: every database restorable; 1: errors found; 2: bad usage or a
    /// path that cannot be opened.
    Inspect(inspect::InspectArgs),
    /// Upload each database's backups to its own flat folder in a Blob Storage container:
    /// parallel, verified (MD5), resumable after a crash.
    Upload(upload::UploadArgs),
    /// Create or check the Read+List container SAS that LRS needs.
    #[command(subcommand)]
    Sas(sas::SasCommand),
    /// Store, check or delete a credential in the OS keychain (the value is read from standard input).
    #[command(subcommand)]
    Secrets(secrets::SecretsCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Inspect(args) => inspect::run(&args),
        Command::Upload(args) => upload::run(&args),
        Command::Sas(command) => sas::run(&command),
        Command::Secrets(command) => secrets::run(&command),
    }
}
