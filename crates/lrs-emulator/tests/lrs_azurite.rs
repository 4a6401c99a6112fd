//! LRS against a real Azurite holding synthetic backup chains: autocomplete to Completed, a gap in
//! the logs ends Failed with BrokenRestorePlanGapInLogBackups, a SAS with Write makes the start
//! fail, continuous mode picks up a log uploaded after the start and completes on request, files
//! after the last backup fail autocomplete, DELETE drops a restoring database. Skipped with a note
//! when Azurite is not installed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::PathBuf;

use lrs_core::backup::writer::write_sample_chain;
use reqwest::Method;
use serde_json::{json, Value};
use support::{db_path, start_body, Harness, Storage};

fn names(paths: &[PathBuf]) -> Vec<String> {
    paths.iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect()
}

async fn setup(container: &str) -> Option<(Storage, Harness, tempfile::TempDir, tempfile::TempDir)> {
    let storage = Storage::start(container).await?;
    let state = tempfile::tempdir().unwrap();
    let harness = Harness::start(state.path(), &storage.azurite.blob_endpoint()).await;
    let files = tempfile::tempdir().unwrap();
    Some((storage, harness, state, files))
}

/// GETs an operation URL from a header of a 202.
async fn operation(h: &Harness, url: &str) -> (u16, Value) {
    let path = url.strip_prefix(h.emulator.base_url()).unwrap();
    h.get(path).await
}

#[tokio::test]
async fn autocomplete_restores_the_chain_and_completes() {
    let Some((storage, h, _state, files)) = setup("autocomplete").await else { return };
    let chain = write_sample_chain(files.path(), "Sales", 2).unwrap();
    for file in &chain {
        storage.upload("Sales", file).await;
    }
    let last = names(&chain).pop().unwrap();
    let body = start_body(&storage.folder_uri("Sales"), &storage.lrs_sas(), Some(&last));
    let (status, headers, accepted) = h.call(Method::PUT, &db_path("Sales"), Some(body)).await;
    assert_eq!(status, 202, "{accepted}");
    assert_eq!(accepted["operation"], "CreateExternalManagedBackupRestoreV2Request");
    let async_url = headers["azure-asyncoperation"].to_str().unwrap().to_string();
    assert!(async_url.contains("/managedDatabaseRestoreAzureAsyncOperation/"), "{async_url}");

    let d = h.details("Sales").await;
    assert_eq!(d["properties"], json!({"type": "LRSRestore", "status": "Initializing", "numberOfFilesDetected": 0}));
    let d = h.advance("Sales", 31).await;
    assert_eq!(d["properties"]["status"], "Restoring", "{d}");
    assert_eq!(d["properties"]["numberOfFilesDetected"], 4);
    assert_eq!(d["properties"]["currentRestoringFileName"], names(&chain)[0]);
    assert_eq!(d["properties"]["currentBackupType"], "Full");
    assert_eq!(d["properties"]["numberOfFilesQueued"], 3);
    assert_eq!(d["properties"]["fullBackupSets"][0]["status"], "Restoring");
    let (_, db) = h.get(&db_path("Sales")).await;
    assert_eq!(db["properties"]["status"], "Restoring");
    assert_eq!(operation(&h, &async_url).await.1["status"], "InProgress");

    let d = h.advance("Sales", 130).await;
    assert_eq!(d["properties"]["lastRestoredFileName"], names(&chain)[1], "{d}");
    assert_eq!(d["properties"]["status"], "Restoring");
    let d = h.advance("Sales", 400).await;
    let p = &d["properties"];
    assert_eq!(p["status"], "Completed", "{d}");
    assert_eq!(p["lastRestoredFileName"], last.as_str());
    assert_eq!(p["percentCompleted"], 100);
    assert_eq!(p["numberOfFilesRestored"], 4);
    assert_eq!(p["logBackupSets"].as_array().unwrap().len(), 2);
    assert_eq!(operation(&h, &async_url).await.1["status"], "Succeeded");
    let (_, db) = h.get(&db_path("Sales")).await;
    assert_eq!(db["properties"]["status"], "Online");
}

#[tokio::test]
async fn a_gap_in_the_logs_fails_with_broken_restore_plan() {
    let Some((storage, h, _state, files)) = setup("gap").await else { return };
    let chain = write_sample_chain(files.path(), "Gap", 3).unwrap();
    for (i, file) in chain.iter().enumerate() {
        if i != 3 {
            storage.upload("Gap", file).await;
        }
    }
    let body = start_body(&storage.folder_uri("Gap"), &storage.lrs_sas(), None);
    let (status, headers, _) = h.call(Method::PUT, &db_path("Gap"), Some(body)).await;
    assert_eq!(status, 202);
    let async_url = headers["azure-asyncoperation"].to_str().unwrap().to_string();
    h.advance("Gap", 31).await;
    let d = h.advance("Gap", 3600).await;
    let p = &d["properties"];
    assert_eq!(p["status"], "Failed", "{d}");
    assert_eq!(p["blockReason"], "BrokenRestorePlanGapInLogBackups");
    assert_eq!(p["numberOfFilesRestored"], 3, "the sets before the gap are restored: {d}");
    let (_, op) = operation(&h, &async_url).await;
    assert_eq!(op["status"], "Failed");
    assert_eq!(op["error"]["code"], "BrokenRestorePlanGapInLogBackups");
    assert!(op["error"]["message"].as_str().unwrap().starts_with("The restore plan is broken because firstLsn"));
}

#[tokio::test]
async fn a_sas_with_write_permission_makes_the_start_fail() {
    let Some((storage, h, _state, files)) = setup("writesas").await else { return };
    for file in &write_sample_chain(files.path(), "Hr", 1).unwrap() {
        storage.upload("Hr", file).await;
    }
    let body = start_body(&storage.folder_uri("Hr"), &storage.sas_with("rwl"), None);
    let (status, headers, _) = h.call(Method::PUT, &db_path("Hr"), Some(body)).await;
    assert_eq!(status, 202);
    let d = h.advance("Hr", 31).await;
    assert_eq!(d["properties"]["status"], "Failed", "{d}");
    assert_eq!(d["properties"]["blockReason"], "StorageBrokenIssueDetectedAtTheStart");
    let (_, op) = operation(&h, headers["azure-asyncoperation"].to_str().unwrap()).await;
    assert_eq!(op["status"], "Failed");
    assert!(op["error"]["message"].as_str().unwrap().contains("w (Write)"), "{op}");
}

#[tokio::test]
async fn continuous_mode_takes_a_later_log_then_completes_on_request() {
    let Some((storage, h, _state, files)) = setup("continuous").await else { return };
    let chain = write_sample_chain(files.path(), "Crm", 2).unwrap();
    let all = names(&chain);
    for file in &chain[..3] {
        storage.upload("Crm", file).await;
    }
    let body = start_body(&storage.folder_uri("Crm"), &storage.lrs_sas(), None);
    let (status, headers, _) = h.call(Method::PUT, &db_path("Crm"), Some(body)).await;
    assert_eq!(status, 202);
    let restore_url = headers["azure-asyncoperation"].to_str().unwrap().to_string();
    h.advance("Crm", 31).await;
    let d = h.advance("Crm", 600).await;
    assert_eq!(d["properties"]["lastRestoredFileName"], all[2], "{d}");
    assert_eq!(d["properties"]["status"], "Restoring");

    let complete = |name: &str| json!({ "lastBackupName": name });
    let path = format!("{}/completeRestore", db_path("Crm"));
    let (status, _, err) = h.call(Method::POST, &path, Some(complete(&all[0]))).await;
    assert_eq!((status, err["error"]["code"].as_str()), (400, Some("RequiredBackupIsNotLastRestored")));

    storage.upload("Crm", &chain[3]).await;
    let d = h.details("Crm").await;
    assert_eq!(d["properties"]["numberOfFilesDetected"], 4, "{d}");
    assert_eq!(d["properties"]["lastUploadedFileName"], all[3]);
    let d = h.advance("Crm", 120).await;
    assert_eq!(d["properties"]["lastRestoredFileName"], all[3], "{d}");

    let (status, headers, body) = h.call(Method::POST, &path, Some(complete(&all[3]))).await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["operation"], "ManagedDatabaseCompleteExternalRestore");
    let complete_url = headers["azure-asyncoperation"].to_str().unwrap().to_string();
    assert!(complete_url.contains("/managedDatabaseCompleteRestoreAzureAsyncOperation/"));
    let location = headers["location"].to_str().unwrap().to_string();
    assert_eq!(operation(&h, &location).await.0, 202);
    let (status, _, err) = h.call(Method::POST, &path, Some(complete(&all[3]))).await;
    assert_eq!((status, err["error"]["code"].as_str()), (400, Some("ExternalBackupAlreadySignaledToComplete")));

    let d = h.advance("Crm", 31).await;
    assert_eq!(d["properties"]["status"], "Completed", "{d}");
    assert_eq!(operation(&h, &complete_url).await.1["status"], "Succeeded");
    assert_eq!(operation(&h, &restore_url).await.1["status"], "Succeeded");
    assert_eq!(operation(&h, &location).await.0, 200);
}

#[tokio::test]
async fn autocomplete_fails_when_files_follow_the_last_backup() {
    let Some((storage, h, _state, files)) = setup("afterlast").await else { return };
    let chain = write_sample_chain(files.path(), "Ops", 2).unwrap();
    for file in &chain {
        storage.upload("Ops", file).await;
    }
    let body = start_body(&storage.folder_uri("Ops"), &storage.lrs_sas(), Some(&names(&chain)[2]));
    assert_eq!(h.call(Method::PUT, &db_path("Ops"), Some(body)).await.0, 202);
    let d = h.advance("Ops", 31).await;
    assert_eq!(d["properties"]["status"], "Failed", "{d}");
    assert_eq!(d["properties"]["blockReason"], "InvalidDatabaseCompleteRestoreRequestLastBackupName");
}

#[tokio::test]
async fn delete_drops_a_restoring_database() {
    let Some((storage, h, _state, files)) = setup("drop").await else { return };
    for file in &write_sample_chain(files.path(), "Tmp", 1).unwrap() {
        storage.upload("Tmp", file).await;
    }
    let body = start_body(&storage.folder_uri("Tmp"), &storage.lrs_sas(), None);
    assert_eq!(h.call(Method::PUT, &db_path("Tmp"), Some(body)).await.0, 202);
    assert_eq!(h.advance("Tmp", 31).await["properties"]["status"], "Restoring");
    let (status, headers, body) = h.call(Method::DELETE, &db_path("Tmp"), None).await;
    assert_eq!(status, 202);
    assert_eq!(body["operation"], "DropManagedDatabase");
    let async_url = headers["azure-asyncoperation"].to_str().unwrap().to_string();
    assert!(async_url.contains("/managedDatabaseAzureAsyncOperation/"));
    assert_eq!(h.get(&db_path("Tmp")).await.0, 404);
    assert_eq!(operation(&h, &async_url).await.1["status"], "InProgress");
    h.clock.advance(time::Duration::seconds(31));
    assert_eq!(operation(&h, &async_url).await.1["status"], "Succeeded");
    assert_eq!(h.call(Method::DELETE, &db_path("Tmp"), None).await.0, 204);
}
