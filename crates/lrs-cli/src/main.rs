//! `lrs`: the LRS Wizard command line. A thin clap front end over `lrs-core`; every subcommand
//! renders engine results as text for people or JSON for scripts.

mod arm_args;
mod credentials;
mod failure;
mod handoff;
mod inspect;
mod list;
mod login;
mod lrs_ops;
mod lrs_status;
mod migrate;
mod prompt;
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
    /// Sign in to Azure: the browser (default), --device-code, --azure-cli, or --service-principal
    /// (AZURE_* variables). An interactive sign-in's refresh token is kept in the keychain only.
    Login(login::LoginArgs),
    /// List what the sign-in sees: subscriptions, resource groups, managed instances, storage accounts.
    #[command(subcommand)]
    List(list::ListCommand),
    /// Start a Log Replay restore from the database's folder in Blob Storage (returns once accepted).
    Start(lrs_ops::StartArgs),
    /// Show a Log Replay restore's progress (--watch: until Completed or Failed). Exit 1 when it failed.
    Status(lrs_status::StatusArgs),
    /// The cutover: complete a continuous-mode restore once the last backup is restored.
    Complete(lrs_ops::CompleteArgs),
    /// Stop a Log Replay restore: drops the database (only one that LRS is restoring).
    Stop(lrs_ops::StopArgs),
    /// Migrate a plan of databases end to end, resumable after a crash: plan, run, status,
    /// cutover, stop, audit.
    #[command(subcommand)]
    Migrate(migrate::MigrateCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Inspect(args) => inspect::run(&args),
        Command::Upload(args) => upload::run(&args),
        Command::Sas(command) => sas::run(&command),
        Command::Secrets(command) => secrets::run(&command),
        Command::Login(args) => login::run(&args),
        Command::List(command) => list::run(&command),
        Command::Start(args) => lrs_ops::run_start(&args),
        Command::Status(args) => lrs_status::run(&args),
        Command::Complete(args) => lrs_ops::run_complete(&args),
        Command::Stop(args) => lrs_ops::run_stop(&args),
        Command::Migrate(command) => migrate::run(&command),
    }
}
