//! The upload engine against a real Azurite (strict mode): every size class read back with the
//! same MD5, a multi-GiB sparse file, SAS and account-key credentials, a refused Read+List SAS
//! reported with its code, and a second run after a cancelled one sending only the missing
//! blocks. Skips with a note when Azurite is not installed (CI installs it).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod upload_support;

use std::path::Path;
use std::time::{Duration, Instant};

use lrs_core::storage::client::UploadCredential;
use lrs_core::storage::defaults::MIB;
use lrs_core::storage::upload::{blob_name, FileOutcome, UploadEvent, UploadFile, UploadJob, UploadOptions};
use lrs_testkit::{Azurite, FaultProxy, Op};
use upload_support::*;

fn options(dir: &Path) -> UploadOptions {
    UploadOptions { settle_window: Duration::ZERO, journal_dir: Some(dir.join("journal")), ..UploadOptions::default() }
}

fn files(paths: &[std::path::PathBuf]) -> Vec<UploadFile> {
    paths.iter().map(|p| UploadFile { source: p.clone(), blob: blob_name("Sales", p, false) }).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_size_class_reads_back_identical() {
    let Some(azurite) = Azurite::start() else { return };
    create_container(&azurite, "sizes").await;
    let dir = tempfile::tempdir().unwrap();
    let paths = vec![
        pattern_file(dir.path(), "zero.bak", 0),
        pattern_file(dir.path(), "one.diff", 1),
        pattern_file(dir.path(), "block.bak", 8 * MIB as usize),
        pattern_file(dir.path(), "many.trn", 5 * 8 * MIB as usize + 123),
    ];
    let url = azurite.container_url("sizes");
    let store = client(&url, UploadCredential::AccountKey(key()));
    let summary = UploadJob::new(store, url, files(&paths), options(dir.path())).run().await.unwrap();
    let blobs: Vec<&str> = summary.files.iter().map(|f| f.blob.as_str()).collect();
    assert_eq!(blobs, ["Sales/zero.bak", "Sales/one.diff", "Sales/block.bak", "Sales/many.log"]);
    for (path, result) in paths.iter().zip(&summary.files) {
        let (size, md5) = read_back(&azurite, "sizes", &result.blob).await;
        assert_eq!(size, std::fs::metadata(path).unwrap().len(), "{}", result.blob);
        assert_eq!(md5, md5_file(path), "{}", result.blob);
        assert_eq!(result.outcome, FileOutcome::Uploaded);
    }
    assert_eq!(summary.files[3].blocks_sent, 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_multi_gib_sparse_file_reads_back_identical() {
    let Some(azurite) = Azurite::start() else { return };
    create_container(&azurite, "big").await;
    let dir = tempfile::tempdir().unwrap();
    let path = sparse_file(dir.path(), "big.bak", 2 << 30);
    let url = azurite.container_url("big");
    let store = client(&url, UploadCredential::AccountKey(key()));
    let started = Instant::now();
    let summary =
        UploadJob::new(store, url, files(std::slice::from_ref(&path)), options(dir.path())).run().await.unwrap();
    let upload = started.elapsed();
    let (size, md5) = read_back(&azurite, "big", "Sales/big.bak").await;
    eprintln!("2 GiB sparse: upload {upload:?}, upload + read back {:?}", started.elapsed());
    assert_eq!(size, 2 << 30);
    assert_eq!(md5, md5_file(&path));
    assert_eq!(summary.files[0].blocks_sent, 256);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sas_uploads_and_a_read_list_sas_is_refused_with_its_code() {
    let Some(azurite) = Azurite::start() else { return };
    create_container(&azurite, "sas").await;
    let dir = tempfile::tempdir().unwrap();
    let paths = vec![pattern_file(dir.path(), "a.bak", 3 * MIB as usize)];
    let url = azurite.container_url("sas");
    let sas = write_sas(&url);
    let store = client(&url, UploadCredential::Sas(sas.clone()));
    UploadJob::new(store, url.clone(), files(&paths), options(dir.path())).run().await.unwrap();
    assert_eq!(read_back(&azurite, "sas", "Sales/a.bak").await.1, md5_file(&paths[0]));

    let container = lrs_core::storage::ContainerUrl::parse(&url).unwrap();
    let now = time::OffsetDateTime::now_utc();
    let read_list =
        lrs_core::storage::sas::lrs_read_list_sas(&container, &key(), now, now + time::Duration::days(1)).unwrap();
    let other = vec![pattern_file(dir.path(), "b.bak", 1000)];
    let store = client(&url, UploadCredential::Sas(read_list.clone()));
    let started = Instant::now();
    let err = UploadJob::new(store, url, files(&other), options(dir.path())).run().await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5), "a 403 is not retried");
    let text = err.to_string();
    assert!(text.contains("403 AuthorizationPermissionMismatch"), "{text}");
    lrs_testkit::secret_scan::assert_no_secret(&text, &[sas.expose(), read_list.expose()]);
    lrs_testkit::secret_scan::assert_no_secret_like("error", &format!("{text} {err:?}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_cancelled_run_only_the_missing_blocks_are_sent() {
    let Some(azurite) = Azurite::start() else { return };
    create_container(&azurite, "resume").await;
    let proxy = FaultProxy::start(azurite.port(), Vec::new()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = pattern_file(dir.path(), "r.bak", 40 * MIB as usize);
    let url = proxy.container_url("resume");
    let opts = UploadOptions { block_size: Some(MIB), concurrency: 2, ..options(dir.path()) };

    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let job = UploadJob::new(
        client(&url, UploadCredential::AccountKey(key())),
        url.clone(),
        files(std::slice::from_ref(&path)),
        opts.clone(),
    )
    .with_events(tx);
    let token = job.cancel_token();
    let run = tokio::spawn(job.run());
    while let Some(event) = rx.recv().await {
        if matches!(event, UploadEvent::Progress { file_done, .. } if file_done >= 10 * MIB) {
            token.cancel();
            break;
        }
    }
    assert!(run.await.unwrap().unwrap_err().is_cancelled());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let staged = uncommitted_blocks(&azurite, "resume", "Sales/r.bak").await;
    assert!((10..40).contains(&staged), "{staged}");
    let first_run = proxy.count(Op::PutBlock);

    let summary = UploadJob::new(
        client(&url, UploadCredential::AccountKey(key())),
        url,
        files(std::slice::from_ref(&path)),
        opts,
    )
    .run()
    .await
    .unwrap();
    let second_run = proxy.count(Op::PutBlock) - first_run;
    assert_eq!(second_run, 40 - staged, "only the missing blocks");
    assert_eq!((summary.files[0].blocks_sent, summary.files[0].blocks_reused), (40 - staged as u64, staged as u64));
    assert_eq!(read_back(&azurite, "resume", "Sales/r.bak").await.1, md5_file(&path));
}
