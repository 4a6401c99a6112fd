//! The ARM surface against the reference's examples: status codes, headers and JSON shapes of the
//! pickers, the start request's validation and LRO headers, restoreDetails in both schemas, error
//! bodies (401, 404, 400 codes), the 30-day limit on the manual clock, and state kept across a
//! restart. No storage needed: these restores never get past Initializing, or fail at the first
//! listing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use reqwest::Method;
use serde_json::{json, Value};
use support::{db_path, mi_path, start_body, Harness, SUB};

const SAS: &str = "sv=2022-11-02&sr=c&sp=rl&se=2099-01-01T00%3A00%3A00Z&spr=https%2Chttp&sig=abc";

async fn harness() -> (Harness, tempfile::TempDir) {
    let state = tempfile::tempdir().unwrap();
    // Nothing listens on port 9: a restore that gets to its first listing fails there.
    (Harness::start(state.path(), "http://127.0.0.1:9/devstoreaccount1").await, state)
}

fn keys(v: &Value) -> Vec<&str> {
    let mut k: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    k.sort_unstable();
    k
}

#[tokio::test]
async fn unauthenticated_requests_get_arm_401s() {
    let (h, _s) = harness().await;
    let url = h.url("/subscriptions");
    let r = h.http.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.headers().contains_key("www-authenticate"));
    assert!(r.headers().contains_key("x-ms-request-id"));
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "AuthenticationFailed");
    let r = h.http.get(&url).bearer_auth("forged").send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["code"], "InvalidAuthenticationToken");
    let token = h.token().await;
    h.clock.advance(time::Duration::hours(2));
    let r = h.http.get(&url).bearer_auth(token).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["code"], "ExpiredAuthenticationToken");
}

#[tokio::test]
async fn pickers_answer_in_the_shapes_of_the_examples() {
    let (h, _s) = harness().await;
    let (status, subs) = h.get("/subscriptions?api-version=2022-12-01").await;
    assert_eq!(status, 200);
    let sub = &subs["value"][0];
    assert_eq!(
        keys(sub),
        [
            "authorizationSource",
            "displayName",
            "id",
            "managedByTenants",
            "state",
            "subscriptionId",
            "subscriptionPolicies",
            "tags",
            "tenantId"
        ]
    );
    assert_eq!(sub["subscriptionId"], SUB);
    assert_eq!(sub["tenantId"], "11111111-1111-1111-1111-111111111111");
    let (_, groups) = h.get(&format!("/subscriptions/{SUB}/resourcegroups?api-version=2021-04-01")).await;
    assert_eq!(groups["value"][0]["name"], "rehearsal-rg");
    assert_eq!(groups["value"][0]["properties"]["provisioningState"], "Succeeded");
    let (_, mis) = h.get(&format!("/subscriptions/{SUB}/providers/Microsoft.Sql/managedInstances")).await;
    let mi = &mis["value"][0];
    assert_eq!(keys(mi), ["id", "location", "name", "properties", "sku", "type"]);
    assert_eq!(mi["location"], "westeurope");
    assert_eq!(mi["sku"]["tier"], "GeneralPurpose");
    assert_eq!(mi["properties"]["collation"], "SQL_Latin1_General_CP1_CI_AS");
    assert_eq!(mi["properties"]["state"], "Ready");
    assert_eq!(h.get(&mi_path()).await.1, *mi);
    let (_, accounts) = h
        .get(&format!("/subscriptions/{SUB}/providers/Microsoft.Storage/storageAccounts?api-version=2024-01-01"))
        .await;
    assert_eq!(accounts["value"][0]["properties"]["primaryEndpoints"]["blob"], "http://127.0.0.1:9/devstoreaccount1/");
    let path = format!("/subscriptions/{SUB}/resourceGroups/rehearsal-rg/providers/Microsoft.Storage/storageAccounts/devstoreaccount1/listKeys?api-version=2024-01-01");
    let (status, _, listed) = h.call(Method::POST, &path, None).await;
    assert_eq!(status, 200);
    assert_eq!(listed["keys"][0]["keyName"], "key1");
    assert_eq!(listed["keys"][0]["value"], lrs_testkit::AZURITE_KEY);
    let path = path.replace("listKeys", "ListServiceSas");
    let params = json!({"canonicalizedResource": "/blob/devstoreaccount1/music", "signedResource": "c", "signedPermission": "rl", "signedExpiry": "2099-05-24T11:32:48Z"});
    let (status, _, sas) = h.call(Method::POST, &path, Some(params)).await;
    assert_eq!(status, 200, "{sas}");
    let token = sas["serviceSasToken"].as_str().unwrap();
    assert!(token.contains("sr=c") && token.contains("sp=rl") && token.contains("sig="), "{token}");
}

#[tokio::test]
async fn not_found_and_validation_errors_have_arm_codes() {
    let (h, _s) = harness().await;
    let (status, body) = h.get(&db_path("Nope")).await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "ResourceNotFound");
    assert_eq!(body["error"]["message"], "The Resource 'Microsoft.Sql/managedInstances/rehearsal-mi/databases/Nope' under resource group 'rehearsal-rg' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix");
    let (status, body) = h.get(&mi_path().replace("rehearsal-mi", "other-mi")).await;
    assert_eq!((status, body["error"]["code"].as_str()), (404, Some("ResourceNotFound")));
    let (status, body) = h.get(&mi_path().replace("rehearsal-rg", "other-rg")).await;
    assert_eq!((status, body["error"]["code"].as_str()), (404, Some("ResourceGroupNotFound")));
    let (status, body) = h.get(&format!("{}?api-version=", db_path("x"))).await;
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("MissingApiVersionParameter")));
    let (status, body) = h.get(&format!("{}?api-version=2010-01-01", mi_path())).await;
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("NoRegisteredProviderFound")));

    let cases: Vec<(Value, &str)> = vec![
        (json!({"properties": {}}), "LocationRequired"),
        (without("collation"), "MissingCollation"),
        (without("storageContainerUri"), "MissingStorageContainerUri"),
        (without("storageContainerSasToken"), "MissingStorageContainerSasToken"),
        (
            start_body("https://a.blob.core.windows.net/c/db", SAS, None)
                .tap(|b| b["properties"]["autoCompleteRestore"] = json!(true)),
            "AutoCompleteMissingLastBackupName",
        ),
        (start_body("https://a.blob.core.windows.net/c/db", SAS, Some("a\nb")), "LastBackupNameHasNewline"),
        (start_body("https://a.blob.core.windows.net/c/db", SAS, Some("é.bak")), "LastBackupNameHasNonAsciiCharacter"),
    ];
    for (body, code) in cases {
        let (status, _, err) = h.call(Method::PUT, &db_path("Val"), Some(body)).await;
        assert_eq!((status, err["error"]["code"].as_str()), (400, Some(code)));
    }
    let (status, _, err) = h
        .call(Method::PUT, &db_path("master"), Some(start_body("https://a.blob.core.windows.net/c/db", SAS, None)))
        .await;
    assert_eq!((status, err["error"]["code"].as_str()), (400, Some("CannotUseReservedDatabaseName")));
    assert_eq!(h.call(Method::DELETE, &db_path("Nope"), None).await.0, 204);
}

fn without(key: &str) -> Value {
    let mut body = start_body("https://a.blob.core.windows.net/c/db", SAS, None);
    body["properties"].as_object_mut().unwrap().remove(key);
    body
}

trait Tap {
    fn tap(self, f: impl FnOnce(&mut Self)) -> Self;
}

impl Tap for Value {
    fn tap(mut self, f: impl FnOnce(&mut Self)) -> Self {
        f(&mut self);
        self
    }
}

#[tokio::test]
async fn the_start_answers_202_with_the_lro_headers_and_names_are_checked() {
    let (h, _s) = harness().await;
    let body = start_body("https://myaccountname.blob.core.windows.net/backups/db", SAS, None);
    let (status, headers, accepted) = h.call(Method::PUT, &db_path("Lrs"), Some(body.clone())).await;
    assert_eq!(status, 202);
    assert_eq!(keys(&accepted), ["operation", "startTime"]);
    assert_eq!(headers["retry-after"], "15");
    assert!(headers.contains_key("x-ms-request-id"));
    let location = headers["location"].to_str().unwrap();
    let prefix = format!("{}/subscriptions/{SUB}/providers/Microsoft.Sql/locations/westeurope/", h.emulator.base_url());
    assert!(location.starts_with(&format!("{prefix}managedDatabaseRestoreOperationResults/")), "{location}");
    assert!(location.ends_with("?api-version=2025-01-01"));
    let async_url = headers["azure-asyncoperation"].to_str().unwrap();
    assert!(async_url.starts_with(&format!("{prefix}managedDatabaseRestoreAzureAsyncOperation/")));
    let (status, op) = h.get(async_url.strip_prefix(h.emulator.base_url()).unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(keys(&op), ["name", "startTime", "status"]);
    assert_eq!(op["status"], "InProgress");
    assert_eq!(h.get(location.strip_prefix(h.emulator.base_url()).unwrap()).await.0, 202);

    let (status, _, err) = h.call(Method::PUT, &db_path("lrs"), Some(body)).await;
    assert_eq!((status, err["error"]["code"].as_str()), (400, Some("ManagedDatabaseNameInUse")));
    assert_eq!(err["error"]["message"], "Database 'lrs' already exists. Choose a different database name.");
    let (_, db) = h.get(&db_path("Lrs")).await;
    assert_eq!(keys(&db), ["id", "location", "name", "properties", "type"]);
    assert_eq!(db["type"], "Microsoft.Sql/managedInstances/databases");
    assert_eq!(db["properties"]["status"], "Restoring");

    let extended = h.details("Lrs").await;
    assert_eq!(extended["name"], "Default");
    assert_eq!(extended["type"], "Microsoft.Sql/managedInstances/databases/restoreDetails");
    assert_eq!(extended["id"], format!("{}/restoreDetails/Default", db_path("Lrs")));
    assert_eq!(
        extended["properties"],
        json!({"type": "LRSRestore", "status": "Initializing", "numberOfFilesDetected": 0})
    );
    let (_, basic) = h.get(&format!("{}/restoreDetails/Default?api-version=2021-11-01", db_path("Lrs"))).await;
    assert_eq!(basic["properties"], json!({"status": "Initializing", "numberOfFilesDetected": 0}));

    let d = h.advance("Lrs", 31).await;
    assert_eq!(d["properties"]["status"], "Failed", "unreachable storage: {d}");
    assert_eq!(d["properties"]["blockReason"], "StorageBrokenIssueDetectedAtTheStart");
    let (status, err) = h.get(location.strip_prefix(h.emulator.base_url()).unwrap()).await;
    assert_eq!((status, err["error"]["code"].as_str()), (400, Some("StorageBrokenIssueDetectedAtTheStart")));
}

#[tokio::test]
async fn plain_databases_have_no_restore_details_and_cannot_be_completed() {
    let (h, _s) = harness().await;
    let body = json!({"location": "westeurope", "properties": {"collation": "SQL_Latin1_General_CP1_CI_AS"}});
    let (status, _, db) = h.call(Method::PUT, &db_path("Plain"), Some(body)).await;
    assert_eq!(status, 201);
    assert_eq!(db["properties"]["status"], "Online");
    let (status, err) = h.get(&format!("{}/restoreDetails/Default", db_path("Plain"))).await;
    assert_eq!((status, err["error"]["code"].as_str()), (400, Some("RestoreDetailsNotAvailableOrExpired")));
    let path = format!("{}/completeRestore", db_path("Plain"));
    let (status, _, err) = h.call(Method::POST, &path, Some(json!({"lastBackupName": "x.bak"}))).await;
    assert_eq!((status, err["error"]["code"].as_str()), (400, Some("LRSCutoverDatabaseNotInRestoringState")));
    let (_, list) = h.get(&format!("{}/databases", mi_path())).await;
    assert_eq!(list["value"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_job_is_canceled_after_30_days() {
    let (h, _s) = harness().await;
    let body = start_body("https://a.blob.core.windows.net/c/db", SAS, None);
    let mut config = support::config(&h.clock, &h.state_dir, "http://127.0.0.1:9/devstoreaccount1");
    config.timing.initializing_seconds = 40 * 24 * 3600;
    drop(h);
    let clock = lrs_emulator::ManualClock::starting_now();
    config.clock = std::sync::Arc::new(clock.clone());
    let h = Harness::start_with(config, clock).await;
    let (_, headers, _) = h.call(Method::PUT, &db_path("Long"), Some(body)).await;
    assert_eq!(h.advance("Long", 29 * 24 * 3600).await["properties"]["status"], "Initializing");
    let d = h.advance("Long", 2 * 24 * 3600).await;
    assert_eq!(d["properties"]["status"], "Failed");
    let (_, op) =
        h.get(headers["azure-asyncoperation"].to_str().unwrap().strip_prefix(h.emulator.base_url()).unwrap()).await;
    assert_eq!(op["status"], "Canceled");
    assert!(op["error"]["message"].as_str().unwrap().contains("30 days"));
}

#[tokio::test]
async fn state_survives_a_restart() {
    let (h, state) = harness().await;
    let token = h.token().await;
    let body = start_body("https://a.blob.core.windows.net/c/db", SAS, None);
    assert_eq!(h.call(Method::PUT, &db_path("Kept"), Some(body)).await.0, 202);
    let url = h.url(&db_path("Kept"));
    h.emulator.shutdown().await;
    let clock = h.clock.clone();
    let h2 =
        Harness::start_with(support::config(&clock, state.path(), "http://127.0.0.1:9/devstoreaccount1"), clock).await;
    let url = url.replace(&url[..url.find("/subscriptions").unwrap()], h2.emulator.base_url());
    let r = h2.http.get(url).bearer_auth(token).send().await.unwrap();
    assert_eq!(r.status(), 200, "the old token and the database are still there");
    assert_eq!(h2.details("Kept").await["properties"]["status"], "Initializing");
}

#[tokio::test]
async fn lists_are_paged_with_next_link() {
    let state = tempfile::tempdir().unwrap();
    let clock = lrs_emulator::ManualClock::starting_now();
    let mut config = support::config(&clock, state.path(), "http://127.0.0.1:9/devstoreaccount1");
    config.page_size = 1;
    let h = Harness::start_with(config, clock).await;
    for name in ["A", "B"] {
        let body = json!({"location": "westeurope", "properties": {}});
        assert_eq!(h.call(Method::PUT, &db_path(name), Some(body)).await.0, 201);
    }
    let (_, page) = h.get(&format!("{}/databases", mi_path())).await;
    assert_eq!(page["value"][0]["name"], "A");
    let next = page["nextLink"].as_str().unwrap();
    let (_, page) = h.get(next.strip_prefix(h.emulator.base_url()).unwrap()).await;
    assert_eq!(page["value"][0]["name"], "B");
    assert!(page.get("nextLink").is_none());
}
