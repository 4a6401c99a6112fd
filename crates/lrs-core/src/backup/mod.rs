//! Backup inspection: read SQL Server backup headers straight from the files (as `RESTORE
//! HEADERONLY` would), group them by database, plan each restore chain and check the Log Replay
//! Service rules, before anything is uploaded.
//!
//! - [`reader`] turns one file into its [`BackupHeader`]s, reading only the head and the tail;
//! - [`inspect`] walks the paths a user gives, reads every file and plans every database;
//! - [`writer`] writes synthetic MTF backup files (tests, benchmarks and rehearsal samples).

#[macro_use]
mod text;

pub mod finding;
pub mod header;
pub mod lsn;
pub mod reader;
pub mod report;
pub mod writer;

mod databases;
mod discover;
mod mtf;
mod plan;
pub mod rules;
mod scin;

use std::path::PathBuf;

pub use finding::{Finding, FindingCode, Severity};
pub use header::{BackupHeader, BackupKind, BackupTime, ContainerKind, Guid, HeaderSource, SoftwareVersion};
pub use lsn::Lsn;
pub use reader::{read_backup, read_backup_file, FileRead, ReadError};
pub use report::{DatabaseReport, FileReport, FileRole, Inspection, UnreadableFile};
pub use rules::{has_reserved_keyword, upload_name};

/// Choices that change what inspection checks.
#[derive(Clone, Debug, Default)]
pub struct InspectOptions {
    /// Autocomplete mode: the file name the user chose as the last backup. Files after it are
    /// reported.
    pub last_backup_name: Option<String>,
    /// The container the backups will go to, checked against the LRS naming rules.
    pub container: Option<String>,
}

/// Why inspection could not run at all (as opposed to findings about the backups).
#[derive(Debug, thiserror::Error)]
pub enum InspectError {
    #[error("cannot open '{path}': {source}. Check that the path exists and that you may read it.")]
    Open {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("no path given: name one or more backup files or folders")]
    NoPaths,
}

/// Inspects every backup file under `paths` (files, or folders walked recursively) and plans each
/// database's restore.
pub fn inspect(paths: &[PathBuf], options: &InspectOptions) -> Result<Inspection, InspectError> {
    let found = discover::discover(paths)?;
    let mut headers = Vec::new();
    let mut unreadable: Vec<UnreadableFile> = found
        .errors
        .iter()
        .map(|(path, err)| UnreadableFile {
            path: path.clone(),
            code: FindingCode::CannotReadFile,
            reason: format!(
                "cannot read '{}': {err}. Check its permissions, or remove the broken link.",
                path.display()
            ),
        })
        .collect();
    for file in &found.files {
        match read_backup_file(&file.path) {
            Ok(read) => headers.push((file.clone(), read)),
            Err(err) => unreadable.push(UnreadableFile {
                path: file.path.clone(),
                code: err.finding_code(),
                reason: err.to_string(),
            }),
        }
    }
    let databases = databases::plan_databases(headers, &unreadable, options);
    Ok(Inspection { databases, unreadable })
}
