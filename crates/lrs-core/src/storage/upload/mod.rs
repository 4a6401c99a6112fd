//! The upload engine: each database's backups go to one flat folder of a Blob Storage container
//! as block blobs, several blocks in flight, each block checked by the service (a transactional
//! CRC-64 or MD5, [`checksum`]), the whole-file MD5 set as the blob's Content-MD5 at commit and read back
//! before a file counts as uploaded. Memory stays within `concurrency × block size` plus a small constant.
//!
//! - [`store`]: the four service calls behind a small trait; [`azure`] implements it over the
//!   official SDK and [`recording`] in memory for tests;
//! - [`plan`]: blob names, block sizes and deterministic block IDs;
//! - [`scheduler`] and [`blocks`]: one file's upload (resume, skip, restart, verify) and its
//!   block pipeline; [`buffers`]: the job's reused block buffers, which hold the memory bound;
//! - [`journal`], [`watch`], [`progress`]: the resume journal, the "still being written" watch,
//!   and progress events.
//!
//! [`UploadJob::run`] is a future that owns every block in flight: dropping it (or cancelling
//! its token) stops them.

pub mod azure;
mod blocks;
mod buffers;
pub mod checksum;
pub mod journal;
pub mod plan;
pub mod progress;
pub mod recording;
mod scheduler;
pub mod store;
pub mod watch;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde::Serialize;
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

pub use checksum::{BlockChecksum, BlockSum};
pub use journal::{Journal, JournalEntry, JournalError, JournalState};
pub use plan::{blob_name, block_size_for, BlockPlan, PlanError};
pub use progress::UploadEvent;
pub use recording::RecordingStore;
pub use store::{BlobProperties, BlobStore, BlockListing, StoredBlock};

use super::defaults;
use super::retry::{Jitter, RandomJitter, RequestError, RetryPolicy};

/// One file to upload and the blob it becomes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UploadFile {
    pub source: PathBuf,
    pub blob: String,
}

/// How an upload runs (defaults in `storage/defaults.rs`).
#[derive(Debug, Clone)]
pub struct UploadOptions {
    /// Blocks in flight across the whole job (and files in progress at once).
    pub concurrency: usize,
    /// The requested block size in bytes; `None` for 8 MiB. Raised for files that would need
    /// more than 50,000 blocks.
    pub block_size: Option<u64>,
    /// A file changed less than this long ago is watched until it stays the same this long.
    pub settle_window: Duration,
    pub max_restarts: u32,
    pub retry: RetryPolicy,
    /// The journal directory; `None` for the platform default (no journal when there is none).
    pub journal_dir: Option<PathBuf>,
    /// The checksum each Put Block carries for the service to check; `None` is "auto"
    /// ([`BlockChecksum::for_loopback`]): MD5 for an emulator on loopback, CRC-64 otherwise. Either
    /// way the whole-file MD5 is the blob's Content-MD5, read back after commit.
    pub block_checksum: Option<BlockChecksum>,
    /// Replace a blob that is already in the container with other content. Off by default: LRS
    /// may already have restored that blob, and a backup replaced under the same name breaks the
    /// chain it is restoring.
    pub overwrite_different: bool,
}

impl Default for UploadOptions {
    fn default() -> Self {
        UploadOptions {
            concurrency: defaults::DEFAULT_CONCURRENCY,
            block_size: None,
            settle_window: defaults::SETTLE_WINDOW,
            max_restarts: defaults::MAX_SOURCE_RESTARTS,
            retry: RetryPolicy::default(),
            journal_dir: None,
            block_checksum: None,
            overwrite_different: false,
        }
    }
}

/// Why an upload stopped.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("the upload was cancelled")]
    Cancelled,
    #[error("cannot read '{}': {source}", path.display())]
    Source {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Request(#[from] RequestError),
    #[error("'{}' kept changing while it was uploaded ({restarts} restarts): upload it once it is complete", path.display())]
    SourceKeptChanging { path: PathBuf, restarts: u32 },
    #[error(
        "blob '{blob}' does not match its source after commit: expected {expected_size} bytes with MD5 \
         {expected_md5}, the service has {found_size} bytes with MD5 {found_md5}"
    )]
    Verification { blob: String, expected_size: u64, expected_md5: String, found_size: u64, found_md5: String },
    #[error(
        "blob '{blob}' is already in the container with other content ({remote_size} bytes there, {local_size} \
         here): LRS may have restored it already. Give the new backup another file name, or delete the blob \
         first, or replace it knowingly (--overwrite)"
    )]
    ExistsWithOtherContent { blob: String, remote_size: u64, local_size: u64 },
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error("cannot upload '{}': {source}", path.display())]
    Plan {
        path: PathBuf,
        #[source]
        source: PlanError,
    },
}

impl UploadError {
    /// True when the user (or a dropped handle) stopped the upload: not a failure to show as one.
    pub fn is_cancelled(&self) -> bool {
        matches!(self, UploadError::Cancelled)
    }
}

/// What happened to one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileResult {
    pub source: PathBuf,
    pub blob: String,
    pub size: u64,
    /// The verified Content-MD5, base64.
    pub content_md5: String,
    /// `uploaded` or `skipped` (already there, same size and Content-MD5).
    pub outcome: FileOutcome,
    pub blocks_sent: u64,
    pub blocks_reused: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileOutcome {
    Uploaded,
    Skipped,
}

/// The result of a whole job: every file committed and verified.
#[derive(Debug, Clone, Serialize)]
pub struct UploadSummary {
    pub files: Vec<FileResult>,
    /// The checksum every Put Block of this job carried (`crc64` or `md5`).
    pub block_checksum: BlockChecksum,
    pub bytes_sent: u64,
    pub elapsed_seconds: f64,
}

/// An upload of several files to one container.
pub struct UploadJob<S> {
    store: S,
    container: String,
    files: Vec<UploadFile>,
    options: UploadOptions,
    events: Option<UnboundedSender<UploadEvent>>,
    cancel: CancellationToken,
    jitter: Arc<dyn Jitter>,
    buffers: buffers::BufferPool,
}

impl<S> std::fmt::Debug for UploadJob<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UploadJob").field("container", &self.container).field("files", &self.files.len()).finish()
    }
}

impl<S: BlobStore> UploadJob<S> {
    /// `container` names the destination in the journal (the container URL without a query).
    pub fn new(store: S, container: impl Into<String>, files: Vec<UploadFile>, options: UploadOptions) -> Self {
        let buffers = buffers::BufferPool::new(options.concurrency.clamp(1, defaults::MAX_CONCURRENCY));
        UploadJob {
            store,
            container: container.into(),
            files,
            options,
            events: None,
            cancel: CancellationToken::new(),
            jitter: Arc::new(RandomJitter::new()),
            buffers,
        }
    }

    /// Sends progress events to `events`.
    pub fn with_events(mut self, events: UnboundedSender<UploadEvent>) -> Self {
        self.events = Some(events);
        self
    }

    /// Uses `jitter` for retry backoff (tests pass a fixed one).
    pub fn with_jitter(mut self, jitter: Arc<dyn Jitter>) -> Self {
        self.jitter = jitter;
        self
    }

    /// The token that cancels this job.
    pub fn cancel_token(&self) -> CancellationToken {
        self.cancel.clone()
    }

    /// Uploads every file; the first error stops the others. Dropping the future cancels the
    /// blocks in flight.
    pub async fn run(self) -> Result<UploadSummary, UploadError> {
        let cancel = self.cancel.clone();
        tokio::select! {
            biased;
            () = cancel.cancelled() => Err(UploadError::Cancelled),
            result = self.run_files() => result,
        }
    }

    /// The per-block checksum this job sends: the option, or the "auto" rule for its store.
    pub fn block_checksum(&self) -> BlockChecksum {
        self.options.block_checksum.unwrap_or_else(|| BlockChecksum::for_loopback(self.store.is_loopback()))
    }

    async fn run_files(&self) -> Result<UploadSummary, UploadError> {
        let started = Instant::now();
        let concurrency = self.options.concurrency.clamp(1, defaults::MAX_CONCURRENCY);
        let mut total = 0;
        for file in &self.files {
            total += std::fs::metadata(&file.source)
                .map_err(|source| UploadError::Source { path: file.source.clone(), source })?
                .len();
        }
        let tracker = Mutex::new(progress::Tracker::new(self.events.clone(), total));
        lock(&tracker).emit(UploadEvent::JobStarted { files: self.files.len(), total_bytes: total });
        let journal = self.options.journal_dir.clone().or_else(Journal::default_dir).map(Journal::at);
        let ctx = scheduler::Ctx {
            store: &self.store,
            options: &self.options,
            block_checksum: self.block_checksum(),
            container: &self.container,
            journal: journal.as_ref(),
            jitter: self.jitter.as_ref(),
            buffers: &self.buffers,
            tracker: &tracker,
            cancel: &self.cancel,
        };
        // Indices rather than references: a closure over `&UploadFile` makes the future not `Send`
        // (a known higher-ranked lifetime limitation), and the job must be spawnable.
        let files = &self.files;
        let ctx = &ctx;
        let mut results =
            futures::stream::iter(0..files.len()).map(|i| scheduler::upload_file(ctx, &files[i])).buffered(concurrency);
        let mut done = Vec::with_capacity(files.len());
        while let Some(result) = results.next().await {
            done.push(result?);
        }
        let bytes_sent = lock(&tracker).bytes_sent();
        Ok(UploadSummary {
            files: done,
            block_checksum: ctx.block_checksum,
            bytes_sent,
            elapsed_seconds: started.elapsed().as_secs_f64(),
        })
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests;
