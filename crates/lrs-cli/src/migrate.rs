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
//! confirm as usual and hand the request to that process through the plan's inbox ([`handoff`]),
//! which carries it out behind the same gates, and wait up to `--timeout` seconds for its answer.
//!
//! Exit codes: 0 done (run: every database where it should be); 1 a database failed or halted, or
//! a gate refused; 2 bad usage or configuration; 130 interrupted (run it again to resume), or a
//! request handed to the driving process still waiting for it (it stays queued).

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use lrs_core::arm::{ArmClient, ArmClientOptions};
use lrs_core::backup::{self, InspectOptions};
use lrs_core::migration::audit::{export_csv, export_jsonl};
use lrs_core::migration::plan::folder_problem;
use lrs_core::migration::{
    AuditEntry, DatabasePlan, DbRecord, DbStatus, Migration, MigrationError, MigrationEvent, MigrationPlan,
    MigrationState, Mode, PlanStore, Request, RequestAction, RequestOutcome, RunOptions, RunSummary, Services,
    StoragePlan, StoreError, Target,
};
use lrs_core::storage::client::{HttpOptions, StorageClient};
use lrs_core::storage::defaults::DEFAULT_CONCURRENCY;
use lrs_core::storage::upload::{UploadEvent, UploadOptions};
use lrs_core::storage::ContainerUrl;
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::arm_args::{CloudArgs, SignInArgs, SubscriptionArg};
use crate::credentials::{CredentialArgs, KeychainKind, StorageCredential};
use crate::failure::{Failure, EXIT_FAILED};
use crate::handoff::{self, Waited};

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
        MigrateCommand::Plan(a) => ("migrate plan", false, plan(a)),
        MigrateCommand::Run(a) => ("migrate run", a.json, run_plan(a)),
        MigrateCommand::Status(a) => ("migrate status", a.json, status(a)),
        MigrateCommand::Cutover(a) => ("migrate cutover", a.json, cutover(a)),
        MigrateCommand::Stop(a) => ("migrate stop", a.json, stop(a)),
        MigrateCommand::Audit(a) => ("migrate audit", false, audit(a)),
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

// ---- plan -------------------------------------------------------------------------------------

fn plan(args: &PlanArgs) -> Result<ExitCode, Failure> {
    let mut databases = Vec::new();
    for spec in &args.databases {
        databases.push(parse_database(spec)?);
    }
    if let Some(root) = &args.sources {
        let entries = std::fs::read_dir(root)
            .map_err(|e| Failure::usage(format!("cannot read --sources '{}': {e}", root.display())))?;
        let mut dirs: Vec<PathBuf> = entries.filter_map(Result::ok).map(|e| e.path()).filter(|p| p.is_dir()).collect();
        dirs.sort();
        for dir in dirs {
            let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            databases.push(DatabasePlan::new(name.clone(), absolute(&dir), name));
        }
    }
    if databases.is_empty() {
        return Err(Failure::usage("name the databases: --database NAME=DIR (repeat it) or --sources DIR"));
    }
    let container = ContainerUrl::parse(&args.container_url).map_err(|e| Failure::usage(e.to_string()))?;
    // Each folder must hold exactly one database's restorable chain; say so now rather than at run time.
    let mut warnings = Vec::new();
    for db in &databases {
        let options = InspectOptions { last_backup_name: None, container: Some(container.container().to_string()) };
        let inspection = backup::inspect(std::slice::from_ref(&db.source), &options)
            .map_err(|e| Failure::usage(format!("{}: {e}", db.name)))?;
        match inspection.databases.as_slice() {
            [_] if inspection.is_clean() => {}
            [_] => warnings.push(format!(
                "{}: the inspection of '{}' found errors (run `lrs inspect {}`); `lrs migrate run` will refuse it until they are fixed",
                db.name,
                db.source.display(),
                db.source.display()
            )),
            [] => return Err(Failure::usage(format!("{}: no backup found in '{}'", db.name, db.source.display()))),
            many => {
                return Err(Failure::usage(format!(
                    "{}: '{}' holds backups of {} databases: give each database its own folder",
                    db.name,
                    db.source.display(),
                    many.len()
                )))
            }
        }
    }
    let target = Target {
        cloud: args.cloud.cloud.clone(),
        arm_endpoint: args.cloud.arm_endpoint.clone(),
        subscription: args.subscription.subscription.clone(),
        resource_group: args.resource_group.clone(),
        instance: args.instance.clone(),
        collation: args.collation.clone(),
    };
    if args.account_key_env.is_none() && args.keychain.is_none() {
        return Err(Failure::usage(
            "name where the storage account key will come from: --account-key-env VAR or --keychain storage/<account>/key",
        ));
    }
    let storage = StoragePlan {
        container_url: container.url().to_string().trim_end_matches('/').to_string(),
        account_key_env: args.account_key_env.clone(),
        keychain: args.keychain.clone(),
        sas_days: args.sas_days,
    };
    let mode = match args.mode {
        ModeArg::Autocomplete => Mode::Autocomplete,
        ModeArg::Continuous => Mode::Continuous,
    };
    let plan = MigrationPlan::new(mode, target, storage, databases);
    plan.save_new(&args.out).map_err(|e| Failure::usage(e.to_string()))?;
    let store = PlanStore::for_plan(None, &plan.id).ok();
    if let Some(store) = store {
        let entry =
            AuditEntry::new(&whoami(), lrs_core::migration::Action::PlanCreated, args.out.display().to_string())
                .detail(format!(
                    "{} database(s), {:?} mode, instance {}",
                    plan.databases.len(),
                    plan.mode,
                    plan.target.instance
                ));
        let _ = lrs_core::migration::AuditLog::at(store.audit_path()).append(entry);
    }
    for w in &warnings {
        eprintln!("warning: {w}");
    }
    eprintln!(
        "Wrote {} ({} database(s), {} mode). Run it with: lrs migrate run {}",
        args.out.display(),
        plan.databases.len(),
        if mode == Mode::Continuous { "continuous" } else { "autocomplete" },
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn whoami() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .map(|u| format!("local user {u}"))
        .unwrap_or_else(|_| "local user".into())
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

fn parse_database(spec: &str) -> Result<DatabasePlan, Failure> {
    let Some((name, rest)) = spec.split_once('=') else {
        return Err(Failure::usage(format!("--database '{spec}': write NAME=DIR or NAME=DIR:FOLDER")));
    };
    // DIR:FOLDER, but a Windows drive letter (C:\...) is part of DIR.
    let (dir, folder) = match rest.rsplit_once(':') {
        Some((dir, folder)) if !folder.contains(['/', '\\']) && dir.len() > 1 => (dir, folder.to_string()),
        _ => (rest, name.to_string()),
    };
    if let Some(problem) = folder_problem(&folder) {
        return Err(Failure::usage(format!("--database '{spec}': folder '{folder}' {problem}")));
    }
    Ok(DatabasePlan::new(name.trim(), absolute(Path::new(dir)), folder))
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

fn interrupt_on_ctrl_c(cancel: &CancellationToken) {
    let cancel = cancel.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            cancel.cancel();
        }
    });
}

// ---- run --------------------------------------------------------------------------------------

fn run_plan(args: &RunArgs) -> Result<ExitCode, Failure> {
    let migration = open(&args.plan)?;
    let runtime = runtime()?;
    runtime.block_on(async {
        let services = services(migration.plan(), &args.sign_in).await?;
        let options = RunOptions {
            until_ready: args.until_ready,
            poll_interval: seconds(args.poll_seconds),
            arm_reads_per_minute: args.reads_per_minute.max(1),
            scan_interval: seconds(args.scan_seconds),
            uploads_at_once: 2,
            upload: UploadOptions {
                concurrency: usize::from(args.concurrency),
                settle_window: seconds(args.settle_seconds),
                ..UploadOptions::default()
            },
            force: args.force,
        };
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let migration = Arc::new(migration.with_events(tx));
        let cancel = CancellationToken::new();
        interrupt_on_ctrl_c(&cancel);
        let done = CancellationToken::new();
        let printer = tokio::spawn(render(rx, args.json, migration.clone(), done.clone()));
        let result = migration.run(&services, &options, cancel).await;
        let state = migration.state();
        done.cancel();
        let _ = printer.await;
        let summary = result.map_err(engine)?;
        Ok(finish(&summary, &state, args.json, args.until_ready))
    })
}

fn seconds(s: f64) -> Duration {
    Duration::from_secs_f64(if s.is_finite() { s.max(0.0) } else { 0.0 })
}

fn finish(summary: &RunSummary, state: &MigrationState, json: bool, until_ready: bool) -> ExitCode {
    if json {
        println!("{}", json!({"event": "summary", "summary": summary}));
    } else {
        eprintln!("{}", table(state));
    }
    if summary.interrupted {
        if !json {
            eprintln!("Interrupted: run the same command again to resume.");
        }
        return ExitCode::from(EXIT_INTERRUPTED);
    }
    if !summary.all_well() {
        if !json {
            for db in summary.databases.iter().filter(|d| d.status == DbStatus::Failed || d.halted.is_some()) {
                let why = db.error.as_deref().or(db.halted.as_deref()).unwrap_or("");
                eprintln!("{}: {}", db.name, why);
            }
        }
        return ExitCode::from(EXIT_FAILED);
    }
    if until_ready && !json {
        let ready: Vec<&str> = summary
            .databases
            .iter()
            .filter(|d| d.status == DbStatus::ReadyForCutover)
            .map(|d| d.name.as_str())
            .collect();
        if !ready.is_empty() {
            eprintln!(
                "Ready for cutover: {}. Cut over with: lrs migrate cutover PLAN --database NAME (or --all)",
                ready.join(", ")
            );
        }
    }
    ExitCode::SUCCESS
}

/// Shows the run: JSON lines; or, on a terminal, the per-database table redrawn in place with the
/// notable events printed above it; or else one line per notable event.
async fn render(
    mut rx: tokio::sync::mpsc::UnboundedReceiver<MigrationEvent>,
    json: bool,
    view: Arc<Migration>,
    done: CancellationToken,
) {
    let live = (!json && std::io::stderr().is_terminal()).then(|| LiveTable::new(&view.state()));
    loop {
        let event = tokio::select! {
            event = rx.recv() => event,
            () = done.cancelled() => rx.try_recv().ok(),
            () = tokio::time::sleep(Duration::from_secs(1)) => {
                if let Some(live) = &live {
                    live.show(&view.state());
                }
                continue;
            }
        };
        let Some(event) = event else { break };
        if json {
            // Progress events are many: keep the JSON stream to the ones a script acts on.
            if let MigrationEvent::Upload { upload: UploadEvent::Progress { .. }, .. } = event {
                continue;
            }
            if let Ok(line) = serde_json::to_string(&event) {
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "{line}");
                let _ = out.flush();
            }
            continue;
        }
        if let Some(line) = event_line(&event) {
            match &live {
                Some(live) => live.println(&line),
                None => eprintln!("{line}"),
            }
        }
    }
    if let Some(live) = live {
        live.clear();
    }
}

/// The events worth a line of their own.
fn event_line(event: &MigrationEvent) -> Option<String> {
    match event {
        MigrationEvent::Transition { database, from, to, cause } => {
            Some(format!("{database}: {from} → {to} ({cause})"))
        }
        MigrationEvent::Note { database, message } => Some(format!("{database}: {message}")),
        MigrationEvent::Upload { database, upload: UploadEvent::Completed { blob, size, .. } } => {
            Some(format!("{database}: uploaded and verified {blob} ({size} bytes)"))
        }
        MigrationEvent::Upload { database, upload: UploadEvent::Retry { blob, attempt, reason, .. } } => {
            Some(format!("{database}: retry {attempt} for {blob}: {reason}"))
        }
        _ => None,
    }
}

/// The table on a terminal: one line per database, redrawn in place (indicatif).
struct LiveTable {
    multi: MultiProgress,
    lines: Vec<ProgressBar>,
}

impl LiveTable {
    fn new(state: &MigrationState) -> LiveTable {
        let multi = MultiProgress::new();
        let style = ProgressStyle::with_template("{msg}").unwrap_or_else(|_| ProgressStyle::default_bar());
        let lines =
            (0..=state.databases.len()).map(|_| multi.add(ProgressBar::new(1).with_style(style.clone()))).collect();
        let live = LiveTable { multi, lines };
        live.show(state);
        live
    }

    fn show(&self, state: &MigrationState) {
        for (bar, line) in self.lines.iter().zip(table(state).lines()) {
            bar.set_message(line.to_string());
        }
    }

    fn println(&self, line: &str) {
        let _ = self.multi.println(line);
    }

    fn clear(&self) {
        let _ = self.multi.clear();
    }
}

/// The per-database table: status, current file, uploaded, restored, lag.
fn table(state: &MigrationState) -> String {
    let mut rows =
        vec![["database", "status", "current file", "uploaded", "restored", "lag"].map(String::from).to_vec()];
    for db in &state.databases {
        rows.push(row(db));
    }
    let widths: Vec<usize> = (0..6).map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0)).collect();
    rows.iter()
        .map(|r| {
            r.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect::<Vec<_>>().join("  ").trim_end().to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn row(db: &DbRecord) -> Vec<String> {
    let restore = db.restore.as_ref();
    let current = restore
        .and_then(|r| r.current_restoring_file.clone())
        .or_else(|| db.pending.first().cloned())
        .unwrap_or_else(|| "-".into());
    let total = db.shipped.len() + db.pending.len();
    let last_restored = restore.and_then(|r| r.last_restored_file.as_deref());
    let restored_count = last_restored.and_then(|l| db.shipped.iter().position(|f| f.name == l)).map_or(0, |i| i + 1);
    let lag = db.shipped.len().saturating_sub(restored_count);
    let status = match (&db.halted, db.status) {
        (Some(_), s) => format!("{s} (halted)"),
        (None, s) => s.to_string(),
    };
    vec![
        db.name.clone(),
        status,
        current,
        format!("{}/{}", db.shipped.len(), total),
        last_restored.map_or_else(|| "-".to_string(), |l| format!("{restored_count} (last {l})")),
        format!("{lag} file(s)"),
    ]
}

// ---- status -----------------------------------------------------------------------------------

fn status(args: &StatusArgs) -> Result<ExitCode, Failure> {
    let plan = load(&args.plan)?;
    let store = plan_store(&args.plan, &plan)?;
    let state = saved_state(&store, &plan)?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string(&json!({"plan": plan.id, "mode": plan.mode, "databases": state.databases}))
                .unwrap_or_default()
        );
    } else {
        println!("{}", table(&state));
        for db in &state.databases {
            if let Some(why) = db.error.as_deref().or(db.halted.as_deref()) {
                println!("{}: {why}", db.name);
            }
        }
    }
    let failed = state.databases.iter().any(|d| d.status == DbStatus::Failed || d.halted.is_some());
    Ok(if failed { ExitCode::from(EXIT_FAILED) } else { ExitCode::SUCCESS })
}

// ---- cutover and stop -------------------------------------------------------------------------

/// Asks for `name` on standard input (unless `yes`); returns what was typed.
fn typed(consequence: &str, name: &str, yes: bool) -> Result<String, Failure> {
    if yes {
        return Ok(name.to_string());
    }
    crate::prompt::ask_name(consequence, name)
}

fn cutover(args: &CutoverArgs) -> Result<ExitCode, Failure> {
    let plan = load(&args.plan)?;
    let store = plan_store(&args.plan, &plan)?;
    let state = saved_state(&store, &plan)?;
    let Some(names) = cutover_names(&plan, &state, args)? else {
        eprintln!("Every database of the plan is already Completed or Stopped: nothing to cut over.");
        return Ok(ExitCode::SUCCESS);
    };
    // Confirmed here, before anything is sent or posted.
    let mut asked = Vec::new();
    for name in names {
        let record = state.database(&name);
        let typed_name = if record.is_some_and(|r| r.status == DbStatus::CuttingOver) {
            name.clone()
        } else {
            let last = args.last_backup.clone().or_else(|| record.and_then(|r| r.last_shipped().map(String::from)));
            typed(
                &format!(
                    "Cutover of {name} with its last backup '{}': the database comes online on the managed instance and no further backup can be restored into it",
                    last.as_deref().unwrap_or("?")
                ),
                &name,
                args.yes,
            )?
        };
        asked.push((name, typed_name));
    }
    let runtime = runtime()?;
    runtime.block_on(async {
        let cancel = CancellationToken::new();
        interrupt_on_ctrl_c(&cancel);
        let mut report = CutoverReport::default();
        let here = match open_unless_driven(&args.plan)? {
            Some(migration) => Some((migration, asked)),
            None => {
                let withdrawn = cutover_by_driver(args, &store, asked, &cancel, &mut report).await?;
                (!withdrawn.is_empty()).then(|| open(&args.plan).map(|m| (m, withdrawn))).transpose()?
            }
        };
        let mut driving = None;
        if let Some((migration, asked)) = here {
            let services = services(migration.plan(), &args.sign_in).await?;
            for (name, typed_name) in &asked {
                match migration.cutover(&services, name, args.last_backup.as_deref(), typed_name).await {
                    Ok(_) => {
                        if !args.json {
                            eprintln!("{name}: cutover accepted");
                        }
                        report.names.push(name.clone());
                    }
                    Err(e) => report.refuse(name, e.to_string()),
                }
            }
            driving = Some((migration, services));
        }
        if !args.no_wait && report.unanswered.is_empty() {
            let options = RunOptions { poll_interval: seconds(args.poll_seconds), ..RunOptions::default() };
            match &driving {
                Some((migration, services)) => {
                    migration.follow_cutovers(services, &options, cancel.clone()).await.map_err(engine)?
                }
                None => {
                    follow_driven(&args.plan, &plan, &store, &report.names, &args.sign_in, &options, &cancel).await?
                }
            }
            if cancel.is_cancelled() {
                return Ok(ExitCode::from(EXIT_INTERRUPTED));
            }
        }
        let state = match &driving {
            Some((migration, _)) => migration.state(),
            None => saved_state(&store, &plan)?,
        };
        Ok(report.finish(&state, args.json))
    })
}

/// The databases a cutover is for (`None`: every database is final already).
fn cutover_names(
    plan: &MigrationPlan,
    state: &MigrationState,
    args: &CutoverArgs,
) -> Result<Option<Vec<String>>, Failure> {
    if let Some(name) = &args.database {
        let db =
            plan.database(name).ok_or_else(|| Failure::usage(format!("'{name}' is not a database of this plan")))?;
        return Ok(Some(vec![db.name.clone()]));
    }
    let names: Vec<String> = state
        .databases
        .iter()
        .filter(|d| matches!(d.status, DbStatus::ReadyForCutover | DbStatus::CuttingOver))
        .map(|d| d.name.clone())
        .collect();
    if names.is_empty() && state.databases.iter().all(|d| d.status.is_final()) {
        return Ok(None);
    }
    if names.is_empty() {
        return Err(Failure::Refused {
            message: "no database of the plan is ReadyForCutover".into(),
            fix: Some("run `lrs migrate run PLAN --until-ready` first".into()),
        });
    }
    Ok(Some(names))
}

/// What came of a cutover of several databases.
#[derive(Default)]
struct CutoverReport {
    /// Accepted by Azure (here or by the process driving the plan).
    names: Vec<String>,
    refused: Vec<(String, String)>,
    /// Posted and not answered in time: (database, `withdrawn` or `underway`).
    unanswered: Vec<(String, &'static str)>,
}

impl CutoverReport {
    fn refuse(&mut self, name: &str, message: String) {
        eprintln!("lrs migrate cutover: {name}: {message}");
        self.refused.push((name.to_string(), message));
    }

    fn finish(&self, state: &MigrationState, json: bool) -> ExitCode {
        let mut shown: Vec<&String> = self.names.iter().chain(self.refused.iter().map(|(n, _)| n)).collect();
        shown.sort();
        shown.dedup();
        if json {
            println!(
                "{}",
                json!({"databases": shown.iter().filter_map(|n| state.database(n)).collect::<Vec<_>>(),
                       "refused": self.refused.iter().map(|(n, m)| json!({"database": n, "message": m})).collect::<Vec<_>>(),
                       "unanswered": self.unanswered.iter().map(|(n, r)| json!({"database": n, "request": r})).collect::<Vec<_>>()})
            );
        } else {
            eprintln!("{}", table(state));
        }
        let failed = self.names.iter().filter_map(|n| state.database(n)).any(|d| d.status == DbStatus::Failed);
        if !self.unanswered.is_empty() {
            ExitCode::from(EXIT_INTERRUPTED)
        } else if self.refused.is_empty() && !failed {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(EXIT_FAILED)
        }
    }
}

/// Hands the cutovers to the process driving the plan; returns those to carry out here because
/// that process ended before it took them.
async fn cutover_by_driver(
    args: &CutoverArgs,
    store: &PlanStore,
    asked: Vec<(String, String)>,
    cancel: &CancellationToken,
    report: &mut CutoverReport,
) -> Result<Vec<(String, String)>, Failure> {
    let who = whoami();
    let requests: Vec<Request> = asked
        .iter()
        .map(|(name, typed_name)| {
            Request::new(RequestAction::Cutover, name, typed_name, &who).last_backup(args.last_backup.as_deref())
        })
        .collect();
    let names: Vec<&str> = asked.iter().map(|(n, _)| n.as_str()).collect();
    eprintln!(
        "Another process drives this plan (`lrs migrate run` or the app): the cutover of {} is handed to it; waiting up to {} s for its answer.",
        names.join(", "),
        args.timeout
    );
    let waited = handoff::post_and_wait(store, requests, seconds(args.timeout), cancel).await?;
    let mut withdrawn = Vec::new();
    for ((name, typed_name), (_, waited)) in asked.into_iter().zip(waited) {
        match waited {
            Waited::Answered(RequestOutcome::Done { status }) => {
                eprintln!("{name}: cutover accepted ({status}), carried out by the running `lrs migrate run`");
                report.names.push(name);
            }
            Waited::Answered(outcome) => {
                let message = outcome.message().unwrap_or_default().to_string();
                report.refuse(&name, format!("{message} (answered by the running `lrs migrate run`)"));
            }
            Waited::Withdrawn => {
                eprintln!("{name}: the process driving the plan ended before taking the request: carried out here");
                withdrawn.push((name, typed_name));
            }
            unanswered @ (Waited::NotTaken | Waited::Underway) => {
                eprintln!("lrs migrate cutover: {}", handoff::not_answered(&name, &unanswered));
                let what = if matches!(unanswered, Waited::NotTaken) { "withdrawn" } else { "underway" };
                report.unanswered.push((name, what));
            }
        }
    }
    Ok(withdrawn)
}

/// Waits until the cutovers carried out by the process driving the plan end (read from the saved
/// state); if that process ends first, follows them here.
async fn follow_driven(
    plan_ref: &PlanRef,
    plan: &MigrationPlan,
    store: &PlanStore,
    names: &[String],
    sign_in: &SignInArgs,
    options: &RunOptions,
    cancel: &CancellationToken,
) -> Result<(), Failure> {
    loop {
        let state = saved_state(store, plan)?;
        let cutting = names.iter().filter_map(|n| state.database(n)).any(|d| d.status == DbStatus::CuttingOver);
        if !cutting || cancel.is_cancelled() {
            if cancel.is_cancelled() {
                eprintln!("Interrupted: the process driving the plan follows the cutover; see `lrs migrate status`.");
            }
            return Ok(());
        }
        if let Some(migration) = open_unless_driven(plan_ref)? {
            let services = services(migration.plan(), sign_in).await?;
            return migration.follow_cutovers(&services, options, cancel.clone()).await.map_err(engine);
        }
        tokio::select! {
            () = cancel.cancelled() => {}
            () = tokio::time::sleep(options.poll_interval.max(Duration::from_millis(200))) => {}
        }
    }
}

fn stop(args: &StopArgs) -> Result<ExitCode, Failure> {
    let plan = load(&args.plan)?;
    let name = plan
        .database(&args.database)
        .map(|d| d.name.clone())
        .ok_or_else(|| Failure::usage(format!("'{}' is not a database of this plan", args.database)))?;
    let typed_name = typed(
        &format!(
            "Stop {name}: if its restore has started, the restoring database is DELETED from the managed instance"
        ),
        &name,
        args.yes,
    )?;
    let runtime = runtime()?;
    runtime.block_on(async {
        let migration = match open_unless_driven(&args.plan)? {
            Some(migration) => migration,
            None => match stop_by_driver(args, &plan, &name, &typed_name).await? {
                Some(code) => return Ok(code),
                // The driving process ended before taking it: carried out here.
                None => open(&args.plan)?,
            },
        };
        let services = services(migration.plan(), &args.sign_in).await?;
        let status = migration.stop(&services, &name, &typed_name).await.map_err(engine)?;
        print_stopped(&name, status, args.json, None);
        Ok(ExitCode::SUCCESS)
    })
}

/// Hands the stop to the process driving the plan; `None` when it was withdrawn (that process
/// ended before taking it) and is to be carried out here.
async fn stop_by_driver(
    args: &StopArgs,
    plan: &MigrationPlan,
    name: &str,
    typed_name: &str,
) -> Result<Option<ExitCode>, Failure> {
    let store = plan_store(&args.plan, plan)?;
    let cancel = CancellationToken::new();
    interrupt_on_ctrl_c(&cancel);
    eprintln!(
        "Another process drives this plan (`lrs migrate run` or the app): the stop of {name} is handed to it; waiting up to {} s for its answer.",
        args.timeout
    );
    let request = Request::new(RequestAction::Stop, name, typed_name, &whoami());
    let waited = handoff::post_and_wait(&store, vec![request], seconds(args.timeout), &cancel).await?;
    let Some((_, waited)) = waited.into_iter().next() else { return Ok(None) };
    match waited {
        Waited::Answered(RequestOutcome::Done { status }) => {
            print_stopped(name, status, args.json, Some("carried out by the running `lrs migrate run`"));
            Ok(Some(ExitCode::SUCCESS))
        }
        Waited::Answered(outcome) => Err(Failure::Refused {
            message: format!("{} (answered by the running `lrs migrate run`)", outcome.message().unwrap_or_default()),
            fix: None,
        }),
        Waited::Withdrawn => {
            eprintln!("{name}: the process driving the plan ended before taking the request: carried out here");
            Ok(None)
        }
        unanswered @ (Waited::NotTaken | Waited::Underway) => {
            eprintln!("lrs migrate stop: {}", handoff::not_answered(name, &unanswered));
            if args.json {
                let what = if matches!(unanswered, Waited::NotTaken) { "withdrawn" } else { "underway" };
                println!("{}", json!({"database": name, "request": what}));
            }
            Ok(Some(ExitCode::from(EXIT_INTERRUPTED)))
        }
    }
}

/// The stop's answer: JSON on stdout, or a line on stderr (always said when another process
/// carried it out, since that is not what the command's name suggests).
fn print_stopped(name: &str, status: DbStatus, json: bool, by: Option<&str>) {
    if json {
        println!("{}", json!({"database": name, "status": status}));
    }
    match by {
        Some(by) => eprintln!("{name}: {status} ({by})"),
        None if !json => eprintln!("{name}: {status}"),
        None => {}
    }
}

// ---- audit ------------------------------------------------------------------------------------

fn audit(args: &AuditArgs) -> Result<ExitCode, Failure> {
    let plan = load(&args.plan)?;
    let store = plan_store(&args.plan, &plan)?;
    let entries =
        lrs_core::migration::AuditLog::at(store.audit_path()).read().map_err(|e| Failure::usage(e.to_string()))?;
    let mut out: Box<dyn Write> = match &args.out {
        Some(path) => Box::new(
            std::fs::File::create(path)
                .map_err(|e| Failure::usage(format!("cannot create '{}': {e}", path.display())))?,
        ),
        None => Box::new(std::io::stdout().lock()),
    };
    let written = match args.format {
        AuditFormat::Jsonl => export_jsonl(&entries, &mut out),
        AuditFormat::Csv => export_csv(&entries, &mut out),
    };
    written.and_then(|()| out.flush()).map_err(|e| Failure::usage(format!("cannot write the audit log: {e}")))?;
    Ok(ExitCode::SUCCESS)
}
