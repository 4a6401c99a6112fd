//! The ARM client, pickers and LRS operations against the local emulator (`lrs-emulator`) seeded
//! with the documented rehearsal world: sign-in as its service principal through its token
//! endpoint, every picker, and a start / status / stop cycle (no Azurite needed: the restore's
//! storage is never reached before the stop).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use lrs_core::arm::lro::{LroOutcome, PollOptions, Wait};
use lrs_core::arm::{
    ArmClient, ArmClientOptions, AzureCloud, DatabaseRef, ErrorKind, LrsError, RestoreStatus, ServicePrincipal,
    StartRequest, StorageAuth,
};
use lrs_core::secrets::Secret;
use lrs_emulator::{Emulator, EmulatorConfig, RunningEmulator};

const TENANT: &str = "11111111-1111-1111-1111-111111111111";
const SUBSCRIPTION: &str = "22222222-2222-2222-2222-222222222222";
const CLIENT_ID: &str = "33333333-3333-3333-3333-333333333333";
const SECRET: &str = "rehearsal-secret";
const GROUP: &str = "rehearsal-rg";
const INSTANCE: &str = "rehearsal-mi";

async fn emulator() -> RunningEmulator {
    let mut config = EmulatorConfig::rehearsal();
    config.timing.retry_after_seconds = 0;
    config.timing.drop_seconds = 0;
    config.timing.tick_millis = 20;
    Emulator::start(config).await.unwrap()
}

fn client(emu: &RunningEmulator, secret: &str) -> ArmClient {
    // As from AZURE_TENANT_ID / AZURE_CLIENT_ID / AZURE_CLIENT_SECRET / AZURE_AUTHORITY_HOST.
    let vars = [
        ("AZURE_TENANT_ID", TENANT),
        ("AZURE_CLIENT_ID", CLIENT_ID),
        ("AZURE_CLIENT_SECRET", secret),
        ("AZURE_AUTHORITY_HOST", emu.base_url()),
    ];
    let sp = ServicePrincipal::from_vars(|k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string()))
        .unwrap()
        .unwrap();
    let cloud = AzureCloud::emulator(emu.base_url()).unwrap();
    let credential = sp.credential(&cloud).unwrap();
    ArmClient::new(cloud, credential, ArmClientOptions::default()).unwrap()
}

fn quick() -> Wait {
    Wait::Yes(PollOptions {
        default_interval: Duration::from_millis(50),
        max_interval: Duration::from_millis(200),
        min_interval: Duration::ZERO,
        max_wait: Duration::from_secs(30),
    })
}

#[tokio::test]
async fn pickers_list_the_rehearsal_world() {
    let emu = emulator().await;
    let arm = client(&emu, SECRET);

    let subs = arm.subscriptions().await.unwrap();
    assert!(subs.iter().any(|s| s.subscription_id == SUBSCRIPTION), "{subs:?}");
    let groups = arm.resource_groups(SUBSCRIPTION).await.unwrap();
    assert!(groups.iter().any(|g| g.name == GROUP && g.location == "westeurope"), "{groups:?}");

    let instances = arm.managed_instances(SUBSCRIPTION, None).await.unwrap();
    let mi = instances.iter().find(|m| m.name == INSTANCE).expect("rehearsal-mi");
    assert_eq!(mi.resource_group, GROUP);
    assert_eq!(mi.location, "westeurope");
    assert_eq!(mi.tier.as_deref(), Some("GeneralPurpose"));
    assert_eq!(mi.collation.as_deref(), Some("SQL_Latin1_General_CP1_CI_AS"));
    assert!(mi.state.is_some());
    assert_eq!(arm.managed_instance(SUBSCRIPTION, GROUP, INSTANCE).await.unwrap().name, INSTANCE);

    let accounts = arm.storage_accounts(SUBSCRIPTION, Some(GROUP)).await.unwrap();
    let account = accounts.iter().find(|a| a.name == "devstoreaccount1").expect("devstoreaccount1");
    assert!(account.blob_endpoint.as_deref().unwrap().starts_with("http://127.0.0.1:10000/devstoreaccount1"));
    let keys = arm.list_keys(SUBSCRIPTION, GROUP, "devstoreaccount1").await.unwrap();
    assert_eq!(keys.len(), 2);
    assert!(keys[0].value.expose().starts_with("Eby8vdM02"), "Azurite's well-known key");
    assert!(!format!("{keys:?}").contains("Eby8vdM02"));

    let expiry = time::OffsetDateTime::now_utc() + time::Duration::days(7);
    let sas = arm.list_service_sas((SUBSCRIPTION, GROUP, "devstoreaccount1"), "migration", None, expiry, false).await;
    let sas = sas.unwrap();
    assert!(sas.expose().contains("sp=rl") && sas.expose().contains("sr=c"), "a Read+List container SAS");
    emu.shutdown().await;
}

#[tokio::test]
async fn a_wrong_secret_is_refused_by_the_token_endpoint() {
    let emu = emulator().await;
    let err = client(&emu, "not-the-secret").subscriptions().await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Unauthenticated);
    assert!(!err.to_string().contains("not-the-secret"));
    emu.shutdown().await;
}

#[tokio::test]
async fn start_status_and_stop_a_restore() {
    let emu = emulator().await;
    let arm = client(&emu, SECRET);
    let db = DatabaseRef {
        subscription: SUBSCRIPTION.into(),
        resource_group: GROUP.into(),
        instance: INSTANCE.into(),
        database: "SalesDb".into(),
    };
    let lrs = arm.lrs(db.clone());
    let request = StartRequest {
        storage_container_uri: "http://127.0.0.1:10000/devstoreaccount1/migration/SalesDb".into(),
        auth: StorageAuth::Sas(Secret::new("sv=2022-11-02&sr=c&sp=rl&se=2099-01-01T00%3A00%3A00Z&sig=AAAA")),
        collation: None,
        auto_complete: true,
        last_backup_name: Some("SalesDb_log_2.trn".into()),
    };
    let started = tokio::time::timeout(Duration::from_secs(10), lrs.start(&request)).await.expect("no wait").unwrap();
    assert_eq!(started.location, "westeurope");
    assert_eq!(started.collation, "SQL_Latin1_General_CP1_CI_AS");
    assert!(started.operation.is_some(), "accepted with an operation to poll later");

    let err = lrs.start(&request).await.unwrap_err();
    assert!(matches!(err, LrsError::DatabaseExists(_)), "{err}");

    let status = lrs.status().await.unwrap();
    assert!(status.is_lrs_restore(), "{status:?}");
    // The stable 2023-08-01 answers in the basic schema: no `type`; it is read all the same.
    let path = format!("{}/restoreDetails/Default", db.path());
    let basic: serde_json::Value = arm.get_json(&path, "2023-08-01", "restore details").await.unwrap();
    let basic = RestoreStatus::from_resource(&basic);
    assert_eq!((basic.restore_type.as_deref(), basic.state.clone()), (None, status.state.clone()), "{basic:?}");

    let err = lrs.complete("SalesDb_log_2.trn", &quick()).await.unwrap_err();
    assert!(matches!(err, LrsError::NotLastRestored { .. } | LrsError::NotRestoring { .. }), "{err}");

    assert_eq!(lrs.stop(&quick()).await.unwrap(), LroOutcome::Done);
    let err = lrs.status().await.unwrap_err();
    assert!(matches!(err.kind, ErrorKind::NotFound | ErrorKind::BadRequest), "{err}");
    emu.shutdown().await;
}
