//! `lrs inspect` as a user runs it: exit codes, the JSON contract, the tables, and a chain with a
//! log removed from the middle. Fixture-based tests skip when `../shared` is absent.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

fn fixtures() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/backups");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("SKIPPED: ../shared/fixtures/backups is absent (CI has it)");
        None
    }
}

fn lrs() -> Command {
    Command::cargo_bin("lrs").unwrap()
}

fn names(values: &Value) -> Vec<String> {
    values
        .as_array()
        .unwrap()
        .iter()
        .map(|v| Path::new(v.as_str().unwrap()).file_name().unwrap().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn restore_time_clean_json_has_the_contract_shape() {
    let Some(dir) = fixtures() else { return };
    let out = lrs().args(["inspect", "--json"]).arg(dir.join("appveyor-lab/RestoreTimeClean")).assert().code(0);
    let json: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let dbs = json["databases"].as_array().unwrap();
    assert_eq!(dbs.len(), 1);
    let db = &dbs[0];
    assert_eq!(db["name"], "RestoreTimeClean");
    assert_eq!(
        names(&db["restore_sequence"]),
        [
            "RestoreTimeClean.bak",
            "RestoreTimeClean2.bak",
            "RestoreTimeClean2_1.trn",
            "RestoreTimeClean2_2.trn",
            "RestoreTimeClean2_3.trn"
        ]
    );
    assert_eq!(db["last_backup_name"], "RestoreTimeClean2_3.log");
    assert!(db["findings"].as_array().unwrap().iter().all(|f| f["severity"] != "error"));
    let full = db["files"].as_array().unwrap().iter().find(|f| f["kind"] == "full").unwrap();
    for key in [
        "path",
        "kind",
        "first_lsn",
        "last_lsn",
        "checkpoint_lsn",
        "database_backup_lsn",
        "has_checksum",
        "family_sequence",
        "family_count",
        "server",
        "software_version",
        "backup_start",
        "backup_finish",
        "backup_set_guid",
        "header_source",
    ] {
        assert!(full.get(key).is_some(), "file field {key} missing");
    }
    assert_eq!(full["first_lsn"], "25000000006200170");
    assert_eq!(full["server"], "SQL2008");
    assert_eq!(full["software_version"], "10.50.1600");
    assert_eq!(full["backup_start"], "2017-06-01T12:59:12");
    assert_eq!(full["header_source"], "trailer");
    assert_eq!(full["has_checksum"], false);
    assert_eq!(json["unreadable"], Value::Array(vec![]));
}

#[test]
fn a_log_removed_from_the_middle_names_the_missing_lsn_range() {
    let Some(dir) = fixtures() else { return };
    // Link every file of the chain but RestoreTimeClean2_2.trn into a scratch folder (links, so no
    // third-party file is copied).
    let scratch = tempfile::tempdir().unwrap();
    let lab = dir.join("appveyor-lab/RestoreTimeClean");
    for entry in std::fs::read_dir(&lab).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().unwrap() != "RestoreTimeClean2_2.trn" {
            std::os::unix::fs::symlink(path.canonicalize().unwrap(), scratch.path().join(path.file_name().unwrap()))
                .unwrap();
        }
    }
    let out = lrs().args(["inspect", "--json"]).arg(scratch.path()).assert().code(1);
    let json: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let db = &json["databases"][0];
    let gap =
        db["findings"].as_array().unwrap().iter().find(|f| f["code"] == "LogChainGap").expect("a LogChainGap finding");
    assert_eq!(gap["severity"], "error");
    let message = gap["message"].as_str().unwrap();
    // RestoreTimeClean2_1 ends at 25000000020000001; RestoreTimeClean2_3 starts at 25000000021000001.
    assert!(message.contains("25000000020000001") && message.contains("25000000021000001"), "{message}");
    assert!(message.contains("RestoreTimeClean2_1.trn") && message.contains("RestoreTimeClean2_3.trn"), "{message}");
    assert_eq!(names(&db["restore_sequence"]).last().unwrap(), "RestoreTimeClean2_1.trn");
}

#[test]
fn tables_show_each_file_its_role_and_the_findings() {
    let Some(dir) = fixtures() else { return };
    let out = lrs().arg("inspect").arg(dir.join("appveyor-lab/RestoreTimeClean")).assert().code(0);
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(text.contains("Database RestoreTimeClean (server SQL2008): restorable"), "{text}");
    assert!(text.contains("RestoreTimeClean2_3.trn") && text.contains("not needed"), "{text}");
    assert!(text.contains("NoChecksum") && text.contains("ExtensionRenamed"), "{text}");
    assert!(text.contains("Last backup (for autocomplete): RestoreTimeClean2_3.log"), "{text}");
}

#[test]
fn errors_exit_1_and_a_file_that_is_not_a_backup_is_one() {
    let scratch = tempfile::tempdir().unwrap();
    std::fs::write(scratch.path().join("notes.bak"), b"this is not a backup at all, just text").unwrap();
    let out = lrs().args(["inspect", "--json"]).arg(scratch.path()).assert().code(1);
    let json: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(json["unreadable"][0]["code"], "NotABackupFile");
    assert!(json["unreadable"][0]["reason"].as_str().unwrap().contains("notes.bak"));
}

#[test]
fn usage_errors_and_missing_paths_exit_2_with_a_clear_message() {
    lrs().arg("inspect").assert().code(2);
    lrs().args(["inspect", "--no-such-flag", "x"]).assert().code(2);
    let out = lrs().args(["inspect", "/nonexistent/lrs-folder"]).assert().code(2);
    let err = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(err.contains("/nonexistent/lrs-folder") && err.contains("Check that the path exists"), "{err}");
}

#[test]
fn an_empty_folder_is_not_a_clean_result() {
    let scratch = tempfile::tempdir().unwrap();
    let out = lrs().arg("inspect").arg(scratch.path()).assert().code(1);
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(text.contains("No backup files were found"), "{text}");
}

#[test]
fn autocomplete_last_backup_before_the_end_is_an_error() {
    let Some(dir) = fixtures() else { return };
    let out = lrs()
        .args(["inspect", "--json", "--last-backup", "RestoreTimeClean2_1.log"])
        .arg(dir.join("appveyor-lab/RestoreTimeClean"))
        .assert()
        .code(1);
    let json: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let codes: Vec<&str> =
        json["databases"][0]["findings"].as_array().unwrap().iter().map(|f| f["code"].as_str().unwrap()).collect();
    assert!(codes.contains(&"FilesAfterLastBackup"), "{codes:?}");
}
