//! What a user asks of an open plan, between or during runs: the cutover of a database (behind
//! the gates, re-sent after a crash only while Azure does not know it), following cutovers to
//! Completed, and the stop of a database.

use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;

use super::{already_signalled, arm_text, lock, shipped_names, Migration, MigrationEvent, RunOptions, Services};
use crate::arm::{LrsError, RestoreState, Wait};
use crate::migration::audit::{Action, AuditEntry};
use crate::migration::pacer::Pacer;
use crate::migration::plan::DatabasePlan;
use crate::migration::shipping;
use crate::migration::state::{CutoverRecord, DbRecord};
use crate::migration::status::{DbStatus, Event};
use crate::migration::MigrationError;

impl Migration {
    /// The cutover of one database, behind the gates: it is ReadyForCutover, the named backup is
    /// the last local one, shipped and restored, nothing is pending, and `typed_name` is its
    /// name. Sends `completeRestore` and returns once Azure accepted it (`follow_cutover` waits
    /// for Completed).
    pub async fn cutover(
        &self,
        services: &Services,
        database: &str,
        last_backup: Option<&str>,
        typed_name: &str,
    ) -> Result<DbStatus, MigrationError> {
        self.cutover_before(services, database, last_backup, typed_name, None).await
    }

    /// [`Migration::cutover`] for a request whose asker stops waiting at `deadline`: refused when
    /// the database's step under way ends after it (nothing is done with nobody watching).
    pub(crate) async fn cutover_before(
        &self,
        services: &Services,
        database: &str,
        last_backup: Option<&str>,
        typed_name: &str,
        deadline: Option<OffsetDateTime>,
    ) -> Result<DbStatus, MigrationError> {
        let db = self.plan.database(database).ok_or_else(|| MigrationError::UnknownDatabase(database.to_string()))?;
        let unknown = || MigrationError::UnknownDatabase(database.to_string());
        let before = self.record(&db.name).ok_or_else(unknown)?;
        if before.status != DbStatus::CuttingOver {
            // Refused at once when not ready, rather than after the upload under way.
            crate::migration::gates::readiness_gate(&before, self.plan.mode).map_err(MigrationError::Gate)?;
        }
        let _busy = self.hold(&db.name).await;
        still_wanted(deadline, &db.name)?;
        let record = self.record(&db.name).ok_or_else(unknown)?;
        if record.status == DbStatus::CuttingOver {
            // Asked before (perhaps by a run that was killed): make sure Azure knows, then follow.
            return self.resend_cutover(services, db, &record).await;
        }
        let scan = shipping::scan(db, services.container.container(), &shipped_names(&record))
            .map_err(|e| MigrationError::Gate(format!("{}: {e}", db.name)))?;
        let gate = crate::migration::gates::cutover_gate(&record, &scan, last_backup, typed_name, self.plan.mode);
        let last = gate.map_err(MigrationError::Gate)?;
        self.send_cutover(services, db, &last).await
    }

    async fn send_cutover(
        &self,
        services: &Services,
        db: &DatabasePlan,
        last: &str,
    ) -> Result<DbStatus, MigrationError> {
        let requested_at = OffsetDateTime::now_utc();
        let cutover = CutoverRecord { last_backup: last.to_string(), requested_at, accepted: false, request_id: None };
        self.update(&db.name, |r| r.cutover = Some(cutover))?;
        self.transition(&db.name, Event::CutoverSent, &format!("cutover asked with last backup '{last}'"))?;
        let target = self.db_ref(services, &db.name);
        let path = target.path();
        let outcome = services.arm.lrs(target).complete(last, &Wait::No).await;
        let request_id = match &outcome {
            Ok(crate::arm::LroOutcome::Accepted(op)) => op.request_id.clone(),
            _ => None,
        };
        match outcome {
            Ok(_) => {
                self.update(&db.name, |r| {
                    if let Some(c) = r.cutover.as_mut() {
                        c.accepted = true;
                        c.request_id = request_id.clone();
                    }
                })?;
                self.log(
                    AuditEntry::new(&services.identity, Action::Complete, path)
                        .database(&db.name)
                        .request_id(request_id.as_deref())
                        .detail(format!("completeRestore with lastBackupName '{last}'")),
                )?;
                Ok(DbStatus::CuttingOver)
            }
            Err(e) if already_signalled(&e) => {
                self.update(&db.name, |r| {
                    if let Some(c) = r.cutover.as_mut() {
                        c.accepted = true;
                    }
                })?;
                Ok(DbStatus::CuttingOver)
            }
            Err(e) => {
                let text = self.audit_refusal(&services.identity, Action::Complete, path, &db.name, "failed", &e)?;
                Err(MigrationError::Lrs(text))
            }
        }
    }

    pub(super) async fn resend_cutover(
        &self,
        services: &Services,
        db: &DatabasePlan,
        record: &DbRecord,
    ) -> Result<DbStatus, MigrationError> {
        let Some(cutover) = record.cutover.clone() else {
            return Err(MigrationError::Gate(format!("{} is cutting over but its cutover was not recorded", db.name)));
        };
        if cutover.accepted {
            return Ok(DbStatus::CuttingOver);
        }
        let status = services
            .arm
            .lrs(self.db_ref(services, &db.name))
            .status()
            .await
            .map_err(|e| MigrationError::Lrs(arm_text(&e)))?;
        if status.state == RestoreState::Completed {
            return Ok(DbStatus::CuttingOver);
        }
        self.send_cutover(services, db, &cutover.last_backup).await
    }

    /// Polls each CuttingOver database until it is Completed (or failed), paced like a run.
    pub async fn follow_cutovers(
        &self,
        services: &Services,
        options: &RunOptions,
        cancel: CancellationToken,
    ) -> Result<(), MigrationError> {
        let pacer = Pacer::per_minute(options.arm_reads_per_minute);
        loop {
            let cutting: Vec<String> = lock(&self.state)
                .databases
                .iter()
                .filter(|d| d.status == DbStatus::CuttingOver)
                .map(|d| d.name.clone())
                .collect();
            if cutting.is_empty() || cancel.is_cancelled() {
                return Ok(());
            }
            for name in cutting {
                pacer.wait().await;
                self.poll_once(services, &name).await?;
            }
            tokio::select! {
                () = cancel.cancelled() => return Ok(()),
                () = tokio::time::sleep(options.poll_interval) => {}
            }
        }
    }

    /// Stops one database: before the start it only leaves the plan's driving; after it, the
    /// restoring database is dropped (refused by `LrsDatabase::stop` unless LRS is restoring it).
    pub async fn stop(
        &self,
        services: &Services,
        database: &str,
        typed_name: &str,
    ) -> Result<DbStatus, MigrationError> {
        self.stop_before(services, database, typed_name, None).await
    }

    /// [`Migration::stop`] for a request whose asker stops waiting at `deadline` (see
    /// [`Migration::cutover_before`]).
    pub(crate) async fn stop_before(
        &self,
        services: &Services,
        database: &str,
        typed_name: &str,
        deadline: Option<OffsetDateTime>,
    ) -> Result<DbStatus, MigrationError> {
        let db = self.plan.database(database).ok_or_else(|| MigrationError::UnknownDatabase(database.to_string()))?;
        if typed_name.trim() != db.name {
            return Err(MigrationError::Gate(format!(
                "the name typed ('{}') is not '{}': nothing was stopped",
                typed_name.trim(),
                db.name
            )));
        }
        let _busy = match self.slots.get(&db.name).map(|slot| slot.busy.try_lock()) {
            Some(Ok(free)) => Some(free),
            Some(Err(_)) if self.stop_during_upload(services, db)? => return Ok(DbStatus::Stopped),
            _ => self.hold(&db.name).await,
        };
        still_wanted(deadline, &db.name)?;
        let record = self.record(&db.name).ok_or_else(|| MigrationError::UnknownDatabase(database.to_string()))?;
        if record.status.is_final() {
            return Err(MigrationError::Gate(format!("{} is {}: there is nothing to stop", db.name, record.status)));
        }
        let started = record.status.may_have_restore() || record.start_request_id.is_some() || record.restore.is_some();
        let target = self.db_ref(services, &db.name);
        let path = target.path();
        if started {
            let poll = crate::arm::PollOptions::default();
            let outcome = services.arm.lrs(target).stop(&Wait::Yes(poll)).await;
            match outcome {
                Ok(_) => {}
                Err(LrsError::Arm(e)) if e.is_not_found() => {}
                Err(e) => {
                    let text = self.audit_refusal(&services.identity, Action::Stop, path, &db.name, "refused", &e)?;
                    return Err(MigrationError::Lrs(text));
                }
            }
        }
        let what = if started { "the restoring database was dropped" } else { "nothing had been started" };
        self.log(AuditEntry::new(&services.identity, Action::Stop, path).database(&db.name).detail(what))?;
        self.transition(&db.name, Event::StoppedByUser, &format!("stopped by the user: {what}"))
    }

    /// An upload can take hours and starts nothing, so a stop does not wait for it: a database
    /// still Planned or Uploading is stopped at once, in one change of the state, and the upload
    /// under way is cancelled (the run's step then ends, see `RunCtx::drive`). `false` when it is
    /// further on: then the stop waits.
    fn stop_during_upload(&self, services: &Services, db: &DatabasePlan) -> Result<bool, MigrationError> {
        let cause = "stopped by the user during its upload: nothing had been started";
        let now = OffsetDateTime::now_utc();
        let stopped = self.update(&db.name, |r| {
            let from = r.status;
            if !matches!(from, DbStatus::Planned | DbStatus::Uploading) {
                return Ok(None);
            }
            r.apply(Event::StoppedByUser, cause, now).map(|_| Some(from))
        })??;
        let Some(from) = stopped else { return Ok(false) };
        // The upload ends now, whatever happens to the audit entry below.
        self.stopped_signal(&db.name).cancel();
        let path = self.db_ref(services, &db.name).path();
        self.log(AuditEntry::new(&services.identity, Action::Stop, path).database(&db.name).detail(cause))?;
        let to = DbStatus::Stopped;
        self.emit(MigrationEvent::Transition { database: db.name.clone(), from, to, cause: cause.to_string() });
        Ok(true)
    }
}

/// Refuses a request whose asker stopped waiting while the database's step under way ended.
fn still_wanted(deadline: Option<OffsetDateTime>, database: &str) -> Result<(), MigrationError> {
    if deadline.is_some_and(|d| OffsetDateTime::now_utc() > d) {
        return Err(MigrationError::Gate(format!(
            "{database}: the request expired while {database}'s step under way (an upload, a poll) ended; nothing \
             was done. Ask again, with a longer --timeout"
        )));
    }
    Ok(())
}
