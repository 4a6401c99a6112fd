//! The ARM client against a scripted loopback server answering with the reference's recorded
//! bodies: service-principal sign-in (client credentials), bearer auth and api-versions, the
//! retry policy (503/429 retried with Retry-After, 400/403 never), typed errors with request ids,
//! nextLink paging, the pickers, and long-running operations (Azure-AsyncOperation, Location).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod arm_recorded;
mod arm_support;

use std::time::{Duration, Instant};

use arm_recorded::*;
use arm_support::*;
use lrs_core::arm::lro::{self, LroOutcome, Operation, PollOptions, Wait};
use lrs_core::arm::{ArmClient, ErrorKind, ServicePrincipal};
use lrs_core::secrets::Secret;
use reqwest::Method;

fn quick_polls() -> PollOptions {
    PollOptions {
        default_interval: Duration::from_millis(5),
        max_interval: Duration::from_millis(10),
        min_interval: Duration::ZERO,
        max_wait: Duration::from_secs(10),
    }
}

#[tokio::test]
async fn subscriptions_follow_next_link_with_one_token() {
    let stub = ArmStub::start().await;
    let page1 =
        SUBSCRIPTIONS.replace(r#""nextLink": "...""#, &format!(r#""nextLink": "{}/subscriptions/page2""#, stub.base));
    stub.route("GET", "/subscriptions", vec![Reply::json(200, &page1)]);
    let page2 = r#"{"value":[{"subscriptionId":"22222222-2222-2222-2222-222222222222","displayName":"Rehearsal","state":"Enabled"}]}"#;
    stub.route("GET", "/subscriptions/page2", vec![Reply::json(200, page2)]);

    let client = stub.client();
    let subs = client.subscriptions().await.unwrap();
    let names: Vec<&str> = subs.iter().map(|s| s.display_name.as_str()).collect();
    assert_eq!(names, ["Example Subscription", "Example Subscription2", "Rehearsal"]);
    assert_eq!(subs[0].tenant_id.as_deref(), Some("31c75423-32d6-4322-88b7-c478bdde4858"));
    let seen = stub.arm_requests();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].target, "/subscriptions?api-version=2022-12-01");
    assert_eq!(seen[1].target, "/subscriptions/page2", "a nextLink is followed as given");
    assert_eq!(seen[0].header("authorization"), Some(format!("Bearer {ACCESS_TOKEN}").as_str()));
    assert_eq!(stub.tokens_issued(), 1, "the token is cached");
}

#[tokio::test]
async fn a_wrong_client_secret_is_an_unauthenticated_error_without_the_secret() {
    let stub = ArmStub::start().await;
    let sp = ServicePrincipal {
        tenant_id: TENANT.into(),
        client_id: CLIENT_ID.into(),
        secret: Secret::new("wrong-secret-value"),
        authority_host: None,
    };
    let cloud = stub.cloud();
    let client = ArmClient::new(cloud.clone(), sp.credential(&cloud).unwrap(), fast_options()).unwrap();
    let err = client.subscriptions().await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Unauthenticated);
    let text = err.to_string();
    assert!(text.contains("invalid_client"), "{text}");
    assert!(!text.contains("wrong-secret-value"));
    assert!(stub.arm_requests().is_empty(), "no ARM call without a token");
}

#[tokio::test]
async fn the_service_principal_comes_from_the_environment_variables() {
    let stub = ArmStub::start().await;
    stub.route("GET", "/subscriptions", vec![Reply::json(200, r#"{"value":[]}"#)]);
    let vars = [
        ("AZURE_TENANT_ID", TENANT.to_string()),
        ("AZURE_CLIENT_ID", CLIENT_ID.to_string()),
        ("AZURE_CLIENT_SECRET", CLIENT_SECRET.to_string()),
        ("AZURE_AUTHORITY_HOST", stub.base.clone()),
    ];
    let sp =
        ServicePrincipal::from_vars(|k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone())).unwrap().unwrap();
    // The ARM endpoint is the stub too; the authority host comes from AZURE_AUTHORITY_HOST.
    let cloud = lrs_core::arm::AzureCloud::custom(&stub.base, Some("https://login.invalid"), None).unwrap();
    let client = ArmClient::new(cloud.clone(), sp.credential(&cloud).unwrap(), fast_options()).unwrap();
    assert!(client.subscriptions().await.unwrap().is_empty());
    assert_eq!(stub.tokens_issued(), 1);
}

#[tokio::test]
async fn transient_failures_are_retried_and_retry_after_honoured() {
    let stub = ArmStub::start().await;
    let busy = Reply::json(503, r#"{"error":{"code":"TooManyRequests","message":"busy"}}"#).header("Retry-After", "1");
    let throttled = Reply::json(429, r#"{"error":{"code":"SubscriptionTooManyRequests","message":"slow"}}"#);
    stub.route("GET", "/subscriptions", vec![busy, throttled, Reply::json(200, r#"{"value":[]}"#)]);
    let started = Instant::now();
    stub.client().subscriptions().await.unwrap();
    assert!(started.elapsed() >= Duration::from_secs(1), "Retry-After: 1 was honoured");
    assert_eq!(stub.arm_requests().len(), 3);
}

#[tokio::test]
async fn bad_requests_and_denials_are_not_retried_and_carry_code_and_request_id() {
    let stub = ArmStub::start().await;
    let denied = Reply::json(
        403,
        r#"{"error":{"code":"AuthorizationFailed","message":"The client does not have authorization"}}"#,
    )
    .header("x-ms-request-id", "req-403");
    stub.route("GET", "/subscriptions/s1/resourcegroups", vec![denied]);
    stub.route(
        "GET",
        "/subscriptions/s2/resourcegroups",
        vec![Reply::json(400, r#"{"error":{"code":"InvalidApiVersionParameter","message":"bad"}}"#)],
    );
    let nf = Reply::json(404, NOT_FOUND_404).header("x-ms-request-id", "req-404");
    stub.route(
        "GET",
        "/subscriptions/s3/resourceGroups/ps3312/providers/Microsoft.Sql/managedInstances/ps6172",
        vec![nf],
    );
    let client = stub.client();

    let err = client.resource_groups("s1").await.unwrap_err();
    assert_eq!(
        (err.kind, err.status, err.code.as_deref()),
        (ErrorKind::PermissionDenied, Some(403), Some("AuthorizationFailed"))
    );
    assert_eq!(err.request_id.as_deref(), Some("req-403"));
    let err = client.resource_groups("s2").await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::BadRequest);
    let err = client.managed_instance("s3", "ps3312", "ps6172").await.unwrap_err();
    assert_eq!((err.kind, err.code.as_deref()), (ErrorKind::NotFound, Some("ResourceNotFound")));
    assert_eq!(err.request_id.as_deref(), Some("req-404"));
    assert!(err.explanation().is_some());
    assert_eq!(stub.arm_requests().len(), 3, "one request each");
}

#[tokio::test]
async fn a_revoked_token_is_replaced_once() {
    let stub = ArmStub::start().await;
    let expired = Reply::json(401, r#"{"error":{"code":"ExpiredAuthenticationToken","message":"expired"}}"#);
    stub.route("GET", "/subscriptions", vec![expired, Reply::json(200, r#"{"value":[]}"#)]);
    stub.client().subscriptions().await.unwrap();
    assert_eq!(stub.tokens_issued(), 2);
}

#[tokio::test]
async fn the_token_is_never_sent_to_another_origin() {
    let stub = ArmStub::start().await;
    let other = ArmStub::start().await;
    let page = format!(r#"{{"value":[],"nextLink":"{}/subscriptions?page=2"}}"#, other.base);
    stub.route("GET", "/subscriptions", vec![Reply::json(200, &page)]);
    let err = stub.client().subscriptions().await.unwrap_err();
    assert!(err.to_string().contains("not the ARM endpoint"), "{err}");
    assert!(other.seen().is_empty());
}

#[tokio::test]
async fn pickers_read_the_recorded_bodies() {
    let stub = ArmStub::start().await;
    stub.route(
        "GET",
        "/subscriptions/s/resourceGroups/Test1/providers/Microsoft.Sql/managedInstances",
        vec![Reply::json(200, MANAGED_INSTANCES)],
    );
    let account = "/subscriptions/s/resourceGroups/res418/providers/Microsoft.Storage/storageAccounts/sto2220";
    stub.route("POST", &format!("{account}/listKeys"), vec![Reply::json(200, LIST_KEYS)]);
    stub.route("POST", &format!("{account}/ListServiceSas"), vec![Reply::json(200, LIST_SERVICE_SAS)]);
    let client = stub.client();

    let mis = client.managed_instances("s", Some("Test1")).await.unwrap();
    assert_eq!(mis.len(), 2);
    assert_eq!(mis[0].name, "testinstance1");
    assert_eq!(mis[0].resource_group, "Test1");
    assert_eq!(mis[0].location, "japaneast");
    assert_eq!(mis[0].tier.as_deref(), Some("GeneralPurpose"));
    assert_eq!(mis[1].tier.as_deref(), Some("BusinessCritical"));
    assert_eq!(mis[0].collation.as_deref(), Some("SQL_Latin1_General_CP1_CI_AS"));
    assert_eq!(mis[0].state.as_deref(), Some("Ready"));
    assert_eq!(mis[0].vcores, Some(8));

    let keys = client.list_keys("s", "res418", "sto2220").await.unwrap();
    assert_eq!(keys.iter().map(|k| k.name.as_str()).collect::<Vec<_>>(), ["key1", "key2"]);
    assert_eq!(keys[0].value.expose(), "<value>");
    assert!(!format!("{keys:?}").contains("<value>"));

    let expiry = time::macros::datetime!(2017-05-24 11:32:48 UTC);
    let sas = client.list_service_sas(("s", "res418", "sto2220"), "music", None, expiry, true).await.unwrap();
    assert!(sas.expose().starts_with("sv=2015-04-05&sr=c"));
    let request = stub.arm_requests().into_iter().find(|s| s.path().ends_with("/ListServiceSas")).unwrap();
    assert_eq!(request.target.split_once('?').unwrap().1, "api-version=2024-01-01");
    let body = request.json();
    assert_eq!(body["canonicalizedResource"], "/blob/sto2220/music");
    assert_eq!(body["signedResource"], "c");
    assert_eq!(body["signedPermission"], "rl");
    assert_eq!(body["signedExpiry"], "2017-05-24T11:32:48Z");
    assert_eq!(body["signedProtocol"], "https");
}

#[tokio::test]
async fn operations_follow_azure_async_operation_first() {
    let stub = ArmStub::start().await;
    let (headers, body) = split_http(COMPLETE_202);
    let mut accepted = Reply::json(202, &body);
    for (k, v) in headers {
        accepted = accepted.header(&k, &v);
    }
    stub.route("POST", "/do", vec![accepted]);
    let aao = "/subscriptions/a8c9a924-06c0-4bde-9788-e7b1370969e1/providers/Microsoft.Sql/locations/westcentralus/managedDatabaseCompleteRestoreAzureAsyncOperation/822590a0-6ab7-4fa3-ae14-25152c837732";
    let running =
        START_OP_IN_PROGRESS.replace("68971faf-fb51-4df5-bf44-71312318deba", "822590a0-6ab7-4fa3-ae14-25152c837732");
    let done =
        START_OP_SUCCEEDED.replace("68971faf-fb51-4df5-bf44-71312318deba", "822590a0-6ab7-4fa3-ae14-25152c837732");
    let poll = |b: &str| Reply::json(200, b).header("Retry-After", "15");
    stub.route("GET", aao, vec![poll(&running), poll(&running), poll(&done)]);
    let client = stub.client();

    let url = client.url("/do", "2025-01-01").unwrap();
    let response = client.send(Method::POST, url.clone(), None, "complete").await.unwrap();
    let op = Operation::from_response("complete", &response).unwrap().unwrap();
    assert_eq!(op.retry_after, Some(Duration::from_secs(15)));
    let outcome = lro::follow(&client, "complete", &response, &Wait::Yes(quick_polls())).await.unwrap();
    assert_eq!(outcome, LroOutcome::Done);
    let polls = stub.arm_requests().iter().filter(|s| s.path() == aao).count();
    assert_eq!(polls, 3);
    assert!(stub.arm_requests().iter().all(|s| !s.path().contains("OperationResults")), "Location is not polled");

    // Not waiting returns the operation at once.
    let response = client.send(Method::POST, url, None, "complete").await.unwrap();
    let outcome = lro::follow(&client, "complete", &response, &Wait::No).await.unwrap();
    assert!(matches!(outcome, LroOutcome::Accepted(op) if op.azure_async_operation.is_some()));
}

#[tokio::test]
async fn location_is_polled_when_there_is_no_async_operation_and_failures_are_typed() {
    let stub = ArmStub::start().await;
    let accepted =
        Reply::empty(202).header("Location", "https://management.azure.com/result/1").header("Retry-After", "1");
    stub.route("DELETE", "/thing", vec![accepted]);
    stub.route("GET", "/result/1", vec![Reply::empty(202).header("Retry-After", "0"), Reply::empty(200)]);
    let failing = Reply::empty(202).header("Azure-AsyncOperation", "https://management.azure.com/op/2");
    stub.route("DELETE", "/other", vec![failing]);
    let failed = r#"{"name":"2","status":"Failed","startTime":"2020-09-03T14:13:50.873Z","error":{"code":"ConflictingDatabaseOperation","message":"busy"}}"#;
    stub.route("GET", "/op/2", vec![Reply::json(200, failed)]);
    let client = stub.client();

    let started = Instant::now();
    let response = client.send(Method::DELETE, client.url("/thing", "v").unwrap(), None, "drop").await.unwrap();
    let options = PollOptions { max_interval: Duration::from_secs(5), ..quick_polls() };
    assert_eq!(lro::follow(&client, "drop", &response, &Wait::Yes(options)).await.unwrap(), LroOutcome::Done);
    assert!(started.elapsed() >= Duration::from_secs(1), "the initial Retry-After: 1 was honoured");
    assert_eq!(stub.arm_requests().iter().filter(|s| s.path() == "/result/1").count(), 2);

    let response = client.send(Method::DELETE, client.url("/other", "v").unwrap(), None, "drop").await.unwrap();
    let err = lro::follow(&client, "drop", &response, &Wait::Yes(quick_polls())).await.unwrap_err();
    assert_eq!((err.kind, err.code.as_deref()), (ErrorKind::OperationFailed, Some("ConflictingDatabaseOperation")));
}

#[tokio::test]
async fn a_delete_or_post_that_may_have_arrived_is_never_sent_twice() {
    // A 500 may come after the service acted: sending the drop or the cutover again could drop a
    // database that has just been cut over. Only a GET is repeated whatever happened.
    let stub = ArmStub::start().await;
    let failing = || Reply::json(500, r#"{"error":{"code":"InternalServerError","message":"oops"}}"#);
    stub.route("DELETE", "/subscriptions/s/x", vec![failing(), Reply::empty(200)]);
    stub.route("POST", "/subscriptions/s/y", vec![failing(), Reply::empty(200)]);
    let client = stub.client();
    for (method, path) in [(Method::DELETE, "/subscriptions/s/x"), (Method::POST, "/subscriptions/s/y")] {
        let url = client.url(path, "2025-01-01").unwrap();
        let err = client.send(method.clone(), url, None, "test").await.unwrap_err();
        assert_eq!(err.status, Some(500), "{method}");
    }
    assert_eq!(stub.arm_requests().len(), 2, "each sent once");
    // A 429 means the service did not act: that one is sent again.
    let throttled = Reply::json(429, r#"{"error":{"code":"TooManyRequests","message":"slow"}}"#);
    stub.route("DELETE", "/subscriptions/s/z", vec![throttled, Reply::empty(200)]);
    let url = client.url("/subscriptions/s/z", "2025-01-01").unwrap();
    client.send(Method::DELETE, url, None, "test").await.unwrap();
    assert_eq!(stub.arm_requests().len(), 4);
}
