//! Drives a plan: each database on its own task, from Planned to where cutover is due (or to
//! Completed in autocomplete mode), persisting every transition before and after the action it
//! stands for, so that a run killed at any moment resumes without doing anything twice:
//! - Planned/Uploading: scan the folder (`shipping`), upload the sequence (the upload journal
//!   resumes half-sent files; blobs already committed and verified are skipped);
//! - Uploaded: prove the Read+List SAS live on the folder, record Starting, then send the start;
//! - Starting (a start that may or may not have reached Azure): the restore is looked up first
//!   and re-attached when it exists; the start is sent only when it does not (`start` itself also
//!   refuses a name in use), so a database is never started twice;
//! - Restoring/ReadyForCutover: poll `restoreDetails` (paced by a budget of ARM reads per minute
//!   for the whole plan) and, in continuous mode, ship new log backups in chain order;
//! - CuttingOver: the cutover was asked for; it is re-sent after a crash only while the service
//!   does not know it (`ExternalBackupAlreadySignaledToComplete` means it does), then followed.
//!
//! Beside the databases' tasks, a run looks at the plan's request inbox ([`super::requests`]) at
//! least every second and carries out what another process asked (cutover, stop) through the same
//! gated methods; a database whose task had ended (an `--until-ready` run) is driven again after a
//! cutover, so the run follows it to Completed. A database's step and a cutover or stop of it never
//! interleave (one async lock per database).
//!
//! The parts: this module keeps the open plan ([`Migration`]: its state, saved on every change,
//! and its audit log); `drive` runs it (one loop per database, and the request inbox); `upload`
//! and `restore` are the steps of that loop; `actions` are what a user asks for (cutover, stop).

mod actions;
mod drive;
mod restore;
mod upload;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use serde::Serialize;
use time::OffsetDateTime;
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

use super::audit::{Action, AuditEntry, AuditLog};
use super::plan::MigrationPlan;
use super::requests::RequestInbox;
use super::state::{DbRecord, MigrationState, RestoreSnapshot};
use super::status::{DbStatus, Event};
use super::store::{PlanLock, PlanStore};
use super::MigrationError;
use crate::arm::explain::explain;
use crate::arm::{ArmClient, ArmError, DatabaseRef, LrsError};
use crate::secrets::Secret;
use crate::storage::client::StorageClient;
use crate::storage::upload::{UploadEvent, UploadOptions};
use crate::storage::ContainerUrl;

/// What the runner talks to, and as whom.
#[derive(Debug, Clone)]
pub struct Services {
    pub arm: ArmClient,
    pub http: StorageClient,
    pub container: ContainerUrl,
    /// The storage account key: uploads go through a short-lived write SAS minted from it, and
    /// LRS gets a Read+List SAS minted from it.
    pub account_key: Secret,
    pub subscription: String,
    /// Who acts, for the audit log (`service principal <id>`...).
    pub identity: String,
}

/// How a run behaves.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Return once every database is ReadyForCutover or final (a script's "until cutover is due");
    /// otherwise keep shipping and following until every database is Completed, Stopped or Failed.
    pub until_ready: bool,
    /// The shortest time between two polls of one database.
    pub poll_interval: Duration,
    /// ARM reads per minute the whole plan may spend on polls.
    pub arm_reads_per_minute: u32,
    /// Continuous mode: how often each source folder is scanned for new log backups.
    pub scan_interval: Duration,
    /// Databases uploading at once.
    pub uploads_at_once: usize,
    /// Options of each upload (concurrency, settle window, journal folder).
    pub upload: UploadOptions,
    /// Upload even when the inspection finds errors.
    pub force: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            until_ready: false,
            poll_interval: Duration::from_secs(30),
            arm_reads_per_minute: super::DEFAULT_ARM_READS_PER_MINUTE,
            scan_interval: Duration::from_secs(15),
            uploads_at_once: 2,
            upload: UploadOptions::default(),
            force: false,
        }
    }
}

/// What happened, for a live view (table, JSON lines, the dashboard).
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum MigrationEvent {
    Transition { database: String, from: DbStatus, to: DbStatus, cause: String },
    Upload { database: String, upload: UploadEvent },
    Polled { database: String, restore: RestoreSnapshot },
    Note { database: String, message: String },
}

/// How a run ended.
#[derive(Debug, Clone, Serialize)]
pub struct RunSummary {
    pub databases: Vec<DbSummary>,
    /// True when the run was cancelled (Ctrl-C, the app closing): run again to carry on.
    pub interrupted: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct DbSummary {
    pub name: String,
    pub status: DbStatus,
    pub error: Option<String>,
    pub halted: Option<String>,
}

impl RunSummary {
    /// True when no database failed or halted.
    pub fn all_well(&self) -> bool {
        self.databases.iter().all(|d| d.status != DbStatus::Failed && d.halted.is_none())
    }
}

/// An open plan: its state, its audit log, and the lock that makes this process its only driver.
#[derive(Debug)]
pub struct Migration {
    plan: MigrationPlan,
    store: PlanStore,
    lock: PlanLock,
    audit: AuditLog,
    state: Mutex<MigrationState>,
    events: Option<UnboundedSender<MigrationEvent>>,
    /// Continuous mode: whether a run uploads the new log backups it finds (on by default). Off,
    /// the folders are still scanned (what is pending is recorded) but nothing new is shipped.
    shipping: std::sync::atomic::AtomicBool,
    /// What a run's step and an action on each database share.
    slots: HashMap<String, DbSlot>,
}

/// What a run's step of one database and a cutover or stop of it share.
#[derive(Debug)]
struct DbSlot {
    /// Held by a run's step of the database and by a cutover or stop of it.
    busy: tokio::sync::Mutex<()>,
    /// Fired when the database is stopped during its upload: the upload under way ends at once
    /// instead of sending the rest of the sequence for nothing.
    stopped: CancellationToken,
}

impl Migration {
    /// Opens `plan` (state under `root`, `None` for the app's data directory), taking its lock.
    pub fn open(plan: MigrationPlan, root: Option<&std::path::Path>) -> Result<Migration, MigrationError> {
        let store = PlanStore::for_plan(root, &plan.id)?;
        let lock = store.lock()?;
        let state = match store.load()? {
            Some(saved) => saved.reconcile(&plan),
            None => MigrationState::new(&plan),
        };
        let audit = AuditLog::at(store.audit_path());
        store.save(&lock, &state)?;
        // Holding the lock, no process is carrying out a request: one taken and not answered was
        // cut short by the end of its process, and is answered so, not carried out again.
        let inbox = RequestInbox::of(&store);
        inbox.answer_interrupted()?;
        inbox.forget_unread(super::requests::UNREAD_ANSWER_LIFETIME)?;
        let slots = plan
            .databases
            .iter()
            .map(|d| (d.name.clone(), DbSlot { busy: tokio::sync::Mutex::new(()), stopped: CancellationToken::new() }))
            .collect();
        Ok(Migration {
            plan,
            store,
            lock,
            audit,
            state: Mutex::new(state),
            events: None,
            shipping: std::sync::atomic::AtomicBool::new(true),
            slots,
        })
    }

    pub fn with_events(mut self, events: UnboundedSender<MigrationEvent>) -> Migration {
        self.events = Some(events);
        self
    }

    pub fn plan(&self) -> &MigrationPlan {
        &self.plan
    }

    /// Continuous mode: turns the shipping of new log backups on or off, also during a run.
    pub fn set_shipping(&self, on: bool) {
        self.shipping.store(on, std::sync::atomic::Ordering::SeqCst);
    }

    /// Whether new log backups are shipped (continuous mode).
    pub fn shipping(&self) -> bool {
        self.shipping.load(std::sync::atomic::Ordering::SeqCst)
    }

    pub fn audit(&self) -> &AuditLog {
        &self.audit
    }

    pub fn store(&self) -> &PlanStore {
        &self.store
    }

    /// A copy of the current state.
    pub fn state(&self) -> MigrationState {
        lock(&self.state).clone()
    }

    /// Waits until no step, cutover or stop of `database` is under way, and keeps it so.
    async fn hold(&self, database: &str) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        match self.slots.get(database) {
            Some(slot) => Some(slot.busy.lock().await),
            None => None,
        }
    }

    /// Fires when `database` is stopped during its upload.
    fn stopped_signal(&self, database: &str) -> CancellationToken {
        self.slots.get(database).map(|slot| slot.stopped.clone()).unwrap_or_default()
    }

    fn record(&self, database: &str) -> Option<DbRecord> {
        lock(&self.state).database(database).cloned()
    }

    /// Changes one database's record and saves the state before returning.
    fn update<R>(&self, database: &str, f: impl FnOnce(&mut DbRecord) -> R) -> Result<R, MigrationError> {
        let mut state = lock(&self.state);
        let record =
            state.database_mut(database).ok_or_else(|| MigrationError::UnknownDatabase(database.to_string()))?;
        let result = f(record);
        self.store.save(&self.lock, &state)?;
        Ok(result)
    }

    /// Applies `event` to a database, saves, and reports the transition.
    fn transition(&self, database: &str, event: Event, cause: &str) -> Result<DbStatus, MigrationError> {
        let now = OffsetDateTime::now_utc();
        let (changed, from, to) = self.update(database, |r| {
            let from = r.status;
            r.apply(event, cause, now).map(|changed| (changed, from, r.status))
        })??;
        if changed {
            tracing::info!(database, %from, %to, cause, "transition");
            self.emit(MigrationEvent::Transition {
                database: database.to_string(),
                from,
                to,
                cause: cause.to_string(),
            });
        }
        Ok(to)
    }

    fn emit(&self, event: MigrationEvent) {
        if let Some(events) = &self.events {
            let _ = events.send(event);
        }
    }

    fn note(&self, database: &str, message: impl Into<String>) {
        self.emit(MigrationEvent::Note { database: database.to_string(), message: message.into() });
    }

    fn log(&self, entry: AuditEntry) -> Result<(), MigrationError> {
        Ok(self.audit.append(entry)?)
    }

    /// Audits what Azure or LRS refused, and returns it in words.
    fn audit_refusal(
        &self,
        identity: &str,
        action: Action,
        target: String,
        database: &str,
        outcome: &str,
        e: &LrsError,
    ) -> Result<String, MigrationError> {
        let text = lrs_text(e);
        let entry =
            AuditEntry::new(identity, action, target).database(database).outcome(outcome).request_id(lrs_request_id(e));
        self.log(entry.detail(&text))?;
        Ok(text)
    }

    fn db_ref(&self, services: &Services, name: &str) -> DatabaseRef {
        DatabaseRef {
            subscription: services.subscription.clone(),
            resource_group: self.plan.target.resource_group.clone(),
            instance: self.plan.target.instance.clone(),
            database: name.to_string(),
        }
    }
}

fn shipped_names(record: &DbRecord) -> Vec<String> {
    record.shipped.iter().map(|f| f.name.clone()).collect()
}

fn already_signalled(e: &LrsError) -> bool {
    matches!(e, LrsError::Arm(a) if matches!(a.code.as_deref(), Some("ExternalBackupAlreadySignaledToComplete")))
}

fn is_transient(e: &LrsError) -> bool {
    matches!(e, LrsError::Arm(a) if a.kind.is_transient())
}

fn lrs_request_id(e: &LrsError) -> Option<&str> {
    match e {
        LrsError::Arm(a) => a.request_id.as_deref(),
        _ => None,
    }
}

fn lrs_text(e: &LrsError) -> String {
    match e {
        LrsError::Arm(a) => arm_text(a),
        other => other.to_string(),
    }
}

/// An ARM error with its code explained when the code is documented.
fn arm_text(e: &ArmError) -> String {
    match e.code.as_deref().and_then(explain) {
        Some(x) => format!("{e} — {} {}", x.meaning, x.fix),
        None => e.to_string(),
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
