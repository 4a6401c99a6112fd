//! The production app (real context, capabilities and ACL) on Tauri's mock runtime: commands are
//! invoked through IPC exactly as the webview calls them, and the JSON that comes back is checked.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{get_ipc_response, MockRuntime};
use tauri::webview::InvokeRequest;
use tauri::{App, WebviewWindow, WebviewWindowBuilder};

fn app() -> (App<MockRuntime>, WebviewWindow<MockRuntime>) {
    let app = lrs_wizard::builder::<MockRuntime>().build(tauri::generate_context!()).expect("build app");
    // Config windows are not created by build(); "main" is the window the capability names.
    let window = WebviewWindowBuilder::new(&app, "main", Default::default()).build().expect("main window");
    (app, window)
}

fn invoke(app: &App<MockRuntime>, window: &WebviewWindow<MockRuntime>, cmd: &str, args: Value) -> Result<Value, Value> {
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
    let (app, window) = app();
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("notes.bak"), b"not a backup at all").expect("write file");
    let result = invoke(&app, &window, "inspect_backups", json!({"paths": [dir.path()]})).expect("inspection");
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
    let (app, window) = app();
    let result = invoke(&app, &window, "inspect_backups", json!({"paths": [dir]})).expect("inspection");
    let databases = result["databases"].as_array().expect("databases");
    assert_eq!(databases.len(), 1, "{result}");
    assert_eq!(databases[0]["name"], "RestoreTimeClean");
    assert_eq!(databases[0]["restore_sequence"].as_array().expect("sequence").len(), 5);
    assert!(databases[0]["findings"].as_array().expect("findings").iter().all(|f| f["fix"].is_string()));
}

#[test]
fn a_missing_folder_is_a_code_and_a_message() {
    let (app, window) = app();
    let err =
        invoke(&app, &window, "inspect_backups", json!({"paths": ["/no/such/folder/anywhere"]})).expect_err("error");
    assert_eq!(err["code"], "path_not_found", "{err}");
    assert!(err["message"].as_str().expect("message").contains("/no/such/folder/anywhere"));
    assert_eq!(err.as_object().expect("object").len(), 2, "only code and message: {err}");
}

#[test]
fn no_path_is_invalid_input() {
    let (app, window) = app();
    let err = invoke(&app, &window, "inspect_backups", json!({"paths": []})).expect_err("error");
    assert_eq!(err["code"], "invalid_input", "{err}");
}

#[test]
fn a_window_without_the_capability_may_not_inspect() {
    let (app, _) = app();
    let other = WebviewWindowBuilder::new(&app, "other", Default::default()).build().expect("window");
    let denied = invoke(&app, &other, "inspect_backups", json!({"paths": ["/tmp"]})).expect_err("denied");
    assert!(denied.to_string().contains("not allowed"), "{denied}");
}
