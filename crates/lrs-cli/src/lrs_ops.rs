//! `lrs start`, `lrs complete` and `lrs stop`: the Log Replay Service operations that change
//! something, over `lrs_core::arm::lrs`.
//!
//! - start: the SAS comes from an environment variable (`--sas-env`) and is checked first with the
//!   same static rules as `lrs sas check` (a token LRS would refuse is not sent, unless
//!   `--no-sas-check`); returns as soon as Azure accepts the request: the start operation stays
//!   InProgress for the whole migration, so progress is `lrs status`'s job;
//! - complete (the cutover) and stop (drops the database, only one LRS is restoring) ask for the
//!   database name to be typed on standard input, unless `--yes`, then follow their operation to
//!   the end (unless `--no-wait`).
//!
//! Exit codes: 0 done, 1 refused or failed by Azure or LRS, 2 bad usage or confirmation not given.

use std::process::ExitCode;

use lrs_core::arm::{DatabaseRef, LroOutcome, PollOptions, StartRequest, Started, StorageAuth, Wait};
use lrs_core::secrets::Secret;
use lrs_core::storage::sas;
use serde_json::json;
use time::OffsetDateTime;

use crate::arm_args::{runtime, ArmArgs, DatabaseArgs};
use crate::failure::Failure;

#[derive(Debug, clap::Args)]
pub struct StartArgs {
    /// The database's folder URL, as LRS expects it: https://ACCOUNT.blob.core.windows.net/CONTAINER/FOLDER
    /// (no '?'; the SAS is given separately).
    #[arg(long, value_name = "URL")]
    storage_uri: String,
    /// Environment variable holding the container's Read+List SAS (`lrs sas create` makes one).
    #[arg(long, value_name = "VAR", required_unless_present = "managed_identity")]
    sas_env: Option<String>,
    /// Let LRS read the storage with the managed instance's identity instead of a SAS.
    #[arg(long, conflicts_with = "sas_env")]
    managed_identity: bool,
    /// Complete (cut over) by itself once --last-backup is restored.
    #[arg(long, requires = "last_backup")]
    auto_complete: bool,
    /// The file name of the last backup, for --auto-complete (`lrs inspect` names it).
    #[arg(long, value_name = "NAME", requires = "auto_complete")]
    last_backup: Option<String>,
    /// Database collation (default: the managed instance's).
    #[arg(long, value_name = "COLLATION")]
    collation: Option<String>,
    /// Send the SAS even when the local check says LRS will refuse it.
    #[arg(long)]
    no_sas_check: bool,
    /// Machine-readable result.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    target: DatabaseArgs,
    #[command(flatten)]
    arm: ArmArgs,
}

/// `complete` and `stop` share these.
#[derive(Debug, clap::Args)]
pub struct ConfirmedArgs {
    /// Do not ask for the database name to be typed.
    #[arg(long)]
    yes: bool,
    /// Return once Azure accepts the request, without following the operation to its end.
    #[arg(long)]
    no_wait: bool,
    /// Machine-readable result.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    target: DatabaseArgs,
    #[command(flatten)]
    arm: ArmArgs,
}

#[derive(Debug, clap::Args)]
pub struct CompleteArgs {
    /// The file name of the last backup: it must be the last file LRS restored.
    #[arg(long, value_name = "NAME")]
    last_backup: String,
    #[command(flatten)]
    common: ConfirmedArgs,
}

#[derive(Debug, clap::Args)]
pub struct StopArgs {
    #[command(flatten)]
    common: ConfirmedArgs,
}

pub fn run_start(args: &StartArgs) -> ExitCode {
    finish("start", args.json, runtime().and_then(|rt| rt.block_on(start(args))))
}

pub fn run_complete(args: &CompleteArgs) -> ExitCode {
    finish("complete", args.common.json, runtime().and_then(|rt| rt.block_on(complete(args))))
}

pub fn run_stop(args: &StopArgs) -> ExitCode {
    finish("stop", args.common.json, runtime().and_then(|rt| rt.block_on(stop(args))))
}

fn finish(command: &str, json: bool, outcome: Result<(), Failure>) -> ExitCode {
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report(command, json),
    }
}

async fn start(args: &StartArgs) -> Result<(), Failure> {
    let auth = match &args.sas_env {
        Some(var) => StorageAuth::Sas(sas_from_env(var, args.no_sas_check)?),
        None => StorageAuth::ManagedIdentity,
    };
    let request = StartRequest {
        storage_container_uri: args.storage_uri.trim().to_string(),
        auth,
        collation: args.collation.clone(),
        auto_complete: args.auto_complete,
        last_backup_name: args.last_backup.clone(),
    };
    lrs_core::arm::lrs::check_storage_uri(&request.storage_container_uri)?;
    let client = args.arm.client()?;
    let db = args.target.resolve(&client).await?;
    let started = client.lrs(db.clone()).start(&request).await?;
    print_started(&db, &request, &started, args.json);
    Ok(())
}

/// The SAS from `var`, refused when the static checks say LRS will refuse it.
fn sas_from_env(var: &str, skip_check: bool) -> Result<Secret, Failure> {
    let token = crate::credentials::read_env_secret(var, "SAS token", |name| std::env::var_os(name))
        .map_err(|e| Failure::usage(e.to_string()))?;
    if skip_check {
        return Ok(token);
    }
    let now = OffsetDateTime::now_utc();
    let verdict = sas::check(&token, now, now + time::Duration::hours(1));
    if let Some(first) = verdict.failed().next() {
        let others = verdict.failed().count() - 1;
        let more = if others > 0 { format!(" (and {others} more: run `lrs sas check`)") } else { String::new() };
        return Err(Failure::Refused {
            message: format!("LRS will refuse the SAS in {var}: {}{more}", first.message),
            fix: first.fix.clone(),
        });
    }
    Ok(token)
}

fn print_started(db: &DatabaseRef, request: &StartRequest, started: &Started, json: bool) {
    if json {
        let out = json!({
            "database": db.database,
            "instance": db.instance,
            "resourceGroup": db.resource_group,
            "subscription": db.subscription,
            "accepted": started.status,
            "location": started.location,
            "collation": started.collation,
            "autoComplete": request.auto_complete,
            "lastBackupName": request.last_backup_name,
            "requestId": started.request_id,
        });
        println!("{out}");
        return;
    }
    let mode = match (&request.auto_complete, &request.last_backup_name) {
        (true, Some(last)) => format!("autocomplete after {last}"),
        _ => "continuous mode (complete it with `lrs complete`)".to_string(),
    };
    println!(
        "Started the Log Replay restore of '{}' on {} ({}), collation {}, {mode}.",
        db.database, db.instance, started.location, started.collation
    );
    if let Some(id) = &started.request_id {
        println!("  request id: {id}");
    }
    println!("Follow it with `lrs status --watch` (same --resource-group, --instance and --database).");
}

async fn complete(args: &CompleteArgs) -> Result<(), Failure> {
    let common = &args.common;
    let client = common.arm.client()?;
    let db = common.target.resolve(&client).await?;
    if !common.yes {
        confirm(
            &format!(
                "The cutover brings '{}' online on {}; no more backups can be restored after it",
                db.database, db.instance
            ),
            &db.database,
        )?;
    }
    let outcome = client.lrs(db.clone()).complete(&args.last_backup, &wait(common.no_wait)).await?;
    let done = matches!(outcome, LroOutcome::Done);
    if common.json {
        println!("{}", json!({ "database": db.database, "completed": done, "accepted": true }));
    } else if done {
        println!("Cutover of '{}' complete: the database is online on {}.", db.database, db.instance);
    } else {
        println!("Cutover of '{}' requested; follow it with `lrs status`.", db.database);
    }
    Ok(())
}

async fn stop(args: &StopArgs) -> Result<(), Failure> {
    let common = &args.common;
    let client = common.arm.client()?;
    let db = common.target.resolve(&client).await?;
    if !common.yes {
        confirm(
            &format!(
                "Stopping drops the database '{}' from {} with everything restored so far",
                db.database, db.instance
            ),
            &db.database,
        )?;
    }
    let outcome = client.lrs(db.clone()).stop(&wait(common.no_wait)).await?;
    let done = matches!(outcome, LroOutcome::Done);
    if common.json {
        println!("{}", json!({ "database": db.database, "dropped": done, "accepted": true }));
    } else if done {
        println!("Stopped the restore: database '{}' dropped from {}.", db.database, db.instance);
    } else {
        println!("Stop of '{}' requested: the database is being dropped.", db.database);
    }
    Ok(())
}

fn wait(no_wait: bool) -> Wait {
    if no_wait {
        Wait::No
    } else {
        Wait::Yes(PollOptions::default())
    }
}

/// Asks for the database name on standard input; anything else (or nothing) refuses.
fn confirm(consequence: &str, database: &str) -> Result<(), Failure> {
    if crate::prompt::ask_name(consequence, database)? == database {
        Ok(())
    } else {
        Err(Failure::usage(format!(
            "the name typed is not '{database}': nothing was done (pass --yes to skip the question)"
        )))
    }
}
