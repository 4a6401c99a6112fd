//! The heartbeat of the service: moves every job on to the clock's "now", scans the folders that
//! are due (outside the state lock), and brings the long-running operations up to date. It runs
//! in the background and before every read of a restore's state, so a test that moves the clock
//! sees the effect on its next request.

use time::OffsetDateTime;

use super::scan::{scan, ScanInput};
use super::Phase;
use crate::app::Shared;
use crate::state::{DbKey, ErrorInfo, OperationKind, OperationStatus, State};

pub async fn tick(app: &Shared) {
    let _one_at_a_time = app.tick_lock.lock().await;
    let now = app.now();
    let due: Vec<(DbKey, String, ScanInput)> = app.write(|state| {
        let due = state
            .databases
            .iter_mut()
            .filter_map(|db| {
                let job = db.restore.as_mut()?;
                job.advance(now, &app.timing);
                job.wants_scan(now, &app.timing).then(|| {
                    let input = ScanInput {
                        storage_uri: job.storage_uri.clone(),
                        sas: job.sas.clone(),
                        managed_identity: job.managed_identity,
                        known: job.files.clone(),
                        mirror: app.mirrors.join(&job.restore_operation),
                        last_backup_name: job.last_backup_name.clone().filter(|_| job.auto_complete),
                        first: job.phase == Phase::Initializing,
                        restoring: job.sets.iter().any(|s| s.started.is_some()),
                    };
                    (db.key.clone(), job.restore_operation.clone(), input)
                })
            })
            .collect();
        refresh_operations(state, now);
        due
    });
    for (key, operation, input) in due {
        let found = scan(&app.http, input, now).await;
        app.write(|state| {
            let job = state.database_mut(&key).and_then(|db| db.restore.as_mut());
            if let Some(job) = job.filter(|j| j.restore_operation == operation) {
                job.apply_scan(found, now);
                job.advance(now, &app.timing);
            }
            refresh_operations(state, now);
        });
    }
}

/// Settles the operations whose work ended: a restore's when its job completed or failed (or its
/// database was dropped: the service then reports it Succeeded, as recorded), a cutover's when the
/// job completed, a drop's when its time is up.
pub fn refresh_operations(state: &mut State, now: OffsetDateTime) {
    let jobs: Vec<JobView> = state
        .databases
        .iter()
        .filter_map(|db| db.restore.as_ref())
        .map(|j| JobView {
            restore: j.restore_operation.clone(),
            complete: j.complete.as_ref().map(|c| c.operation.clone()),
            phase: j.phase,
            error: j.error.clone(),
            canceled: j.canceled,
        })
        .collect();
    for op in state.operations.values_mut().filter(|o| o.status == OperationStatus::InProgress) {
        let job = jobs.iter().find(|j| match op.kind {
            OperationKind::Restore => j.restore == op.id,
            OperationKind::CompleteRestore => j.complete.as_deref() == Some(op.id.as_str()),
            OperationKind::Drop => false,
        });
        let (status, error) = match (op.kind, job) {
            (OperationKind::Drop, _) => match op.ends {
                Some(end) if end > now => continue,
                _ => (OperationStatus::Succeeded, None),
            },
            (_, None) => (OperationStatus::Succeeded, None),
            (_, Some(j)) => match j.phase {
                Phase::Completed => (OperationStatus::Succeeded, None),
                Phase::Failed if j.canceled => (OperationStatus::Canceled, j.error.clone()),
                Phase::Failed => (OperationStatus::Failed, j.error.clone()),
                Phase::Initializing | Phase::Restoring => continue,
            },
        };
        op.status = status;
        op.error = error;
        op.ends = Some(now);
    }
}

/// What the operations need to know of a job.
struct JobView {
    restore: String,
    complete: Option<String>,
    phase: Phase,
    error: Option<ErrorInfo>,
    canceled: bool,
}
