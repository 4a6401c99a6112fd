//! Findings: what inspection found wrong or worth knowing, each with a stable code, a severity, the
//! file it concerns and a plain-language message that says what to do.

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// LRS would refuse or fail: fix it before uploading.
    Error,
    /// LRS would work, but something is risky or will be changed for you.
    Warning,
    /// Worth knowing; nothing to do.
    Info,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        })
    }
}

/// Stable finding codes. The names are part of the JSON contract: never rename one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum FindingCode {
    /// A log backup is missing between two others (or between the base and the first log).
    LogChainGap,
    /// A differential backup newer than the chosen full is based on another full backup.
    DiffBasedOnOtherFull,
    /// No usable full backup for the database.
    NoFullBackup,
    /// A striped (multi-family) backup set with one or more stripes missing.
    IncompleteStripeSet,
    /// A log backup written to several stripes: LRS does not accept split log backups.
    StripedLogBackup,
    /// One folder holds backups of several databases.
    MultipleDatabasesInFolder,
    /// A file holds several backup sets (appended WITH NOINIT).
    MultipleBackupSets,
    /// The file's end is missing (no trailer): an interrupted backup or copy.
    TruncatedFile,
    /// The file is not a SQL Server backup.
    NotABackupFile,
    /// A file or folder that could not be read (permissions, a broken link, an I/O error).
    CannotReadFile,
    /// A compressed or encrypted (MSSQLBAK) file whose headers cannot be read.
    CompressedOrEncryptedUnreadable,
    /// Backup taken without CHECKSUM.
    NoChecksum,
    /// `.trn` extension: LRS accepts only `.bak`, `.diff` and `.log`; the upload names it `.log`.
    ExtensionRenamed,
    /// An extension LRS does not accept.
    ExtensionNotAccepted,
    /// The backups sit in nested folders; LRS reads one flat folder per database.
    NestedFolder,
    /// Two files of one database have the same name in different folders: they would collide in the
    /// flat folder LRS reads.
    FileNameCollision,
    /// A folder or container name contains the reserved keyword `backup` or `backups`.
    ReservedKeywordInName,
    /// Source SQL Server version outside 2008–2022, which LRS documents.
    UnsupportedSourceVersion,
    /// Autocomplete: backups newer than the chosen last backup are present.
    FilesAfterLastBackup,
    /// Autocomplete: the chosen last backup is not in the restore sequence.
    LastBackupNotInSequence,
    /// MEDIAPASSWORD was used; LRS cannot supply a media password.
    PasswordProtectedMedia,
    /// The same backup (same set and stripe) is present twice.
    DuplicateBackup,
    /// A valid backup that the restore sequence does not need (older, superseded, or before the base).
    NotInRestoreSequence,
    /// A backup kind LRS does not restore (file, filegroup or partial backups).
    UnsupportedBackupKind,
    /// The last backup of the sequence is a full or diff: fine, but the database will be restored
    /// only to the point of that backup.
    LastBackupIsNotLog,
}

impl FindingCode {
    /// Every code, for documentation and for the test that each one can be triggered.
    pub const ALL: [FindingCode; 25] = [
        FindingCode::LogChainGap,
        FindingCode::DiffBasedOnOtherFull,
        FindingCode::NoFullBackup,
        FindingCode::IncompleteStripeSet,
        FindingCode::StripedLogBackup,
        FindingCode::MultipleDatabasesInFolder,
        FindingCode::MultipleBackupSets,
        FindingCode::TruncatedFile,
        FindingCode::NotABackupFile,
        FindingCode::CannotReadFile,
        FindingCode::CompressedOrEncryptedUnreadable,
        FindingCode::NoChecksum,
        FindingCode::ExtensionRenamed,
        FindingCode::ExtensionNotAccepted,
        FindingCode::NestedFolder,
        FindingCode::FileNameCollision,
        FindingCode::ReservedKeywordInName,
        FindingCode::UnsupportedSourceVersion,
        FindingCode::FilesAfterLastBackup,
        FindingCode::LastBackupNotInSequence,
        FindingCode::PasswordProtectedMedia,
        FindingCode::DuplicateBackup,
        FindingCode::NotInRestoreSequence,
        FindingCode::UnsupportedBackupKind,
        FindingCode::LastBackupIsNotLog,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FindingCode::LogChainGap => "LogChainGap",
            FindingCode::DiffBasedOnOtherFull => "DiffBasedOnOtherFull",
            FindingCode::NoFullBackup => "NoFullBackup",
            FindingCode::IncompleteStripeSet => "IncompleteStripeSet",
            FindingCode::StripedLogBackup => "StripedLogBackup",
            FindingCode::MultipleDatabasesInFolder => "MultipleDatabasesInFolder",
            FindingCode::MultipleBackupSets => "MultipleBackupSets",
            FindingCode::TruncatedFile => "TruncatedFile",
            FindingCode::NotABackupFile => "NotABackupFile",
            FindingCode::CannotReadFile => "CannotReadFile",
            FindingCode::CompressedOrEncryptedUnreadable => "CompressedOrEncryptedUnreadable",
            FindingCode::NoChecksum => "NoChecksum",
            FindingCode::ExtensionRenamed => "ExtensionRenamed",
            FindingCode::ExtensionNotAccepted => "ExtensionNotAccepted",
            FindingCode::NestedFolder => "NestedFolder",
            FindingCode::FileNameCollision => "FileNameCollision",
            FindingCode::ReservedKeywordInName => "ReservedKeywordInName",
            FindingCode::UnsupportedSourceVersion => "UnsupportedSourceVersion",
            FindingCode::FilesAfterLastBackup => "FilesAfterLastBackup",
            FindingCode::LastBackupNotInSequence => "LastBackupNotInSequence",
            FindingCode::PasswordProtectedMedia => "PasswordProtectedMedia",
            FindingCode::DuplicateBackup => "DuplicateBackup",
            FindingCode::NotInRestoreSequence => "NotInRestoreSequence",
            FindingCode::UnsupportedBackupKind => "UnsupportedBackupKind",
            FindingCode::LastBackupIsNotLog => "LastBackupIsNotLog",
        }
    }
}

impl fmt::Display for FindingCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One finding about a database's backups.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Finding {
    pub severity: Severity,
    pub code: FindingCode,
    /// The file concerned, when there is one.
    pub file: Option<PathBuf>,
    /// What is wrong and what to do, in plain language: `problem` then `fix`.
    pub message: String,
    /// Only what is wrong, for a UI that shows the fix apart.
    pub problem: String,
    /// Only what to do (empty for information that needs no action).
    pub fix: String,
}

impl Finding {
    /// `problem` says what is wrong; `fix` says what to do. The message is both.
    pub fn new(
        severity: Severity,
        code: FindingCode,
        file: Option<PathBuf>,
        problem: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        let problem = problem.into();
        let fix = fix.into();
        let message = if fix.is_empty() { problem.clone() } else { format!("{problem} {fix}") };
        Finding { severity, code, file, message, problem, fix }
    }

    pub fn error(code: FindingCode, file: Option<PathBuf>, problem: impl Into<String>, fix: impl Into<String>) -> Self {
        Finding::new(Severity::Error, code, file, problem, fix)
    }

    pub fn warning(
        code: FindingCode,
        file: Option<PathBuf>,
        problem: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Finding::new(Severity::Warning, code, file, problem, fix)
    }

    pub fn info(code: FindingCode, file: Option<PathBuf>, problem: impl Into<String>) -> Self {
        Finding::new(Severity::Info, code, file, problem, "")
    }
}
