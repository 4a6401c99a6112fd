//! What to ship next from a database's local folder. Every scan inspects the folder as
//! `lrs inspect` does and compares its restore sequence with what was shipped:
//! - the files after the last shipped one, in chain order, are shipped next (never out of order);
//! - a file whose end is missing is still being written: the scan waits for it (it is shipped once
//!   complete, and the upload itself waits until its size stops changing);
//! - a log chain gap after what was shipped halts shipping for this database with the finding (it
//!   resumes by itself when the missing log appears), and so does a sequence that no longer
//!   contains what was shipped (a new full backup in the folder: LRS keeps restoring the chain it
//!   started). Polling, not file-system events: events are unreliable on network shares, where
//!   backups usually land, and a scan costs a few KiB per file.

use std::path::{Path, PathBuf};

use super::plan::DatabasePlan;
use crate::backup::{self, DatabaseReport, FindingCode, InspectOptions, Inspection, Severity};

/// One file of the local chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalFile {
    pub path: PathBuf,
    /// Its name in the database's folder (`.trn` becomes `.log`).
    pub name: String,
}

/// What the scan decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scan {
    /// The local restore sequence (full, diff, logs), in order.
    pub sequence: Vec<LocalFile>,
    /// The files to ship now, in order (a suffix of `sequence`).
    pub to_ship: Vec<LocalFile>,
    /// Set when a file is still being written: shipping waits for it.
    pub waiting: Option<String>,
    /// Set when shipping must stop for this database (a gap, a changed base): what and what to do.
    pub halt: Option<String>,
    /// Errors of the inspection (code: message), for the start's pre-flight.
    pub errors: Vec<String>,
}

impl Scan {
    pub fn last_local(&self) -> Option<&str> {
        self.sequence.last().map(|f| f.name.as_str())
    }
}

/// Why a folder could not be scanned at all.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ScanError(pub String);

/// Scans the database's source folder against the names already `shipped` (in order).
/// `container` is checked against the LRS naming rules.
pub fn scan(db: &DatabasePlan, container: &str, shipped: &[String]) -> Result<Scan, ScanError> {
    let options = InspectOptions { last_backup_name: None, container: Some(container.to_string()) };
    let inspection =
        backup::inspect(std::slice::from_ref(&db.source), &options).map_err(|e| ScanError(e.to_string()))?;
    decide(&inspection, &db.source, db.source_database(), shipped)
}

/// The decision for one inspection of `source` (pure: the tests give it inspections of written
/// files). `database` picks the database when the folder holds several.
pub fn decide(inspection: &Inspection, source: &Path, database: &str, shipped: &[String]) -> Result<Scan, ScanError> {
    let named = inspection.databases.iter().filter(|d| d.name.eq_ignore_ascii_case(database)).collect::<Vec<_>>();
    let db = match (named.as_slice(), inspection.databases.as_slice()) {
        ([one], _) => *one,
        (_, [only]) => only,
        (_, []) if shipped.is_empty() => {
            return Err(ScanError(format!(
            "no backup of any database was found in '{}': put the database's full backup there (and its log backups)",
            source.display()
        )))
        }
        (_, []) => {
            return Err(ScanError(format!(
                "the backups in '{}' are gone: restore them, or stop this database",
                source.display()
            )))
        }
        (_, several) => {
            let names: Vec<&str> = several.iter().map(|d| d.name.as_str()).collect();
            return Err(ScanError(format!(
                "'{}' holds backups of {} databases ({}) and none is named '{database}': set `source_database` \
                 in the plan to the name in the backup headers, or give the database a folder of its own",
                source.display(),
                names.len(),
                names.join(", ")
            )));
        }
    };
    let sequence = sequence_of(db);
    let errors: Vec<String> = db
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| format!("{}: {}", f.code.as_str(), f.message))
        .chain(inspection.unreadable.iter().map(|u| format!("{}: {}", u.code.as_str(), u.reason)))
        .collect();
    let mut scan = Scan { sequence: sequence.clone(), to_ship: Vec::new(), waiting: None, halt: None, errors };

    // Where the shipped files end in the local sequence.
    let after = match shipped.last() {
        None => 0,
        Some(last) => match sequence.iter().position(|f| &f.name == last) {
            Some(i) if sequence.iter().zip(shipped).all(|(f, s)| &f.name == s) || i + 1 >= shipped.len() => i + 1,
            _ => {
                scan.halt = Some(format!(
                    "the restore sequence in '{}' no longer continues from '{last}', the last file shipped (a newer full \
                     backup, or a file removed). LRS keeps restoring the chain it started: put the log backups that follow \
                     '{last}' in the folder and move other full backups away",
                    source.display()
                ));
                return Ok(scan);
            }
        },
    };
    let being_written = being_written(db, inspection);
    for file in &sequence[after..] {
        if let Some(path) = being_written.iter().find(|p| **p == file.path) {
            scan.waiting = Some(format!("'{}' is still being written", path.display()));
            break;
        }
        scan.to_ship.push(file.clone());
    }
    // A gap after the shipped part: the files past it are never shipped out of order.
    if let Some(gap) = db.findings.iter().find(|f| f.code == FindingCode::LogChainGap) {
        let gap_file = gap.file.as_ref();
        let past_shipped = gap_file.is_none_or(|g| !sequence[..after].iter().any(|f| &f.path == g));
        if past_shipped {
            scan.halt = Some(format!("shipping stopped: {}", gap.message));
        }
    }
    if scan.waiting.is_none() {
        // A truncated file that is not (yet) in the sequence is a log still being written.
        if let Some(path) = being_written.first().filter(|p| !sequence.iter().any(|f| &f.path == *p)) {
            scan.waiting = Some(format!("'{}' is still being written", path.display()));
        }
    }
    Ok(scan)
}

fn sequence_of(db: &DatabaseReport) -> Vec<LocalFile> {
    db.restore_sequence
        .iter()
        .map(|path| {
            let name = db
                .files
                .iter()
                .find(|f| &f.header.path == path)
                .map(|f| f.upload_name.clone())
                .unwrap_or_else(|| backup::upload_name(path));
            LocalFile { path: path.clone(), name }
        })
        .collect()
}

/// Files whose end is missing or that cannot be read yet: a backup still being written.
fn being_written(db: &DatabaseReport, inspection: &Inspection) -> Vec<PathBuf> {
    db.findings
        .iter()
        .filter(|f| f.code == FindingCode::TruncatedFile)
        .filter_map(|f| f.file.clone())
        .chain(
            inspection
                .unreadable
                .iter()
                .filter(|u| matches!(u.code, FindingCode::TruncatedFile | FindingCode::NotABackupFile))
                .map(|u| u.path.clone()),
        )
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backup::writer::write_sample_chain;

    fn names(files: &[LocalFile]) -> Vec<String> {
        files.iter().map(|f| f.name.clone()).collect()
    }

    #[test]
    fn ships_what_follows_the_last_shipped_file_in_order() {
        let dir = tempfile::tempdir().unwrap();
        write_sample_chain(dir.path(), "Sales", 3).unwrap();
        let first = scan(&DatabasePlan::new("Sales", dir.path(), "Sales"), "migration", &[]).unwrap();
        assert!(first.halt.is_none() && first.waiting.is_none(), "{first:?}");
        assert!(first.errors.is_empty(), "{:?}", first.errors);
        assert_eq!(first.to_ship, first.sequence);
        let shipped: Vec<String> = names(&first.sequence[..2]);
        let rest = scan(&DatabasePlan::new("Sales", dir.path(), "Sales"), "migration", &shipped).unwrap();
        assert_eq!(names(&rest.to_ship), names(&first.sequence[2..]));
        let all = scan(&DatabasePlan::new("Sales", dir.path(), "Sales"), "migration", &names(&first.sequence)).unwrap();
        assert!(all.to_ship.is_empty());
        assert_eq!(all.last_local(), first.last_local());
    }

    #[test]
    fn a_gap_halts_shipping_and_nothing_after_it_is_shipped() {
        let dir = tempfile::tempdir().unwrap();
        let files = write_sample_chain(dir.path(), "Sales", 4).unwrap();
        let whole = scan(&DatabasePlan::new("Sales", dir.path(), "Sales"), "migration", &[]).unwrap();
        let shipped = names(&whole.sequence[..whole.sequence.len() - 2]);
        // Remove the second-to-last log: the last one no longer continues the chain.
        std::fs::remove_file(&files[files.len() - 2]).unwrap();
        let gap = scan(&DatabasePlan::new("Sales", dir.path(), "Sales"), "migration", &shipped).unwrap();
        assert!(gap.halt.as_deref().unwrap_or("").contains("LSN"), "{gap:?}");
        assert!(gap.to_ship.is_empty(), "{gap:?}");
    }

    #[test]
    fn a_file_cut_short_waits() {
        let dir = tempfile::tempdir().unwrap();
        let files = write_sample_chain(dir.path(), "Sales", 3).unwrap();
        let whole = scan(&DatabasePlan::new("Sales", dir.path(), "Sales"), "migration", &[]).unwrap();
        let last = files.last().unwrap();
        let bytes = std::fs::read(last).unwrap();
        std::fs::write(last, &bytes[..bytes.len() / 2]).unwrap();
        let shipped = names(&whole.sequence[..whole.sequence.len() - 1]);
        let waiting = scan(&DatabasePlan::new("Sales", dir.path(), "Sales"), "migration", &shipped).unwrap();
        assert!(waiting.to_ship.is_empty(), "{waiting:?}");
        assert!(waiting.waiting.is_some(), "{waiting:?}");
        assert!(waiting.halt.is_none(), "{waiting:?}");
    }

    #[test]
    fn a_folder_with_several_databases_is_read_for_the_one_named() {
        let dir = tempfile::tempdir().unwrap();
        write_sample_chain(dir.path(), "Sales", 1).unwrap();
        write_sample_chain(dir.path(), "HR", 2).unwrap();
        let sales = scan(&DatabasePlan::new("Sales", dir.path(), "Sales"), "migration", &[]).unwrap();
        assert_eq!(sales.sequence.len(), 3);
        assert!(sales.sequence.iter().all(|f| f.name.starts_with("Sales_")), "{sales:?}");
        let mut renamed = DatabasePlan::new("HR_new", dir.path(), "HR_new");
        renamed.source_database = Some("HR".into());
        assert_eq!(scan(&renamed, "migration", &[]).unwrap().sequence.len(), 4);
        let none = scan(&DatabasePlan::new("Payroll", dir.path(), "Payroll"), "migration", &[]).unwrap_err();
        assert!(none.to_string().contains("none is named 'Payroll'"), "{none}");
    }

    #[test]
    fn a_new_full_backup_does_not_restart_the_chain() {
        let dir = tempfile::tempdir().unwrap();
        write_sample_chain(dir.path(), "Sales", 2).unwrap();
        let changed =
            scan(&DatabasePlan::new("Sales", dir.path(), "Sales"), "migration", &["some_other_full.bak".to_string()])
                .unwrap();
        assert!(changed.halt.as_deref().unwrap_or("").contains("no longer continues"), "{changed:?}");
    }
}
