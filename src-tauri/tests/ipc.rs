//! The production app (real context, capabilities and ACL) on Tauri's mock runtime: commands are
//! invoked through IPC exactly as the webview calls them, and the JSON that comes back is checked.
//! The last test walks the rehearsal from sign-in to a SAS LRS accepts (Azurite, the emulator and
//! a real Secret Service; it skips without them unless `LRS_REQUIRE_KEYCHAIN=1`).

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use lrs_core::secrets::Keychain;
use lrs_wizard::{AppDirs, AppState};
use serde_json::{json, Value};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{get_ipc_response, MockRuntime};
use tauri::webview::InvokeRequest;
use tauri::{App, Manager, WebviewWindow, WebviewWindowBuilder};

struct TestApp {
    app: App<MockRuntime>,
    window: WebviewWindow<MockRuntime>,
    dirs: tempfile::TempDir,
}

fn keychain_service(test: &str) -> String {
    format!("lrs-wizard-ipc-test-{test}-{}", std::process::id())
}

fn app_with(service: &str) -> TestApp {
    let dirs = tempfile::tempdir().expect("temp dir");
    let app_dirs = AppDirs { config: dirs.path().join("config"), data: dirs.path().join("data") };
    let state = AppState::new(&app_dirs, Keychain::with_service(service)).expect("state");
    let app = lrs_wizard::builder_with::<MockRuntime>(state).build(tauri::generate_context!()).expect("build app");
    // Config windows are not created by build(); "main" is the window the capability names.
    let window = WebviewWindowBuilder::new(&app, "main", Default::default()).build().expect("main window");
    TestApp { app, window, dirs }
}

fn app() -> TestApp {
    app_with(&keychain_service("plain"))
}

impl Drop for TestApp {
    // Tauri keeps the managed state alive past the App: stop the rehearsal's Azurite and emulator here.
    fn drop(&mut self) {
        tauri::async_runtime::block_on(self.app.state::<AppState>().rehearsal.stop());
    }
}

impl TestApp {
    fn invoke(&self, cmd: &str, args: Value) -> Result<Value, Value> {
        invoke_in(&self.app, &self.window, cmd, args)
    }
}

fn invoke_in(
    app: &App<MockRuntime>,
    window: &WebviewWindow<MockRuntime>,
    cmd: &str,
    args: Value,
) -> Result<Value, Value> {
    let request = InvokeRequest {
        cmd: cmd.into(),
        callback: CallbackFn(0),
        error: CallbackFn(1),
        url: "tauri://localhost".parse().expect("url"),
        body: InvokeBody::Json(args),
        headers: Default::default(),
        invoke_key: app.invoke_key().to_string(),
    };
    get_ipc_response(window, request).map(|body| body.deserialize::<Value>().expect("JSON body"))
}

fn fixture(name: &str) -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/backups").join(name);
    dir.is_dir().then_some(dir)
}

#[test]
fn inspect_backups_returns_the_inspection_json() {
    let t = app();
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("notes.bak"), b"not a backup at all").expect("write file");
    let result = t.invoke("inspect_backups", json!({"paths": [dir.path()]})).expect("inspection");
    assert!(result["databases"].as_array().expect("databases").is_empty(), "{result}");
    let unreadable = result["unreadable"].as_array().expect("unreadable");
    assert_eq!(unreadable.len(), 1, "{result}");
    assert_eq!(unreadable[0]["code"], "NotABackupFile");
}

#[test]
fn inspect_backups_reads_a_real_chain() {
    let Some(dir) = fixture("appveyor-lab/RestoreTimeClean") else {
        eprintln!("SKIP: ../shared/fixtures/backups is not present");
        return;
    };
    let t = app();
    let result = t.invoke("inspect_backups", json!({"paths": [dir]})).expect("inspection");
    let databases = result["databases"].as_array().expect("databases");
    assert_eq!(databases.len(), 1, "{result}");
    assert_eq!(databases[0]["name"], "RestoreTimeClean");
    assert_eq!(databases[0]["restore_sequence"].as_array().expect("sequence").len(), 5);
    assert!(databases[0]["findings"].as_array().expect("findings").iter().all(|f| f["fix"].is_string()));
    // The session keeps the database and its proposed folder for the Storage step.
    let view = t.invoke("session_view", json!({})).expect("view");
    assert_eq!(view["databases"][0]["folder"], "RestoreTimeClean", "{view}");
    assert_eq!(view["databases"][0]["folder_problems"], json!([]));
}

#[test]
fn a_missing_folder_is_a_code_and_a_message() {
    let t = app();
    let err = t.invoke("inspect_backups", json!({"paths": ["/no/such/folder/anywhere"]})).expect_err("error");
    assert_eq!(err["code"], "path_not_found", "{err}");
    assert!(err["message"].as_str().expect("message").contains("/no/such/folder/anywhere"));
    assert_eq!(err.as_object().expect("object").len(), 2, "only code and message: {err}");
}

#[test]
fn no_path_is_invalid_input() {
    let t = app();
    let err = t.invoke("inspect_backups", json!({"paths": []})).expect_err("error");
    assert_eq!(err["code"], "invalid_input", "{err}");
}

#[test]
fn a_window_without_the_capability_may_not_inspect() {
    let t = app();
    let other = WebviewWindowBuilder::new(&t.app, "other", Default::default()).build().expect("window");
    let denied = invoke_in(&t.app, &other, "inspect_backups", json!({"paths": ["/tmp"]})).expect_err("denied");
    assert!(denied.to_string().contains("not allowed"), "{denied}");
}

#[test]
fn the_webview_gets_no_plugin_command() {
    let t = app();
    for cmd in ["plugin:opener|open_url", "plugin:dialog|open", "plugin:window-state|save_window_state"] {
        let denied = t.invoke(cmd, json!({"url": "https://example.invalid"})).expect_err(cmd);
        assert!(
            denied.to_string().contains("not allowed") || denied.to_string().contains("not found"),
            "{cmd}: {denied}"
        );
    }
}

#[test]
fn a_new_session_is_in_azure_mode_with_nothing_done() {
    let t = app();
    let view = t.invoke("session_view", json!({})).expect("view");
    assert_eq!(view["mode"], "azure");
    assert_eq!(
        view["done"],
        json!({"signed_in": false, "target": false, "backups": false, "storage": false, "access": false})
    );
    let clouds = t.invoke("list_clouds", json!({})).expect("clouds");
    let names: Vec<&str> = clouds.as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["AzureCloud", "AzureUSGovernment", "AzureChinaCloud"]);
}

#[test]
fn steps_out_of_order_say_what_comes_first() {
    let t = app();
    let err = t.invoke("list_subscriptions", json!({})).expect_err("not signed in");
    assert_eq!(err["code"], "not_signed_in", "{err}");
    let err = t.invoke("generate_sas", json!({"days": 32})).expect_err("no container");
    assert_eq!(err["code"], "not_ready", "{err}");
    let err =
        t.invoke("select_storage", json!({"request": {"container_url": "https://acct.blob.core.windows.net/c?sv=1"}}));
    assert_eq!(err.expect_err("query")["code"], "invalid_input");
}

#[test]
fn settings_are_saved_as_json_in_the_config_folder() {
    let t = app();
    let mut settings = t.invoke("get_settings", json!({})).expect("settings");
    assert_eq!(settings["tenant_id"], "organizations");
    settings["upload_concurrency"] = json!(4);
    settings["clouds"] =
        json!([{"name": "Lab", "arm_endpoint": "http://127.0.0.1:8443", "authority_host": null, "audience": null}]);
    t.invoke("save_settings", json!({"settings": settings})).expect("saved");
    let file = std::fs::read_to_string(t.dirs.path().join("config/settings.json")).expect("settings.json");
    assert!(file.contains("\"upload_concurrency\": 4"), "{file}");
    let clouds = t.invoke("list_clouds", json!({})).expect("clouds");
    assert_eq!(clouds[3]["name"], "Lab");
    settings["upload_concurrency"] = json!(0);
    let err = t.invoke("save_settings", json!({"settings": settings})).expect_err("invalid");
    assert_eq!(err["code"], "invalid_input", "{err}");
}

#[test]
fn the_tsql_helper_writes_backups_with_checksum() {
    let t = app();
    let request = json!({"request": {"databases": ["Sales", "HR"], "backup_type": "full",
                                     "target": {"kind": "disk", "folder": "D:\\LRS"}}});
    let script = t.invoke("tsql_script", request).expect("script");
    let sql = script["sql"].as_str().unwrap();
    assert!(sql.contains("BACKUP DATABASE [Sales] TO DISK = @file"), "{sql}");
    assert!(sql.contains("WITH CHECKSUM"));
    assert!(script["notes"].as_array().unwrap().len() >= 2);
    let bad = json!({"request": {"databases": [], "backup_type": "log", "target": {"kind": "disk", "folder": "x"}}});
    assert_eq!(t.invoke("tsql_script", bad).expect_err("no db")["code"], "invalid_input");
}

fn keychain_required() -> bool {
    std::env::var("LRS_REQUIRE_KEYCHAIN").is_ok_and(|v| v == "1")
}

/// Polls `migration_view` until `done` accepts it.
fn wait_for(t: &TestApp, what: &str, timeout_secs: u64, done: impl Fn(&Value) -> bool) -> Value {
    let end = std::time::Instant::now() + std::time::Duration::from_secs(timeout_secs);
    loop {
        let view = t.invoke("migration_view", json!({})).unwrap_or_else(|e| panic!("migration_view: {e}"));
        if done(&view) {
            return view;
        }
        assert!(std::time::Instant::now() < end, "timed out waiting for {what}: {view:#}");
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
}

fn statuses(view: &Value) -> Vec<(String, String)> {
    view["databases"]
        .as_array()
        .map(|dbs| {
            dbs.iter()
                .map(|d| (d["name"].as_str().unwrap_or("").to_string(), d["status"].as_str().unwrap_or("").to_string()))
                .collect()
        })
        .unwrap_or_default()
}

/// Welcome → rehearse → sign-in and target → backups (samples) → storage → access, then upload →
/// start (continuous) → dashboard → cutover (two databases) and stop (one) → Completed, and the
/// audit log exported, all through IPC.
#[test]
fn the_rehearsal_walks_from_welcome_to_completed() {
    let service = keychain_service("rehearsal");
    let usable = Keychain::with_service(&service).set("probe/x", &lrs_core::secrets::Secret::new("x"));
    if let Err(e) = usable {
        assert!(!keychain_required(), "keychain required but unusable: {e}");
        eprintln!("SKIPPED: no usable keychain ({e})");
        return;
    }
    let t = app_with(&service);
    let responses = std::cell::RefCell::new(Vec::new());
    let call = |cmd: &str, args: Value| {
        let value = t.invoke(cmd, args).unwrap_or_else(|e| panic!("{cmd}: {e}"));
        responses.borrow_mut().push(value.to_string());
        value
    };
    let view = match t.invoke("begin_rehearsal", json!({})) {
        Ok(view) => view,
        Err(e) if e["code"] == "rehearsal_unavailable" && std::env::var_os("CI").is_none() => {
            eprintln!("SKIPPED: {e}");
            return;
        }
        Err(e) => panic!("begin_rehearsal: {e}"),
    };
    assert_eq!(view["mode"], "rehearsal");
    assert_eq!(view["done"]["signed_in"], true);
    let world = view["rehearsal"].clone();

    let subs = call("list_subscriptions", json!({}));
    let sub = subs[0]["id"].as_str().unwrap().to_string();
    assert_eq!(sub, world["subscription_id"]);
    let groups = call("list_resource_groups", json!({"subscriptionId": sub}));
    assert_eq!(groups[0]["name"], world["resource_group"]);
    let instances = call("list_instances", json!({"subscriptionId": sub, "resourceGroup": groups[0]["name"]}));
    assert_eq!(instances[0]["name"], "rehearsal-mi");
    assert_eq!(instances[0]["tier"], "GeneralPurpose");
    let target = json!({"subscription_id": sub, "resource_group": groups[0]["name"], "instance": "rehearsal-mi"});
    let view = call("select_target", json!({"request": target}));
    assert_eq!(view["target"]["instance"]["collation"], "SQL_Latin1_General_CP1_CI_AS");

    let inspection = call("inspect_backups", json!({"paths": world["samples"]}));
    assert_eq!(inspection["databases"].as_array().unwrap().len(), 3);
    let view = call("session_view", json!({}));
    for db in view["databases"].as_array().unwrap() {
        assert_eq!(db["target"], db["name"], "the name on the instance is the backups' by default");
        assert!(db["target_problem"].is_null(), "{db}");
    }
    let accounts = call("list_storage_accounts", json!({}));
    assert_eq!(accounts[0]["name"], "devstoreaccount1");
    let request = json!({"account": accounts[0], "container": "lrs-rehearsal"});
    let view = call("select_storage", json!({"request": request}));
    assert_eq!(view["storage"]["container_url"], world["container_url"]);
    assert_eq!(view["storage"]["key_saved"], false);
    let view = call("fetch_account_key", json!({}));
    assert_eq!(view["storage"]["key_saved"], true);
    assert_eq!(view["done"]["storage"], true, "{view}");

    let view = call("generate_sas", json!({"days": 32}));
    assert_eq!(view["sas"]["permissions"], "rl");
    assert!(view["sas"]["expiry_utc"].as_str().unwrap().ends_with('Z'));
    let view = call("check_access", json!({}));
    let access = &view["access"];
    assert_eq!(access["accepted"], true, "{access:#}");
    let scopes: Vec<&str> = access["checks"].as_array().unwrap().iter().map(|c| c["scope"].as_str().unwrap()).collect();
    for folder in ["Sales", "Inventory", "HR", "token"] {
        assert!(scopes.contains(&folder), "{scopes:?}");
    }
    assert_eq!(view["done"]["access"], true);

    // Upload: nothing before it; then every restore sequence in the background.
    assert_eq!(call("migration_view", json!({})), Value::Null);
    let err = t.invoke("start_migration", json!({"choice": {"mode": "continuous", "collation": null}}));
    assert_eq!(err.expect_err("no upload yet")["code"], "not_ready");
    call("watch_migration", json!({"onUpdate": "__CHANNEL__:1"}));
    let view = call("start_upload", json!({}));
    assert_eq!(view["databases"].as_array().unwrap().len(), 3, "{view:#}");
    assert_eq!(view["mode"], "continuous");
    let view = wait_for(&t, "the upload", 120, |v| v["uploaded"] == true && v["activity"] == "idle");
    responses.borrow_mut().push(view.to_string());
    assert!(view["upload"]["total_bytes"].as_u64().unwrap() > 0, "{view:#}");
    assert_eq!(view["upload"]["done_bytes"], view["upload"]["total_bytes"]);
    assert_eq!(view["upload"]["files_done"], view["upload"]["files_total"]);
    for db in view["databases"].as_array().unwrap() {
        assert_eq!(db["status"], "Uploaded", "{db:#}");
        assert_eq!(db["files_uploaded"], db["files_total"]);
    }
    assert!(Path::new(view["plan_path"].as_str().unwrap()).is_file(), "the plan is saved");

    // Start (continuous), then the dashboard follows each restore to ReadyForCutover.
    let view = call("start_migration", json!({"choice": {"mode": "continuous", "collation": null}}));
    assert_eq!(view["activity"], "running");
    let view = wait_for(&t, "ReadyForCutover", 240, |v| statuses(v).iter().all(|(_, s)| s == "ReadyForCutover"));
    responses.borrow_mut().push(view.to_string());
    for db in view["databases"].as_array().unwrap() {
        assert_eq!(db["cutover_blocked"], Value::Null, "{db:#}");
        assert_eq!(db["last_backup"], db["shipped"].as_array().unwrap().last().unwrap().clone());
        assert!(!db["samples"].as_array().unwrap().is_empty(), "the chart has points: {db:#}");
    }

    // Cutover and stop: the typed name is a gate.
    let wrong = call(
        "cutover_databases",
        json!({"requests": [{"database": "Sales", "last_backup": null, "typed_name": "sales"}]}),
    );
    assert_eq!(wrong[0]["ok"], false, "{wrong}");
    assert!(wrong[0]["message"].as_str().unwrap().contains("nothing was done"), "{wrong}");
    let done = call(
        "cutover_databases",
        json!({"requests": [{"database": "Sales", "last_backup": null, "typed_name": "Sales"},
                            {"database": "Inventory", "last_backup": null, "typed_name": "Inventory"}]}),
    );
    assert!(done.as_array().unwrap().iter().all(|o| o["ok"] == true), "{done:#}");
    let stopped = call("stop_databases", json!({"requests": [{"database": "HR", "typed_name": "HR"}]}));
    assert_eq!(stopped[0]["ok"], true, "{stopped:#}");
    let view = wait_for(&t, "Completed", 120, |v| v["finished"] == true);
    let mut end = statuses(&view);
    end.sort();
    assert_eq!(
        end,
        [("HR", "Stopped"), ("Inventory", "Completed"), ("Sales", "Completed")]
            .map(|(a, b)| (a.to_string(), b.to_string()))
    );

    // The audit log, and its export.
    let audit = call("audit_log", json!({}));
    let actions: Vec<&str> = audit.as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    for action in ["uploaded", "sas_minted", "start", "complete", "completed", "stop"] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
    let out = tempfile::tempdir().expect("temp dir");
    let file = call("export_audit_to", json!({"format": "csv", "folder": out.path()}));
    let csv = std::fs::read_to_string(file.as_str().unwrap()).expect("csv");
    assert!(csv.starts_with("at,identity,action,database"), "{csv}");
    let file = call("export_audit_to", json!({"format": "jsonl", "folder": out.path()}));
    let jsonl = std::fs::read_to_string(file.as_str().unwrap()).expect("jsonl");
    assert_eq!(jsonl.lines().count(), actions.len());
    responses.borrow_mut().push(csv);
    responses.borrow_mut().push(jsonl);

    // Names now in use on the instance are flagged on the Backups step; a new name is free.
    call("inspect_backups", json!({"paths": world["samples"]}));
    let view = call("session_view", json!({}));
    let problem = |v: &Value, name: &str| {
        v["databases"].as_array().unwrap().iter().find(|d| d["name"] == name).unwrap()["target_problem"].clone()
    };
    assert!(problem(&view, "Sales").as_str().unwrap_or("").contains("already exists on rehearsal-mi"), "{view}");
    assert!(problem(&view, "HR").is_null(), "HR was stopped, so dropped: {view}");
    assert_eq!(view["done"]["backups"], false);
    let view = call("set_target_name", json!({"database": "Sales", "target": "Sales_rehearsal2"}));
    assert!(problem(&view, "Sales").is_null(), "{view}");
    let view = call("set_target_name", json!({"database": "Inventory", "target": "sales_REHEARSAL2"}));
    assert!(problem(&view, "Inventory").as_str().unwrap_or("").contains("used twice"), "{view}");

    // Nothing secret ever came back to the window.
    for text in responses.borrow().iter() {
        assert!(!text.contains(lrs_rehearsal::AZURITE_KEY) && !text.contains("sig="), "{text}");
    }
    let _ = Keychain::with_service(&service).delete("probe/x");
    let _ = Keychain::with_service(&service).delete("storage/devstoreaccount1/key");
    let _ = Keychain::with_service(&service).delete("sas/devstoreaccount1/lrs-rehearsal");
}
