//! The restore plan of a folder, from `lrs-core`'s inspection of the headers: the backup sets to
//! restore in order, those LRS skips, and the inspection's errors turned into the service's codes
//! (fatal at once, or once the sets before the break are restored).

use std::collections::HashMap;
use std::path::Path;

use lrs_core::backup::{BackupKind, FileReport, FindingCode, Inspection, Severity};

use super::codes::{self, with_detail};
use super::{PlannedSet, SetKind};
use crate::state::ErrorInfo;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    pub sequence: Vec<PlannedSet>,
    pub skipped: Vec<PlannedSet>,
    /// Fails the job at once.
    pub fatal_now: Option<ErrorInfo>,
    /// Fails the job once the sequence before the break is restored.
    pub fatal_after: Option<ErrorInfo>,
}

/// The plan for an inspected folder; `None` when it holds no readable backup yet. `restoring` says
/// whether a restore already began (it changes the code for several databases); `present` says
/// whether a file of the folder has a given name.
pub fn from_inspection(
    inspection: &Inspection,
    restoring: bool,
    last_backup_name: Option<&str>,
    present: &dyn Fn(&str) -> bool,
) -> Option<Plan> {
    if inspection.databases.len() > 1 {
        let names: Vec<&str> = inspection.databases.iter().map(|d| d.name.as_str()).collect();
        let code = if restoring { codes::MULTIPLE_DATABASES_LATER } else { codes::MULTIPLE_DATABASES_AT_START };
        let detail = format!("Databases found: {}.", names.join(", "));
        return Some(Plan { fatal_now: Some(with_detail(code, &detail)), ..Plan::default() });
    }
    let database = inspection.databases.first()?;
    let by_path: HashMap<&Path, &FileReport> = database.files.iter().map(|f| (f.header.path.as_path(), f)).collect();
    let in_sequence: Vec<&FileReport> =
        database.restore_sequence.iter().filter_map(|p| by_path.get(p.as_path()).copied()).collect();
    let others: Vec<&FileReport> = database.files.iter().filter(|f| !f.role.in_sequence()).collect();
    let mut plan = Plan { sequence: group(&in_sequence), skipped: group(&others), ..Plan::default() };
    for finding in database.findings.iter().filter(|f| f.severity == Severity::Error) {
        let (code, now) = match finding.code {
            FindingCode::NoFullBackup => (codes::NO_FULL_BACKUP, true),
            FindingCode::LogChainGap => (codes::GAP_IN_LOGS, false),
            FindingCode::DiffBasedOnOtherFull => (codes::WRONG_DIFF_BASE, false),
            FindingCode::IncompleteStripeSet => (codes::MISSING_STRIPE, false),
            FindingCode::StripedLogBackup => (codes::STRIPED_NOT_ENABLED, false),
            FindingCode::MultipleBackupSets | FindingCode::TruncatedFile => (codes::BACKUP_SET_BROKEN, false),
            FindingCode::PasswordProtectedMedia => (codes::SQL_RESTORE_ERROR, false),
            FindingCode::FilesAfterLastBackup => (codes::FILES_AFTER_LAST_BACKUP, true),
            // The chosen last backup is not there yet: autocomplete waits for it.
            FindingCode::LastBackupNotInSequence if last_backup_name.is_some_and(|n| !present(n)) => continue,
            FindingCode::LastBackupNotInSequence => (codes::FILES_AFTER_LAST_BACKUP, false),
            _ => continue,
        };
        let error = with_detail(code, &format!("(emulator: {})", finding.problem));
        let slot = if now { &mut plan.fatal_now } else { &mut plan.fatal_after };
        slot.get_or_insert(error);
    }
    Some(plan)
}

/// Groups files into backup sets (stripes share the backup set GUID), in the order given.
fn group(files: &[&FileReport]) -> Vec<PlannedSet> {
    let mut sets: Vec<PlannedSet> = Vec::new();
    for file in files {
        let header = &file.header;
        let guid = format!("{}#{}", header.backup_set_guid, header.position);
        let name = file_name(&header.path);
        match sets.iter_mut().find(|s| s.guid == guid) {
            Some(set) => {
                set.stripes.push(name);
                set.size_bytes = set.size_bytes.max(header.backup_size);
            }
            None => sets.push(PlannedSet {
                guid,
                kind: match header.kind {
                    BackupKind::Diff => SetKind::Diff,
                    BackupKind::Log => SetKind::Log,
                    _ => SetKind::Full,
                },
                stripes: vec![name],
                size_bytes: header.backup_size,
            }),
        }
    }
    sets
}

fn file_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}
