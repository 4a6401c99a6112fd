//! The wizard's migration: the session's choices turned into a [`MigrationPlan`] (saved as
//! `plan.toml` in the app's data folder, so `lrs migrate` can drive it too), the engine's
//! [`Migration`] opened on it, and its work run in the background: the Upload step
//! ([`Migration::upload`]), then from the Start step on the whole run ([`Migration::run`]: the SAS,
//! the start, the polls, continuous shipping), with pause (cancel), resume, cutover and stop.
//!
//! [`MigrationDesk`] keeps the one current migration of the app. Its state is the engine's own
//! (`state.json`, the upload journal), so after the app restarts the same plan is opened again
//! and carries on where it was. The engine's events update a small live picture (the file being
//! sent, its bytes and throughput, a ring of progress samples per database) and the
//! [`MigrationView`] is pushed to the one watcher (the page on screen) at most four times a second.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use tokio::sync::mpsc::UnboundedReceiver;
use tokio_util::sync::CancellationToken;

use super::dashboard::{self, *};
use super::views::{DatabaseChoice, SignInMethod};
use super::{Session, SessionError};
use crate::arm::cloud::CLOUD_NAMES;
use crate::migration::{
    audit, shipping, DatabasePlan, DbStatus, Migration, MigrationError, MigrationEvent, MigrationPlan, Mode,
    RunOptions, Services, StoragePlan, Target,
};
use crate::storage::upload::UploadOptions;
use crate::storage::ContainerUrl;

/// The file in the migrations folder that names the current plan's id.
const CURRENT_FILE: &str = "current";
/// The plan's file in its folder.
const PLAN_FILE: &str = "plan.toml";

/// The open migration and what its background work shares.
type Handles = (Arc<Migration>, Arc<Shared>);

/// Who receives the views (the page on screen).
pub type Watcher = Arc<dyn Fn(MigrationView) + Send + Sync>;

/// The app's current migration and its background work. Share it as managed state.
pub struct MigrationDesk {
    root: PathBuf,
    journal: PathBuf,
    inner: Mutex<Inner>,
    watcher: Arc<Mutex<Option<Watcher>>>,
}

impl std::fmt::Debug for MigrationDesk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MigrationDesk").field("root", &self.root).finish_non_exhaustive()
    }
}

#[derive(Default)]
struct Inner {
    /// The saved current plan was looked for.
    loaded: bool,
    current: Option<Current>,
}

struct Current {
    migration: Arc<Migration>,
    shared: Arc<Shared>,
}

/// What the background tasks and the event forwarder share with the desk.
#[derive(Default)]
struct Shared {
    live: Mutex<HashMap<String, LiveDb>>,
    task: Mutex<TaskState>,
    dirty: AtomicBool,
    /// The desk left this migration (cancelled, or replaced by another plan): its task may still
    /// be winding down, but the page shows another one now and gets no more of its views.
    retired: AtomicBool,
}

#[derive(Default)]
struct TaskState {
    activity: Activity,
    cancel: Option<CancellationToken>,
    /// Counts tasks, so a task that ends late does not clear a newer one's state.
    generation: u64,
    /// The last task; a new one waits for it to end (a pause only asks it to stop).
    running: Option<tokio::task::JoinHandle<()>>,
    paused: bool,
    last_error: Option<String>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl From<MigrationError> for SessionError {
    fn from(e: MigrationError) -> Self {
        match e {
            MigrationError::UnknownDatabase(_) => SessionError::Invalid(e.to_string()),
            MigrationError::Gate(_) | MigrationError::Cancelled => SessionError::NotReady(e.to_string()),
            MigrationError::Store(crate::migration::StoreError::Locked { .. }) => SessionError::NotReady(e.to_string()),
            MigrationError::Lrs(_) | MigrationError::Sas(_) => SessionError::Refused(e.to_string()),
            MigrationError::Store(_) | MigrationError::Audit(_) => SessionError::Internal(e.to_string()),
        }
    }
}

impl MigrationDesk {
    /// A desk keeping its plans under `<data_dir>/migrations` and the upload journal under
    /// `<data_dir>/journal`.
    pub fn new(data_dir: &Path) -> MigrationDesk {
        MigrationDesk {
            root: data_dir.join("migrations"),
            journal: data_dir.join("journal"),
            inner: Mutex::new(Inner::default()),
            watcher: Arc::new(Mutex::new(None)),
        }
    }

    fn plan_path(&self, id: &str) -> PathBuf {
        self.root.join(id).join(PLAN_FILE)
    }

    /// The current migration (opening the saved one on first use); `None` before any upload.
    fn current(&self) -> Result<Option<Handles>, SessionError> {
        let mut inner = lock(&self.inner);
        if !inner.loaded {
            inner.loaded = true;
            if let Some(plan) = self.saved_plan()? {
                inner.current = Some(self.open(plan, Arc::new(Shared::default()))?);
            }
        }
        Ok(inner.current.as_ref().map(|c| (c.migration.clone(), c.shared.clone())))
    }

    fn saved_plan(&self) -> Result<Option<MigrationPlan>, SessionError> {
        let id = match std::fs::read_to_string(self.root.join(CURRENT_FILE)) {
            Ok(id) => id.trim().to_string(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(SessionError::Internal(format!("cannot read the current migration: {e}"))),
        };
        if id.is_empty() {
            return Ok(None);
        }
        MigrationPlan::load(&self.plan_path(&id)).map(Some).map_err(|e| SessionError::Internal(e.to_string()))
    }

    /// Opens `plan` (taking its lock) and starts forwarding its events into `shared`.
    fn open(&self, plan: MigrationPlan, shared: Arc<Shared>) -> Result<Current, SessionError> {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let mut attempt = 0;
        let migration = loop {
            // A view being built may hold the old handle (and its lock) for a moment.
            match Migration::open(plan.clone(), Some(&self.root)) {
                Ok(m) => break m,
                Err(MigrationError::Store(crate::migration::StoreError::Locked { .. })) if attempt < 20 => {
                    attempt += 1;
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(e) => return Err(e.into()),
            }
        };
        let migration = Arc::new(migration.with_events(tx));
        refresh_sizes(&migration, &shared);
        if tokio::runtime::Handle::try_current().is_ok() {
            tokio::spawn(forward(rx, Arc::downgrade(&migration), shared.clone(), self.watcher.clone()));
        }
        Ok(Current { migration, shared })
    }

    /// Everything the migration pages show; `None` before the first upload.
    pub fn view(&self) -> Result<Option<MigrationView>, SessionError> {
        Ok(self.current()?.map(|(m, shared)| build_view(&m, &shared)))
    }

    /// Sends every later view to `watcher` (replacing the previous one), starting with the current.
    pub fn watch(&self, watcher: impl Fn(MigrationView) + Send + Sync + 'static) -> Result<(), SessionError> {
        let watcher: Watcher = Arc::new(watcher);
        *lock(&self.watcher) = Some(watcher.clone());
        if let Some(view) = self.view()? {
            watcher(view);
        }
        Ok(())
    }

    /// The plan the session's choices make, the current one when it is the same migration.
    fn prepare(&self, session: &Session) -> Result<Handles, SessionError> {
        let current = self.current()?;
        let choices = session.choices();
        if choices.databases.is_empty() {
            // After a restart the wizard is empty: carry on with the saved migration.
            return current.ok_or_else(|| SessionError::NotReady("choose the backups first (step 'Backups')".into()));
        }
        let fresh = plan_from(session)?;
        if let Some((m, shared)) = &current {
            if same_migration(m.plan(), &fresh) {
                return Ok((m.clone(), shared.clone()));
            }
            if lock(&shared.task).activity != Activity::Idle {
                return Err(SessionError::NotReady("the current migration is working: pause it first".into()));
            }
            let state = m.state();
            if let Some(busy) = state.databases.iter().find(|d| d.status.may_have_restore()) {
                return Err(SessionError::NotReady(format!(
                    "the current migration ({}) is restoring '{}' on the instance: cut it over or stop it on the Dashboard first",
                    m.plan().id,
                    busy.name
                )));
            }
        }
        self.save_plan(&fresh)?;
        let mut inner = lock(&self.inner);
        inner.current = None;
        if let Some((_, shared)) = &current {
            shared.retired.store(true, Ordering::SeqCst);
        }
        drop(current);
        let opened = self.open(fresh, Arc::new(Shared::default()))?;
        let handles = (opened.migration.clone(), opened.shared.clone());
        inner.current = Some(opened);
        Ok(handles)
    }

    fn save_plan(&self, plan: &MigrationPlan) -> Result<(), SessionError> {
        let problems = plan.problems();
        if !problems.is_empty() {
            return Err(SessionError::Invalid(format!("the migration cannot run: {}", problems.join("; "))));
        }
        let path = self.plan_path(&plan.id);
        let text = plan.to_toml().map_err(|e| SessionError::Internal(e.to_string()))?;
        write_atomically(&path, &text)?;
        write_atomically(&self.root.join(CURRENT_FILE), &plan.id)
    }

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
            outcomes.push(match m.stop(&services, &r.database, &r.typed_name).await {
                Ok(_) => ActionOutcome {
                    database: r.database,
                    ok: true,
                    message: "Stopped: the restoring database was deleted from the instance.".into(),
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

    /// Stops the background work (the app is closing); the state on disk is already saved.
    pub fn shutdown(&self) {
        if let Some(current) = &lock(&self.inner).current {
            if let Some(cancel) = lock(&current.shared.task).cancel.take() {
                cancel.cancel();
            }
        }
    }

    /// How a run behaves: short timings against the local emulators, the engine's defaults otherwise.
    fn options(&self, session: &Session, plan: &MigrationPlan) -> RunOptions {
        let local = ContainerUrl::parse(&plan.storage.container_url).is_ok_and(|c| c.is_loopback());
        let concurrency = usize::try_from(session.settings().upload_concurrency).unwrap_or(1).max(1);
        let upload = UploadOptions { concurrency, journal_dir: Some(self.journal.clone()), ..UploadOptions::default() };
        if local {
            RunOptions {
                poll_interval: Duration::from_secs(2),
                scan_interval: Duration::from_secs(2),
                upload,
                ..RunOptions::default()
            }
        } else {
            RunOptions { upload, ..RunOptions::default() }
        }
    }
}

fn started(status: DbStatus) -> bool {
    !matches!(status, DbStatus::Planned | DbStatus::Uploading | DbStatus::Uploaded | DbStatus::Failed)
}

/// The plan of the session's choices (continuous mode and the instance's collation until the
/// Start step says otherwise).
fn plan_from(session: &Session) -> Result<MigrationPlan, SessionError> {
    let view = session.view();
    let choices = session.choices();
    let target = choices.target.ok_or_else(|| {
        SessionError::NotReady("choose the managed instance first (step 'Sign in and target')".into())
    })?;
    if !view.done.backups {
        return Err(SessionError::NotReady("every database must be restorable first (step 'Backups')".into()));
    }
    if !view.done.storage {
        return Err(SessionError::NotReady(
            "choose the container, keep its key and fix the folder names first (step 'Storage')".into(),
        ));
    }
    let container = choices
        .container
        .ok_or_else(|| SessionError::NotReady("choose the container first (step 'Storage')".into()))?;
    let cloud = choices.cloud.ok_or(SessionError::NotSignedIn)?;
    let built_in = CLOUD_NAMES.contains(&cloud.name.as_str());
    let databases = choices.databases.iter().map(database_plan).collect::<Result<Vec<_>, _>>()?;
    Ok(MigrationPlan::new(
        Mode::Continuous,
        Target {
            cloud: built_in.then(|| cloud.name.clone()),
            arm_endpoint: (!built_in).then(|| cloud.arm_endpoint.to_string()),
            subscription: Some(target.subscription_id.clone()),
            resource_group: target.instance.resource_group.clone(),
            instance: target.instance.name.clone(),
            collation: None,
        },
        StoragePlan {
            container_url: container.url().to_string(),
            account_key_env: None,
            keychain: choices.account_key_entry,
            sas_days: 32,
        },
        databases,
    ))
}

/// A database of the plan: its source is the folder holding its whole restore sequence.
fn database_plan(db: &DatabaseChoice) -> Result<DatabasePlan, SessionError> {
    let source = common_folder(&db.restore_sequence)
        .ok_or_else(|| SessionError::NotReady(format!("'{}' has no restore sequence (step 'Backups')", db.name)))?;
    let mut plan = DatabasePlan::new(db.target.clone(), source, db.folder.clone());
    if db.target != db.name {
        plan.source_database = Some(db.name.clone());
    }
    Ok(plan)
}

/// The deepest folder that holds every file.
fn common_folder(files: &[PathBuf]) -> Option<PathBuf> {
    let mut common = files.first()?.parent()?.to_path_buf();
    for file in &files[1..] {
        while !file.starts_with(&common) {
            common = common.parent()?.to_path_buf();
        }
    }
    Some(common)
}

fn same_migration(a: &MigrationPlan, b: &MigrationPlan) -> bool {
    a.storage.container_url == b.storage.container_url
        && a.target.instance == b.target.instance
        && a.target.resource_group == b.target.resource_group
        && a.databases.len() == b.databases.len()
        && a.databases
            .iter()
            .zip(&b.databases)
            .all(|(x, y)| x.name == y.name && x.folder == y.folder && x.source == y.source)
}

/// The engine's services from the session's sign-in and the key in the keychain.
fn services(session: &Session, plan: &MigrationPlan) -> Result<Services, SessionError> {
    let (arm, identity) = {
        let state = session.state();
        let arm = state.arm.clone().ok_or(SessionError::NotSignedIn)?;
        let identity = match &state.sign_in {
            Some(s) if s.method == SignInMethod::ServicePrincipal => format!("service principal {}", s.client_id),
            Some(s) => format!("{} sign-in on {} (tenant {})", method_name(s.method), s.cloud, s.tenant_id),
            None => "the wizard's sign-in".to_string(),
        };
        (arm, identity)
    };
    let entry = plan
        .storage
        .keychain
        .clone()
        .ok_or_else(|| SessionError::NotReady("the plan names no keychain entry for the account key".into()))?;
    let account_key = session.keychain.get(&entry)?.ok_or_else(|| {
        SessionError::NotReady(format!("the account key is not in the keychain ({entry}): step 'Storage'"))
    })?;
    let container = ContainerUrl::parse(&plan.storage.container_url)?;
    let subscription = plan
        .target
        .subscription
        .clone()
        .ok_or_else(|| SessionError::NotReady("the plan names no subscription".into()))?;
    Ok(Services { arm, http: session.http.clone(), container, account_key, subscription, identity })
}

fn method_name(method: SignInMethod) -> &'static str {
    match method {
        SignInMethod::Browser => "browser",
        SignInMethod::DeviceCode => "device code",
        SignInMethod::ServicePrincipal => "service principal",
        SignInMethod::AzureCli => "Azure CLI",
    }
}

/// True while a background task runs that was not asked to stop. A paused task may still be
/// winding down (its last block being dropped): a resume then starts a new task, which waits for it.
fn working(shared: &Shared) -> bool {
    lock(&shared.task).cancel.is_some()
}

/// Runs the upload or the whole migration in the background, once the previous task has ended.
fn spawn(
    kind: Activity,
    m: Arc<Migration>,
    shared: Arc<Shared>,
    watcher: Arc<Mutex<Option<Watcher>>>,
    services: Services,
    options: RunOptions,
) {
    let cancel = CancellationToken::new();
    // Locked until the new task is recorded, so that the next spawn waits for this one.
    let mut task = lock(&shared.task);
    task.generation += 1;
    task.activity = kind;
    task.cancel = Some(cancel.clone());
    task.paused = false;
    task.last_error = None;
    let generation = task.generation;
    let previous = task.running.take();
    shared.dirty.store(true, Ordering::SeqCst);
    let task_shared = shared.clone();
    task.running = Some(tokio::spawn(async move {
        let shared = task_shared;
        if let Some(previous) = previous {
            // Two tasks must never drive one plan at once (the same blobs, the same state).
            let _ = previous.await;
        }
        let result = match kind {
            Activity::Uploading => m.upload(&services, &options, cancel).await,
            _ => m.run(&services, &options, cancel).await,
        };
        {
            let mut task = lock(&shared.task);
            if task.generation == generation {
                task.activity = Activity::Idle;
                task.cancel = None;
                match result {
                    Ok(summary) => task.paused |= summary.interrupted,
                    Err(e) => task.last_error = Some(e.to_string()),
                }
            }
        }
        push(&m, &shared, &watcher);
    }));
}

/// Applies the engine's events to the live picture and pushes views while something changes.
async fn forward(
    mut rx: UnboundedReceiver<MigrationEvent>,
    migration: Weak<Migration>,
    shared: Arc<Shared>,
    watcher: Arc<Mutex<Option<Watcher>>>,
) {
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    let mut last_sample = std::time::Instant::now() - Duration::from_secs(60);
    loop {
        tokio::select! {
            event = rx.recv() => {
                let Some(event) = event else { return };
                match &event {
                    MigrationEvent::Upload { database, upload } => {
                        lock(&shared.live).entry(database.clone()).or_default().apply(upload);
                    }
                    MigrationEvent::Transition { .. } => {
                        if let Some(m) = migration.upgrade() {
                            let shared = shared.clone();
                            let _ = tokio::task::spawn_blocking(move || refresh_sizes(&m, &shared)).await;
                        }
                    }
                    MigrationEvent::Polled { .. } | MigrationEvent::Note { .. } => {}
                }
                shared.dirty.store(true, Ordering::SeqCst);
            }
            _ = tick.tick() => {
                let Some(m) = migration.upgrade() else { return };
                let busy = lock(&shared.task).activity != Activity::Idle;
                if busy && last_sample.elapsed() >= Duration::from_secs(2) {
                    last_sample = std::time::Instant::now();
                    sample(&m, &shared);
                    shared.dirty.store(true, Ordering::SeqCst);
                }
                if shared.dirty.swap(false, Ordering::SeqCst) {
                    push(&m, &shared, &watcher);
                }
            }
        }
    }
}

/// Sends the view to the page, unless the desk has left this migration: checked and sent under
/// the watcher's lock, so that no view of a cancelled migration follows the cancel.
fn push(m: &Migration, shared: &Shared, watcher: &Mutex<Option<Watcher>>) {
    if shared.retired.load(Ordering::SeqCst) {
        return;
    }
    let view = build_view(m, shared);
    let watcher = lock(watcher);
    if let Some(watcher) = watcher.as_ref().filter(|_| !shared.retired.load(Ordering::SeqCst)) {
        watcher(view);
    }
}

/// A progress sample per database (the chart's points).
fn sample(m: &Migration, shared: &Shared) {
    let view = build_view(m, shared);
    let now = time::OffsetDateTime::now_utc().unix_timestamp_nanos() as f64 / 1e6;
    let mut live = lock(&shared.live);
    for row in &view.databases {
        live.entry(row.name.clone()).or_default().sample(now, row.percent, 30_000.0);
    }
}

/// Reads each database's local chain (names and sizes) for the byte counts.
fn refresh_sizes(m: &Migration, shared: &Shared) {
    let container = ContainerUrl::parse(&m.plan().storage.container_url).map(|c| c.container().to_string());
    let container = container.unwrap_or_default();
    let state = m.state();
    for db in &m.plan().databases {
        let shipped: Vec<String> =
            state.database(&db.name).map(|r| r.shipped.iter().map(|f| f.name.clone()).collect()).unwrap_or_default();
        let Ok(scan) = shipping::scan(db, &container, &shipped) else { continue };
        let sizes: HashMap<String, u64> = scan
            .sequence
            .iter()
            .filter_map(|f| std::fs::metadata(&f.path).ok().map(|meta| (f.name.clone(), meta.len())))
            .collect();
        lock(&shared.live).entry(db.name.clone()).or_default().sizes = sizes;
    }
}

fn build_view(m: &Migration, shared: &Shared) -> MigrationView {
    let plan = m.plan();
    let state = m.state();
    let mode = MigrationMode::from(plan.mode);
    let live = lock(&shared.live);
    let empty = LiveDb::default();
    let databases: Vec<DatabaseRow> = plan
        .databases
        .iter()
        .filter_map(|db| {
            let record = state.database(&db.name)?;
            Some(dashboard::row(db, record, live.get(&db.name).unwrap_or(&empty), mode))
        })
        .collect();
    drop(live);
    let task = lock(&shared.task);
    let statuses = || databases.iter().map(|d| d.status);
    let paused = task.activity == Activity::Idle
        && (task.paused || statuses().any(|s| s == DbStatus::Uploading))
        && statuses().any(|s| matches!(s, DbStatus::Planned | DbStatus::Uploading));
    MigrationView {
        plan_id: plan.id.clone(),
        plan_path: m.store().dir().join(PLAN_FILE).display().to_string(),
        mode,
        collation: plan.target.collation.clone(),
        instance: plan.target.instance.clone(),
        container_url: plan.storage.container_url.clone(),
        activity: task.activity,
        paused,
        uploaded: statuses().all(|s| !matches!(s, DbStatus::Planned | DbStatus::Uploading | DbStatus::Failed))
            || statuses().any(started),
        started: statuses().any(started),
        finished: !databases.is_empty() && statuses().all(DbStatus::is_final),
        shipping: m.shipping(),
        upload: dashboard::upload_progress(&databases),
        last_error: task.last_error.clone(),
        databases,
    }
}

fn write_atomically(path: &Path, text: &str) -> Result<(), SessionError> {
    let io = |e: std::io::Error| SessionError::Internal(format!("cannot write '{}': {e}", path.display()));
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let temp = path.with_extension("tmp");
    std::fs::write(&temp, text).map_err(io)?;
    std::fs::rename(&temp, path).map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_source_is_the_folder_holding_the_whole_sequence() {
        let files = vec![PathBuf::from("/b/Sales/FULL/a.bak"), PathBuf::from("/b/Sales/LOG/b.trn")];
        assert_eq!(common_folder(&files), Some(PathBuf::from("/b/Sales")));
        assert_eq!(common_folder(&[PathBuf::from("/b/HR/a.bak")]), Some(PathBuf::from("/b/HR")));
        assert_eq!(common_folder(&[]), None);
    }

    #[test]
    fn a_new_desk_has_no_migration_and_refuses_steps_out_of_order() {
        let dir = tempfile::tempdir().unwrap();
        let desk = MigrationDesk::new(dir.path());
        assert!(desk.view().unwrap().is_none());
        assert!(desk.audit().unwrap().is_empty());
        let session = Session::new(dir.path(), crate::secrets::Keychain::with_service("lrs-desk-test")).unwrap();
        let err = desk.start_upload(&session).unwrap_err();
        assert_eq!(err.kind(), super::super::SessionErrorKind::NotReady, "{err}");
        let err = desk.start(&session, StartChoice { mode: MigrationMode::Continuous, collation: None }).unwrap_err();
        assert_eq!(err.kind(), super::super::SessionErrorKind::NotReady, "{err}");
    }
}
