//! Reads one backup file into its headers. (Being written: API fixed, body in progress.)

use std::io::{Read, Seek};
use std::path::Path;

use super::finding::FindingCode;
use super::header::BackupHeader;

/// What one read produced, and what it cost.
#[derive(Clone, Debug, PartialEq)]
pub struct FileRead {
    /// One header per backup set in the file (usually one).
    pub sets: Vec<BackupHeader>,
    /// Bytes read from the source to get them.
    pub bytes_read: u64,
}

/// Why a file could not be read as a backup.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("cannot read '{path}': {source}")]
    Io { path: std::path::PathBuf, #[source] source: std::io::Error },
    #[error("'{path}' is not a SQL Server backup file: {detail}")]
    NotABackup { path: std::path::PathBuf, detail: String },
}

impl ReadError {
    pub fn finding_code(&self) -> FindingCode {
        FindingCode::NotABackupFile
    }
}

/// Reads a backup from any seekable source of `file_len` bytes; `path` names it in results.
pub fn read_backup<R: Read + Seek>(_source: R, _file_len: u64, path: &Path) -> Result<FileRead, ReadError> {
    Err(ReadError::NotABackup { path: path.to_path_buf(), detail: "reader not written yet".into() })
}

/// Opens and reads a backup file.
pub fn read_backup_file(path: &Path) -> Result<Vec<BackupHeader>, ReadError> {
    let file = std::fs::File::open(path).map_err(|source| ReadError::Io { path: path.to_path_buf(), source })?;
    let len = file.metadata().map_err(|source| ReadError::Io { path: path.to_path_buf(), source })?.len();
    read_backup(file, len, path).map(|r| r.sets)
}
