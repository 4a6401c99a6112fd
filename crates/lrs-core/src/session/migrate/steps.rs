//! The desk's steps, as the wizard and the dashboard call them: upload, pause, cancel, start,
//! resume, shipping on or off, cutover, stop, and the audit log.

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

use super::plan::services;
use super::task::{spawn, working};
use super::view::{build_view, started};
use super::{lock, MigrationDesk, CURRENT_FILE};
use crate::migration::{audit, DbStatus};
use crate::session::dashboard::{
    ActionOutcome, Activity, AuditFormat, AuditRow, CutoverRequest, MigrationView, StartChoice, StopRequest,
};
use crate::session::{Session, SessionError};

impl MigrationDesk {
    /// Uploads every database's restore sequence in the background (or resumes the upload).
    pub fn start_upload(&self, session: &Session) -> Result<MigrationView, SessionError> {
        let (m, shared) = self.prepare(session)?;
        if !working(&shared) {
            let services = services(session, m.plan())?;
            let options = self.options(session, m.plan());
            spawn(Activity::Uploading, m.clone(), shared.clone(), self.watcher.clone(), services, options);
        }
        Ok(build_view(&m, &shared))
    }

    /// Pauses the background work (the upload journal and the state keep what was done).
    pub fn pause(&self) -> Result<Option<MigrationView>, SessionError> {
        if let Some((m, shared)) = self.current()? {
            let mut task = lock(&shared.task);
            if let Some(cancel) = task.cancel.take() {
                cancel.cancel();
                task.paused = true;
            }
            drop(task);
            return Ok(Some(build_view(&m, &shared)));
        }
        Ok(None)
    }

    /// Cancels the upload and leaves this migration (what was uploaded stays in the container; a
    /// new upload of the same files skips them). Refused once a restore was started.
    pub fn cancel(&self) -> Result<(), SessionError> {
        let Some((m, shared)) = self.current()? else { return Ok(()) };
        if let Some(busy) = m.state().databases.iter().find(|d| d.status.may_have_restore()) {
            return Err(SessionError::NotReady(format!(
                "'{}' is being restored on the instance: stop it on the Dashboard instead",
                busy.name
            )));
        }
        if let Some(cancel) = lock(&shared.task).cancel.take() {
            cancel.cancel();
        }
        {
            // Under the watcher's lock: a view of it being pushed now reaches the page first.
            let _pushing = lock(&self.watcher);
            shared.retired.store(true, Ordering::SeqCst);
        }
        let _ = std::fs::remove_file(self.root.join(CURRENT_FILE));
        lock(&self.inner).current = None;
        Ok(())
    }

    /// The Start step: the mode and collation go into the plan, then the run starts in the
    /// background (SAS, start, polls, continuous shipping).
    pub fn start(&self, session: &Session, choice: StartChoice) -> Result<MigrationView, SessionError> {
        let (m, shared) = self.current()?.ok_or_else(|| SessionError::NotReady("upload the backups first".into()))?;
        if lock(&shared.task).activity != Activity::Idle {
            return Err(SessionError::NotReady("the upload is still running: wait until it ends".into()));
        }
        let state = m.state();
        if let Some(db) = state.databases.iter().find(|d| matches!(d.status, DbStatus::Planned | DbStatus::Uploading)) {
            return Err(SessionError::NotReady(format!("'{}' is not uploaded yet (step 'Upload')", db.name)));
        }
        let choices = session.choices();
        if choices.container.is_some() && !choices.access_accepted {
            return Err(SessionError::NotReady("check the access first: every line green (step 'Access')".into()));
        }
        let services = services(session, m.plan())?;
        let mut plan = m.plan().clone();
        plan.mode = choice.mode.into();
        plan.target.collation = choice.collation.map(|c| c.trim().to_string()).filter(|c| !c.is_empty());
        let (m, shared) = if &plan == m.plan() {
            (m, shared)
        } else {
            if state.databases.iter().any(|d| d.status != DbStatus::Uploaded && d.status != DbStatus::Failed) {
                return Err(SessionError::NotReady(
                    "the migration has started: its mode and collation can no longer change".into(),
                ));
            }
            self.save_plan(&plan)?;
            let mut inner = lock(&self.inner);
            inner.current = None;
            drop(m);
            let opened = self.open(plan, shared)?;
            let handles = (opened.migration.clone(), opened.shared.clone());
            inner.current = Some(opened);
            handles
        };
        let options = self.options(session, m.plan());
        spawn(Activity::Running, m.clone(), shared.clone(), self.watcher.clone(), services, options);
        Ok(build_view(&m, &shared))
    }

    /// Follows the migration again (after a pause or a restart of the app).
    pub fn resume(&self, session: &Session) -> Result<MigrationView, SessionError> {
        let (m, shared) = self.current()?.ok_or_else(|| SessionError::NotReady("there is no migration yet".into()))?;
        if !working(&shared) {
            let started = m.state().databases.iter().any(|d| started(d.status));
            let services = services(session, m.plan())?;
            let options = self.options(session, m.plan());
            let kind = if started { Activity::Running } else { Activity::Uploading };
            spawn(kind, m.clone(), shared.clone(), self.watcher.clone(), services, options);
        }
        Ok(build_view(&m, &shared))
    }

    /// Continuous mode: ship new log backups, or not.
    pub fn set_shipping(&self, on: bool) -> Result<MigrationView, SessionError> {
        let (m, shared) = self.current()?.ok_or_else(|| SessionError::NotReady("there is no migration yet".into()))?;
        m.set_shipping(on);
        Ok(build_view(&m, &shared))
    }

    /// Cuts over each database behind the engine's gates; then follows them to Completed.
    pub async fn cutover(
        &self,
        session: &Session,
        requests: Vec<CutoverRequest>,
    ) -> Result<Vec<ActionOutcome>, SessionError> {
        let (m, shared) = self.current()?.ok_or_else(|| SessionError::NotReady("there is no migration yet".into()))?;
        let services = services(session, m.plan())?;
        let mut outcomes = Vec::new();
        for r in requests {
            let done = m.cutover(&services, &r.database, r.last_backup.as_deref(), &r.typed_name).await;
            outcomes.push(match done {
                Ok(_) => ActionOutcome {
                    database: r.database,
                    ok: true,
                    message: "Cutover asked: LRS restores what is left and brings the database online.".into(),
                },
                Err(e) => ActionOutcome { database: r.database, ok: false, message: e.to_string() },
            });
        }
        if outcomes.iter().any(|o| o.ok) && !working(&shared) {
            let options = self.options(session, m.plan());
            spawn(Activity::Running, m.clone(), shared.clone(), self.watcher.clone(), services, options);
        }
        shared.dirty.store(true, Ordering::SeqCst);
        Ok(outcomes)
    }

    /// Stops each database (its restoring copy on the instance is dropped).
    pub async fn stop(
        &self,
        session: &Session,
        requests: Vec<StopRequest>,
    ) -> Result<Vec<ActionOutcome>, SessionError> {
        let (m, shared) = self.current()?.ok_or_else(|| SessionError::NotReady("there is no migration yet".into()))?;
        let services = services(session, m.plan())?;
        let mut outcomes = Vec::new();
        for r in requests {
            let restoring = m.state().database(&r.database).is_some_and(|d| d.status.may_have_restore());
            outcomes.push(match m.stop(&services, &r.database, &r.typed_name).await {
                Ok(_) => ActionOutcome {
                    database: r.database,
                    ok: true,
                    message: if restoring {
                        "Stopped: the restoring database was deleted from the instance.".into()
                    } else {
                        "Stopped: nothing had been started on the instance.".into()
                    },
                },
                Err(e) => ActionOutcome { database: r.database, ok: false, message: e.to_string() },
            });
        }
        shared.dirty.store(true, Ordering::SeqCst);
        Ok(outcomes)
    }

    /// The audit log, oldest first.
    pub fn audit(&self) -> Result<Vec<AuditRow>, SessionError> {
        let Some((m, _)) = self.current()? else { return Ok(Vec::new()) };
        let entries = m.audit().read().map_err(|e| SessionError::Internal(e.to_string()))?;
        Ok(entries.iter().map(AuditRow::from).collect())
    }

    /// Writes the audit log to `path` (JSON lines or CSV).
    pub fn export_audit(&self, format: AuditFormat, path: &Path) -> Result<PathBuf, SessionError> {
        let (m, _) = self.current()?.ok_or_else(|| SessionError::NotReady("there is no migration yet".into()))?;
        let entries = m.audit().read().map_err(|e| SessionError::Internal(e.to_string()))?;
        let mut bytes = Vec::new();
        let written = match format {
            AuditFormat::Jsonl => audit::export_jsonl(&entries, &mut bytes),
            AuditFormat::Csv => audit::export_csv(&entries, &mut bytes),
        };
        written.map_err(|e| SessionError::Internal(e.to_string()))?;
        std::fs::write(path, bytes).map_err(|e| {
            let kind = e.kind();
            let text = format!("cannot write '{}': {e}", path.display());
            match kind {
                std::io::ErrorKind::NotFound | std::io::ErrorKind::PermissionDenied => SessionError::Invalid(text),
                _ => SessionError::Internal(text),
            }
        })?;
        Ok(path.to_path_buf())
    }

    /// Writes the audit log into `folder` as `audit-<plan id>.<jsonl|csv>`.
    pub fn export_audit_to_folder(&self, format: AuditFormat, folder: &Path) -> Result<PathBuf, SessionError> {
        if !folder.is_dir() {
            return Err(SessionError::Invalid(format!("'{}' is not a folder", folder.display())));
        }
        let name = self.audit_file_name(format)?;
        self.export_audit(format, &folder.join(name))
    }

    /// The file name an export gets by default.
    pub fn audit_file_name(&self, format: AuditFormat) -> Result<String, SessionError> {
        let (m, _) = self.current()?.ok_or_else(|| SessionError::NotReady("there is no migration yet".into()))?;
        Ok(format!("audit-{}.{}", m.plan().id, format.extension()))
    }
}
