//! Runs a plan: [`Migration::run`] and [`Migration::upload`] set up one run ([`RunCtx`]), whose
//! loop drives each database on its own task, step by step, beside a task that carries out what
//! the plan's request inbox asks.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::Duration;

use time::OffsetDateTime;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use super::{lock, DbSummary, Migration, RunOptions, RunSummary, Services};
use crate::migration::audit::{Action, AuditEntry};
use crate::migration::pacer::Pacer;
use crate::migration::plan::{DatabasePlan, Mode};
use crate::migration::requests::{self, RequestAction, RequestInbox, RequestOutcome};
use crate::migration::status::{DbStatus, Event};
use crate::migration::MigrationError;
use crate::secrets::Secret;
use crate::storage::sas;

impl Migration {
    /// Runs the plan (see the [`runner`](super) module documentation) until `options` says it is
    /// done or `cancel` fires. Databases fail on their own: one failure never stops the others.
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
            // Its own child: the run also ends when its inbox cannot be served.
            cancel: cancel.child_token(),
            retried: Mutex::new(HashSet::new()),
            last_poll: Mutex::new(HashMap::new()),
            serving: tokio::sync::Mutex::new(()),
            inbox_closed: CancellationToken::new(),
        };
        let (revive, revived) = tokio::sync::mpsc::unbounded_channel();
        let serve = async {
            let served = ctx.serve_requests(revive).await;
            if served.is_err() {
                // Requests could no longer be answered (the plan's folder cannot be written): end
                // the run and say why, rather than drive on while askers wait in vain.
                ctx.cancel.cancel();
            }
            served
        };
        let (driven, served) = tokio::join!(ctx.drive_all(revived), serve);
        // Only a broken store or audit log ends a run: the state could not be kept.
        driven?;
        served?;
        Ok(self.summary(cancel.is_cancelled()))
    }

    /// Where each database of the plan is, at the end of a run.
    fn summary(&self, interrupted: bool) -> RunSummary {
        let state = self.state();
        RunSummary {
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
            interrupted,
        }
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
}

/// One run's shared parts.
pub(super) struct RunCtx<'a> {
    /// Stop each database once it is Uploaded ([`Migration::upload`]).
    upload_only: bool,
    pub(super) migration: &'a Migration,
    pub(super) services: &'a Services,
    pub(super) options: &'a RunOptions,
    pub(super) sas: Secret,
    pub(super) uploads: Semaphore,
    pub(super) pacer: Pacer,
    pub(super) cancel: CancellationToken,
    /// Databases that failed before their start and were retried once in this run.
    retried: Mutex<HashSet<String>>,
    /// When each database was last polled in this run.
    pub(super) last_poll: Mutex<HashMap<String, std::time::Instant>>,
    /// Held while a request is carried out, and by the end of the run: no request is taken once
    /// the databases' tasks are over, and none ends while the run decides it is over.
    serving: tokio::sync::Mutex<()>,
    /// The databases' tasks are over: the inbox is not looked at any more.
    inbox_closed: CancellationToken,
}

/// What one step of a database's loop decided.
pub(super) enum Next {
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
    pub(super) fn fail(&self, db: &DatabasePlan, action: Action, reason: &str) -> Result<Next, MigrationError> {
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

    pub(super) fn plan_mode(&self) -> Mode {
        self.migration.plan.mode
    }
}
