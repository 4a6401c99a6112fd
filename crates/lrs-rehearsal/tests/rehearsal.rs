//! The rehearsal world end to end: it starts (Azurite, the emulator, the container, the samples),
//! a blob goes to the container and comes back, ARM lists the managed instance through
//! `lrs_core::arm`, the samples inspect as restorable chains, and a second start in the same folder
//! finds everything again.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use lrs_core::arm::ArmClient;
use lrs_core::backup::{inspect, InspectOptions};
use lrs_core::storage::sas::AccountSas;
use lrs_rehearsal::{AzuriteError, Rehearsal, RehearsalError, CONTAINER, SAMPLE_DATABASES};

async fn start(dir: &std::path::Path) -> Option<Rehearsal> {
    match Rehearsal::start(dir).await {
        Ok(r) => Some(r),
        Err(RehearsalError::Azurite(e @ AzuriteError::NotInstalled { .. })) => {
            assert!(std::env::var_os("CI").is_none(), "{e}");
            eprintln!("SKIPPED: {e}");
            None
        }
        Err(e) => panic!("rehearsal did not start: {e}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rehearsal_world_starts_and_works() {
    let dir = tempfile::tempdir().unwrap();
    let Some(rehearsal) = start(dir.path()).await else { return };

    // A blob round trip in the rehearsal container.
    let container = rehearsal.container_url().clone();
    assert_eq!(container.container(), CONTAINER);
    let now = time::OffsetDateTime::now_utc();
    let sas = AccountSas::full_blob_access(now, time::Duration::minutes(5))
        .sign(container.account(), &rehearsal.account_key())
        .unwrap();
    let url = format!("{}?{}", container.blob_url("probe/hello.txt"), sas.expose());
    let http = reqwest::Client::new();
    let put = http
        .put(&url)
        .header("x-ms-version", "2022-11-02")
        .header("x-ms-blob-type", "BlockBlob")
        .body("hello rehearsal")
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 201);
    let got = http.get(&url).header("x-ms-version", "2022-11-02").send().await.unwrap();
    assert_eq!(got.text().await.unwrap(), "hello rehearsal");

    // ARM through lrs-core, signed in as the seeded service principal.
    let cloud = rehearsal.cloud().unwrap();
    let credential = rehearsal.service_principal().credential(&cloud).unwrap();
    let arm = ArmClient::new(cloud, credential, Default::default()).unwrap();
    let world = rehearsal.world().unwrap();
    let instances = arm.managed_instances(&world.subscription_id, None).await.unwrap();
    assert_eq!(instances.len(), 1);
    assert_eq!(instances[0].name, world.instance);
    assert_eq!(instances[0].collation.as_deref(), Some("SQL_Latin1_General_CP1_CI_AS"));
    let accounts = arm.storage_accounts(&world.subscription_id, None).await.unwrap();
    let endpoint = accounts[0].blob_endpoint.clone().unwrap();
    assert!(endpoint.trim_end_matches('/').ends_with(&format!("{}/devstoreaccount1", rehearsal.azurite().port())));

    // The samples: one restorable database per folder.
    assert_eq!(rehearsal.samples().len(), SAMPLE_DATABASES.len());
    let inspection = inspect(rehearsal.samples(), &InspectOptions::default()).unwrap();
    assert_eq!(inspection.databases.len(), SAMPLE_DATABASES.len());
    assert!(inspection.databases.iter().all(|d| d.restorable), "{inspection:?}");
    let ports = std::fs::read_to_string(dir.path().join("ports.json")).unwrap();
    rehearsal.shutdown().await;

    // A second run in the same folder: same ports when free, the blob and the samples still there.
    let Some(again) = start(dir.path()).await else { return };
    assert_eq!(std::fs::read_to_string(dir.path().join("ports.json")).unwrap(), ports);
    let got = http.get(&url).header("x-ms-version", "2022-11-02").send().await.unwrap();
    assert_eq!(got.status(), 200, "Azurite kept its data in the rehearsal folder");
    again.shutdown().await;
}
