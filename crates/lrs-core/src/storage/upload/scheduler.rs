//! One file's upload, start to verified: wait until the file is no longer being written, skip it
//! when the container already has it (same size and Content-MD5), otherwise plan its blocks, ask
//! the service which are already staged, send the rest ([`super::blocks`]), start over if the
//! file changed meanwhile, commit with the whole-file MD5, and read the properties back.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Mutex;

use base64::Engine;
use md5::{Digest, Md5};
use tokio_util::sync::CancellationToken;

use super::blocks::{self, Staged};
use super::buffers::BufferPool;
use super::checksum::BlockChecksum;
use super::journal::{Journal, JournalEntry, JournalState};
use super::plan::{block_size_for, BlockPlan};
use super::progress::{Tracker, UploadEvent};
use super::store::{BlobProperties, BlobStore, BlockListing};
use super::watch::{self, FileVersion, WatchError};
use super::{lock, FileOutcome, FileResult, UploadError, UploadFile, UploadOptions};
use crate::storage::retry::{Jitter, RequestError};

/// What every file's upload shares.
pub(super) struct Ctx<'a, S> {
    pub store: &'a S,
    pub options: &'a UploadOptions,
    /// The per-block checksum, `options.block_checksum` with "auto" resolved for this store.
    pub block_checksum: BlockChecksum,
    pub container: &'a str,
    pub journal: Option<&'a Journal>,
    pub jitter: &'a dyn Jitter,
    /// The block buffers, at most one per block in flight across all files: the memory bound.
    pub buffers: &'a BufferPool,
    pub tracker: &'a Mutex<Tracker>,
    pub cancel: &'a CancellationToken,
}

impl<S: BlobStore> Ctx<'_, S> {
    pub fn emit(&self, event: UploadEvent) {
        lock(self.tracker).emit(event);
    }

    /// Runs a small request (no body) under the retry policy.
    async fn call<T, F, Fut>(&self, operation: &'static str, blob: &str, attempt: F) -> Result<T, RequestError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, RequestError>>,
    {
        let policy = &self.options.retry;
        let timeout = policy.attempt_timeout(0);
        policy.run(self.jitter, timeout, (operation, blob), attempt, |n, e, d| self.retried(blob, n, e, d)).await
    }

    pub fn retried(&self, blob: &str, attempt: u32, error: &RequestError, delay: std::time::Duration) {
        self.emit(UploadEvent::Retry {
            blob: blob.to_string(),
            operation: error.operation.to_string(),
            attempt,
            delay_ms: u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
            reason: error.failure.to_string(),
        });
    }
}

/// Uploads one file (or finds it already there).
pub(super) async fn upload_file<S: BlobStore>(ctx: &Ctx<'_, S>, file: &UploadFile) -> Result<FileResult, UploadError> {
    let mut restarts = 0;
    loop {
        let version = settle(ctx, file).await?;
        if let Some(done) = already_there(ctx, file, version).await? {
            return Ok(done);
        }
        match upload_version(ctx, file, version).await? {
            Some(done) => return Ok(done),
            None if restarts < ctx.options.max_restarts => {
                restarts += 1;
                let reason = "the file changed while it was uploaded".to_string();
                ctx.emit(UploadEvent::Restarted { blob: file.blob.clone(), reason });
            }
            None => return Err(UploadError::SourceKeptChanging { path: file.source.clone(), restarts }),
        }
    }
}

async fn settle<S: BlobStore>(ctx: &Ctx<'_, S>, file: &UploadFile) -> Result<FileVersion, UploadError> {
    let on_wait = |v: FileVersion| ctx.emit(UploadEvent::Waiting { blob: file.blob.clone(), size: v.size });
    watch::wait_until_settled(&file.source, ctx.options.settle_window, ctx.cancel, on_wait).await.map_err(|e| match e {
        WatchError::Cancelled => UploadError::Cancelled,
        WatchError::Io(source) => UploadError::Source { path: file.source.clone(), source },
    })
}

/// The file's result when the container already has it with the same size and Content-MD5. The
/// journal spares hashing the file again when it recorded this very version as verified.
async fn already_there<S: BlobStore>(
    ctx: &Ctx<'_, S>,
    file: &UploadFile,
    version: FileVersion,
) -> Result<Option<FileResult>, UploadError> {
    let props = ctx.call("get properties", &file.blob, || ctx.store.properties(&file.blob)).await?;
    let Some(BlobProperties { size, content_md5 }) = props else { return Ok(None) };
    let different = || {
        let refuse = !ctx.options.overwrite_different;
        let err = UploadError::ExistsWithOtherContent {
            blob: file.blob.clone(),
            remote_size: size,
            local_size: version.size,
        };
        if refuse {
            Err(err)
        } else {
            Ok(None)
        }
    };
    let Some(remote) = content_md5 else { return different() };
    if size != version.size {
        return different();
    }
    let journaled = ctx.journal.and_then(|j| j.load(ctx.container, &file.blob)).filter(|e| {
        e.size == version.size
            && e.mtime_ns == version.mtime_ns
            && e.state == JournalState::Verified { content_md5: b64(&remote) }
    });
    if journaled.is_none() && hash_file(&file.source).await? != remote {
        return different();
    }
    lock(ctx.tracker).add(&file.blob, size, size, size, false);
    ctx.emit(UploadEvent::Skipped { blob: file.blob.clone(), size });
    Ok(Some(FileResult {
        source: file.source.clone(),
        blob: file.blob.clone(),
        size,
        content_md5: b64(&remote),
        outcome: FileOutcome::Skipped,
        blocks_sent: 0,
        blocks_reused: 0,
    }))
}

/// Uploads one version of the file; `None` when it changed meanwhile.
async fn upload_version<S: BlobStore>(
    ctx: &Ctx<'_, S>,
    file: &UploadFile,
    version: FileVersion,
) -> Result<Option<FileResult>, UploadError> {
    let block_size = block_size_for(version.size, ctx.options.block_size)
        .map_err(|source| UploadError::Plan { path: file.source.clone(), source })?;
    let plan = BlockPlan::new(version.size, version.mtime_ns, block_size);
    let mut entry = JournalEntry::new(
        ctx.container,
        &file.blob,
        &file.source,
        version.size,
        version.mtime_ns,
        block_size,
        plan.fingerprint,
    );
    if let Some(journal) = ctx.journal {
        journal.save(&entry)?;
    }
    let listing = ctx.call("get block list", &file.blob, || ctx.store.block_list(&file.blob)).await?;
    let reused = reusable_blocks(&plan, &listing);
    ctx.emit(UploadEvent::FileStarted {
        blob: file.blob.clone(),
        size: version.size,
        block_size,
        blocks: plan.block_count(),
        blocks_reused: reused.len() as u64,
    });
    let Staged::Complete { md5, sent } = blocks::stage_all(ctx, file, &plan, &reused).await? else {
        return Ok(None);
    };
    if FileVersion::of(&file.source).ok() != Some(version) {
        return Ok(None);
    }
    let ids: Vec<Vec<u8>> = (0..plan.block_count()).map(|i| plan.block_id(i)).collect();
    ctx.call("put block list", &file.blob, || ctx.store.commit(&file.blob, &ids, md5)).await?;
    verify(ctx, &file.blob, version.size, md5).await?;
    entry.state = JournalState::Verified { content_md5: b64(&md5) };
    if let Some(journal) = ctx.journal {
        journal.save(&entry)?;
    }
    let result = FileResult {
        source: file.source.clone(),
        blob: file.blob.clone(),
        size: version.size,
        content_md5: b64(&md5),
        outcome: FileOutcome::Uploaded,
        blocks_sent: sent,
        blocks_reused: reused.len() as u64,
    };
    ctx.emit(UploadEvent::Completed {
        blob: result.blob.clone(),
        size: result.size,
        content_md5: result.content_md5.clone(),
        blocks_sent: sent,
        blocks_reused: result.blocks_reused,
    });
    Ok(Some(result))
}

/// The blocks of this plan the service already has (staged, or committed by an earlier commit),
/// with the right size.
fn reusable_blocks(plan: &BlockPlan, listing: &BlockListing) -> HashSet<u64> {
    listing
        .uncommitted
        .iter()
        .chain(&listing.committed)
        .filter_map(|b| plan.index_of(&b.id).filter(|&i| plan.block_range(i).1 == b.size))
        .collect()
}

/// Reads the properties back: the upload counts only when size and Content-MD5 match.
async fn verify<S: BlobStore>(ctx: &Ctx<'_, S>, blob: &str, size: u64, md5: [u8; 16]) -> Result<(), UploadError> {
    let props = ctx.call("get properties", blob, || ctx.store.properties(blob)).await?;
    let (found_size, found_md5) = props.map_or((0, None), |p| (p.size, p.content_md5));
    if found_size == size && found_md5 == Some(md5) {
        return Ok(());
    }
    Err(UploadError::Verification {
        blob: blob.to_string(),
        expected_size: size,
        expected_md5: b64(&md5),
        found_size,
        found_md5: found_md5.map_or_else(|| "(none)".to_string(), |m| b64(&m)),
    })
}

/// The MD5 of a whole file, read in 1 MiB pieces on a blocking thread.
pub(super) async fn hash_file(path: &Path) -> Result<[u8; 16], UploadError> {
    let owned = path.to_path_buf();
    let result = tokio::task::spawn_blocking(move || -> std::io::Result<[u8; 16]> {
        use std::io::Read;
        let mut file = std::fs::File::open(&owned)?;
        let mut hasher = Md5::new();
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = file.read(&mut buf)?;
            if n == 0 {
                return Ok(hasher.finalize().into());
            }
            hasher.update(&buf[..n]);
        }
    })
    .await
    .map_err(|e| std::io::Error::other(e.to_string()));
    result.and_then(|r| r).map_err(|source| UploadError::Source { path: path.to_path_buf(), source })
}

pub(super) fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
