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
//!
//! The parts: this module keeps the desk and its current migration (opened, replaced, its plan
//! saved); `steps` are the desk's public steps; `plan` turns the session's choices and sign-in
//! into the engine's plan and services; `task` runs the background work and forwards its events;
//! `view` builds the [`MigrationView`] from the state and the live picture.

mod plan;
mod steps;
mod task;
mod view;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use self::plan::{plan_from, same_migration};
use self::task::forward;
use self::view::{build_view, refresh_sizes};
use super::dashboard::{Activity, LiveDb, MigrationView};
use super::{Session, SessionError};
use crate::migration::{Migration, MigrationError, MigrationPlan, RunOptions};
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
            // Marked loaded only once opened: a plan locked by `lrs migrate` now is reported as
            // such (Locked) on every call, never forgotten for the rest of the session.
            if let Some(plan) = self.saved_plan()? {
                inner.current = Some(self.open(plan, Arc::new(Shared::default()))?);
            }
            inner.loaded = true;
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
            // Under the watcher's lock, as in `cancel`: no view of the old plan follows.
            let _pushing = lock(&self.watcher);
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
    use crate::session::dashboard::{MigrationMode, StartChoice};

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
