//! The emulator's whole state, and its persistence: one JSON file in the state folder, replaced
//! atomically (written to a temporary file, synced, then renamed over the old one) after every
//! change, so a restart (or a crash) finds the last complete state.
//!
//! The file holds the SAS tokens of running restores and the issued access tokens: it is the
//! emulator's own, written with owner-only permissions.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use time::serde::rfc3339;
use time::OffsetDateTime;

use crate::auth::Grants;
use crate::lrs::Job;
use crate::seed::Seed;

const STATE_FILE: &str = "state.json";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct State {
    pub seed: Seed,
    #[serde(default)]
    pub databases: Vec<Database>,
    #[serde(default)]
    pub operations: BTreeMap<String, Operation>,
    #[serde(default)]
    pub grants: Grants,
}

impl State {
    pub fn new(seed: Seed) -> State {
        State { seed, databases: Vec::new(), operations: BTreeMap::new(), grants: Grants::default() }
    }

    pub fn database(&self, key: &DbKey) -> Option<&Database> {
        self.databases.iter().find(|d| d.key.same(key))
    }

    pub fn database_mut(&mut self, key: &DbKey) -> Option<&mut Database> {
        self.databases.iter_mut().find(|d| d.key.same(key))
    }
}

/// Where a database sits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DbKey {
    pub subscription: String,
    pub group: String,
    pub instance: String,
    pub name: String,
}

impl DbKey {
    /// ARM compares names without case.
    pub fn same(&self, other: &DbKey) -> bool {
        self.subscription.eq_ignore_ascii_case(&other.subscription)
            && self.group.eq_ignore_ascii_case(&other.group)
            && self.instance.eq_ignore_ascii_case(&other.instance)
            && self.name.eq_ignore_ascii_case(&other.name)
    }

    pub fn on_instance(&self, subscription: &str, group: &str, instance: &str) -> bool {
        self.subscription.eq_ignore_ascii_case(subscription)
            && self.group.eq_ignore_ascii_case(group)
            && self.instance.eq_ignore_ascii_case(instance)
    }

    pub fn id(&self) -> String {
        format!(
            "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Sql/managedInstances/{}/databases/{}",
            self.subscription, self.group, self.instance, self.name
        )
    }
}

/// A managed database: created by LRS (`restore` is set) or plainly (createMode Default).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Database {
    pub key: DbKey,
    pub location: String,
    pub collation: String,
    #[serde(with = "rfc3339")]
    pub created: OffsetDateTime,
    pub restore: Option<Job>,
}

/// What a long-running operation does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum OperationKind {
    /// The LRS start (PUT): runs for the whole migration.
    Restore,
    /// `completeRestore`: runs until the cutover ends.
    CompleteRestore,
    /// DELETE of a database.
    Drop,
}

impl OperationKind {
    /// The `operation` field of the 202 body.
    pub fn operation_name(self) -> &'static str {
        match self {
            OperationKind::Restore => "CreateExternalManagedBackupRestoreV2Request",
            OperationKind::CompleteRestore => "ManagedDatabaseCompleteExternalRestore",
            OperationKind::Drop => "DropManagedDatabase",
        }
    }

    /// The resource types of its Azure-AsyncOperation and Location URLs.
    pub fn resource_types(self) -> (&'static str, &'static str) {
        match self {
            OperationKind::Restore => {
                ("managedDatabaseRestoreAzureAsyncOperation", "managedDatabaseRestoreOperationResults")
            }
            OperationKind::CompleteRestore => {
                ("managedDatabaseCompleteRestoreAzureAsyncOperation", "managedDatabaseCompleteRestoreOperationResults")
            }
            OperationKind::Drop => ("managedDatabaseAzureAsyncOperation", "managedDatabaseOperationResults"),
        }
    }
}

/// ARM's operation status values (`InProgress` and the three terminal ones).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum OperationStatus {
    InProgress,
    Succeeded,
    Failed,
    Canceled,
}

impl OperationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OperationStatus::InProgress => "InProgress",
            OperationStatus::Succeeded => "Succeeded",
            OperationStatus::Failed => "Failed",
            OperationStatus::Canceled => "Canceled",
        }
    }
}

/// An error code and message, as ARM bodies and failed operations carry them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorInfo {
    pub code: String,
    pub message: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Operation {
    pub id: String,
    pub kind: OperationKind,
    pub subscription: String,
    pub location: String,
    pub database: DbKey,
    #[serde(with = "rfc3339")]
    pub started: OffsetDateTime,
    /// A drop ends at this time.
    #[serde(with = "rfc3339::option", default)]
    pub ends: Option<OffsetDateTime>,
    pub status: OperationStatus,
    pub error: Option<ErrorInfo>,
    /// The api-version of the request, repeated in the operation URLs.
    pub api_version: String,
}

/// The state file in a folder.
#[derive(Debug, Clone)]
pub struct Store {
    dir: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot use the state folder '{}': {source}", dir.display())]
    Io {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the state file '{}' is damaged: {source}. Move it away to start afresh.", path.display())]
    Damaged {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
}

impl Store {
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(dir).map_err(|source| StoreError::Io { dir: dir.to_path_buf(), source })?;
        Ok(Store { dir: dir.to_path_buf() })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The saved state, or `None` when the folder has none yet.
    pub fn load(&self) -> Result<Option<State>, StoreError> {
        let path = self.dir.join(STATE_FILE);
        match std::fs::read(&path) {
            Ok(bytes) => {
                serde_json::from_slice(&bytes).map(Some).map_err(|source| StoreError::Damaged { path, source })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(StoreError::Io { dir: self.dir.clone(), source }),
        }
    }

    /// Replaces the saved state atomically.
    pub fn save(&self, state: &State) -> Result<(), StoreError> {
        let io = |source| StoreError::Io { dir: self.dir.clone(), source };
        let bytes = serde_json::to_vec_pretty(state).map_err(|e| io(std::io::Error::other(e)))?;
        let mut temp = tempfile::NamedTempFile::new_in(&self.dir).map_err(io)?;
        temp.write_all(&bytes).map_err(io)?;
        temp.as_file().sync_all().map_err(io)?;
        temp.persist(self.dir.join(STATE_FILE)).map_err(|e| io(e.error))?;
        Ok(())
    }
}
