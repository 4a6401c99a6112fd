//! `lrs migrate cutover`: each name typed to confirm, then the cutovers carried out here, or handed
//! to the process driving the plan ([`crate::handoff`]); then followed to Completed.

use std::process::ExitCode;
use std::time::Duration;

use lrs_core::migration::{
    DbStatus, MigrationPlan, MigrationState, PlanStore, Request, RequestAction, RequestOutcome, RunOptions,
};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::status::table;
use super::{
    engine, interrupt_on_signal, load, open, open_unless_driven, plan_store, runtime, saved_state, seconds, services,
    typed, whoami, CutoverArgs, PlanRef, EXIT_INTERRUPTED,
};
use crate::arm_args::SignInArgs;
use crate::failure::{Failure, EXIT_FAILED};
use crate::handoff::{self, Waited};

pub(super) fn cutover(args: &CutoverArgs) -> Result<ExitCode, Failure> {
    let plan = load(&args.plan)?;
    let store = plan_store(&args.plan, &plan)?;
    let state = saved_state(&store, &plan)?;
    let Some(names) = cutover_names(&plan, &state, args)? else {
        eprintln!("Every database of the plan is already Completed or Stopped: nothing to cut over.");
        return Ok(ExitCode::SUCCESS);
    };
    // Confirmed here, before anything is sent or posted.
    let asked = confirm(names, &state, args)?;
    let runtime = runtime()?;
    runtime.block_on(async {
        let cancel = CancellationToken::new();
        interrupt_on_signal(&cancel);
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

/// Asks for each database's name (unless `--yes`; a cutover already asked is not asked again);
/// returns each database with the name typed.
fn confirm(names: Vec<String>, state: &MigrationState, args: &CutoverArgs) -> Result<Vec<(String, String)>, Failure> {
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
    Ok(asked)
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
    /// Posted and not answered: (database, `withdrawn`, `underway` or `interrupted`).
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
            unanswered @ (Waited::NotTaken | Waited::Underway | Waited::Interrupted(_)) => {
                eprintln!("lrs migrate cutover: {}", handoff::not_answered(&name, &unanswered));
                report.unanswered.push((name, unanswered.label()));
            }
        }
    }
    Ok(withdrawn)
}

/// How often waiting for a cutover another process follows says so.
const FOLLOW_NOTICE_EVERY: Duration = Duration::from_secs(60);

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
    let mut said_at = std::time::Instant::now();
    loop {
        let state = saved_state(store, plan)?;
        let cutting: Vec<&str> = names
            .iter()
            .filter_map(|n| state.database(n))
            .filter(|d| d.status == DbStatus::CuttingOver)
            .map(|d| d.name.as_str())
            .collect();
        if said_at.elapsed() >= FOLLOW_NOTICE_EVERY && !cutting.is_empty() {
            // Never silent: the driving process may be an app that was paused after it took the
            // request, and then nobody follows the cutover until it resumes.
            eprintln!(
                "{} still cutting over, followed by the process driving the plan (a paused app follows nothing \
                 until it resumes). Ctrl-C stops waiting; the cutover goes on.",
                cutting.join(", ")
            );
            said_at = std::time::Instant::now();
        }
        if cutting.is_empty() || cancel.is_cancelled() {
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
