//! `lrs upload` as a user runs it, against a real Azurite: a chain uploaded and read back, the
//! inspection's refusal and `--force`, a reserved folder name, and kill -9 in the middle of a large
//! upload followed by a second run that sends only the missing blocks (counted by a proxy) and
//! leaves identical blobs. No output ever holds the key or a signature.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use lrs_core::backup::writer::{write_sample_chain, SyntheticBackup};
use lrs_core::secrets::Secret;
use lrs_core::storage::sas::AccountSas;
use lrs_testkit::{Azurite, FaultProxy, Op, AZURITE_ACCOUNT, AZURITE_KEY};
use serde_json::Value;

fn lrs(data_home: &Path) -> Command {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("lrs"));
    cmd.env("XDG_DATA_HOME", data_home).env("LRS_TEST_KEY", AZURITE_KEY).env_remove("LRS_TEST_SAS");
    cmd
}

fn admin_sas() -> String {
    let now = time::OffsetDateTime::now_utc();
    let sas = AccountSas::full_blob_access(now, time::Duration::hours(2));
    sas.sign(AZURITE_ACCOUNT, &Secret::new(AZURITE_KEY)).unwrap().expose().to_string()
}

fn create_container(azurite: &Azurite, name: &str) {
    let url = format!("{}?restype=container&{}", azurite.container_url(name), admin_sas());
    let out = Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "PUT", "-H", "Content-Length: 0", &url])
        .output();
    match out {
        Ok(out) => assert_eq!(String::from_utf8_lossy(&out.stdout), "201", "create container"),
        Err(_) => panic!("curl is needed to create the test container"),
    }
}

/// The MD5 (hex) of a blob read back from Azurite, streamed from curl into md5sum.
fn read_back(azurite: &Azurite, container: &str, blob: &str) -> String {
    let url = format!("{}/{blob}?{}", azurite.container_url(container), admin_sas());
    let out =
        Command::new("bash").args(["-c", "set -o pipefail; curl -sf \"$1\" | md5sum", "bash", &url]).output().unwrap();
    assert!(out.status.success(), "read back {blob}");
    String::from_utf8_lossy(&out.stdout).split_whitespace().next().unwrap().to_string()
}

fn hash_file(path: &Path) -> String {
    let out = Command::new("md5sum").arg(path).output().unwrap();
    String::from_utf8_lossy(&out.stdout).split_whitespace().next().unwrap().to_string()
}

fn upload_args(dir: &Path, url: &str, folder: &str) -> Vec<String> {
    let mut args: Vec<String> = ["upload"].iter().map(|s| s.to_string()).collect();
    args.push(dir.display().to_string());
    args.extend(
        ["--container-url", url, "--folder", folder, "--account-key-env", "LRS_TEST_KEY", "--settle-seconds", "0"]
            .map(String::from),
    );
    args
}

fn assert_clean_output(text: &str) {
    lrs_testkit::secret_scan::assert_no_secret(text, &[AZURITE_KEY]);
    lrs_testkit::secret_scan::assert_no_secret_like("lrs upload output", text);
}

#[test]
fn a_reserved_folder_name_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = lrs(dir.path())
        .args(upload_args(dir.path(), "https://acct.blob.core.windows.net/mig", "SalesBackups"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("reserved keyword 'backup'"));
}

#[test]
fn uploads_the_restore_sequence_and_refuses_a_broken_chain_unless_forced() {
    let Some(azurite) = Azurite::start() else { return };
    create_container(&azurite, "cli");
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let paths = write_sample_chain(dir.path(), "Sales", 3).unwrap();
    let url = azurite.container_url("cli");
    let out = lrs(home.path()).args(upload_args(dir.path(), &url, "Sales")).arg("--json").output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert_clean_output(&format!("{stdout}{}", String::from_utf8_lossy(&out.stderr)));
    let summary: Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    // `--block-checksum auto` (the default) sends MD5 blocks to an emulator on loopback.
    assert_eq!(summary["summary"]["block_checksum"], "md5");
    let files = summary["summary"]["files"].as_array().unwrap();
    assert_eq!(files.len(), paths.len());
    for (path, file) in paths.iter().zip(files) {
        let blob = file["blob"].as_str().unwrap();
        assert!(blob.starts_with("Sales/") && !blob.ends_with(".trn"), "{blob}");
        assert_eq!(read_back(&azurite, "cli", blob), hash_file(path), "{blob}");
    }
    // Again: everything is already there.
    let again = lrs(home.path()).args(upload_args(dir.path(), &url, "Sales")).arg("--json").output().unwrap();
    assert_eq!(again.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&again.stdout).matches(r#""event":"skipped""#).count(), paths.len());

    // The last log replaced by other bytes under the same name: refused (LRS may have restored
    // the blob already), then replaced with --overwrite.
    let last = paths.last().unwrap();
    let mut bytes = std::fs::read(last).unwrap();
    let middle = bytes.len() / 2; // inside the log data, away from the headers
    bytes[middle] ^= 0xFF;
    std::fs::write(last, &bytes).unwrap();
    let clash = lrs(home.path()).args(upload_args(dir.path(), &url, "Sales")).arg("--json").output().unwrap();
    assert_eq!(clash.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&clash.stdout).contains("exists_with_other_content"));
    let replaced = lrs(home.path()).args(upload_args(dir.path(), &url, "Sales")).arg("--overwrite").output().unwrap();
    assert_eq!(replaced.status.code(), Some(0), "{}", String::from_utf8_lossy(&replaced.stderr));
    let blob = format!("Sales/{}", last.file_name().unwrap().to_string_lossy().replace(".trn", ".log"));
    assert_eq!(read_back(&azurite, "cli", &blob), hash_file(last));

    // A log missing from the middle of the chain: refused, then uploaded with --force.
    std::fs::remove_file(&paths[3]).unwrap();
    let refused = lrs(home.path()).args(upload_args(dir.path(), &url, "Sales2")).output().unwrap();
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("the inspection found errors"));
    // Uploaded with CRC-64 blocks, chosen explicitly (Azurite checks them too).
    let forced = lrs(home.path())
        .args(upload_args(dir.path(), &url, "Sales2"))
        .args(["--force", "--json", "--block-checksum", "crc64"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&forced.stdout).into_owned();
    assert_eq!(forced.status.code(), Some(0), "{stdout}\n{}", String::from_utf8_lossy(&forced.stderr));
    let summary: Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert_eq!(summary["summary"]["block_checksum"], "crc64");
    let files = summary["summary"]["files"].as_array().unwrap();
    assert!(!files.is_empty());
    for file in files {
        let (blob, source) = (file["blob"].as_str().unwrap(), file["source"].as_str().unwrap());
        assert_eq!(read_back(&azurite, "cli", blob), hash_file(Path::new(source)), "{blob}");
    }
}

#[test]
fn an_unknown_block_checksum_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = lrs(dir.path())
        .args(upload_args(dir.path(), "https://acct.blob.core.windows.net/mig", "Sales"))
        .args(["--block-checksum", "sha256"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("auto") && stderr.contains("crc64") && stderr.contains("md5"), "{stderr}");
}

/// A chain whose full backup is large (sparse on disk).
fn large_chain(dir: &Path, full_len: u64) -> Vec<PathBuf> {
    let mut paths = write_sample_chain(dir, "Big", 2).unwrap();
    let full = SyntheticBackup { data_len: full_len, ..SyntheticBackup::full("Big") };
    full.write_to(&paths[0]).unwrap();
    paths.sort();
    paths
}

#[test]
fn kill_9_mid_upload_then_the_next_run_sends_only_missing_blocks() {
    let Some(azurite) = Azurite::start() else { return };
    create_container(&azurite, "kill");
    let proxy = FaultProxy::start(azurite.port(), Vec::new()).unwrap();
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let paths = large_chain(dir.path(), 400 << 20);
    let full = paths.iter().find(|p| std::fs::metadata(p).unwrap().len() > 300 << 20).unwrap().clone();
    let full_blob = format!("Big/{}", full.file_name().unwrap().to_string_lossy());
    let url = proxy.container_url("kill");
    let started = Instant::now();

    let mut child = lrs(home.path())
        .args(upload_args(dir.path(), &url, "Big"))
        .args(["--json", "--concurrency", "4"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut output = String::new();
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        output.push_str(&line);
        let event: Value = serde_json::from_str(&line).unwrap();
        if event["event"] == "progress"
            && event["blob"] == full_blob.as_str()
            && event["file_done"].as_u64().unwrap() >= 120 << 20
        {
            break;
        }
    }
    child.kill().unwrap(); // SIGKILL: no chance to clean up
    child.wait().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(500));
    let first_run = proxy.log();
    let staged = uncommitted(&azurite, "kill", &full_blob);
    let blocks = std::fs::metadata(&full).unwrap().len().div_ceil(8 << 20) as usize;
    assert!((15..blocks).contains(&staged), "blocks staged before the kill: {staged} of {blocks}");

    let out = lrs(home.path()).args(upload_args(dir.path(), &url, "Big")).arg("--json").output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert_clean_output(&format!("{output}{stdout}"));
    let second_run = &proxy.log()[first_run.len()..];
    let name = full.file_name().unwrap().to_string_lossy().into_owned();
    let sent = second_run.iter().filter(|l| l.op == Op::PutBlock && l.target.contains(&name)).count();
    let started_line = stdout.lines().find(|l| l.contains("file_started") && l.contains(&name)).unwrap_or("");
    assert_eq!(sent, blocks - staged, "only the missing blocks of the full backup were sent: {started_line}");
    for path in &paths {
        let blob = format!("Big/{}", lrs_core::backup::upload_name(path));
        assert_eq!(read_back(&azurite, "kill", &blob), hash_file(path), "{blob}");
    }
    eprintln!("kill -9 and resume of a 400 MiB chain: {:?}", started.elapsed());
}

fn uncommitted(azurite: &Azurite, container: &str, blob: &str) -> usize {
    let url =
        format!("{}/{blob}?comp=blocklist&blocklisttype=uncommitted&{}", azurite.container_url(container), admin_sas());
    let out = Command::new("curl").args(["-s", &url]).output().unwrap();
    String::from_utf8_lossy(&out.stdout).matches("<Block>").count()
}
