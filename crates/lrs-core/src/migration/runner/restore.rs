//! A run's restore steps: prove the SAS and send the start (or re-attach after a crash), then
//! follow the restore (`restoreDetails` polls; in continuous mode, new log backups shipped).

use std::time::Duration;

use time::OffsetDateTime;

use super::drive::{Next, RunCtx};
use super::upload::Shipped;
use super::{arm_text, is_transient, lock, shipped_names, Migration, MigrationEvent, Services};
use crate::arm::explain::explain;
use crate::arm::{RestoreState, RestoreStatus, StartRequest, StorageAuth};
use crate::migration::audit::{Action, AuditEntry};
use crate::migration::plan::{DatabasePlan, Mode};
use crate::migration::shipping;
use crate::migration::state::{DbRecord, RestoreSnapshot};
use crate::migration::status::{DbStatus, Event};
use crate::migration::MigrationError;
use crate::storage::sas::{self, LiveOptions};

impl RunCtx<'_> {
    /// Proves the SAS on the folder, records Starting, sends the start.
    pub(super) async fn start(&self, db: &DatabasePlan) -> Result<Next, MigrationError> {
        let m = self.migration;
        let options =
            LiveOptions { folder: Some(db.folder.clone()), probe_suffix: uuid::Uuid::new_v4().simple().to_string() };
        let live = sas::prove_live(self.services.http.http(), &self.services.container, &self.sas, &options).await;
        let failed: Vec<String> = live
            .iter()
            .filter(|c| !c.passed)
            .map(|c| format!("{} ({})", c.message, c.fix.as_deref().unwrap_or("")))
            .collect();
        let folder_url = format!("{}/{}", self.services.container.url().as_str().trim_end_matches('/'), db.folder);
        m.log(
            AuditEntry::new(&self.services.identity, Action::SasChecked, folder_url.clone())
                .database(&db.name)
                .outcome(if failed.is_empty() { "ok" } else { "refused" })
                .detail(if failed.is_empty() {
                    "list and read work, create and delete are refused".to_string()
                } else {
                    failed.join("; ")
                }),
        )?;
        if !failed.is_empty() {
            return self.fail(db, Action::SasChecked, &format!("LRS would not accept the SAS: {}", failed.join("; ")));
        }
        m.transition(&db.name, Event::StartSending, "the SAS passed its live checks")?;
        self.send_start(db, &folder_url).await
    }

    async fn send_start(&self, db: &DatabasePlan, folder_url: &str) -> Result<Next, MigrationError> {
        let m = self.migration;
        let record = m.record(&db.name);
        let last = record.as_ref().and_then(|r| r.last_shipped().map(str::to_string));
        let auto_complete = self.plan_mode() == Mode::Autocomplete;
        let request = StartRequest {
            storage_container_uri: folder_url.to_string(),
            auth: StorageAuth::Sas(self.sas.clone()),
            collation: m.plan.target.collation.clone(),
            auto_complete,
            last_backup_name: if auto_complete { last.clone() } else { None },
        };
        let target = m.db_ref(self.services, &db.name);
        let path = target.path();
        match self.services.arm.lrs(target).start(&request).await {
            Ok(started) => {
                m.update(&db.name, |r| r.start_request_id = started.request_id.clone().or(Some(String::new())))?;
                m.log(
                    AuditEntry::new(&self.services.identity, Action::Start, path)
                        .database(&db.name)
                        .request_id(started.request_id.as_deref())
                        .detail(format!(
                            "{} mode{}, collation {}",
                            if auto_complete { "autocomplete" } else { "continuous" },
                            last.map(|l| format!(", last backup '{l}'")).unwrap_or_default(),
                            started.collation
                        )),
                )?;
                m.transition(&db.name, Event::RestoreRunning, "Azure accepted the start")?;
                Ok(Next::Wait(self.options.poll_interval.min(Duration::from_secs(5))))
            }
            Err(e) => {
                let text = m.audit_refusal(&self.services.identity, Action::Start, path, &db.name, "refused", &e)?;
                if is_transient(&e) {
                    m.note(&db.name, format!("the start will be tried again: {text}"));
                    return Ok(Next::Wait(self.options.poll_interval));
                }
                self.fail(db, Action::Failed, &format!("the start was refused: {text}"))
            }
        }
    }

    /// After a crash between "Starting" and the answer: re-attach when the restore exists.
    pub(super) async fn reattach_or_start(&self, db: &DatabasePlan) -> Result<Next, MigrationError> {
        let m = self.migration;
        self.pacer.wait().await;
        match self.services.arm.lrs(m.db_ref(self.services, &db.name)).status().await {
            Ok(status) if status.is_lrs_restore() || status.restore_type.is_none() => {
                m.log(
                    AuditEntry::new(
                        &self.services.identity,
                        Action::Reattached,
                        m.db_ref(self.services, &db.name).path(),
                    )
                    .database(&db.name)
                    .detail("the restore started by an earlier run was found and followed"),
                )?;
                m.update(&db.name, |r| {
                    r.start_request_id.get_or_insert_with(String::new);
                })?;
                m.transition(&db.name, Event::RestoreRunning, "the restore of an earlier run was found")?;
                Ok(Next::Continue)
            }
            Ok(_) => self.fail(
                db,
                Action::Failed,
                &format!("a database named '{}' exists on the instance and is not an LRS restore", db.name),
            ),
            Err(e) if e.is_not_found() || e.kind == crate::arm::ErrorKind::BadRequest => {
                let folder_url =
                    format!("{}/{}", self.services.container.url().as_str().trim_end_matches('/'), db.folder);
                self.send_start(db, &folder_url).await
            }
            Err(e) => {
                m.note(&db.name, format!("cannot tell yet whether the start reached Azure: {}", arm_text(&e)));
                Ok(Next::Wait(self.options.poll_interval))
            }
        }
    }

    /// Restoring/ReadyForCutover: ship new logs (continuous), poll, decide readiness.
    pub(super) async fn follow(&self, db: &DatabasePlan, record: &DbRecord) -> Result<Next, MigrationError> {
        let m = self.migration;
        let continuous = self.plan_mode() == Mode::Continuous;
        let (waiting, shipped_now) = if continuous {
            match self.scan_and_ship(db, record).await? {
                Some(scanned) => scanned,
                None => return Ok(Next::Done),
            }
        } else {
            (false, false)
        };
        // Poll when it is due (a scan alone does not cost an ARM read), or at once after shipping.
        let due = lock(&self.last_poll).get(&db.name).is_none_or(|at| at.elapsed() >= self.options.poll_interval);
        if !due && !shipped_now {
            return Ok(Next::Wait(self.options.scan_interval));
        }
        self.pacer.wait().await;
        lock(&self.last_poll).insert(db.name.clone(), std::time::Instant::now());
        let Some(status) = m.poll_once(self.services, &db.name).await? else {
            return Ok(Next::Wait(self.options.poll_interval));
        };
        let Some(record) = m.record(&db.name) else { return Ok(Next::Done) };
        if record.status.is_final() || record.status == DbStatus::Failed {
            return Ok(Next::Done);
        }
        if continuous {
            let caught_up = record.halted.is_none()
                && !waiting
                && record.pending.is_empty()
                && record.last_shipped().is_some()
                && record.last_local.as_deref() == record.last_shipped()
                && status.last_restored_file.as_deref() == record.last_shipped();
            if caught_up {
                m.transition(&db.name, Event::CaughtUp, "the last local backup is restored and nothing is pending")?;
            } else if record.status == DbStatus::ReadyForCutover {
                m.transition(&db.name, Event::NewBackupShipping, "a backup is pending again")?;
            }
        }
        let Some(record) = m.record(&db.name) else { return Ok(Next::Done) };
        let ready = record.status == DbStatus::ReadyForCutover || record.halted.is_some();
        if self.options.until_ready && ready {
            return Ok(Next::Done);
        }
        let wait = if continuous {
            self.options.scan_interval.min(self.options.poll_interval)
        } else {
            self.options.poll_interval
        };
        Ok(Next::Wait(wait))
    }

    /// Continuous mode: scans the folder, records what is pending (or why shipping halted) and
    /// ships new log backups. Returns whether the scan waits for a file and whether something was
    /// shipped now; `None` when the run was cancelled during an upload.
    async fn scan_and_ship(
        &self,
        db: &DatabasePlan,
        record: &DbRecord,
    ) -> Result<Option<(bool, bool)>, MigrationError> {
        let m = self.migration;
        let mut waiting = false;
        let mut shipped_now = false;
        let container = self.services.container.container().to_string();
        match shipping::scan(db, &container, &shipped_names(record)) {
            Ok(scan) => {
                waiting = scan.waiting.is_some();
                let halted = scan.halt.clone();
                if halted != record.halted {
                    m.update(&db.name, |r| r.halted = halted.clone())?;
                    if let Some(h) = &halted {
                        m.note(&db.name, h.clone());
                        m.log(
                            AuditEntry::new(
                                &self.services.identity,
                                Action::ShippingHalted,
                                db.source.display().to_string(),
                            )
                            .database(&db.name)
                            .outcome("refused")
                            .detail(h),
                        )?;
                    }
                }
                m.update(&db.name, |r| {
                    r.last_local = scan.last_local().map(str::to_string);
                    r.pending = scan.to_ship.iter().map(|f| f.name.clone()).collect();
                })?;
                if halted.is_none() && !scan.to_ship.is_empty() && m.shipping() {
                    let names: Vec<&str> = scan.to_ship.iter().map(|f| f.name.as_str()).collect();
                    m.transition(&db.name, Event::NewBackupShipping, &format!("new backup(s): {}", names.join(", ")))?;
                    let _permit = self.uploads.acquire().await.map_err(|_| MigrationError::Cancelled)?;
                    match self.ship(db, &scan.to_ship).await? {
                        Shipped::All => {
                            shipped_now = true;
                            m.log(
                                AuditEntry::new(&self.services.identity, Action::Shipped, db.folder.clone())
                                    .database(&db.name)
                                    .detail(names.join(", ")),
                            )?;
                        }
                        Shipped::Cancelled => return Ok(None),
                        Shipped::Failed(reason) => m.note(&db.name, format!("{reason}; it will be tried again")),
                    }
                }
            }
            Err(e) => m.note(&db.name, format!("cannot scan '{}': {e}", db.source.display())),
        }
        Ok(Some((waiting, shipped_now)))
    }
}

impl Migration {
    /// One poll of `restoreDetails`, applied to the record.
    pub(super) async fn poll_once(
        &self,
        services: &Services,
        name: &str,
    ) -> Result<Option<RestoreStatus>, MigrationError> {
        let status = match services.arm.lrs(self.db_ref(services, name)).status().await {
            Ok(s) => s,
            Err(e) => {
                // A failed poll changes nothing: it is said, and the next one may work.
                self.note(name, format!("could not read the restore status: {}", arm_text(&e)));
                return Ok(None);
            }
        };
        let snapshot = snapshot(&status);
        self.update(name, |r| r.restore = Some(snapshot.clone()))?;
        self.emit(MigrationEvent::Polled { database: name.to_string(), restore: snapshot });
        match status.state {
            RestoreState::Completed => {
                self.transition(name, Event::RestoreCompleted, "the database is online on the managed instance")?;
                self.log(
                    AuditEntry::new("LRS", Action::Completed, self.plan.target.instance.clone())
                        .database(name)
                        .detail("restoreDetails says Completed"),
                )?;
            }
            RestoreState::Failed => {
                let reason = restore_failure(&status);
                self.update(name, |r| r.error = Some(reason.clone()))?;
                self.transition(name, Event::Failure, &reason)?;
                self.log(
                    AuditEntry::new("LRS", Action::RestoreFailed, self.plan.target.instance.clone())
                        .database(name)
                        .outcome("failed")
                        .detail(&reason),
                )?;
            }
            _ => {}
        }
        Ok(Some(status))
    }
}

fn snapshot(status: &RestoreStatus) -> RestoreSnapshot {
    RestoreSnapshot {
        polled_at: OffsetDateTime::now_utc(),
        status: status.status.clone(),
        last_restored_file: status.last_restored_file.clone(),
        current_restoring_file: status.current_restoring_file.clone(),
        percent_completed: status.percent_completed,
        block_reason: status.block_reason.clone(),
        files_restored: status.files.restored,
        files_detected: status.files.detected,
    }
}

/// Why a restore failed, in plain language (the block reason explained when it is a known code).
fn restore_failure(status: &RestoreStatus) -> String {
    let reason = status.block_reason.clone().unwrap_or_else(|| "no reason given".to_string());
    let code = reason.split([':', ' ']).next().unwrap_or("");
    match explain(code) {
        Some(e) => format!("the restore failed ({}): {} {}", e.code, e.meaning, e.fix),
        None => format!("the restore failed: {reason}"),
    }
}
