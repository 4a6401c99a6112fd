//! `lrs migrate stop`: one database stopped after its name is typed, here or by the process
//! driving the plan ([`crate::handoff`]).

use std::process::ExitCode;

use lrs_core::migration::{DbStatus, MigrationPlan, Request, RequestAction, RequestOutcome};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::{
    engine, interrupt_on_signal, load, open, open_unless_driven, plan_store, runtime, seconds, services, typed, whoami,
    StopArgs, EXIT_INTERRUPTED,
};
use crate::failure::Failure;
use crate::handoff::{self, Waited};

pub(super) fn stop(args: &StopArgs) -> Result<ExitCode, Failure> {
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
    interrupt_on_signal(&cancel);
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
        unanswered @ (Waited::NotTaken | Waited::Underway | Waited::Interrupted(_)) => {
            eprintln!("lrs migrate stop: {}", handoff::not_answered(name, &unanswered));
            if args.json {
                println!("{}", json!({"database": name, "request": unanswered.label()}));
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
