//! One look at a job's folder, as LRS takes it: check the SAS (a token with any permission besides
//! Read and List makes the start fail), list the folder, read the headers of new blobs with ranged
//! reads, mirror those bytes into sparse files, and plan the restore with `lrs-core`'s inspection
//! of the mirror (the same reads give the same headers).

use std::collections::HashMap;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use lrs_core::backup::{inspect, read_backup, InspectOptions};
use lrs_core::secrets::Secret;
use lrs_core::storage::sas;
use time::{Duration, OffsetDateTime};

use super::blob::{parse_folder, Folder, Listed, RangedBlob};
use super::codes::{self, with_detail};
use super::plan::from_inspection;
use super::{BlobFile, Listing, Scan};

/// What a scan needs from the job (a snapshot: the scan runs without the state lock).
#[derive(Debug, Clone)]
pub struct ScanInput {
    pub storage_uri: String,
    pub sas: Option<String>,
    pub managed_identity: bool,
    pub known: Vec<BlobFile>,
    pub mirror: PathBuf,
    /// Autocomplete's last backup.
    pub last_backup_name: Option<String>,
    /// True on the first look (the SAS is checked then).
    pub first: bool,
    pub restoring: bool,
}

pub async fn scan(client: &reqwest::Client, input: ScanInput, now: OffsetDateTime) -> Scan {
    match try_scan(client, input, now).await {
        Ok(listing) => Scan::Listed(listing),
        Err(error) => Scan::Failed(error),
    }
}

async fn try_scan(
    client: &reqwest::Client,
    input: ScanInput,
    now: OffsetDateTime,
) -> Result<Listing, crate::state::ErrorInfo> {
    if input.managed_identity {
        return Err(with_detail(
            codes::MANAGED_IDENTITY_AT_START,
            "(emulator: the emulated instance has no managed identity; use a SAS token)",
        ));
    }
    let token = input.sas.clone().unwrap_or_default();
    if input.first {
        let verdict = sas::check(&Secret::new(token.clone()), now, now + Duration::days(30));
        let refused = verdict.failed().next().map(|c| c.message.clone());
        if let Some(reason) = refused {
            let detail = format!("(emulator: the SAS token was refused: {reason})");
            return Err(with_detail(codes::STORAGE_BROKEN_AT_START, &detail));
        }
    }
    let folder = parse_folder(&input.storage_uri)
        .map_err(|e| with_detail(codes::STORAGE_BROKEN_AT_START, &format!("(emulator: {e})")))?;
    let listed = folder.list(client, &token).await.map_err(|f| {
        with_detail(codes::STORAGE_BROKEN_AT_START, &format!("(emulator: listing the folder failed: {})", f.detail))
    })?;
    let files = mirror(client, &folder, &token, &listed, &input).await;
    let readable = files.iter().any(|f| f.readable);
    if !readable {
        return Ok(Listing { files, plan: None });
    }
    let mirror_dir = input.mirror.clone();
    let last = input.last_backup_name.clone();
    let inspection = tokio::task::spawn_blocking(move || {
        inspect(&[mirror_dir], &InspectOptions { last_backup_name: last, container: None })
    })
    .await
    .map_err(|e| codes::error(codes::SQL_RESTORE_ERROR, &e.to_string()))?
    .map_err(|e| codes::error(codes::SQL_RESTORE_ERROR, &e.to_string()))?;
    let present = |name: &str| files.iter().any(|f| f.name.eq_ignore_ascii_case(name));
    let plan = from_inspection(&inspection, input.restoring, input.last_backup_name.as_deref(), &present);
    Ok(Listing { files, plan })
}

/// Brings the mirror up to date with the listing: new or changed blobs are read (headers only),
/// vanished ones removed. Returns the folder's files.
async fn mirror(
    client: &reqwest::Client,
    folder: &Folder,
    token: &str,
    listed: &[Listed],
    input: &ScanInput,
) -> Vec<BlobFile> {
    let _ = std::fs::create_dir_all(&input.mirror);
    let known: HashMap<&str, &BlobFile> = input.known.iter().map(|f| (f.name.as_str(), f)).collect();
    let mut files = Vec::new();
    for blob in listed {
        let name = blob.name.strip_prefix(&folder.prefix).unwrap_or(&blob.name).to_string();
        if name.is_empty() || name.contains('/') {
            continue;
        }
        let path = input.mirror.join(&name);
        let unchanged = known.get(name.as_str()).filter(|k| k.etag == blob.etag && k.size == blob.size);
        let readable = match unchanged {
            Some(file) => file.readable,
            None => {
                let url = folder.blob_url(&blob.name, token);
                read_into_mirror(client.clone(), url, blob.size, path).await
            }
        };
        files.push(BlobFile {
            name,
            size: blob.size,
            etag: blob.etag.clone(),
            last_modified: blob.last_modified,
            readable,
        });
    }
    if let Ok(entries) = std::fs::read_dir(&input.mirror) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !files.iter().any(|f| f.readable && f.name == name) {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
    files
}

/// Reads a blob's headers through ranged GETs and writes the bytes read at their offsets in a
/// sparse file of the blob's length. False when the blob is not a readable backup.
async fn read_into_mirror(client: reqwest::Client, url: url::Url, len: u64, path: PathBuf) -> bool {
    let runtime = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || {
        let mut blob = RangedBlob::new(client, runtime, url, len);
        if read_backup(&mut blob, len, &path).is_err() {
            let _ = std::fs::remove_file(&path);
            return false;
        }
        write_sparse(&path, len, &blob.fetched).is_ok()
    })
    .await
    .unwrap_or(false)
}

fn write_sparse(path: &Path, len: u64, ranges: &[(u64, Vec<u8>)]) -> std::io::Result<()> {
    let mut file = std::fs::File::create(path)?;
    file.set_len(len)?;
    for (offset, bytes) in ranges {
        file.seek(SeekFrom::Start(*offset))?;
        file.write_all(bytes)?;
    }
    file.sync_all()
}
