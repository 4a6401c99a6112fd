//! The upload engine through [`FaultProxy`] to a real Azurite: 503s, 500s, connections dropped
//! before and after the service got the request, a stalled connection, a throttled commit and a
//! failed verification read: everything arrives, byte for byte. And no SAS signature reaches an
//! error, an event or a journal.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod upload_support;

use std::time::Duration;

use lrs_core::storage::client::UploadCredential;
use lrs_core::storage::defaults::MIB;
use lrs_core::storage::retry::RetryPolicy;
use lrs_core::storage::upload::{blob_name, UploadEvent, UploadFile, UploadJob, UploadOptions};
use lrs_testkit::{Azurite, Fault, FaultProxy, Op, Scheduled};
use upload_support::*;

fn options(dir: &std::path::Path) -> UploadOptions {
    UploadOptions {
        settle_window: Duration::ZERO,
        journal_dir: Some(dir.join("journal")),
        block_size: Some(MIB),
        concurrency: 4,
        retry: RetryPolicy {
            initial_delay: Duration::from_millis(20),
            attempt_timeout: Duration::from_secs(2),
            attempt_timeout_per_mib: Duration::from_millis(500),
            ..RetryPolicy::default()
        },
        ..UploadOptions::default()
    }
}

fn at(op: Op, nth: usize, fault: Fault) -> Scheduled {
    Scheduled { op, nth, fault }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn injected_faults_lose_nothing() {
    let Some(azurite) = Azurite::start() else { return };
    create_container(&azurite, "faults").await;
    let schedule = vec![
        at(Op::GetProperties, 1, Fault::Status(500, "InternalError")),
        at(Op::GetBlockList, 1, Fault::DropBefore),
        at(Op::PutBlock, 2, Fault::Status(503, "ServerBusy")),
        at(Op::PutBlock, 4, Fault::Status(500, "InternalError")),
        at(Op::PutBlock, 5, Fault::DropBefore),
        at(Op::PutBlock, 7, Fault::DropAfter),
        at(Op::PutBlock, 9, Fault::Stall(Duration::from_secs(30))),
        at(Op::PutBlock, 11, Fault::Status(429, "TooManyRequests")),
        at(Op::PutBlockList, 1, Fault::Status(503, "ServerBusy")),
        at(Op::GetProperties, 3, Fault::DropAfter),
    ];
    let proxy = FaultProxy::start(azurite.port(), schedule).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = pattern_file(dir.path(), "f.bak", 16 * MIB as usize + 77);
    let url = proxy.container_url("faults");
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let file = UploadFile { source: path.clone(), blob: blob_name("Sales", &path, false) };
    let summary =
        UploadJob::new(client(&url, UploadCredential::AccountKey(key())), url, vec![file], options(dir.path()))
            .with_events(tx)
            .run()
            .await
            .unwrap();
    let mut retries = Vec::new();
    while let Ok(event) = rx.try_recv() {
        if let UploadEvent::Retry { operation, reason, .. } = event {
            retries.push(format!("{operation}: {reason}"));
        }
    }
    assert_eq!(retries.len(), 10, "{retries:#?}");
    assert!(retries.iter().any(|r| r.contains("stalled")), "{retries:#?}");
    assert_eq!(summary.files[0].size, 16 * MIB + 77);
    assert_eq!(read_back(&azurite, "faults", "Sales/f.bak").await.1, md5_file(&path));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_signature_reaches_errors_events_or_journals() {
    let Some(azurite) = Azurite::start() else { return };
    create_container(&azurite, "secrets").await;
    // A dropped connection (whose library error names the URL) then a refusal.
    let schedule =
        vec![at(Op::PutBlock, 1, Fault::DropBefore), at(Op::PutBlock, 2, Fault::Status(403, "AuthenticationFailed"))];
    let proxy = FaultProxy::start(azurite.port(), schedule).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let good = pattern_file(dir.path(), "good.bak", 2 * MIB as usize);
    let bad = pattern_file(dir.path(), "bad.bak", 2 * MIB as usize);
    let url = proxy.container_url("secrets");
    let sas = write_sas(&url);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let opts = UploadOptions { concurrency: 1, ..options(dir.path()) };
    let job_files = vec![UploadFile { source: bad.clone(), blob: "Sales/bad.bak".into() }];
    let err = UploadJob::new(client(&url, UploadCredential::Sas(sas.clone())), url.clone(), job_files, opts.clone())
        .with_events(tx)
        .run()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("403 AuthenticationFailed"), "{err}");
    let job_files = vec![UploadFile { source: good.clone(), blob: "Sales/good.bak".into() }];
    UploadJob::new(client(&url, UploadCredential::Sas(sas.clone())), url, job_files, opts).run().await.unwrap();

    let mut seen = format!("{err}\n{err:?}\n");
    while let Ok(event) = rx.try_recv() {
        seen.push_str(&serde_json::to_string(&event).unwrap());
        seen.push('\n');
    }
    assert!(seen.contains("network error"), "the dropped connection was reported: {seen}");
    for entry in std::fs::read_dir(dir.path().join("journal")).unwrap() {
        seen.push_str(&std::fs::read_to_string(entry.unwrap().path()).unwrap());
    }
    let signature = sas.expose().split('&').find_map(|kv| kv.strip_prefix("sig=")).unwrap();
    lrs_testkit::secret_scan::assert_no_secret(&seen, &[sas.expose(), signature]);
    lrs_testkit::secret_scan::assert_no_secret_like("errors, events and journals", &seen);
    assert!(proxy.log().iter().all(|l| !l.target.contains("sig=")));
}
