//! The error codes LRS reports, with the service's messages (reference §1.3, §2.6, §3.1), and
//! the codes the emulator chose where the service's are not documented (marked below).

use crate::state::ErrorInfo;

pub const GAP_IN_LOGS: &str = "BrokenRestorePlanGapInLogBackups";
pub const WRONG_DIFF_BASE: &str = "BrokenRestorePlanWrongDiffBaseGUID";
pub const NO_FULL_BACKUP: &str = "BrokenRestorePlanNoFullBackup";
pub const MISSING_STRIPE: &str = "MissingStripeInBackupSet";
pub const MULTIPLE_DATABASES_AT_START: &str = "BackupsFromMultipleDatabasesDetectedInTheContainerFromTheStart";
pub const MULTIPLE_DATABASES_LATER: &str = "BackupsFromMultipleDatabasesDetectedInTheContainerWhileRestoreInProgress";
pub const STRIPED_NOT_ENABLED: &str = "RestoreFromStripedBackupsNotEnabled";
pub const BACKUP_SET_BROKEN: &str = "BackupSetBroken";
pub const SQL_RESTORE_ERROR: &str = "SqlRestoreError";
pub const STORAGE_BROKEN_AT_START: &str = "StorageBrokenIssueDetectedAtTheStart";
pub const MANAGED_IDENTITY_AT_START: &str = "ManagedIdentityIssueDetectedFromTheStart";
/// Autocomplete with backups after the last one. The service documents the failure, not its code;
/// the emulator uses the code for an invalid last backup name.
pub const FILES_AFTER_LAST_BACKUP: &str = "InvalidDatabaseCompleteRestoreRequestLastBackupName";
/// The 30-day cancelation. The service documents the limit, not a code: the emulator's own.
pub const JOB_TIME_LIMIT: &str = "LogReplayJobTimeLimitReached";

/// The service's message for a code (verbatim where the reference has it).
pub fn message(code: &str) -> &'static str {
    match code {
        GAP_IN_LOGS => {
            "The restore plan is broken because firstLsn of current log backup is not equal to lastLsn of prev log backup."
        }
        WRONG_DIFF_BASE => {
            "The restore plan is broken because DifferentialBaseGuid of diff backup does not match BackupSetGuid of full \
             backup."
        }
        NO_FULL_BACKUP => "The restore plan is broken because there is no full backup.",
        MISSING_STRIPE => "Provided backup set has one or more missing stripes.",
        MULTIPLE_DATABASES_AT_START | MULTIPLE_DATABASES_LATER => {
            "There are backups from multiple databases in the container folder. Please make sure the container folder \
             has backups from a single database."
        }
        STRIPED_NOT_ENABLED => "Restoring from striped backups is not supported.",
        BACKUP_SET_BROKEN => "Backup set is broken.",
        SQL_RESTORE_ERROR => "Non retriable error occurred while restoring backup.",
        STORAGE_BROKEN_AT_START => "Storage connection is broken. Please verify and try again.",
        MANAGED_IDENTITY_AT_START => "Managed identity is not set up properly. Please verify and try again.",
        FILES_AFTER_LAST_BACKUP => "The last backup name is invalid",
        _ => "The restore failed.",
    }
}

/// An error with the service's message, then the emulator's detail (what it found, in which file).
pub fn with_detail(code: &str, detail: &str) -> ErrorInfo {
    let base = message(code);
    let message = if detail.is_empty() { base.to_string() } else { format!("{base} {detail}") };
    ErrorInfo { code: code.to_string(), message }
}

pub fn error(code: &str, message: &str) -> ErrorInfo {
    ErrorInfo { code: code.to_string(), message: message.to_string() }
}
