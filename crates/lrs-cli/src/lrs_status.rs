//! `lrs status [--watch] [--json]`: the restore's progress, read from `restoreDetails/Default`
//! (it only reads). Text: state, percent, file counts, current and last restored files, and for a
//! failed or blocked restore the service's code with its plain-language meaning and fix. `--json`
//! prints the `restoreDetails` properties exactly as the service sent them, under its own names
//! (one object per line with `--watch`). `--watch` polls every `--interval` seconds until the
//! restore is Completed or Failed, or until `--timeout` seconds have passed (a continuous restore
//! never ends on its own: scripts that wait for a state need a bound).
//!
//! Exit codes: 0 the status was read and the restore has not failed, 1 the restore failed (or ARM
//! refused), 2 bad usage, 124 `--timeout` passed before a final state (as `timeout(1)` does).

use std::process::ExitCode;
use std::time::Duration;

use lrs_core::arm::restore_status::{FileCounts, RestoreState, RestoreStatus};
use lrs_core::arm::DatabaseRef;

use crate::arm_args::{runtime, ArmArgs, DatabaseArgs};
use crate::failure::{explain_code, Failure, EXIT_FAILED};

/// `--watch` gave up at `--timeout` (the code `timeout(1)` uses).
const EXIT_TIMED_OUT: u8 = 124;

#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    /// Poll until the restore is Completed or Failed, printing each change.
    #[arg(long)]
    watch: bool,
    /// Seconds between polls with --watch.
    #[arg(long, value_name = "SECONDS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    interval: u64,
    /// With --watch: give up after this many seconds (exit 124) if the restore is still going on.
    #[arg(long, value_name = "SECONDS", requires = "watch", value_parser = clap::value_parser!(u64).range(1..))]
    timeout: Option<u64>,
    /// Print the restoreDetails properties as the service names them.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    target: DatabaseArgs,
    #[command(flatten)]
    arm: ArmArgs,
}

pub fn run(args: &StatusArgs) -> ExitCode {
    match runtime().and_then(|rt| rt.block_on(status(args))) {
        Ok(Watched::Ended(RestoreState::Failed)) => ExitCode::from(EXIT_FAILED),
        Ok(Watched::Ended(_)) => ExitCode::SUCCESS,
        Ok(Watched::TimedOut(state)) => {
            let seconds = args.timeout.unwrap_or_default();
            eprintln!("lrs status: still {state} after {seconds} s (--timeout); the restore goes on");
            ExitCode::from(EXIT_TIMED_OUT)
        }
        Err(failure) => failure.report("status", args.json),
    }
}

/// How a status (or a watch) ended.
enum Watched {
    /// Read once, or watched until a final state.
    Ended(RestoreState),
    /// `--timeout` passed while the restore was in this (not final) state.
    TimedOut(String),
}

async fn status(args: &StatusArgs) -> Result<Watched, Failure> {
    let deadline = args.timeout.map(|t| tokio::time::Instant::now() + Duration::from_secs(t));
    let client = args.arm.client()?;
    let db = args.target.resolve(&client).await?;
    let lrs = client.lrs(db.clone());
    let mut last_printed: Option<serde_json::Value> = None;
    loop {
        let status = lrs.status().await?;
        if last_printed.as_ref() != Some(&status.properties) {
            if args.json {
                println!("{}", status.properties);
            } else {
                print_status(&db, &status);
            }
            last_printed = Some(status.properties.clone());
        }
        if !args.watch || status.state.is_final() {
            return Ok(Watched::Ended(status.state));
        }
        let next = tokio::time::Instant::now() + Duration::from_secs(args.interval);
        match deadline {
            Some(deadline) if deadline <= tokio::time::Instant::now() => {
                return Ok(Watched::TimedOut(status.status.unwrap_or_else(|| "Unknown".into())));
            }
            Some(deadline) => tokio::time::sleep_until(next.min(deadline)).await,
            None => tokio::time::sleep_until(next).await,
        }
    }
}

fn print_status(db: &DatabaseRef, s: &RestoreStatus) {
    let state = s.status.clone().unwrap_or_else(|| "Unknown".into());
    let percent = s.percent_completed.map_or(String::new(), |p| format!(", {p:.0}%"));
    let kind = s.restore_type.as_deref().map_or(String::new(), |t| format!(" ({t})"));
    println!("{} on {}: {state}{kind}{percent}", db.database, db.instance);
    if let Some(counts) = counts(&s.files) {
        println!("  files:         {counts}");
    }
    if let Some(file) = &s.current_restoring_file {
        let kind = s.current_backup_type.as_deref().map_or(String::new(), |k| format!(" ({k})"));
        println!("  restoring:     {file}{kind}");
    }
    if let Some(file) = &s.last_restored_file {
        println!("  last restored: {file}{}", when(s.last_restored_time));
    }
    if let Some(file) = &s.last_uploaded_file {
        println!("  last uploaded: {file}{}", when(s.last_uploaded_time));
    }
    for file in &s.unrestorable_files {
        println!("  unrestorable:  {file}");
    }
    if let Some(reason) = &s.block_reason {
        let label = if s.state == RestoreState::Failed { "error" } else { "blocked by" };
        println!("  {label:<14} {reason}");
        if let Some(lines) = explain_code(reason) {
            println!("{lines}");
        }
    }
}

fn counts(f: &FileCounts) -> Option<String> {
    let parts: Vec<String> = [
        (f.detected, "detected"),
        (f.restored, "restored"),
        (f.restoring, "restoring"),
        (f.queued, "queued"),
        (f.skipped, "skipped"),
        (f.unrestorable, "unrestorable"),
    ]
    .iter()
    .filter_map(|(n, label)| n.map(|n| format!("{n} {label}")))
    .collect();
    (!parts.is_empty()).then(|| parts.join(", "))
}

fn when(t: Option<time::OffsetDateTime>) -> String {
    let format = time::format_description::well_known::Rfc3339;
    t.and_then(|t| t.format(&format).ok()).map_or(String::new(), |t| format!(" at {t}"))
}
