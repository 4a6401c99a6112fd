//! The upload journal: one small JSON file per blob in the app's data directory
//! (`$XDG_DATA_HOME/lrs-wizard/journal/`, `~/Library/Application Support/lrs-wizard/journal/`,
//! `%LOCALAPPDATA%\lrs-wizard\journal\`), written atomically (temporary file, then rename). It
//! records which version of the source file was being uploaded and with which block layout, and
//! whether the upload was committed and verified. It holds the container URL without a query and
//! never a secret. The service stays the truth about staged blocks: the journal only tells a later
//! run which block IDs to look for.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The journal format's version; an entry of another version is ignored.
const FORMAT: u32 = 1;

/// What the journal knows about one blob's upload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalEntry {
    pub format: u32,
    /// The container URL, without a query.
    pub container: String,
    pub blob: String,
    pub source: PathBuf,
    pub size: u64,
    pub mtime_ns: i128,
    pub block_size: u64,
    /// The block ID fingerprint, in hex.
    pub fingerprint: String,
    pub state: JournalState,
}

/// Where the upload stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum JournalState {
    /// Blocks are being staged.
    Staging,
    /// Committed and verified with this Content-MD5 (base64).
    Verified { content_md5: String },
}

impl JournalEntry {
    pub fn new(
        container: &str,
        blob: &str,
        source: &Path,
        size: u64,
        mtime_ns: i128,
        block_size: u64,
        fingerprint: u64,
    ) -> Self {
        JournalEntry {
            format: FORMAT,
            container: container.to_string(),
            blob: blob.to_string(),
            source: source.to_path_buf(),
            size,
            mtime_ns,
            block_size,
            fingerprint: format!("{fingerprint:016x}"),
            state: JournalState::Staging,
        }
    }
}

/// A journal directory.
#[derive(Debug, Clone)]
pub struct Journal {
    dir: PathBuf,
}

/// Why the journal could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write the upload journal in '{}': {source}. Check that the folder is writable.", dir.display())]
pub struct JournalError {
    pub dir: PathBuf,
    #[source]
    pub source: std::io::Error,
}

impl Journal {
    pub fn at(dir: impl Into<PathBuf>) -> Self {
        Journal { dir: dir.into() }
    }

    /// The platform's default journal directory, when a home or data directory is known.
    pub fn default_dir() -> Option<PathBuf> {
        crate::local::app_data_dir().map(|d| d.join("journal"))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file of one blob: named by a hash of the container URL and blob name.
    pub fn path_of(&self, container: &str, blob: &str) -> PathBuf {
        let digest = Sha256::digest(format!("{container}\n{blob}").as_bytes());
        let name: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
        self.dir.join(format!("{name}.json"))
    }

    /// The entry of a blob, if one of this format exists and is readable.
    pub fn load(&self, container: &str, blob: &str) -> Option<JournalEntry> {
        let text = std::fs::read(self.path_of(container, blob)).ok()?;
        let entry: JournalEntry = serde_json::from_slice(&text).ok()?;
        (entry.format == FORMAT && entry.container == container && entry.blob == blob).then_some(entry)
    }

    /// Writes an entry atomically: a temporary file in the same directory, synced, then renamed.
    pub fn save(&self, entry: &JournalEntry) -> Result<(), JournalError> {
        let err = |source| JournalError { dir: self.dir.clone(), source };
        std::fs::create_dir_all(&self.dir).map_err(err)?;
        let path = self.path_of(&entry.container, &entry.blob);
        let tmp = path.with_extension(format!("json.{}.tmp", std::process::id()));
        let text = serde_json::to_vec_pretty(entry).map_err(|e| err(std::io::Error::other(e)))?;
        let mut file = std::fs::File::create(&tmp).map_err(err)?;
        file.write_all(&text).and_then(|()| file.sync_all()).map_err(err)?;
        drop(file);
        std::fs::rename(&tmp, &path).map_err(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_atomically_and_ignores_other_blobs() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::at(dir.path().join("j"));
        let c = "http://127.0.0.1:10000/devstoreaccount1/mig";
        assert_eq!(journal.load(c, "db/a.bak"), None);
        let mut entry = JournalEntry::new(c, "db/a.bak", Path::new("/x/a.bak"), 10, 5, 8, 0xabc);
        journal.save(&entry).unwrap();
        assert_eq!(journal.load(c, "db/a.bak"), Some(entry.clone()));
        entry.state = JournalState::Verified { content_md5: "1B2M2Y8AsgTpgAmY7PhCfg==".into() };
        journal.save(&entry).unwrap();
        assert_eq!(journal.load(c, "db/a.bak").unwrap().state, entry.state);
        assert_eq!(journal.load(c, "db/b.bak"), None);
        let files: Vec<_> = std::fs::read_dir(journal.dir()).unwrap().collect();
        assert_eq!(files.len(), 1, "no temporary file is left behind");
        std::fs::write(journal.path_of(c, "db/a.bak"), "{not json").unwrap();
        assert_eq!(journal.load(c, "db/a.bak"), None, "a torn or foreign file is ignored");
    }
}
