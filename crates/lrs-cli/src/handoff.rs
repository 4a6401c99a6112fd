//! `lrs migrate cutover|stop` while another process drives the plan (`lrs migrate run`, or the
//! app) and holds its lock: the requests are posted to the plan's inbox
//! (`lrs_core::migration::requests`), that process carries them out through the same gates, and
//! this one waits for the answers, with a timeout.
//!
//! While waiting, when the lock becomes free (the driving process ended) a request not taken yet
//! is withdrawn and handed back, for the command to carry it out itself; one taken and never
//! answered is answered `interrupted` (and not carried out again). When the timeout passes or
//! Ctrl-C is pressed, a request not taken yet is withdrawn: nothing is done later with nobody
//! watching (and one left behind by a killed asker expires: `Request::expires_at`). One already
//! taken is being carried out; its outcome shows in `lrs migrate status` and the audit log.

use std::time::{Duration, Instant};

use lrs_core::migration::{PlanStore, Request, RequestInbox, RequestOutcome};
use tokio_util::sync::CancellationToken;

use crate::failure::Failure;

/// How often the answers are looked for.
const LOOK_EVERY: Duration = Duration::from_millis(200);

/// What became of one posted request.
#[derive(Debug)]
pub enum Waited {
    /// The driving process answered.
    Answered(RequestOutcome),
    /// The driving process ended before taking it: it was withdrawn, carry it out here.
    Withdrawn,
    /// Not taken in time (or the wait was interrupted): withdrawn, nothing was done.
    NotTaken,
    /// Taken by the driving process but not answered in time: it is being carried out.
    Underway,
    /// Taken by a process that ended before it answered: it may or may not have reached Azure.
    Interrupted(String),
}

impl Waited {
    /// How an unanswered request is named in JSON output.
    pub fn label(&self) -> &'static str {
        match self {
            Waited::NotTaken => "withdrawn",
            Waited::Interrupted(_) => "interrupted",
            _ => "underway",
        }
    }
}

/// Posts `requests`, then waits up to `timeout` (or until `cancel`) for their answers. On an error
/// (a request that cannot be posted, a damaged answer), every request not taken yet is withdrawn:
/// nothing is left for a process to carry out with nobody waiting.
pub async fn post_and_wait(
    store: &PlanStore,
    requests: Vec<Request>,
    timeout: Duration,
    cancel: &CancellationToken,
) -> Result<Vec<(Request, Waited)>, Failure> {
    let inbox = RequestInbox::of(store);
    let requests: Vec<Request> = requests.into_iter().map(|r| r.valid_for(timeout)).collect();
    let waited = post_then_wait(store, &inbox, &requests, timeout, cancel).await;
    if waited.is_err() {
        for request in &requests {
            let _ = inbox.withdraw(&request.id);
        }
    }
    waited
}

async fn post_then_wait(
    store: &PlanStore,
    inbox: &RequestInbox,
    requests: &[Request],
    timeout: Duration,
    cancel: &CancellationToken,
) -> Result<Vec<(Request, Waited)>, Failure> {
    for request in requests {
        inbox.post(request).map_err(|e| Failure::usage(e.to_string()))?;
    }
    // A timeout too large for the clock means no deadline.
    let deadline = Instant::now().checked_add(timeout);
    let mut waited: Vec<(Request, Option<Waited>)> = requests.iter().map(|r| (r.clone(), None)).collect();
    loop {
        collect_answers(inbox, &mut waited)?;
        if waited.iter().all(|(_, w)| w.is_some()) {
            break;
        }
        if let Ok(lock) = store.lock() {
            // Nobody drives the plan any more: take back what was not taken, and answer what a
            // killed process took and never answered (holding the lock, as the engine does).
            for (request, w) in waited.iter_mut().filter(|(_, w)| w.is_none()) {
                if inbox.withdraw(&request.id).map_err(|e| Failure::usage(e.to_string()))? {
                    *w = Some(Waited::Withdrawn);
                }
            }
            inbox.answer_interrupted().map_err(|e| Failure::usage(e.to_string()))?;
            drop(lock);
            collect_answers(inbox, &mut waited)?;
            continue;
        }
        if cancel.is_cancelled() || deadline.is_some_and(|d| Instant::now() >= d) {
            break;
        }
        tokio::select! {
            () = cancel.cancelled() => {}
            () = tokio::time::sleep(LOOK_EVERY) => {}
        }
    }
    // Stopped waiting: take back what was not taken, so it is never carried out unwatched.
    for (request, w) in waited.iter_mut().filter(|(_, w)| w.is_none()) {
        let withdrawn = inbox.withdraw(&request.id).map_err(|e| Failure::usage(e.to_string()))?;
        *w = if withdrawn { Some(Waited::NotTaken) } else { None };
    }
    // A taken one may have been answered meanwhile.
    collect_answers(inbox, &mut waited)?;
    Ok(waited.into_iter().map(|(request, w)| (request, w.unwrap_or(Waited::Underway))).collect())
}

fn collect_answers(inbox: &RequestInbox, waited: &mut [(Request, Option<Waited>)]) -> Result<(), Failure> {
    for (request, w) in waited.iter_mut().filter(|(_, w)| w.is_none()) {
        if let Some(result) = inbox.result(&request.id).map_err(|e| Failure::usage(e.to_string()))? {
            inbox.forget(&request.id);
            *w = Some(match result.outcome {
                RequestOutcome::Interrupted { message } => Waited::Interrupted(message),
                outcome => Waited::Answered(outcome),
            });
        }
    }
    Ok(())
}

/// What to say about a request that was not answered in time.
pub fn not_answered(what: &str, waited: &Waited) -> String {
    match waited {
        Waited::NotTaken => format!(
            "{what}: the process driving the plan did not take the request in time (busy shipping a large file, or \
             the app is paused); it was withdrawn and nothing was done. Ask again with a longer --timeout, or when \
             it is idle"
        ),
        Waited::Interrupted(message) => format!("{what}: {message}"),
        _ => format!(
            "{what}: taken by the process driving the plan and still being carried out; see `lrs migrate status` \
             and `lrs migrate audit` for its outcome"
        ),
    }
}
