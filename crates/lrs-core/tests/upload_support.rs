//! Helpers shared by the upload tests against Azurite: a container created with an account SAS,
//! engine clients with an account key or a SAS, files of chosen sizes, reading a blob back, and the
//! per-block checksum cases run for both kinds (`upload_crc64.rs`, `upload_md5.rs`).

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use azure_core::Bytes;
use lrs_core::storage::defaults::MIB;
use lrs_core::storage::retry::{Failure, RequestError};
use lrs_core::storage::upload::{
    blob_name, BlobProperties, BlobStore, BlockChecksum, BlockListing, BlockSum, UploadError, UploadEvent, UploadFile,
    UploadJob, UploadOptions,
};

use lrs_core::secrets::Secret;
use lrs_core::storage::client::{ContainerClient, HttpOptions, StorageClient, UploadCredential};
use lrs_core::storage::sas::{self, AccountSas};
use lrs_core::storage::ContainerUrl;
use lrs_testkit::{Azurite, AZURITE_ACCOUNT, AZURITE_KEY};
use md5::{Digest, Md5};
use time::OffsetDateTime;

pub fn key() -> Secret {
    Secret::new(AZURITE_KEY)
}

/// An account SAS able to create containers and read blobs (for the tests' own calls).
pub fn admin_sas() -> Secret {
    let now = OffsetDateTime::now_utc();
    AccountSas::full_blob_access(now, time::Duration::hours(2)).sign(AZURITE_ACCOUNT, &key()).unwrap()
}

/// Creates `container` on Azurite (direct, not through any proxy).
pub async fn create_container(azurite: &Azurite, container: &str) {
    let url = format!("{}?restype=container&{}", azurite.container_url(container), admin_sas().expose());
    let status = reqwest::Client::new().put(url).header("content-length", "0").send().await.unwrap().status();
    assert!(status.as_u16() == 201 || status.as_u16() == 409, "create container: {status}");
}

pub fn client(container_url: &str, credential: UploadCredential) -> ContainerClient {
    let http = StorageClient::new(&HttpOptions::default()).unwrap();
    http.container(ContainerUrl::parse(container_url).unwrap(), credential)
}

/// A write SAS for `container_url`, as the engine would mint it.
pub fn write_sas(container_url: &str) -> Secret {
    let c = ContainerUrl::parse(container_url).unwrap();
    sas::write_sas(&c, &key(), OffsetDateTime::now_utc(), time::Duration::hours(1)).unwrap()
}

/// A file of `len` bytes of a deterministic pattern.
pub fn pattern_file(dir: &Path, name: &str, len: usize) -> PathBuf {
    let data: Vec<u8> = (0..len).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let path = dir.join(name);
    std::fs::write(&path, data).unwrap();
    path
}

/// A sparse file of `len` bytes with a little data at a few offsets.
pub fn sparse_file(dir: &Path, name: &str, len: u64) -> PathBuf {
    use std::io::{Seek, SeekFrom, Write};
    let path = dir.join(name);
    let mut f = std::fs::File::create(&path).unwrap();
    f.set_len(len).unwrap();
    for offset in [0, len / 3, len / 2 + 12_345, len - 5] {
        f.seek(SeekFrom::Start(offset)).unwrap();
        f.write_all(b"LRS!!").unwrap();
    }
    path
}

pub fn md5_file(path: &Path) -> [u8; 16] {
    use std::io::Read;
    let mut f = std::fs::File::open(path).unwrap();
    let mut h = Md5::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).unwrap();
        if n == 0 {
            return h.finalize().into();
        }
        h.update(&buf[..n]);
    }
}

/// Downloads a blob straight from Azurite and returns its size and MD5.
pub async fn read_back(azurite: &Azurite, container: &str, blob: &str) -> (u64, [u8; 16]) {
    let url = format!("{}/{blob}?{}", azurite.container_url(container), admin_sas().expose());
    let mut response = reqwest::Client::new().get(url).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200, "read back {blob}");
    let mut h = Md5::new();
    let mut size = 0u64;
    while let Some(chunk) = response.chunk().await.unwrap() {
        size += chunk.len() as u64;
        h.update(&chunk);
    }
    (size, h.finalize().into())
}

/// The uncommitted blocks Azurite holds for a blob.
pub async fn uncommitted_blocks(azurite: &Azurite, container: &str, blob: &str) -> usize {
    let url = format!(
        "{}/{blob}?comp=blocklist&blocklisttype=uncommitted&{}",
        azurite.container_url(container),
        admin_sas().expose()
    );
    let text = reqwest::Client::new().get(url).send().await.unwrap().text().await.unwrap();
    text.matches("<Block>").count()
}

/// The engine's Azure store seen through a tap: counts Put Blocks, records the checksum kind each
/// carried and, when `corrupt`, flips one bit of every checksum on the way out.
#[derive(Debug)]
pub struct Tapped {
    pub inner: ContainerClient,
    pub corrupt: bool,
    pub stages: Arc<AtomicUsize>,
    pub kinds: Arc<Mutex<Vec<BlockChecksum>>>,
}

impl Tapped {
    pub fn new(inner: ContainerClient, corrupt: bool) -> Self {
        Tapped { inner, corrupt, stages: Arc::default(), kinds: Arc::default() }
    }

    pub fn kinds(&self) -> Arc<Mutex<Vec<BlockChecksum>>> {
        self.kinds.clone()
    }
}

/// `sum` with one bit flipped.
pub fn flipped(sum: BlockSum) -> BlockSum {
    match sum {
        BlockSum::Crc64(mut c) => {
            c[7] ^= 0x80;
            BlockSum::Crc64(c)
        }
        BlockSum::Md5(mut m) => {
            m[0] ^= 1;
            BlockSum::Md5(m)
        }
    }
}

impl BlobStore for Tapped {
    async fn stage_block(&self, blob: &str, id: &[u8], data: Bytes, sum: BlockSum) -> Result<(), RequestError> {
        self.stages.fetch_add(1, Ordering::SeqCst);
        self.kinds.lock().unwrap().push(sum.kind());
        let sum = if self.corrupt { flipped(sum) } else { sum };
        self.inner.stage_block(blob, id, data, sum).await
    }
    async fn commit(&self, blob: &str, ids: &[Vec<u8>], md5: [u8; 16]) -> Result<(), RequestError> {
        self.inner.commit(blob, ids, md5).await
    }
    async fn block_list(&self, blob: &str) -> Result<BlockListing, RequestError> {
        self.inner.block_list(blob).await
    }
    fn is_loopback(&self) -> bool {
        self.inner.is_loopback()
    }
    async fn properties(&self, blob: &str) -> Result<Option<BlobProperties>, RequestError> {
        self.inner.properties(blob).await
    }
}

pub fn status_code(err: &RequestError) -> (u16, Option<String>) {
    match &err.failure {
        Failure::Status { status, code, .. } => (*status, code.clone()),
        other => panic!("expected a status, got {other:?}"),
    }
}

/// The service's error code for a wrong checksum of this kind.
pub fn mismatch_code(kind: BlockChecksum) -> &'static str {
    match kind {
        BlockChecksum::Crc64 => "Crc64Mismatch",
        BlockChecksum::Md5 => "Md5Mismatch",
    }
}

fn job_options(dir: &Path, block_checksum: Option<BlockChecksum>) -> UploadOptions {
    UploadOptions {
        settle_window: Duration::ZERO,
        journal_dir: Some(dir.join("journal")),
        block_checksum,
        ..UploadOptions::default()
    }
}

/// Put Block straight to Azurite: the right checksum of `kind` is accepted; a wrong one, or the
/// right one of other bytes, is refused with the kind's mismatch code and nothing is staged.
pub async fn right_and_wrong_block_checksum(azurite: &Azurite, container: &str, kind: BlockChecksum) {
    create_container(azurite, container).await;
    let url = azurite.container_url(container);
    let store = client(&url, UploadCredential::AccountKey(key()));
    let data: Bytes = (0..3 * MIB as usize + 17).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let code = Some(mismatch_code(kind).to_string());

    store.stage_block("db/good.bak", b"block-0", data.clone(), BlockSum::of(kind, &data)).await.unwrap();
    assert_eq!(uncommitted_blocks(azurite, container, "db/good.bak").await, 1);

    let wrong = flipped(BlockSum::of(kind, &data));
    let err = store.stage_block("db/bad.bak", b"block-0", data.clone(), wrong).await.unwrap_err();
    assert_eq!(status_code(&err), (400, code.clone()), "{err}");
    assert_eq!(uncommitted_blocks(azurite, container, "db/bad.bak").await, 0, "the refused block is not staged");
    // The checksum of other bytes is refused the same way: the service hashes what it received.
    let err = store.stage_block("db/bad.bak", b"block-0", data.slice(1..), BlockSum::of(kind, &data)).await;
    assert_eq!(status_code(&err.unwrap_err()).1, code);
}

/// A whole job whose every block checksum is corrupted on the way out: the first Put Block is
/// refused, and the engine reports it at once with the service's code (one attempt, no retry).
pub async fn a_wrong_block_checksum_is_reported_not_retried(azurite: &Azurite, container: &str, kind: BlockChecksum) {
    create_container(azurite, container).await;
    let dir = tempfile::tempdir().unwrap();
    let path = pattern_file(dir.path(), "one.bak", 2 * MIB as usize);
    let url = azurite.container_url(container);
    let store = Tapped::new(client(&url, UploadCredential::AccountKey(key())), true);
    let (stages, kinds) = (store.stages.clone(), store.kinds());
    let files = vec![UploadFile { source: path.clone(), blob: blob_name("Sales", &path, false) }];
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let started = Instant::now();
    let options = job_options(dir.path(), Some(kind));
    let err = UploadJob::new(store, url, files, options).with_events(tx).run().await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(10), "a 400 is final: {:?}", started.elapsed());
    let UploadError::Request(request) = &err else { panic!("expected a request error, got {err}") };
    assert_eq!(status_code(request), (400, Some(mismatch_code(kind).to_string())));
    let text = err.to_string();
    assert!(text.contains(mismatch_code(kind)) && text.contains("run the upload again"), "{text}");
    assert_eq!(stages.load(Ordering::SeqCst), 1, "one attempt, no retry");
    assert_eq!(*kinds.lock().unwrap(), vec![kind]);
    let mut retries = 0;
    while let Ok(event) = rx.try_recv() {
        retries += usize::from(matches!(event, UploadEvent::Retry { .. }));
    }
    assert_eq!(retries, 0);
    assert_eq!(uncommitted_blocks(azurite, container, "Sales/one.bak").await, 0);
}

/// A job of several multi-block files with `choice` (`None`: auto) sends `expected` with every
/// block; each blob reads back identical, with the whole-file MD5 as its Content-MD5.
pub async fn an_upload_reads_back_identical(
    azurite: &Azurite,
    container: &str,
    choice: Option<BlockChecksum>,
    expected: BlockChecksum,
) {
    create_container(azurite, container).await;
    let dir = tempfile::tempdir().unwrap();
    let paths = [
        pattern_file(dir.path(), "full.bak", 3 * MIB as usize + 5),
        pattern_file(dir.path(), "log.trn", MIB as usize),
        pattern_file(dir.path(), "tiny.trn", 1),
    ];
    let url = azurite.container_url(container);
    let store = Tapped::new(client(&url, UploadCredential::AccountKey(key())), false);
    let kinds = store.kinds();
    let files = paths.iter().map(|p| UploadFile { source: p.clone(), blob: blob_name("Sales", p, false) }).collect();
    let options = UploadOptions { block_size: Some(MIB), ..job_options(dir.path(), choice) };
    let job = UploadJob::new(store, url.clone(), files, options);
    assert_eq!(job.block_checksum(), expected);
    let summary = job.run().await.unwrap();
    assert_eq!(summary.block_checksum, expected);
    assert_eq!(*kinds.lock().unwrap(), vec![expected; 4 + 1 + 1]);
    let check = client(&url, UploadCredential::AccountKey(key()));
    for (path, result) in paths.iter().zip(&summary.files) {
        let (size, md5) = read_back(azurite, container, &result.blob).await;
        assert_eq!((size, md5), (std::fs::metadata(path).unwrap().len(), md5_file(path)), "{}", result.blob);
        let props = check.properties(&result.blob).await.unwrap().unwrap();
        assert_eq!(props.content_md5, Some(md5), "the blob's Content-MD5 is the whole-file MD5");
    }
}
