//! The scheduler against the in-memory [`RecordingStore`]: content and MD5 for every size class,
//! the memory bound, retries and "first error aborts", resume from staged blocks, skip, restart on
//! a changed source, verification and cancellation.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use azure_core::Bytes;
use md5::{Digest, Md5};

use super::recording::{Call, Fault};
use super::*;
use crate::storage::retry::{Failure, FixedJitter};

const KIB: u64 = 1024;

fn options(dir: &Path) -> UploadOptions {
    UploadOptions {
        concurrency: 4,
        block_size: Some(64 * KIB),
        settle_window: Duration::ZERO,
        journal_dir: Some(dir.join("journal")),
        retry: RetryPolicy {
            initial_delay: Duration::from_millis(1),
            attempt_timeout: Duration::from_millis(300),
            ..RetryPolicy::default()
        },
        ..UploadOptions::default()
    }
}

fn write(dir: &Path, name: &str, len: usize) -> (PathBuf, Vec<u8>) {
    let data: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
    let path = dir.join(name);
    std::fs::write(&path, &data).unwrap();
    (path, data)
}

fn file(path: &Path) -> UploadFile {
    UploadFile { source: path.to_path_buf(), blob: blob_name("db", path, false) }
}

async fn run(
    store: &RecordingStore,
    files: Vec<UploadFile>,
    options: UploadOptions,
) -> Result<UploadSummary, UploadError> {
    UploadJob::new(store.clone(), "mem://c", files, options).with_jitter(Arc::new(FixedJitter(0.5))).run().await
}

fn stages(store: &RecordingStore) -> usize {
    store.calls().iter().filter(|c| matches!(c, Call::Stage { .. })).count()
}

#[tokio::test]
async fn every_size_class_arrives_intact_with_its_md5() {
    let dir = tempfile::tempdir().unwrap();
    let sizes = [("zero.bak", 0), ("one.bak", 1), ("block.bak", 64 * 1024), ("many.trn", 64 * 1024 * 10 + 7)];
    let written: Vec<_> = sizes.iter().map(|(n, l)| write(dir.path(), n, *l)).collect();
    let store = RecordingStore::new();
    let files = written.iter().map(|(p, _)| file(p)).collect();
    let summary = run(&store, files, options(dir.path())).await.unwrap();
    assert_eq!(summary.files.len(), 4);
    for ((path, data), result) in written.iter().zip(&summary.files) {
        assert_eq!(store.content(&result.blob).as_deref(), Some(data.as_slice()), "{}", path.display());
        assert_eq!(result.content_md5, scheduler::b64(&Md5::digest(data)));
        assert_eq!(result.outcome, FileOutcome::Uploaded);
    }
    assert_eq!(summary.files[3].blob, "db/many.log");
    assert_eq!(summary.files[3].blocks_sent, 11);
    assert_eq!(summary.files[0].blocks_sent, 0);
    assert_eq!(stages(&store), 1 + 1 + 11);
}

#[tokio::test]
async fn blocks_in_flight_never_exceed_the_concurrency() {
    let dir = tempfile::tempdir().unwrap();
    let (a, _) = write(dir.path(), "a.bak", 64 * 1024 * 20);
    let (b, _) = write(dir.path(), "b.bak", 64 * 1024 * 20);
    let store = RecordingStore::with_stage_delay(Duration::from_millis(5));
    run(&store, vec![file(&a), file(&b)], options(dir.path())).await.unwrap();
    assert_eq!(store.max_in_flight(), 4, "saturated, never above");
}

#[tokio::test]
async fn block_buffers_are_reused_and_never_more_than_the_concurrency() {
    let dir = tempfile::tempdir().unwrap();
    let (a, data_a) = write(dir.path(), "a.bak", 64 * 1024 * 20 + 5);
    let (b, data_b) = write(dir.path(), "b.bak", 64 * 1024 * 20);
    let (c, data_c) = write(dir.path(), "c.bak", 1000);
    let store = RecordingStore::with_stage_delay(Duration::from_millis(5));
    let job = UploadJob::new(store.clone(), "mem://c", vec![file(&a), file(&b), file(&c)], options(dir.path()));
    let buffers = job.buffers.clone();
    job.run().await.unwrap();
    assert_eq!(stages(&store), 42);
    assert_eq!(store.max_in_flight(), 4);
    // 42 blocks of three files through 4 buffers, each held until its Put Block was over.
    assert!(buffers.most_live() <= 4 && buffers.most_live() >= store.max_in_flight(), "{}", buffers.most_live());
    assert!(buffers.created() <= 4, "{}", buffers.created());
    assert_eq!(store.content("db/a.bak").unwrap(), data_a);
    assert_eq!(store.content("db/b.bak").unwrap(), data_b);
    assert_eq!(store.content("db/c.bak").unwrap(), data_c);
}

#[tokio::test]
async fn transient_failures_are_retried_and_nothing_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let (a, data) = write(dir.path(), "a.bak", 64 * 1024 * 5 + 3);
    let store = RecordingStore::new();
    store.inject("put block", RecordingStore::status(503, "ServerBusy"));
    store.inject("put block", RecordingStore::status(500, "InternalError"));
    store.inject("put block", Fault::Fail(Failure::Network("connection reset".into())));
    store.inject("put block", Fault::Stall);
    store.inject("put block list", RecordingStore::status(429, "TooManyRequests"));
    store.inject("get properties", RecordingStore::status(502, "BadGateway"));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let job = UploadJob::new(store.clone(), "mem://c", vec![file(&a)], options(dir.path()))
        .with_jitter(Arc::new(FixedJitter(0.0)))
        .with_events(tx);
    job.run().await.unwrap();
    assert_eq!(store.content("db/a.bak").unwrap(), data);
    let mut retries = 0;
    while let Ok(e) = rx.try_recv() {
        retries += usize::from(matches!(e, UploadEvent::Retry { .. }));
    }
    assert_eq!(retries, 6);
}

#[tokio::test]
async fn permission_errors_are_not_retried_and_stop_the_job() {
    let dir = tempfile::tempdir().unwrap();
    let (a, _) = write(dir.path(), "a.bak", 64 * 1024 * 8);
    let store = RecordingStore::new();
    store.inject("put block", RecordingStore::status(403, "AuthorizationPermissionMismatch"));
    let err = run(&store, vec![file(&a)], options(dir.path())).await.unwrap_err();
    let UploadError::Request(req) = &err else { panic!("{err}") };
    assert_eq!((req.status(), req.code()), (Some(403), Some("AuthorizationPermissionMismatch")));
    assert!(store.content("db/a.bak").is_none(), "nothing committed");
    assert!(!store.calls().iter().any(|c| matches!(c, Call::Commit { .. })));
}

#[tokio::test]
async fn a_second_run_sends_only_the_missing_blocks() {
    let dir = tempfile::tempdir().unwrap();
    let (a, data) = write(dir.path(), "a.bak", 64 * 1024 * 10);
    let store = RecordingStore::new();
    let v = watch::FileVersion::of(&a).unwrap();
    let plan = BlockPlan::new(v.size, v.mtime_ns, 64 * KIB);
    for i in [0u64, 3, 4, 9] {
        let (off, len) = plan.block_range(i);
        store.preload_block("db/a.bak", plan.block_id(i), &data[off as usize..(off + len) as usize]);
    }
    // A block of another version of the file is not reused.
    let stale = BlockPlan::new(v.size, v.mtime_ns - 1, 64 * KIB);
    store.preload_block("db/a.bak", stale.block_id(1), &data[..64 * 1024]);
    let summary = run(&store, vec![file(&a)], options(dir.path())).await.unwrap();
    assert_eq!((summary.files[0].blocks_sent, summary.files[0].blocks_reused), (6, 4));
    let sent: Vec<u64> = store.staged_ids("db/a.bak").iter().filter_map(|id| plan.index_of(id)).collect();
    let mut sorted = sent.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, [1, 2, 5, 6, 7, 8]);
    assert_eq!(store.content("db/a.bak").unwrap(), data);
}

#[tokio::test]
async fn a_different_blob_already_there_is_refused_unless_overwrite_is_asked() {
    let dir = tempfile::tempdir().unwrap();
    let (a, _) = write(dir.path(), "a.bak", 1000);
    let other = vec![9u8; 1000];
    let store = RecordingStore::new();
    store.preload_blob("db/a.bak", &other, Some(Md5::digest(&other).into()));
    let err = run(&store, vec![file(&a)], options(dir.path())).await.unwrap_err();
    assert!(matches!(err, UploadError::ExistsWithOtherContent { .. }), "{err}");
    assert!(err.to_string().contains("--overwrite"), "{err}");
    assert_eq!(store.content("db/a.bak").unwrap(), other, "nothing was replaced");
    // A blob without Content-MD5 cannot be proven equal: refused as well.
    store.preload_blob("db/a.bak", &other, None);
    assert!(run(&store, vec![file(&a)], options(dir.path())).await.is_err());
}

#[tokio::test]
async fn a_blob_already_there_is_skipped_and_a_different_one_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let (a, data) = write(dir.path(), "a.bak", 1000);
    let b = dir.path().join("b.bak");
    let data_b = vec![7u8; 1000];
    std::fs::write(&b, &data_b).unwrap();
    let store = RecordingStore::new();
    store.preload_blob("db/a.bak", &data, Some(Md5::digest(&data).into()));
    store.preload_blob("db/b.bak", &data, Some(Md5::digest(&data).into()));
    let replace = UploadOptions { overwrite_different: true, ..options(dir.path()) };
    let summary = run(&store, vec![file(&a), file(&b)], replace).await.unwrap();
    assert_eq!(summary.files[0].outcome, FileOutcome::Skipped);
    assert_eq!(summary.files[1].outcome, FileOutcome::Uploaded);
    assert_eq!(store.content("db/b.bak").unwrap(), data_b);
    // The journal now knows b: a third run skips both without sending anything.
    let before = stages(&store);
    let again = run(&store, vec![file(&a), file(&b)], options(dir.path())).await.unwrap();
    assert!(again.files.iter().all(|f| f.outcome == FileOutcome::Skipped));
    assert_eq!(stages(&store), before);
}

/// A store that appends to the source file the first time a block is staged.
struct Mutating {
    inner: RecordingStore,
    path: PathBuf,
    done: AtomicBool,
}

impl BlobStore for Mutating {
    async fn stage_block(&self, blob: &str, id: &[u8], data: Bytes, sum: BlockSum) -> Result<(), RequestError> {
        if !self.done.swap(true, Ordering::SeqCst) {
            use std::io::Write;
            let mut f = std::fs::OpenOptions::new().append(true).open(&self.path).unwrap();
            f.write_all(b"grown").unwrap();
        }
        self.inner.stage_block(blob, id, data, sum).await
    }
    fn is_loopback(&self) -> bool {
        self.inner.is_loopback()
    }
    async fn commit(&self, blob: &str, ids: &[Vec<u8>], md5: [u8; 16]) -> Result<(), RequestError> {
        self.inner.commit(blob, ids, md5).await
    }
    async fn block_list(&self, blob: &str) -> Result<BlockListing, RequestError> {
        self.inner.block_list(blob).await
    }
    async fn properties(&self, blob: &str) -> Result<Option<BlobProperties>, RequestError> {
        self.inner.properties(blob).await
    }
}

#[tokio::test]
async fn a_source_that_changes_during_upload_starts_over() {
    let dir = tempfile::tempdir().unwrap();
    let (a, _) = write(dir.path(), "a.bak", 64 * 1024 * 4);
    let inner = RecordingStore::new();
    let store = Mutating { inner: inner.clone(), path: a.clone(), done: AtomicBool::new(false) };
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let job = UploadJob::new(store, "mem://c", vec![file(&a)], options(dir.path())).with_events(tx);
    let summary = job.run().await.unwrap();
    let now = std::fs::read(&a).unwrap();
    assert_eq!(summary.files[0].size, now.len() as u64);
    assert_eq!(inner.content("db/a.bak").unwrap(), now);
    let mut restarted = false;
    while let Ok(e) = rx.try_recv() {
        restarted |= matches!(e, UploadEvent::Restarted { .. });
    }
    assert!(restarted);
}

#[tokio::test]
async fn cancelling_stops_the_blocks_in_flight() {
    let dir = tempfile::tempdir().unwrap();
    let (a, _) = write(dir.path(), "a.bak", 64 * 1024 * 50);
    let store = RecordingStore::with_stage_delay(Duration::from_millis(50));
    let job = UploadJob::new(store.clone(), "mem://c", vec![file(&a)], options(dir.path()));
    let token = job.cancel_token();
    let handle = tokio::spawn(job.run());
    tokio::time::sleep(Duration::from_millis(120)).await;
    token.cancel();
    let err = handle.await.unwrap().unwrap_err();
    assert!(err.is_cancelled());
    let staged = stages(&store);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(stages(&store), staged, "nothing is sent after cancel");
    assert!(staged < 50);
    assert!(store.content("db/a.bak").is_none());
}

fn staged_kinds(store: &RecordingStore) -> Vec<BlockChecksum> {
    store
        .calls()
        .into_iter()
        .filter_map(|c| match c {
            Call::Stage { checksum, .. } => Some(checksum),
            _ => None,
        })
        .collect()
}

/// A store on loopback (an emulator), for the "auto" rule.
struct Loopback(RecordingStore);

impl BlobStore for Loopback {
    async fn stage_block(&self, blob: &str, id: &[u8], data: Bytes, sum: BlockSum) -> Result<(), RequestError> {
        self.0.stage_block(blob, id, data, sum).await
    }
    async fn commit(&self, blob: &str, ids: &[Vec<u8>], md5: [u8; 16]) -> Result<(), RequestError> {
        self.0.commit(blob, ids, md5).await
    }
    async fn block_list(&self, blob: &str) -> Result<BlockListing, RequestError> {
        self.0.block_list(blob).await
    }
    fn is_loopback(&self) -> bool {
        true
    }
    async fn properties(&self, blob: &str) -> Result<Option<BlobProperties>, RequestError> {
        self.0.properties(blob).await
    }
}

/// Both per-block checksums: every block carries the chosen kind (checked by the store, which
/// refuses a wrong one), and either way the blob's Content-MD5 is the whole-file MD5, verified.
#[tokio::test]
async fn each_block_checksum_mode_sends_its_kind_and_keeps_the_file_md5() {
    for kind in [BlockChecksum::Crc64, BlockChecksum::Md5] {
        let dir = tempfile::tempdir().unwrap();
        let (a, data) = write(dir.path(), "a.bak", 64 * 1024 * 5 + 3);
        let store = RecordingStore::new();
        let opts = UploadOptions { block_checksum: Some(kind), ..options(dir.path()) };
        let summary = run(&store, vec![file(&a)], opts).await.unwrap();
        assert_eq!(summary.block_checksum, kind);
        assert_eq!(staged_kinds(&store), vec![kind; 6], "{kind}");
        assert_eq!(store.content("db/a.bak").unwrap(), data);
        assert_eq!(summary.files[0].content_md5, scheduler::b64(&Md5::digest(&data)));
    }
}

#[tokio::test]
async fn auto_sends_crc64_to_a_remote_store_and_md5_to_a_loopback_one() {
    let dir = tempfile::tempdir().unwrap();
    let (a, data) = write(dir.path(), "a.bak", 64 * 1024 * 2);
    let remote = RecordingStore::new();
    let summary = run(&remote, vec![file(&a)], options(dir.path())).await.unwrap();
    assert_eq!(summary.block_checksum, BlockChecksum::Crc64);
    assert_eq!(staged_kinds(&remote), vec![BlockChecksum::Crc64; 2]);

    let local = RecordingStore::new();
    let job = UploadJob::new(Loopback(local.clone()), "mem://c", vec![file(&a)], options(dir.path()));
    assert_eq!(job.block_checksum(), BlockChecksum::Md5);
    let summary = job.with_jitter(Arc::new(FixedJitter(0.5))).run().await.unwrap();
    assert_eq!(summary.block_checksum, BlockChecksum::Md5);
    assert_eq!(staged_kinds(&local), vec![BlockChecksum::Md5; 2]);
    assert_eq!(local.content("db/a.bak").unwrap(), data);

    // An explicit choice wins over "auto".
    let forced = UploadOptions { block_checksum: Some(BlockChecksum::Crc64), ..options(dir.path()) };
    let job = UploadJob::new(Loopback(RecordingStore::new()), "mem://c", vec![file(&a)], forced);
    assert_eq!(job.block_checksum(), BlockChecksum::Crc64);
}

#[tokio::test]
async fn the_recording_store_refuses_a_wrong_checksum_of_either_kind() {
    let store = RecordingStore::new();
    let data = Bytes::from_static(b"some block");
    for (kind, code) in [(BlockChecksum::Crc64, "Crc64Mismatch"), (BlockChecksum::Md5, "Md5Mismatch")] {
        let right = BlockSum::of(kind, &data);
        store.stage_block("db/x.bak", b"id", data.clone(), right).await.unwrap();
        let wrong = BlockSum::of(kind, b"other bytes");
        let err = store.stage_block("db/x.bak", b"id", data.clone(), wrong).await.unwrap_err();
        assert!(matches!(&err.failure, Failure::Status { status: 400, code: Some(c), .. } if c == code), "{err}");
    }
}
