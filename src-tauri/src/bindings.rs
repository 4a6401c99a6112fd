//! Keeps `ui/src/bindings/` (the TypeScript types of everything the UI receives) equal to what
//! ts-rs generates from the Rust types, so a changed Rust type fails the build until the bindings
//! are regenerated with `UPDATE_BINDINGS=1 cargo test -p lrs-wizard bindings`.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use lrs_core::backup::Inspection;
use lrs_core::session::{
    ActionOutcome, AuditFormat, AuditRow, CloudItem, ContainerItem, CutoverRequest, GroupItem, InstanceItem,
    MigrationView, SessionView, Settings, SignInPrompt, SignInRequest, StartChoice, StopRequest, StorageAccountItem,
    StorageRequest, SubscriptionItem, TargetRequest,
};
use lrs_core::tsql::{TsqlRequest, TsqlScript};
use ts_rs::{Config, TS};

use crate::error::UiError;

fn committed_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/src/bindings")
}

/// JSON numbers arrive in JavaScript as `number`, so 64-bit integers are typed that way.
fn export_to(dir: &Path) {
    let cfg = Config::new().with_large_int("number").with_out_dir(dir);
    Inspection::export_all(&cfg).expect("export Inspection");
    UiError::export_all(&cfg).expect("export UiError");
    SessionView::export_all(&cfg).expect("export SessionView");
    SignInRequest::export_all(&cfg).expect("export SignInRequest");
    SignInPrompt::export_all(&cfg).expect("export SignInPrompt");
    CloudItem::export_all(&cfg).expect("export CloudItem");
    SubscriptionItem::export_all(&cfg).expect("export SubscriptionItem");
    GroupItem::export_all(&cfg).expect("export GroupItem");
    InstanceItem::export_all(&cfg).expect("export InstanceItem");
    TargetRequest::export_all(&cfg).expect("export TargetRequest");
    StorageAccountItem::export_all(&cfg).expect("export StorageAccountItem");
    ContainerItem::export_all(&cfg).expect("export ContainerItem");
    StorageRequest::export_all(&cfg).expect("export StorageRequest");
    Settings::export_all(&cfg).expect("export Settings");
    TsqlRequest::export_all(&cfg).expect("export TsqlRequest");
    TsqlScript::export_all(&cfg).expect("export TsqlScript");
    MigrationView::export_all(&cfg).expect("export MigrationView");
    StartChoice::export_all(&cfg).expect("export StartChoice");
    CutoverRequest::export_all(&cfg).expect("export CutoverRequest");
    StopRequest::export_all(&cfg).expect("export StopRequest");
    ActionOutcome::export_all(&cfg).expect("export ActionOutcome");
    AuditFormat::export_all(&cfg).expect("export AuditFormat");
    AuditRow::export_all(&cfg).expect("export AuditRow");
}

fn read_dir(dir: &Path) -> BTreeMap<String, String> {
    let Ok(entries) = std::fs::read_dir(dir) else { return BTreeMap::new() };
    entries
        .map(|entry| entry.expect("dir entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "ts"))
        .map(|path| {
            let name = path.file_name().expect("file name").to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&path).expect("read binding"))
        })
        .collect()
}

#[test]
fn ui_bindings_match_the_rust_types() {
    let fresh = tempfile::tempdir().expect("temp dir");
    export_to(fresh.path());
    let generated = read_dir(fresh.path());
    assert!(generated.contains_key("Inspection.ts") && generated.contains_key("UiError.ts"));

    if std::env::var_os("UPDATE_BINDINGS").is_some() {
        let dir = committed_dir();
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create bindings dir");
        for (name, text) in &generated {
            std::fs::write(dir.join(name), text).expect("write binding");
        }
    }
    let committed = read_dir(&committed_dir());
    assert!(
        committed == generated,
        "ui/src/bindings is stale: run `UPDATE_BINDINGS=1 cargo test -p lrs-wizard bindings` and commit the result"
    );
}
