//! The LRS operations against a scripted loopback ARM answering with the reference's recorded
//! traffic and specification examples: start checks the name, takes the instance's location and
//! collation, sends the reference's body and returns without waiting on its never-ending
//! operation; status reads both restoreDetails schemas; complete and stop refuse unless the
//! restore says so, then follow their operations.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod arm_recorded;
mod arm_support;

use std::time::Duration;

use arm_recorded::*;
use arm_support::*;
use lrs_core::arm::lro::{LroOutcome, PollOptions, Wait};
use lrs_core::arm::{DatabaseRef, LrsError, RestoreState, StartRequest, StorageAuth};
use lrs_core::secrets::Secret;

const SUB: &str = "20d7082a-0fc7-4468-82bd-542694d5042b";
const SAS: &str = "sv=2019-02-02&ss=b&srt=sco&sp=rl&se=2023-12-02T00:09:14Z&st=2019-11-25T16:09:14Z&spr=https&sig=92kAe4QYmXaht%2FgjocUpioABFvm5N0BwhKFrukGw41s%3D";

fn db() -> DatabaseRef {
    DatabaseRef {
        subscription: SUB.into(),
        resource_group: "Test1".into(),
        instance: "testinstance1".into(),
        database: "ps6598".into(),
    }
}

fn mi_path() -> String {
    format!("/subscriptions/{SUB}/resourceGroups/Test1/providers/Microsoft.Sql/managedInstances/testinstance1")
}

fn db_path() -> String {
    format!("{}/databases/ps6598", mi_path())
}

fn recorded(status: u16, block: &str) -> Reply {
    let (headers, body) = split_http(block);
    let mut reply = Reply::json(status, &body);
    for (k, v) in headers {
        reply = reply.header(&k, &v);
    }
    reply
}

/// The first managed instance of the specification's list example.
fn instance_body() -> String {
    let list: serde_json::Value = serde_json::from_str(MANAGED_INSTANCES).unwrap();
    list["value"][0].to_string()
}

fn quick() -> Wait {
    Wait::Yes(PollOptions {
        default_interval: Duration::from_millis(5),
        max_interval: Duration::from_millis(10),
        min_interval: Duration::ZERO,
        max_wait: Duration::from_secs(10),
    })
}

fn request(auto_complete: bool, last: Option<&str>) -> StartRequest {
    StartRequest {
        storage_container_uri: "https://mijetest.blob.core.windows.net/pcc-remote-replicas-test/ps6598".into(),
        auth: StorageAuth::Sas(Secret::new(SAS)),
        collation: None,
        auto_complete,
        last_backup_name: last.map(str::to_string),
    }
}

#[tokio::test]
async fn start_checks_the_name_then_puts_the_reference_body_and_does_not_wait() {
    let stub = ArmStub::start().await;
    stub.route("GET", &db_path(), vec![Reply::json(404, NOT_FOUND_404)]);
    stub.route("GET", &mi_path(), vec![Reply::json(200, &instance_body())]);
    stub.route("PUT", &db_path(), vec![recorded(202, START_202)]);
    let aao = "/subscriptions/a8c9a924-06c0-4bde-9788-e7b1370969e1/providers/Microsoft.Sql/locations/westcentralus/managedDatabaseRestoreAzureAsyncOperation/68971faf-fb51-4df5-bf44-71312318deba";
    stub.route("GET", aao, vec![Reply::json(200, START_OP_IN_PROGRESS).header("Retry-After", "15")]);
    let client = stub.client();

    let started =
        tokio::time::timeout(Duration::from_secs(5), client.lrs(db()).start(&request(true, Some("log1.bak"))))
            .await
            .expect("start returns as soon as the PUT is accepted")
            .unwrap();
    assert_eq!((started.status, started.location.as_str()), (202, "japaneast"));
    assert_eq!(started.collation, "SQL_Latin1_General_CP1_CI_AS", "the instance's collation by default");
    assert!(started.operation.as_ref().unwrap().azure_async_operation.is_some());

    let seen = stub.arm_requests();
    let order: Vec<(&str, &str)> = seen.iter().map(|s| (s.method.as_str(), s.path())).collect();
    assert_eq!(order, [("GET", db_path().as_str()), ("GET", mi_path().as_str()), ("PUT", db_path().as_str())]);
    assert!(seen.iter().all(|s| s.path() != aao), "the start operation is never polled");
    let put = &seen[2];
    assert!(put.target.ends_with("?api-version=2025-01-01"));
    assert_eq!(
        put.json(),
        serde_json::json!({
            "location": "japaneast",
            "properties": {
                "createMode": "RestoreExternalBackup",
                "storageContainerUri": "https://mijetest.blob.core.windows.net/pcc-remote-replicas-test/ps6598",
                "storageContainerSasToken": SAS,
                "collation": "SQL_Latin1_General_CP1_CI_AS",
                "autoCompleteRestore": true,
                "lastBackupName": "log1.bak"
            }
        })
    );
}

#[tokio::test]
async fn start_refuses_an_existing_database_and_autocomplete_without_a_last_backup() {
    let stub = ArmStub::start().await;
    stub.route("GET", &db_path(), vec![Reply::json(200, DB_GET)]);
    let client = stub.client();

    let err = client.lrs(db()).start(&request(true, None)).await.unwrap_err();
    assert!(matches!(err, LrsError::MissingLastBackupName));
    assert!(stub.arm_requests().is_empty(), "refused before any call");

    let err = client.lrs(db()).start(&request(false, None)).await.unwrap_err();
    assert!(matches!(&err, LrsError::DatabaseExists(name) if name == "ps6598"), "{err}");
    assert!(stub.arm_requests().iter().all(|s| s.method == "GET"), "no PUT");
}

#[tokio::test]
async fn a_refused_start_shows_the_code_but_never_the_sas() {
    let stub = ArmStub::start().await;
    stub.route("GET", &db_path(), vec![Reply::json(404, NOT_FOUND_404)]);
    stub.route("GET", &mi_path(), vec![Reply::json(200, &instance_body())]);
    let refusal = r#"{"error":{"code":"InvalidCollation","message":"Collation is not recognized by the server."}}"#;
    stub.route("PUT", &db_path(), vec![Reply::json(400, refusal)]);
    let mut req = request(false, None);
    req.collation = Some("Klingon_CI_AS".into());
    let err = stub.client().lrs(db()).start(&req).await.unwrap_err();
    let LrsError::Arm(arm) = &err else { panic!("{err}") };
    assert_eq!(arm.code.as_deref(), Some("InvalidCollation"));
    assert!(arm.explanation().unwrap().fix.contains("collation"));
    let text = format!("{err} {err:?}");
    assert!(!text.contains("92kAe4QYmXaht"), "{text}");
    assert_eq!(stub.arm_requests().iter().filter(|s| s.method == "PUT").count(), 1, "400 is not retried");
}

#[tokio::test]
async fn status_reads_the_extended_and_the_basic_schemas() {
    let stub = ArmStub::start().await;
    let path = format!("{}/restoreDetails/Default", db_path());
    stub.route("GET", &path, vec![Reply::json(200, RESTORE_DETAILS_EXTENDED), Reply::json(200, RESTORE_DETAILS_BASIC)]);
    let client = stub.client();
    let lrs = client.lrs(db());

    let s = lrs.status().await.unwrap();
    assert_eq!(s.state, RestoreState::Restoring);
    assert!(s.is_lrs_restore());
    assert_eq!(s.percent_completed, Some(53.0));
    assert_eq!(s.current_restoring_file.as_deref(), Some("RestoreDetailsFullBlownExampleLog10.bak"));
    assert_eq!(s.last_restored_file.as_deref(), Some("RestoreDetailsFullBlownExampleLog9_1.bak"));
    assert_eq!(s.current_backup_type.as_deref(), Some("Log"));
    assert_eq!((s.files.detected, s.files.restored, s.files.skipped), (Some(25), Some(14), Some(8)));
    assert_eq!((s.files.queued, s.files.restoring, s.files.unrestorable), (Some(1), Some(1), Some(1)));
    assert_eq!((s.restored_size_mb, s.restore_plan_size_mb), (Some(25), Some(47)));
    assert_eq!((s.full_backup_sets.len(), s.diff_backup_sets.len(), s.log_backup_sets.len()), (2, 2, 10));
    assert_eq!(s.full_backup_sets[1].number_of_stripes, Some(3));
    assert!(s.full_backup_sets[1].restore_finished.is_some());
    assert_eq!(s.unrestorable_files, ["ImageFile.JPG"]);
    assert_eq!(s.properties["numberOfFilesDetected"], 25, "the service's own names are kept");

    let s = lrs.status().await.unwrap();
    assert_eq!((s.state, s.restore_type), (RestoreState::Restoring, None));
    assert_eq!((s.percent_completed, s.files.detected), (Some(0.0), Some(26)));
    assert_eq!(s.last_uploaded_file.as_deref(), Some("log2_3"));
    assert!(s.unrestorable_files.is_empty());
    assert!(stub.arm_requests()[0].target.ends_with("restoreDetails/Default?api-version=2025-01-01"));
}

#[tokio::test]
async fn status_follows_the_observed_sequence() {
    let stub = ArmStub::start().await;
    let path = format!("{}/restoreDetails/Default", db_path());
    let replies = [OBSERVED_INITIALIZING, OBSERVED_RESTORING, OBSERVED_COMPLETED].map(|b| Reply::json(200, b));
    stub.route("GET", &path, replies.to_vec());
    let client = stub.client();
    let lrs = client.lrs(db());
    let a = lrs.status().await.unwrap();
    assert_eq!((a.state, a.files.detected, a.percent_completed), (RestoreState::Initializing, Some(0), None));
    let b = lrs.status().await.unwrap();
    assert_eq!(
        (b.state, b.current_restoring_file.as_deref(), b.last_restored_file),
        (RestoreState::Restoring, Some("full.bak"), None)
    );
    let c = lrs.status().await.unwrap();
    assert_eq!((c.state.clone(), c.last_restored_file.as_deref()), (RestoreState::Completed, Some("log1.bak")));
    assert!(c.state.is_final());
}

#[tokio::test]
async fn complete_only_after_the_named_backup_is_restored_then_follows_the_cutover() {
    let stub = ArmStub::start().await;
    stub.route(
        "GET",
        &format!("{}/restoreDetails/Default", db_path()),
        vec![Reply::json(200, RESTORE_DETAILS_EXTENDED)],
    );
    stub.route("POST", &format!("{}/completeRestore", db_path()), vec![recorded(202, COMPLETE_202)]);
    let aao = "/subscriptions/a8c9a924-06c0-4bde-9788-e7b1370969e1/providers/Microsoft.Sql/locations/westcentralus/managedDatabaseCompleteRestoreAzureAsyncOperation/822590a0-6ab7-4fa3-ae14-25152c837732";
    let op = |status: &str| {
        let body = format!(
            r#"{{"name": "822590a0-6ab7-4fa3-ae14-25152c837732", "status": "{status}", "startTime": "2020-08-26T12:07:30.1Z"}}"#
        );
        Reply::json(200, &body).header("Retry-After", "15")
    };
    stub.route("GET", aao, vec![op("InProgress"), op("InProgress"), op("Succeeded")]);
    let client = stub.client();
    let lrs = client.lrs(db());

    let err = lrs.complete("RestoreDetailsFullBlownExampleLog11.bak", &quick()).await.unwrap_err();
    assert!(
        matches!(&err, LrsError::NotLastRestored { last_restored: Some(l), .. } if l == "RestoreDetailsFullBlownExampleLog9_1.bak"),
        "{err}"
    );
    assert!(stub.arm_requests().iter().all(|s| s.method == "GET"), "no completeRestore");

    let outcome = lrs.complete("RestoreDetailsFullBlownExampleLog9_1.bak", &quick()).await.unwrap();
    assert_eq!(outcome, LroOutcome::Done);
    let seen = stub.arm_requests();
    let post = seen.iter().find(|s| s.method == "POST").unwrap();
    assert_eq!(post.json(), serde_json::json!({"lastBackupName": "RestoreDetailsFullBlownExampleLog9_1.bak"}));
    assert_eq!(seen.iter().filter(|s| s.path() == aao).count(), 3, "followed to Succeeded");
}

#[tokio::test]
async fn complete_refuses_a_finished_restore() {
    let stub = ArmStub::start().await;
    stub.route("GET", &format!("{}/restoreDetails/Default", db_path()), vec![Reply::json(200, OBSERVED_COMPLETED)]);
    let err = stub.client().lrs(db()).complete("log1.bak", &quick()).await.unwrap_err();
    assert!(matches!(err, LrsError::NotRestoring { state: RestoreState::Completed, .. }), "{err}");
}

#[tokio::test]
async fn stop_drops_only_an_lrs_restore_and_follows_the_drop() {
    let stub = ArmStub::start().await;
    let details = format!("{}/restoreDetails/Default", db_path());
    stub.route(
        "GET",
        &details,
        vec![Reply::json(200, RESTORE_DETAILS_BASIC), Reply::json(200, RESTORE_DETAILS_EXTENDED)],
    );
    stub.route("DELETE", &db_path(), vec![recorded(202, DELETE_202)]);
    let aao = "/subscriptions/a8c9a924-06c0-4bde-9788-e7b1370969e1/providers/Microsoft.Sql/locations/westcentralus/managedDatabaseAzureAsyncOperation/a30b6ca9-8cf0-4428-af56-d84a4e4eaf3f";
    let op = |status: &str| {
        let body = format!(
            r#"{{"name": "a30b6ca9-8cf0-4428-af56-d84a4e4eaf3f", "status": "{status}", "startTime": "2020-09-03T14:13:50.873Z"}}"#
        );
        Reply::json(200, &body).header("Retry-After", "15")
    };
    stub.route("GET", aao, vec![op("InProgress"), op("Succeeded")]);
    let client = stub.client();
    let lrs = client.lrs(db());

    let err = lrs.stop(&quick()).await.unwrap_err();
    assert!(matches!(err, LrsError::NotAnLrsRestore { .. }), "no type: refused ({err})");
    assert!(stub.arm_requests().iter().all(|s| s.method != "DELETE"));

    assert_eq!(lrs.stop(&quick()).await.unwrap(), LroOutcome::Done);
    let seen = stub.arm_requests();
    let delete = seen.iter().find(|s| s.method == "DELETE").unwrap();
    assert!(delete.target.ends_with("databases/ps6598?api-version=2025-01-01"));
    assert_eq!(seen.iter().filter(|s| s.path() == aao).count(), 2);
}

#[tokio::test]
async fn stop_refuses_a_database_without_restore_details() {
    let stub = ArmStub::start().await;
    let refusal = r#"{"error":{"code":"ManagedDatabaseNotInRestoringState","message":"Managed database is not in Restoring state."}}"#;
    stub.route("GET", &format!("{}/restoreDetails/Default", db_path()), vec![Reply::json(400, refusal)]);
    let err = stub.client().lrs(db()).stop(&Wait::No).await.unwrap_err();
    assert!(
        matches!(&err, LrsError::NotAnLrsRestore { found, .. } if found.contains("ManagedDatabaseNotInRestoringState")),
        "{err}"
    );
    assert!(stub.arm_requests().iter().all(|s| s.method != "DELETE"));
}

#[tokio::test]
async fn stop_refuses_a_completed_migration() {
    let stub = ArmStub::start().await;
    let mut completed: serde_json::Value = serde_json::from_str(RESTORE_DETAILS_EXTENDED).unwrap();
    completed["properties"]["status"] = "Completed".into();
    let completed = completed.to_string();
    stub.route("GET", &format!("{}/restoreDetails/Default", db_path()), vec![Reply::json(200, &completed)]);
    let err = stub.client().lrs(db()).stop(&Wait::No).await.unwrap_err();
    assert!(matches!(err, LrsError::NotRestoring { state: RestoreState::Completed, .. }), "{err}");
    assert!(stub.arm_requests().iter().all(|s| s.method != "DELETE"));
}
