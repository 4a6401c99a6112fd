//! Where a plan's progress lives between runs: `<app data>/migrations/<plan id>/` holds
//! `state.json` (the [`MigrationState`], replaced atomically after every change), `audit.jsonl`
//! (the audit log) and `lock` (held by the one process driving the plan).
//!
//! The lock is an OS file lock (`File::try_lock`): the OS releases it when the process ends, even
//! after a kill, so a crash never leaves a plan locked. The file also says which process holds it,
//! for the message the next one shows.

use std::fs::File;
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use time::OffsetDateTime;

use super::state::MigrationState;
use crate::local;

/// Why the plan's store could not be used.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("no data directory: set XDG_DATA_HOME or HOME (LOCALAPPDATA on Windows), or pass --state-dir")]
    NoDataDir,
    #[error("{what} '{}': {source}", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the state file '{}' is damaged ({message}): it was not changed; restore it from a copy, or move it away to start this plan from its files again", path.display())]
    Damaged { path: PathBuf, message: String },
    #[error("another lrs process is driving this plan ({holder}): stop it first (Ctrl-C in its window), or wait for it to end")]
    Locked { holder: String },
}

/// The folder of one plan.
#[derive(Debug, Clone)]
pub struct PlanStore {
    dir: PathBuf,
}

/// Held while a process drives the plan; dropping it releases the lock.
#[derive(Debug)]
pub struct PlanLock {
    _file: File,
}

impl PlanStore {
    /// The plan's folder under `root` (`None`: `<app data>/migrations`).
    pub fn for_plan(root: Option<&Path>, plan_id: &str) -> Result<PlanStore, StoreError> {
        let root = match root {
            Some(r) => r.to_path_buf(),
            None => local::app_data_dir().ok_or(StoreError::NoDataDir)?.join("migrations"),
        };
        Ok(PlanStore { dir: root.join(plan_id) })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn state_path(&self) -> PathBuf {
        self.dir.join("state.json")
    }

    pub fn audit_path(&self) -> PathBuf {
        self.dir.join("audit.jsonl")
    }

    fn create_dir(&self) -> Result<(), StoreError> {
        std::fs::create_dir_all(&self.dir).map_err(|source| StoreError::Io {
            what: "cannot create the plan's folder",
            path: self.dir.clone(),
            source,
        })
    }

    /// Takes the plan's lock, or says who holds it.
    pub fn lock(&self) -> Result<PlanLock, StoreError> {
        self.create_dir()?;
        let path = self.dir.join("lock");
        let io = |source| StoreError::Io { what: "cannot open the lock file", path: path.clone(), source };
        let mut file =
            std::fs::OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&path).map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = holder.trim();
                let holder =
                    if holder.is_empty() { "a process that just started".to_string() } else { holder.to_string() };
                return Err(StoreError::Locked { holder });
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
        }
        let now = OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
        let who = format!("process {} on this machine, since {now}", std::process::id());
        let written = file.set_len(0).and_then(|()| file.rewind()).and_then(|()| file.write_all(who.as_bytes()));
        written.map_err(io)?;
        Ok(PlanLock { _file: file })
    }

    /// The saved state, or `None` before the first run.
    pub fn load(&self) -> Result<Option<MigrationState>, StoreError> {
        let path = self.state_path();
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(StoreError::Io { what: "cannot read the state file", path, source }),
        };
        serde_json::from_str(&text).map(Some).map_err(|e| StoreError::Damaged { path, message: e.to_string() })
    }

    /// Saves the state atomically. Needs the lock (taken by the caller).
    pub fn save(&self, _lock: &PlanLock, state: &MigrationState) -> Result<(), StoreError> {
        self.create_dir()?;
        let path = self.state_path();
        let text = serde_json::to_vec_pretty(state)
            .map_err(|e| StoreError::Damaged { path: path.clone(), message: e.to_string() })?;
        local::write_atomic(&path, &text).map_err(|source| StoreError::Io {
            what: "cannot write the state file",
            path,
            source,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_is_refused_with_the_holder_and_released_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let store = PlanStore::for_plan(Some(dir.path()), "p1").unwrap();
        let first = store.lock().unwrap();
        let again = PlanStore::for_plan(Some(dir.path()), "p1").unwrap();
        let e = again.lock().unwrap_err().to_string();
        assert!(e.contains(&format!("process {}", std::process::id())), "{e}");
        assert!(e.contains("stop it first"), "{e}");
        drop(first);
        assert!(again.lock().is_ok());
    }

    #[test]
    fn a_damaged_state_file_is_reported_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let store = PlanStore::for_plan(Some(dir.path()), "p2").unwrap();
        std::fs::create_dir_all(store.dir()).unwrap();
        std::fs::write(store.state_path(), "{ half").unwrap();
        let e = store.load().unwrap_err().to_string();
        assert!(e.contains("damaged") && e.contains("state.json"), "{e}");
        assert_eq!(std::fs::read_to_string(store.state_path()).unwrap(), "{ half");
    }
}
