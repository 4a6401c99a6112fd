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

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::Duration;

use serde::Serialize;
use time::OffsetDateTime;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use super::audit::{Action, AuditEntry, AuditLog};
use super::pacer::Pacer;
use super::plan::{DatabasePlan, MigrationPlan, Mode};
use super::requests::{self, RequestAction, RequestInbox, RequestOutcome};
use super::shipping::{self, LocalFile};
use super::state::{CutoverRecord, DbRecord, MigrationState, RestoreSnapshot, ShippedFile};
use super::status::{DbStatus, Event};
use super::store::{PlanLock, PlanStore};
use super::MigrationError;
use crate::arm::explain::explain;
use crate::arm::{
    ArmClient, ArmError, DatabaseRef, LrsError, RestoreState, RestoreStatus, StartRequest, StorageAuth, Wait,
};
use crate::secrets::Secret;
use crate::storage::client::{StorageClient, UploadCredential};
use crate::storage::sas::{self, LiveOptions};
use crate::storage::upload::{blob_name, UploadEvent, UploadFile, UploadJob, UploadOptions};
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
    /// One lock per database, held by a run's step of it and by a cutover or stop of it.
    busy: HashMap<String, tokio::sync::Mutex<()>>,
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
        RequestInbox::of(&store).answer_interrupted()?;
        let busy = plan.databases.iter().map(|d| (d.name.clone(), tokio::sync::Mutex::new(()))).collect();
        Ok(Migration {
            plan,
            store,
            lock,
            audit,
            state: Mutex::new(state),
            events: None,
            shipping: std::sync::atomic::AtomicBool::new(true),
            busy,
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
        match self.busy.get(database) {
            Some(lock) => Some(lock.lock().await),
            None => None,
        }
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

    /// Runs the plan (see the module documentation) until `options` says it is done or `cancel`
    /// fires. Databases fail on their own: one failure never stops the others.
    pub async fn run(
        &self,
        services: &Services,
        options: &RunOptions,
        cancel: CancellationToken,
    ) -> Result<RunSummary, MigrationError> {
        self.drive_plan(services, options, cancel, false).await
    }

    /// Uploads each database's restore sequence and stops there (every database Uploaded, or
    /// Failed): no SAS is minted and nothing is started. A later [`Migration::run`] carries on
    /// from Uploaded. The wizard's Upload step, which comes before its Start step.
    pub async fn upload(
        &self,
        services: &Services,
        options: &RunOptions,
        cancel: CancellationToken,
    ) -> Result<RunSummary, MigrationError> {
        self.drive_plan(services, options, cancel, true).await
    }

    async fn drive_plan(
        &self,
        services: &Services,
        options: &RunOptions,
        cancel: CancellationToken,
        upload_only: bool,
    ) -> Result<RunSummary, MigrationError> {
        self.log(
            AuditEntry::new(&services.identity, Action::RunStarted, services.container.url().to_string()).detail(
                format!(
                    "plan {}, {} database(s), {:?} mode{}",
                    self.plan.id,
                    self.plan.databases.len(),
                    self.plan.mode,
                    if upload_only { ", upload only" } else { "" }
                ),
            ),
        )?;
        // An upload-only run never starts LRS, so it needs no SAS for it.
        let sas = if upload_only { Secret::new(String::new()) } else { self.mint_sas(services)? };
        let ctx = RunCtx {
            upload_only,
            migration: self,
            services,
            options,
            sas,
            uploads: Semaphore::new(options.uploads_at_once.max(1)),
            pacer: Pacer::per_minute(options.arm_reads_per_minute),
            cancel: cancel.clone(),
            retried: Mutex::new(HashSet::new()),
            last_poll: Mutex::new(HashMap::new()),
            serving: tokio::sync::Mutex::new(()),
            inbox_closed: CancellationToken::new(),
        };
        let (revive, revived) = tokio::sync::mpsc::unbounded_channel();
        let (driven, served) = tokio::join!(ctx.drive_all(revived), ctx.serve_requests(revive));
        // Only a broken store or audit log ends a run: the state could not be kept.
        driven?;
        served?;
        let state = self.state();
        Ok(RunSummary {
            databases: self
                .plan
                .databases
                .iter()
                .filter_map(|d| state.database(&d.name))
                .map(|r| DbSummary {
                    name: r.name.clone(),
                    status: r.status,
                    error: r.error.clone(),
                    halted: r.halted.clone(),
                })
                .collect(),
            interrupted: cancel.is_cancelled(),
        })
    }

    /// The Read+List SAS LRS gets, minted from the account key for `sas_days`, checked as LRS
    /// would check it (its live proof comes per folder, before each start).
    fn mint_sas(&self, services: &Services) -> Result<Secret, MigrationError> {
        let now = OffsetDateTime::now_utc();
        let expiry = now + time::Duration::days(i64::from(self.plan.storage.sas_days));
        let token = sas::lrs_read_list_sas(&services.container, &services.account_key, now, expiry)
            .map_err(|e| MigrationError::Sas(e.to_string()))?;
        let until = now + time::Duration::days(30);
        let verdict = sas::check(&token, now, until.min(expiry));
        let expiry_text = sas::service::format_time(expiry);
        self.log(
            AuditEntry::new(&services.identity, Action::SasMinted, services.container.url().to_string())
                .detail(format!("Read+List container SAS, expires {expiry_text}")),
        )?;
        if !verdict.accepted() {
            let failed: Vec<String> =
                verdict.failed().map(|c| format!("{}: {}", c.message, c.fix.as_deref().unwrap_or(""))).collect();
            return Err(MigrationError::Sas(failed.join("; ")));
        }
        Ok(token)
    }

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
        let db = self.plan.database(database).ok_or_else(|| MigrationError::UnknownDatabase(database.to_string()))?;
        let _busy = self.hold(&db.name).await;
        let record = self.record(&db.name).ok_or_else(|| MigrationError::UnknownDatabase(database.to_string()))?;
        if record.status == DbStatus::CuttingOver {
            // Asked before (perhaps by a run that was killed): make sure Azure knows, then follow.
            return self.resend_cutover(services, db, &record).await;
        }
        let scan = shipping::scan(db, services.container.container(), &shipped_names(&record))
            .map_err(|e| MigrationError::Gate(format!("{}: {e}", db.name)))?;
        let gate = super::gates::cutover_gate(&record, &scan, last_backup, typed_name, self.plan.mode);
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

    async fn resend_cutover(
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
        let db = self.plan.database(database).ok_or_else(|| MigrationError::UnknownDatabase(database.to_string()))?;
        if typed_name.trim() != db.name {
            return Err(MigrationError::Gate(format!(
                "the name typed ('{}') is not '{}': nothing was stopped",
                typed_name.trim(),
                db.name
            )));
        }
        let _busy = match self.busy.get(&db.name).map(tokio::sync::Mutex::try_lock) {
            Some(Ok(free)) => Some(free),
            Some(Err(_)) if self.stop_during_upload(services, db)? => return Ok(DbStatus::Stopped),
            _ => self.hold(&db.name).await,
        };
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
    /// still Planned or Uploading is stopped at once, in one change of the state (the run's step
    /// then ends, see `RunCtx::drive`). `false` when it is further on: then the stop waits.
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
        let path = self.db_ref(services, &db.name).path();
        self.log(AuditEntry::new(&services.identity, Action::Stop, path).database(&db.name).detail(cause))?;
        let to = DbStatus::Stopped;
        self.emit(MigrationEvent::Transition { database: db.name.clone(), from, to, cause: cause.to_string() });
        Ok(true)
    }

    /// One poll of `restoreDetails`, applied to the record.
    async fn poll_once(&self, services: &Services, name: &str) -> Result<Option<RestoreStatus>, MigrationError> {
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

/// One run's shared parts.
struct RunCtx<'a> {
    /// Stop each database once it is Uploaded ([`Migration::upload`]).
    upload_only: bool,
    migration: &'a Migration,
    services: &'a Services,
    options: &'a RunOptions,
    sas: Secret,
    uploads: Semaphore,
    pacer: Pacer,
    cancel: CancellationToken,
    /// Databases that failed before their start and were retried once in this run.
    retried: Mutex<HashSet<String>>,
    /// When each database was last polled in this run.
    last_poll: Mutex<HashMap<String, std::time::Instant>>,
    /// Held while a request is carried out, and by the end of the run: no request is taken once
    /// the databases' tasks are over, and none ends while the run decides it is over.
    serving: tokio::sync::Mutex<()>,
    /// The databases' tasks are over: the inbox is not looked at any more.
    inbox_closed: CancellationToken,
}

/// What one step of a database's loop decided.
enum Next {
    /// Step again at once.
    Continue,
    /// Wait this long, then step again.
    Wait(Duration),
    /// This run is done with the database.
    Done,
}

impl RunCtx<'_> {
    /// Drives every database, each on its own task, and again a database whose task had ended
    /// when a request cut it over (`revived`); returns once every task is over. The first error
    /// (a broken store) is returned once the others ended.
    async fn drive_all(&self, mut revived: UnboundedReceiver<String>) -> Result<(), MigrationError> {
        use futures::stream::{FuturesUnordered, StreamExt};
        let plan = &self.migration.plan;
        let mut running: FuturesUnordered<_> = plan.databases.iter().map(|db| self.drive_named(db)).collect();
        let mut active: HashSet<String> = plan.databases.iter().map(|d| d.name.clone()).collect();
        let mut first_error = None;
        loop {
            let revive = if running.is_empty() {
                // Decided while no request is under way: one carried out meanwhile revives first.
                let _serving = self.serving.lock().await;
                match revived.try_recv() {
                    Ok(name) => name,
                    Err(_) => {
                        self.inbox_closed.cancel();
                        break;
                    }
                }
            } else {
                tokio::select! {
                    Some((name, result)) = running.next() => {
                        active.remove(&name);
                        if let Err(e) = result {
                            first_error.get_or_insert(e);
                        }
                        continue;
                    }
                    Some(name) = revived.recv() => name,
                }
            };
            if let Some(db) = plan.database(&revive) {
                if active.insert(db.name.clone()) {
                    running.push(self.drive_named(db));
                }
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    async fn drive_named(&self, db: &DatabasePlan) -> (String, Result<(), MigrationError>) {
        (db.name.clone(), self.drive(db).await)
    }

    /// Looks at the plan's request inbox until the databases' tasks are over, and carries out
    /// each request, oldest first. A database cut over is driven again when its task was over.
    async fn serve_requests(&self, revive: UnboundedSender<String>) -> Result<(), MigrationError> {
        let inbox = RequestInbox::of(&self.migration.store);
        let every = self.options.poll_interval.clamp(Duration::from_millis(50), requests::REQUEST_CHECK_INTERVAL);
        loop {
            {
                let _serving = self.serving.lock().await;
                if self.inbox_closed.is_cancelled() || self.cancel.is_cancelled() {
                    return Ok(());
                }
                while let Some(request) = inbox.take_next()? {
                    let outcome = requests::carry_out(self.migration, self.services, &inbox, &request).await?;
                    if request.action == RequestAction::Cutover && matches!(outcome, RequestOutcome::Done { .. }) {
                        let _ = revive.send(request.database.clone());
                    }
                }
            }
            tokio::select! {
                () = self.cancel.cancelled() => return Ok(()),
                () = self.inbox_closed.cancelled() => return Ok(()),
                () = tokio::time::sleep(every) => {}
            }
        }
    }

    async fn drive(&self, db: &DatabasePlan) -> Result<(), MigrationError> {
        loop {
            if self.cancel.is_cancelled() {
                return Ok(());
            }
            let stepped = {
                let _busy = self.migration.hold(&db.name).await;
                self.step(db).await
            };
            let next = match stepped {
                // A stop during its upload made the step's next transition impossible: done.
                Err(MigrationError::Gate(_))
                    if self.migration.record(&db.name).is_some_and(|r| r.status.is_final()) =>
                {
                    Next::Done
                }
                other => other?,
            };
            match next {
                Next::Continue => {}
                Next::Done => return Ok(()),
                Next::Wait(d) => {
                    tokio::select! {
                        () = self.cancel.cancelled() => return Ok(()),
                        () = tokio::time::sleep(d) => {}
                    }
                }
            }
        }
    }

    async fn step(&self, db: &DatabasePlan) -> Result<Next, MigrationError> {
        let m = self.migration;
        let Some(record) = m.record(&db.name) else { return Ok(Next::Done) };
        if self.upload_only && !matches!(record.status, DbStatus::Planned | DbStatus::Uploading | DbStatus::Failed) {
            return Ok(Next::Done);
        }
        match record.status {
            DbStatus::Planned | DbStatus::Uploading => self.upload_sequence(db, &record).await,
            DbStatus::Uploaded => self.start(db).await,
            DbStatus::Starting => self.reattach_or_start(db).await,
            DbStatus::Restoring | DbStatus::ReadyForCutover => self.follow(db, &record).await,
            DbStatus::CuttingOver => {
                if !record.cutover.as_ref().is_some_and(|c| c.accepted) {
                    if let Err(e) = m.resend_cutover(self.services, db, &record).await {
                        m.note(&db.name, format!("the cutover could not be confirmed yet: {e}"));
                    }
                }
                self.pacer.wait().await;
                m.poll_once(self.services, &db.name).await?;
                Ok(Next::Wait(self.options.poll_interval))
            }
            DbStatus::Failed => {
                let before_start = record.start_request_id.is_none() && record.restore.is_none();
                let first_retry = lock(&self.retried).insert(db.name.clone());
                if before_start && first_retry {
                    m.update(&db.name, |r| r.error = None)?;
                    m.transition(&db.name, Event::Retry, "a new run tries again")?;
                    return Ok(Next::Continue);
                }
                Ok(Next::Done)
            }
            DbStatus::Completed | DbStatus::Stopped => Ok(Next::Done),
        }
    }

    /// Fails the database with `reason` (and audits it); the others carry on.
    fn fail(&self, db: &DatabasePlan, action: Action, reason: &str) -> Result<Next, MigrationError> {
        let m = self.migration;
        m.update(&db.name, |r| r.error = Some(reason.to_string()))?;
        m.transition(&db.name, Event::Failure, reason)?;
        m.log(
            AuditEntry::new(
                &self.services.identity,
                action,
                format!("{}/{}", self.services.container.url(), db.folder),
            )
            .database(&db.name)
            .outcome("failed")
            .detail(reason),
        )?;
        Ok(Next::Done)
    }

    async fn upload_sequence(&self, db: &DatabasePlan, record: &DbRecord) -> Result<Next, MigrationError> {
        let m = self.migration;
        let container = self.services.container.container().to_string();
        let scan = match shipping::scan(db, &container, &shipped_names(record)) {
            Ok(s) => s,
            Err(e) => return self.fail(db, Action::Inspected, &e.to_string()),
        };
        if !scan.errors.is_empty() && !self.options.force {
            let reason = format!(
                "the inspection of '{}' found errors; nothing was uploaded (fix them, or run with --force): {}",
                db.source.display(),
                scan.errors.join("; ")
            );
            return self.fail(db, Action::Inspected, &reason);
        }
        if let Some(halt) = &scan.halt {
            return self.fail(db, Action::Inspected, halt);
        }
        if scan.waiting.is_some() && scan.to_ship.is_empty() {
            m.note(&db.name, scan.waiting.clone().unwrap_or_default());
            return Ok(Next::Wait(self.options.scan_interval));
        }
        if self.plan_mode() == Mode::Autocomplete && scan.waiting.is_some() {
            // Autocomplete names the last backup at the start: wait until the folder is complete.
            m.note(&db.name, scan.waiting.clone().unwrap_or_default());
            return Ok(Next::Wait(self.options.scan_interval));
        }
        m.update(&db.name, |r| {
            r.last_local = scan.last_local().map(str::to_string);
            r.pending = scan.to_ship.iter().map(|f| f.name.clone()).collect();
        })?;
        m.transition(&db.name, Event::UploadBegan, "the inspection passed")?;
        let permit = tokio::select! {
            () = self.cancel.cancelled() => return Ok(Next::Done),
            permit = self.uploads.acquire() => permit,
        };
        let _permit = permit.map_err(|_| MigrationError::Cancelled)?;
        match self.ship(db, &scan.to_ship).await? {
            Shipped::All => {
                m.transition(&db.name, Event::UploadFinished, "every file of the sequence is committed and verified")?;
                Ok(Next::Continue)
            }
            Shipped::Cancelled => Ok(Next::Done),
            Shipped::Failed(reason) => self.fail(db, Action::Uploaded, &reason),
        }
    }

    fn plan_mode(&self) -> Mode {
        self.migration.plan.mode
    }

    /// Uploads `files` in order, one after the other (LRS must never see a log before the one it
    /// follows), recording each as shipped once committed and verified.
    async fn ship(&self, db: &DatabasePlan, files: &[LocalFile]) -> Result<Shipped, MigrationError> {
        let m = self.migration;
        for file in files {
            let blob = blob_name(&db.folder, &file.path, false);
            let upload = UploadFile { source: file.path.clone(), blob: blob.clone() };
            let credential = UploadCredential::AccountKey(self.services.account_key.clone());
            let store = self.services.http.container(self.services.container.clone(), credential);
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
            let job = UploadJob::new(
                store,
                self.services.container.url().to_string(),
                vec![upload],
                self.options.upload.clone(),
            )
            .with_events(tx);
            let cancel = job.cancel_token();
            let forward = async {
                while let Some(event) = rx.recv().await {
                    m.emit(MigrationEvent::Upload { database: db.name.clone(), upload: event });
                }
            };
            let run = async {
                tokio::select! {
                    () = self.cancel.cancelled() => { cancel.cancel(); Err(None) }
                    result = job.run() => result.map_err(Some),
                }
            };
            let (result, ()) = tokio::join!(run, forward);
            let summary = match result {
                Ok(s) => s,
                Err(None) => return Ok(Shipped::Cancelled),
                Err(Some(e)) if e.is_cancelled() => return Ok(Shipped::Cancelled),
                Err(Some(e)) => return Ok(Shipped::Failed(format!("upload of '{}' failed: {e}", file.path.display()))),
            };
            for done in summary.files {
                let shipped =
                    ShippedFile { name: file.name.clone(), size: done.size, content_md5: done.content_md5.clone() };
                m.update(&db.name, |r| {
                    if !r.is_shipped(&shipped.name) {
                        r.shipped.push(shipped.clone());
                    }
                    r.pending.retain(|p| p != &shipped.name);
                })?;
                m.log(
                    AuditEntry::new(
                        &self.services.identity,
                        Action::Uploaded,
                        format!("{}/{}", self.services.container.url(), blob),
                    )
                    .database(&db.name)
                    .detail(format!("{} bytes, Content-MD5 {}, {:?}", done.size, done.content_md5, done.outcome)),
                )?;
            }
        }
        Ok(Shipped::All)
    }

    /// Proves the SAS on the folder, records Starting, sends the start.
    async fn start(&self, db: &DatabasePlan) -> Result<Next, MigrationError> {
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
    async fn reattach_or_start(&self, db: &DatabasePlan) -> Result<Next, MigrationError> {
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
    async fn follow(&self, db: &DatabasePlan, record: &DbRecord) -> Result<Next, MigrationError> {
        let m = self.migration;
        let continuous = self.plan_mode() == Mode::Continuous;
        let mut waiting = false;
        let mut shipped_now = false;
        if continuous {
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
                        m.transition(
                            &db.name,
                            Event::NewBackupShipping,
                            &format!("new backup(s): {}", names.join(", ")),
                        )?;
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
                            Shipped::Cancelled => return Ok(Next::Done),
                            Shipped::Failed(reason) => m.note(&db.name, format!("{reason}; it will be tried again")),
                        }
                    }
                }
                Err(e) => m.note(&db.name, format!("cannot scan '{}': {e}", db.source.display())),
            }
        }
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
}

enum Shipped {
    All,
    Cancelled,
    Failed(String),
}

fn shipped_names(record: &DbRecord) -> Vec<String> {
    record.shipped.iter().map(|f| f.name.clone()).collect()
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
