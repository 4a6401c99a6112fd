//! `lrs migrate`: plans of many databases, driven by `lrs-core::migration`.
//!
//! - `plan --out FILE ...` writes a plan (TOML, no secret) after inspecting each source folder;
//! - `run PLAN` uploads, mints and proves the SAS, starts, follows and (continuous mode) ships new
//!   log backups; Ctrl-C or a kill stops it, and the same command resumes. `--until-ready` returns
//!   once every database is ReadyForCutover or final (a script's "cutover is due");
//! - `status PLAN` shows the saved state (no sign-in needed); `cutover PLAN --database NAME|--all`
//!   and `stop PLAN --database NAME` act behind the gates, each database name typed to confirm;
//! - `audit PLAN [--format jsonl|csv]` exports the audit log.
//!
//! While `run` (or the app) drives a plan it holds the plan's lock; `cutover` and `stop` then
//! confirm as usual and hand the request to that process through the plan's inbox
//! ([`handoff`](crate::handoff)), which carries it out behind the same gates, and wait up to
//! `--timeout` seconds for its answer.
//!
//! Exit codes: 0 done (run: every database where it should be); 1 a database failed or halted, or
//! a gate refused; 2 bad usage or configuration; 130 interrupted (run it again to resume), or a
//! request handed to the driving process still waiting for it (it stays queued).

mod audit;
mod cutover;
mod plan;
mod run;
mod status;
mod stop;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use lrs_core::arm::{ArmClient, ArmClientOptions};
use lrs_core::migration::{Migration, MigrationError, MigrationPlan, MigrationState, PlanStore, Services, StoreError};
use lrs_core::storage::client::{HttpOptions, StorageClient};
use lrs_core::storage::defaults::DEFAULT_CONCURRENCY;
use lrs_core::storage::ContainerUrl;
use tokio_util::sync::CancellationToken;

use crate::arm_args::{CloudArgs, SignInArgs, SubscriptionArg};
use crate::credentials::{CredentialArgs, KeychainKind, StorageCredential};
use crate::failure::Failure;

const EXIT_INTERRUPTED: u8 = 130;

/// How long `cutover` and `stop` wait for the process driving the plan to carry them out.
const DEFAULT_HANDOFF_SECONDS: f64 = 120.0;

#[derive(Debug, clap::Subcommand)]
pub enum MigrateCommand {
    /// Write a plan: the databases (source folder, container folder, target name), the managed
    /// instance, the container and the mode. Each source folder is inspected first.
    Plan(PlanArgs),
    /// Run a plan to the point where cutover is due: upload, SAS, start, follow, ship new logs.
    /// Stop it at any time (Ctrl-C) and run it again to resume.
    Run(RunArgs),
    /// Show where each database of a plan is (from the saved state; no sign-in needed).
    Status(StatusArgs),
    /// Complete the cutover of databases that are ReadyForCutover (type each name to confirm).
    Cutover(CutoverArgs),
    /// Stop one database: after its start, this drops the restoring database.
    Stop(StopArgs),
    /// Export the plan's audit log as JSON lines or CSV.
    Audit(AuditArgs),
}

#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    /// Where to write the plan (refused if the file exists).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// A database: NAME=DIR (its folder in the container is NAME), or NAME=DIR:FOLDER. Repeat it.
    #[arg(long = "database", value_name = "NAME=DIR[:FOLDER]")]
    databases: Vec<String>,
    /// A folder whose subfolders each hold one database's backups (the subfolder name is the
    /// database name and its folder in the container).
    #[arg(long, value_name = "DIR")]
    sources: Option<PathBuf>,
    /// autocomplete: LRS completes by itself after the last backup; continuous: new log backups
    /// are shipped until you cut over.
    #[arg(long, value_enum, default_value = "continuous")]
    mode: ModeArg,
    /// The container, such as https://ACCOUNT.blob.core.windows.net/CONTAINER (no SAS in it).
    #[arg(long, value_name = "URL")]
    container_url: String,
    /// Environment variable that will hold the storage account key when the plan runs.
    #[arg(long, value_name = "VAR", conflicts_with = "keychain")]
    account_key_env: Option<String>,
    /// Keychain entry that holds the storage account key (storage/<account>/key).
    #[arg(long, value_name = "NAME")]
    keychain: Option<String>,
    /// Days the Read+List SAS given to LRS stays valid.
    #[arg(long, value_name = "DAYS", default_value_t = 32)]
    sas_days: u32,
    #[command(flatten)]
    cloud: CloudArgs,
    #[command(flatten)]
    subscription: SubscriptionArg,
    /// Resource group of the managed instance.
    #[arg(long, value_name = "NAME")]
    resource_group: String,
    /// Managed instance name.
    #[arg(long, value_name = "NAME")]
    instance: String,
    /// Collation of the restored databases (default: the instance's).
    #[arg(long, value_name = "NAME")]
    collation: Option<String>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum ModeArg {
    Autocomplete,
    Continuous,
}

/// Where the plan's state is kept, and the sign-in.
#[derive(Debug, clap::Args)]
pub struct PlanRef {
    /// The plan file written by `lrs migrate plan`.
    #[arg(value_name = "PLAN")]
    plan: PathBuf,
    /// Keep the plan's state and audit log here instead of the app's data directory.
    #[arg(long, value_name = "DIR", env = "LRS_MIGRATION_STATE_DIR")]
    state_dir: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    #[command(flatten)]
    plan: PlanRef,
    #[command(flatten)]
    sign_in: SignInArgs,
    /// Print JSON lines (events, then a summary) instead of the table.
    #[arg(long)]
    json: bool,
    /// Return once every database is ReadyForCutover, Completed, Stopped, Failed or halted.
    #[arg(long)]
    until_ready: bool,
    /// Upload even when an inspection finds errors.
    #[arg(long)]
    force: bool,
    /// Seconds between two polls of one database's restore.
    #[arg(long, value_name = "SECONDS", default_value_t = 30.0)]
    poll_seconds: f64,
    /// Seconds between two scans of a source folder for new log backups.
    #[arg(long, value_name = "SECONDS", default_value_t = 15.0)]
    scan_seconds: f64,
    /// ARM reads per minute the plan's polls may use (all databases together).
    #[arg(long, value_name = "N", default_value_t = lrs_core::migration::DEFAULT_ARM_READS_PER_MINUTE)]
    reads_per_minute: u32,
    /// Blocks in flight per upload.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_CONCURRENCY as u16, value_parser = clap::value_parser!(u16).range(1..=64))]
    concurrency: u16,
    /// A file modified less than this many seconds ago is still being written: wait for it.
    #[arg(long, value_name = "SECONDS", default_value_t = lrs_core::storage::defaults::SETTLE_WINDOW.as_secs_f64())]
    settle_seconds: f64,
}

#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    #[command(flatten)]
    plan: PlanRef,
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
pub struct CutoverArgs {
    #[command(flatten)]
    plan: PlanRef,
    #[command(flatten)]
    sign_in: SignInArgs,
    /// The database to cut over.
    #[arg(long, value_name = "NAME", required_unless_present = "all", conflicts_with = "all")]
    database: Option<String>,
    /// Every database of the plan that is ReadyForCutover.
    #[arg(long)]
    all: bool,
    /// The last backup to complete with (default: the last one shipped and restored).
    #[arg(long, value_name = "FILE", requires = "database")]
    last_backup: Option<String>,
    /// Do not ask: the names are taken as typed (for scripts).
    #[arg(long)]
    yes: bool,
    /// Return once Azure accepted the cutover, without waiting for Completed.
    #[arg(long)]
    no_wait: bool,
    #[arg(long)]
    json: bool,
    /// Seconds between two polls while waiting for Completed.
    #[arg(long, value_name = "SECONDS", default_value_t = 10.0)]
    poll_seconds: f64,
    /// When another process drives the plan: seconds to wait for it to carry out the cutover.
    #[arg(long, value_name = "SECONDS", default_value_t = DEFAULT_HANDOFF_SECONDS)]
    timeout: f64,
}

#[derive(Debug, clap::Args)]
pub struct StopArgs {
    #[command(flatten)]
    plan: PlanRef,
    #[command(flatten)]
    sign_in: SignInArgs,
    #[arg(long, value_name = "NAME")]
    database: String,
    /// Do not ask for the name (for scripts).
    #[arg(long)]
    yes: bool,
    #[arg(long)]
    json: bool,
    /// When another process drives the plan: seconds to wait for it to carry out the stop.
    #[arg(long, value_name = "SECONDS", default_value_t = DEFAULT_HANDOFF_SECONDS)]
    timeout: f64,
}

#[derive(Debug, clap::Args)]
pub struct AuditArgs {
    #[command(flatten)]
    plan: PlanRef,
    #[arg(long, value_enum, default_value = "jsonl")]
    format: AuditFormat,
    /// Write to this file instead of standard output.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum AuditFormat {
    Jsonl,
    Csv,
}

pub fn run(command: &MigrateCommand) -> ExitCode {
    let (name, json, result) = match command {
        MigrateCommand::Plan(a) => ("migrate plan", false, plan::plan(a)),
        MigrateCommand::Run(a) => ("migrate run", a.json, run::run_plan(a)),
        MigrateCommand::Status(a) => ("migrate status", a.json, status::status(a)),
        MigrateCommand::Cutover(a) => ("migrate cutover", a.json, cutover::cutover(a)),
        MigrateCommand::Stop(a) => ("migrate stop", a.json, stop::stop(a)),
        MigrateCommand::Audit(a) => ("migrate audit", false, audit::audit(a)),
    };
    match result {
        Ok(code) => code,
        Err(failure) => failure.report(name, json),
    }
}

fn engine(e: MigrationError) -> Failure {
    match e {
        MigrationError::Store(lrs_core::migration::StoreError::Locked { .. }) | MigrationError::UnknownDatabase(_) => {
            Failure::Usage(e.to_string())
        }
        MigrationError::Gate(message) => Failure::Refused { message, fix: None },
        other => Failure::Refused { message: other.to_string(), fix: None },
    }
}

fn whoami() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .map(|u| format!("local user {u}"))
        .unwrap_or_else(|_| "local user".into())
}

fn seconds(s: f64) -> Duration {
    // NaN counts as 0; anything past what a Duration holds as the longest one.
    Duration::try_from_secs_f64(if s.is_nan() { 0.0 } else { s.max(0.0) }).unwrap_or(Duration::MAX)
}

// ---- shared -----------------------------------------------------------------------------------

fn load(plan: &PlanRef) -> Result<MigrationPlan, Failure> {
    MigrationPlan::load(&plan.plan).map_err(|e| Failure::usage(e.to_string()))
}

fn open(plan: &PlanRef) -> Result<Migration, Failure> {
    let loaded = load(plan)?;
    Migration::open(loaded, state_root(plan).as_deref()).map_err(engine)
}

/// Opens the plan, or `None` when another process drives it (holds its lock).
fn open_unless_driven(plan: &PlanRef) -> Result<Option<Migration>, Failure> {
    let loaded = load(plan)?;
    match Migration::open(loaded, state_root(plan).as_deref()) {
        Ok(migration) => Ok(Some(migration)),
        Err(MigrationError::Store(StoreError::Locked { .. })) => Ok(None),
        Err(e) => Err(engine(e)),
    }
}

/// Where the plans' state folders are (`None`: the app's data directory).
fn state_root(plan: &PlanRef) -> Option<PathBuf> {
    plan.state_dir.as_deref().map(|d| d.join("migrations"))
}

fn plan_store(plan_ref: &PlanRef, plan: &MigrationPlan) -> Result<PlanStore, Failure> {
    PlanStore::for_plan(state_root(plan_ref).as_deref(), &plan.id).map_err(|e| Failure::usage(e.to_string()))
}

/// The saved state, read without the lock (it is replaced atomically).
fn saved_state(store: &PlanStore, plan: &MigrationPlan) -> Result<MigrationState, Failure> {
    let saved = store.load().map_err(|e| Failure::usage(e.to_string()))?;
    Ok(saved.unwrap_or_else(|| MigrationState::new(plan)).reconcile(plan))
}

/// The ARM client, the storage key and where things are, from the plan and the sign-in flags.
async fn services(plan: &MigrationPlan, sign_in: &SignInArgs) -> Result<Services, Failure> {
    let cloud = CloudArgs {
        cloud: plan.target.cloud.clone(),
        arm_endpoint: plan.target.arm_endpoint.clone(),
        authority_host: None,
        audience: None,
    }
    .cloud()?;
    let (credential, identity) = sign_in.credential(&cloud)?;
    let arm = ArmClient::new(cloud, credential, ArmClientOptions::default())?;
    let subscription = SubscriptionArg { subscription: plan.target.subscription.clone() }.resolve(&arm).await?;
    let container = ContainerUrl::parse(&plan.storage.container_url).map_err(|e| Failure::usage(e.to_string()))?;
    let credential = CredentialArgs {
        account_key_env: plan.storage.account_key_env.clone(),
        sas_env: None,
        keychain: plan.storage.keychain.clone(),
        keychain_kind: plan.storage.keychain.as_ref().map(|_| KeychainKind::AccountKey),
    };
    let account_key = match credential.resolve().map_err(|e| Failure::usage(e.to_string()))? {
        StorageCredential::AccountKey(key) => key,
        StorageCredential::Sas(_) => {
            return Err(Failure::usage("the plan's storage credential must be an account key"))
        }
    };
    let http = StorageClient::new(&HttpOptions::default()).map_err(|e| Failure::usage(e.to_string()))?;
    Ok(Services { arm, http, container, account_key, subscription, identity })
}

fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::usage(format!("cannot start the async runtime: {e}")))
}

/// Cancels `cancel` on Ctrl-C, and on Unix also on SIGTERM and SIGHUP (a service manager stopping
/// `lrs migrate run`, a closed terminal): the command then ends as after Ctrl-C (exit 130), its
/// state saved and its posted requests withdrawn.
fn interrupt_on_signal(cancel: &CancellationToken) {
    let cancel = cancel.clone();
    tokio::spawn(async move {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            if let (Ok(mut term), Ok(mut hup)) = (signal(SignalKind::terminate()), signal(SignalKind::hangup())) {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                    _ = hup.recv() => {}
                }
                cancel.cancel();
                return;
            }
        }
        if tokio::signal::ctrl_c().await.is_ok() {
            cancel.cancel();
        }
    });
}

/// Asks for `name` on standard input (unless `yes`); returns what was typed.
fn typed(consequence: &str, name: &str, yes: bool) -> Result<String, Failure> {
    if yes {
        return Ok(name.to_string());
    }
    crate::prompt::ask_name(consequence, name)
}
