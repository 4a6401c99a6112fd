//! The result of an inspection: per database, its files, the restore sequence LRS will follow and
//! the findings; plus the files that could not be read as backups. Its JSON form is the contract of
//! `lrs inspect --json`.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::finding::{Finding, FindingCode, Severity};
use super::header::BackupHeader;

/// The role a file plays in its database's restore plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum FileRole {
    /// The full backup (or one of its stripes) the restore starts from.
    Full,
    /// The differential backup restored after the full.
    Diff,
    /// A log backup restored after the base.
    Log,
    /// Valid, but not needed: older than the base, superseded, or a duplicate.
    NotNeeded,
    /// Cannot be used: broken chain, missing stripes, unsupported kind, or after a gap.
    Unusable,
}

impl FileRole {
    pub fn in_sequence(self) -> bool {
        matches!(self, FileRole::Full | FileRole::Diff | FileRole::Log)
    }
}

/// One backup file as inspected.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct FileReport {
    #[serde(flatten)]
    pub header: BackupHeader,
    pub role: FileRole,
    /// The name the file gets in the database's flat folder (`.trn` becomes `.log`).
    pub upload_name: String,
}

/// One database: its files (in restore order first, then the rest), its plan and findings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DatabaseReport {
    pub name: String,
    /// The flat folder proposed for this database in the container.
    pub folder: String,
    pub files: Vec<FileReport>,
    /// Paths in the order LRS will restore them: full (all stripes), diff, logs.
    pub restore_sequence: Vec<PathBuf>,
    /// The name LRS will see for the last file of the sequence: what autocomplete needs.
    pub last_backup_name: Option<String>,
    pub findings: Vec<Finding>,
    /// True when the sequence starts with a complete full backup and no finding is an error.
    pub restorable: bool,
}

impl DatabaseReport {
    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(|f| f.severity == Severity::Error)
    }
}

/// A file that is not a readable backup.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct UnreadableFile {
    pub path: PathBuf,
    pub code: FindingCode,
    pub reason: String,
}

/// Everything `lrs inspect` found.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Inspection {
    pub databases: Vec<DatabaseReport>,
    pub unreadable: Vec<UnreadableFile>,
}

impl Inspection {
    /// True when there is at least one database, every database has a restorable chain with no
    /// error, and every file was readable.
    pub fn is_clean(&self) -> bool {
        !self.databases.is_empty()
            && self.unreadable.is_empty()
            && self.databases.iter().all(|d| d.restorable && !d.has_errors())
    }
}
