//! The migration end to end with the real `lrs` binary, against a real Azurite and the LRS emulator
//! (started in this process on a clock the tests move; `lrs status` itself only reads): inspect,
//! upload, create and check the SAS, list, start in autocomplete mode and read the status until
//! Completed; continuous mode with a log uploaded after the start, then `lrs complete` confirmed by
//! typing the name; a missing log ends Failed with BrokenRestorePlanGapInLogBackups, explained; a
//! SAS with Write is refused before the start, and fails the start when sent anyway; `lrs stop`
//! drops a restoring database and refuses one LRS did not create. Skipped with a note without Azurite.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::{Path, PathBuf};

use lrs_core::arm::{ArmClient, ArmClientOptions, AzureCloud, ServicePrincipal};
use lrs_core::backup::writer::write_sample_chain;
use lrs_core::secrets::Secret;
use lrs_core::storage::sas::{Permissions, ServiceSas, SignedResource, SIGNED_VERSION};
use lrs_core::storage::ContainerUrl;
use lrs_emulator::seed::{DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_TENANT};
use lrs_testkit::AZURITE_KEY;
use serde_json::{json, Value};
use support::{strings, upload_name, World, SUB};

fn args(head: &[&str], world: &World, database: &str) -> Vec<String> {
    let mut args = strings(head);
    args.extend(world.target(database));
    args
}

async fn upload(world: &World, dir: &Path, folder: &str, force: bool) -> Value {
    let mut args = strings(&["upload", &dir.display().to_string(), "--container-url", &world.container_url]);
    args.extend(strings(&["--folder", folder, "--account-key-env", "LRS_TEST_KEY", "--settle-seconds", "0", "--json"]));
    if force {
        args.push("--force".into());
    }
    let out = world.lrs(&args, &[], None).await.expect(0);
    out.stdout.lines().last().map(|l| serde_json::from_str(l).unwrap_or(Value::Null)).unwrap_or(Value::Null)
}

fn copy_into(files: &[PathBuf], dir: &Path) {
    for file in files {
        std::fs::copy(file, dir.join(file.file_name().unwrap())).unwrap();
    }
}

fn folder_uri(world: &World, folder: &str) -> String {
    format!("{}/{folder}", world.container_url)
}

async fn start(world: &World, database: &str, sas: &str, extra: &[&str]) -> support::Out {
    let uri = folder_uri(world, database);
    let mut a = args(&["start", "--storage-uri", &uri, "--sas-env", "LRS_SAS"], world, database);
    a.extend(strings(extra));
    world.lrs(&a, &[("LRS_SAS", sas)], None).await
}

#[tokio::test]
async fn autocomplete_from_inspect_to_completed() {
    let Some(world) = World::start("autocomplete").await else { return };
    let source = world.dir("Sales");
    let chain = write_sample_chain(&source, "Sales", 2).unwrap();

    let inspect = world.lrs(&strings(&["inspect", &source.display().to_string(), "--json"]), &[], None).await;
    let report = inspect.expect(0).json();
    let last = report["databases"][0]["last_backup_name"].as_str().unwrap().to_string();
    assert_eq!(last, upload_name(chain.last().unwrap()));

    upload(&world, &source, "Sales", false).await;
    let sas = world.sas_create().await;
    let check = strings(&["sas", "check", "--container-url", &world.container_url, "--sas-env", "LRS_SAS"]);
    let mut check = check;
    check.extend(strings(&["--folder", "Sales"]));
    let verdict = world.lrs(&check, &[("LRS_SAS", &sas)], None).await.expect(0);
    assert!(verdict.stdout.contains("LRS will accept this token."), "{verdict:?}");

    let started = start(&world, "Sales", &sas, &["--auto-complete", "--last-backup", &last, "--json"]).await;
    let started = started.expect(0).json();
    assert_eq!(started["collation"], "SQL_Latin1_General_CP1_CI_AS", "the instance's collation by default");
    assert_eq!(started["location"], "westeurope");
    assert!(started["requestId"].is_string());

    let first = world.status("Sales").await;
    assert_eq!(first["type"], "LRSRestore");
    assert_eq!(first["status"], "Initializing");
    let restoring = world.status_until("Sales", 5, |p| p["status"] == "Restoring").await;
    assert_eq!(restoring["numberOfFilesDetected"], 4, "{restoring}");
    let text = world.lrs(&args(&["status"], &world, "Sales"), &[], None).await.expect(0);
    assert!(text.stdout.contains("Sales on rehearsal-mi: Restoring (LRSRestore)"), "{text:?}");
    assert!(text.stdout.contains("4 detected"), "{text:?}");

    let done = world.status_until("Sales", 20, |p| p["status"] == "Completed").await;
    assert_eq!(done["lastRestoredFileName"], last.as_str());
    assert_eq!(done["percentCompleted"], 100);
    let text = world.lrs(&args(&["status"], &world, "Sales"), &[], None).await.expect(0);
    assert!(text.stdout.contains("Completed"), "{text:?}");

    // After the cutover the database is the migrated one: stop must not drop it.
    let stop = world.lrs(&args(&["stop", "--yes"], &world, "Sales"), &[], None).await.expect(1);
    assert!(stop.stderr.contains("nothing left to complete or stop"), "{stop:?}");
    // A second start on the same name is refused before anything is sent.
    let again = start(&world, "Sales", &sas, &[]).await.expect(1);
    assert!(again.stderr.contains("already exists"), "{again:?}");
}

#[tokio::test]
async fn continuous_mode_takes_a_later_log_then_completes() {
    let Some(world) = World::start("continuous").await else { return };
    let chain = write_sample_chain(&world.dir("all"), "Crm", 2).unwrap();
    let source = world.dir("Crm");
    copy_into(&chain[..3], &source);
    upload(&world, &source, "Crm", false).await;
    let sas = world.sas_create().await;
    start(&world, "Crm", &sas, &[]).await.expect(0);
    let third = upload_name(&chain[2]);
    world.status_until("Crm", 20, |p| p["lastRestoredFileName"] == third.as_str()).await;

    // A continuous restore never ends on its own: --watch gives up at --timeout (exit 124).
    let watch = args(&["status", "--watch", "--interval", "1", "--timeout", "2"], &world, "Crm");
    let gave_up = world.lrs(&watch, &[], None).await.expect(124);
    assert!(gave_up.stdout.contains("Crm on rehearsal-mi: Restoring"), "{gave_up:?}");
    assert!(gave_up.stderr.contains("still Restoring after 2 s"), "{gave_up:?}");

    // Refused before anything is sent: the full backup is not the last restored file.
    let full = upload_name(&chain[0]);
    let complete_full = args(&["complete", "--last-backup", &full, "--yes"], &world, "Crm");
    let too_early = world.lrs(&complete_full, &[], None).await.expect(1);
    assert!(too_early.stderr.contains("is not the last restored backup"), "{too_early:?}");

    // The next log backup arrives after the start; the upload sends it alone.
    copy_into(&chain[3..], &source);
    upload(&world, &source, "Crm", false).await;
    let last = upload_name(&chain[3]);
    // LRS is now restoring it: the service refuses a cutover at the previous file, and the CLI explains.
    let complete_third = args(&["complete", "--last-backup", &third, "--yes"], &world, "Crm");
    let refused = world.lrs(&complete_third, &[], None).await.expect(1);
    assert!(refused.stderr.contains("code:       RequiredBackupIsNotLastRestored"), "{refused:?}");
    assert!(refused.stderr.contains("fix:") && refused.stderr.contains("request id:"), "{refused:?}");
    world.status_until("Crm", 10, |p| p["lastRestoredFileName"] == last.as_str()).await;

    let complete = args(&["complete", "--last-backup", &last], &world, "Crm");
    let mismatch = world.lrs(&complete, &[], Some("crm\n")).await.expect(2);
    assert!(mismatch.stderr.contains("Type the database name (Crm) to confirm"), "{mismatch:?}");
    assert!(mismatch.stderr.contains("nothing was done"), "{mismatch:?}");
    assert_eq!(world.status("Crm").await["status"], "Restoring");

    let done = world.lrs_while_time_passes(&complete, Some("Crm\n")).await.expect(0);
    assert!(done.stdout.contains("Cutover of 'Crm' complete"), "{done:?}");
    assert_eq!(world.status("Crm").await["status"], "Completed");
}

#[tokio::test]
async fn a_missing_log_fails_with_an_explanation() {
    let Some(world) = World::start("gap").await else { return };
    let source = world.dir("Gap");
    let chain = write_sample_chain(&source, "Gap", 3).unwrap();
    upload(&world, &source, "Gap", false).await;
    world.curl("DELETE", &format!("{}/Gap/{}", world.container_url, upload_name(&chain[3])), "202");
    let sas = world.sas_create().await;
    start(&world, "Gap", &sas, &[]).await.expect(0);

    // --watch prints each change and stops at the final state (exit 1: Failed).
    let watch =
        world.lrs_while_time_passes(&args(&["status", "--watch", "--interval", "1"], &world, "Gap"), None).await;
    let watch = watch.expect(1);
    assert!(
        watch.stdout.contains("Gap on rehearsal-mi: Initializing") || watch.stdout.contains("Restoring"),
        "{watch:?}"
    );
    assert!(watch.stdout.trim_end().lines().any(|l| l.contains("Gap on rehearsal-mi: Failed")), "{watch:?}");
    let failed = world.status_until("Gap", 20, |p| p["status"] == "Failed").await;
    assert_eq!(failed["blockReason"], "BrokenRestorePlanGapInLogBackups", "{failed}");
    let text = world.lrs(&args(&["status"], &world, "Gap"), &[], None).await.expect(1);
    let explanation = lrs_core::arm::explain::explain("BrokenRestorePlanGapInLogBackups").unwrap();
    assert!(text.stdout.contains("error          BrokenRestorePlanGapInLogBackups"), "{text:?}");
    assert!(text.stdout.contains(explanation.meaning), "{text:?}");
    assert!(text.stdout.contains(explanation.fix), "{text:?}");
}

/// A correctly signed container SAS with Read, Write and List.
fn write_sas(world: &World) -> String {
    let container = ContainerUrl::parse(&world.container_url).unwrap();
    let now = time::OffsetDateTime::now_utc();
    let sas = ServiceSas {
        resource: SignedResource::Container,
        permissions: Permissions::parse("rwl").unwrap(),
        start: Some(now - time::Duration::minutes(15)),
        expiry: now + time::Duration::days(32),
        protocol: Some("https,http".into()),
        identifier: None,
        version: SIGNED_VERSION.into(),
    };
    sas.sign(container.account(), container.container(), &Secret::new(AZURITE_KEY)).unwrap().expose().to_string()
}

#[tokio::test]
async fn a_sas_with_write_permission_makes_the_start_fail() {
    let Some(world) = World::start("writesas").await else { return };
    let source = world.dir("Hr");
    write_sample_chain(&source, "Hr", 1).unwrap();
    upload(&world, &source, "Hr", false).await;
    let sas = write_sas(&world);
    world.secret(&sas);

    let refused = start(&world, "Hr", &sas, &[]).await.expect(1);
    assert!(refused.stderr.contains("LRS will refuse the SAS in LRS_SAS"), "{refused:?}");
    assert!(refused.stderr.contains("fix:"), "{refused:?}");
    let missing = world.lrs(&args(&["status"], &world, "Hr"), &[], None).await.expect(1);
    assert!(missing.stderr.contains("ResourceNotFound") || missing.stderr.contains("not found"), "{missing:?}");

    start(&world, "Hr", &sas, &["--no-sas-check"]).await.expect(0);
    let failed = world.status_until("Hr", 5, |p| p["status"] == "Failed").await;
    assert_eq!(failed["blockReason"], "StorageBrokenIssueDetectedAtTheStart", "{failed}");
    let text = world.lrs(&args(&["status"], &world, "Hr"), &[], None).await.expect(1);
    let explanation = lrs_core::arm::explain::explain("StorageBrokenIssueDetectedAtTheStart").unwrap();
    assert!(text.stdout.contains(explanation.fix), "{text:?}");
}

/// An ARM client signed in as the seed service principal, for the test's own requests.
fn arm(world: &World) -> ArmClient {
    let cloud = AzureCloud::emulator(world.emulator.base_url()).unwrap();
    let sp = ServicePrincipal {
        tenant_id: DEFAULT_TENANT.into(),
        client_id: DEFAULT_CLIENT_ID.into(),
        secret: Secret::new(DEFAULT_CLIENT_SECRET),
        authority_host: None,
    };
    ArmClient::new(cloud.clone(), sp.credential(&cloud).unwrap(), ArmClientOptions::default()).unwrap()
}

#[tokio::test]
async fn stop_drops_a_restoring_database_and_refuses_a_plain_one() {
    let Some(world) = World::start("stop").await else { return };
    let source = world.dir("Tmp");
    write_sample_chain(&source, "Tmp", 1).unwrap();
    upload(&world, &source, "Tmp", false).await;
    let sas = world.sas_create().await;
    start(&world, "Tmp", &sas, &[]).await.expect(0);
    world.status_until("Tmp", 5, |p| p["status"] == "Restoring").await;

    let stop = args(&["stop"], &world, "Tmp");
    let dropped = world.lrs_while_time_passes(&stop, Some("Tmp\n")).await.expect(0);
    assert!(dropped.stderr.contains("Stopping drops the database 'Tmp'"), "{dropped:?}");
    assert!(dropped.stdout.contains("database 'Tmp' dropped from rehearsal-mi"), "{dropped:?}");
    world.lrs(&args(&["status"], &world, "Tmp"), &[], None).await.expect(1);

    // A database created without LRS (createMode Default) has no Log Replay restore to stop.
    let client = arm(&world);
    let path = format!("/subscriptions/{SUB}/resourceGroups/rehearsal-rg/providers/Microsoft.Sql/managedInstances/rehearsal-mi/databases/Plain");
    let url = client.url(&path, "2025-01-01").unwrap();
    let body = json!({"location": "westeurope", "properties": {"createMode": "Default"}});
    client.send(reqwest::Method::PUT, url, Some(&body), "create a plain database").await.unwrap();
    let refused = world.lrs(&args(&["stop", "--yes"], &world, "Plain"), &[], None).await.expect(1);
    assert!(refused.stderr.contains("refusing to stop 'Plain'"), "{refused:?}");
    let still_there: Value = client.get_json(&path, "2025-01-01", "get the plain database").await.unwrap();
    assert_eq!(still_there["name"], "Plain");
}

#[tokio::test]
async fn list_and_login_against_the_emulator() {
    let Some(world) = World::start("list").await else { return };
    let base = world.emulator.base_url().to_string();
    let list = |what: &str| strings(&["list", what, "--arm-endpoint", &base, "--json"]);
    let subs = world.lrs(&list("subscriptions"), &[], None).await.expect(0).json();
    assert_eq!(subs[0]["subscriptionId"], SUB, "{subs}");
    let groups = world.lrs(&list("groups"), &[], None).await.expect(0).json();
    assert_eq!(groups[0]["name"], "rehearsal-rg", "{groups}");
    let instances = world.lrs(&list("instances"), &[], None).await.expect(0).json();
    assert_eq!(instances[0]["name"], "rehearsal-mi", "{instances}");
    assert_eq!(instances[0]["collation"], "SQL_Latin1_General_CP1_CI_AS");
    let accounts = world.lrs(&list("storage-accounts"), &[], None).await.expect(0).json();
    assert_eq!(accounts[0]["name"], "devstoreaccount1", "{accounts}");
    assert_eq!(
        accounts[0]["blob_endpoint"].as_str().map(|e| e.trim_end_matches('/')),
        Some(world.azurite.blob_endpoint().trim_end_matches('/'))
    );

    let table = world.lrs(&strings(&["list", "instances", "--arm-endpoint", &base]), &[], None).await.expect(0);
    assert!(table.stdout.starts_with("INSTANCE"), "{table:?}");
    assert!(table.stdout.contains("rehearsal-mi") && table.stdout.contains("westeurope"), "{table:?}");

    let login = world.lrs(&strings(&["login", "--service-principal", "--arm-endpoint", &base]), &[], None).await;
    assert!(login.expect(0).stdout.contains(SUB));

    // A wrong secret: the token endpoint refuses, the secret is not repeated.
    let bad = world.lrs(&list("subscriptions"), &[("AZURE_CLIENT_SECRET", "not-the-secret-123")], None).await.expect(1);
    assert!(!bad.all().contains("not-the-secret-123"), "{bad:?}");
    // No sign-in at all is a usage error that says how to sign in.
    let none = world.lrs(&list("subscriptions"), &[("AZURE_CLIENT_SECRET", "")], None).await.expect(2);
    assert!(none.stderr.contains("not signed in: run `lrs login`"), "{none:?}");
    // http:// is refused off loopback.
    let remote = world
        .lrs(&strings(&["list", "subscriptions", "--arm-endpoint", "http://192.0.2.1:8443"]), &[], None)
        .await
        .expect(2);
    assert!(remote.stderr.contains("non-loopback"), "{remote:?}");
}
