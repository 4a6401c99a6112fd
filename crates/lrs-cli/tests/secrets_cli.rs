//! `lrs secrets` as a user runs it, on the real platform keychain: `set` with the value on standard
//! input, then `exists`, `delete`, `exists` again; refusals (empty value, several lines, a bad name,
//! a value given as an argument); and no output, on stdout or stderr, ever holds the value. Each test
//! uses its own keychain service (`LRS_KEYCHAIN_SERVICE`). Runs for real when
//! `LRS_REQUIRE_KEYCHAIN=1` (set by `scripts/test.sh`); elsewhere the keychain tests skip with a note
//! when no Secret Service is reachable.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use assert_cmd::Command;
use lrs_core::secrets::{Keychain, Secret};
use lrs_testkit::secret_scan::{assert_no_secret, assert_no_secret_like};

const ACCOUNT_KEY: &str = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

fn test_service(test: &str) -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    format!("lrs-wizard-cli-test-{test}-{}-{nanos}", std::process::id())
}

/// Whether the keychain works here; panics when it must (`LRS_REQUIRE_KEYCHAIN=1`) and does not.
fn keychain_usable(service: &str) -> bool {
    let keychain = Keychain::with_service(service);
    let probe = keychain.set("probe", &Secret::new("probe")).and_then(|()| keychain.delete("probe"));
    match probe {
        Ok(_) => true,
        Err(err) => {
            let required = std::env::var("LRS_REQUIRE_KEYCHAIN").is_ok_and(|v| v == "1");
            assert!(!required && err.is_store_unusable(), "the platform keychain must work here: {err}");
            eprintln!("SKIPPED: no usable keychain ({err}); scripts/test.sh runs this for real");
            false
        }
    }
}

fn lrs(service: &str) -> Command {
    let mut cmd = Command::cargo_bin("lrs").unwrap();
    cmd.env("LRS_KEYCHAIN_SERVICE", service);
    cmd
}

/// Runs `lrs secrets ARGS` with `stdin`, checks the exit code, scans both outputs, returns stdout.
fn secrets(service: &str, args: &[&str], stdin: &str, code: i32) -> String {
    let output = lrs(service).arg("secrets").args(args).write_stdin(stdin).assert().code(code).get_output().clone();
    let (stdout, stderr) = (String::from_utf8(output.stdout).unwrap(), String::from_utf8(output.stderr).unwrap());
    for text in [&stdout, &stderr] {
        assert_no_secret(text, &[ACCOUNT_KEY]);
        assert_no_secret_like("lrs secrets output", text);
    }
    format!("{stdout}{stderr}")
}

#[test]
fn set_exists_delete_round_trip() {
    let service = test_service("roundtrip");
    if !keychain_usable(&service) {
        return;
    }
    let name = "storage/devstoreaccount1/key";
    let out = secrets(&service, &["set", name], &format!("{ACCOUNT_KEY}\n"), 0);
    assert!(out.contains("Stored storage/devstoreaccount1/key"), "{out}");

    // Stored as given, without its newline, where another process finds it.
    let stored = Keychain::with_service(&service).get(name).unwrap();
    assert_eq!(stored.as_ref().map(Secret::expose), Some(ACCOUNT_KEY));

    let out = secrets(&service, &["exists", name], "", 0);
    assert!(out.contains("exists"), "{out}");
    let out = secrets(&service, &["set", name], ACCOUNT_KEY, 0);
    assert!(out.contains("Replaced"), "{out}");
    let out = secrets(&service, &["delete", name], "", 0);
    assert!(out.contains("Deleted"), "{out}");
    let out = secrets(&service, &["exists", name], "", 1);
    assert!(out.contains("No entry named"), "{out}");
    let out = secrets(&service, &["delete", name], "", 0);
    assert!(out.contains("nothing to delete"), "{out}");
    assert_eq!(Keychain::with_service(&service).get(name).unwrap(), None);
}

#[test]
fn refused_values_are_not_stored() {
    let service = test_service("refused");
    if !keychain_usable(&service) {
        return;
    }
    let name = "sas/acct/backups";
    let out = secrets(&service, &["set", name], "", 2);
    assert!(out.contains("no value on standard input"), "{out}");
    let out = secrets(&service, &["set", name], "\n", 2);
    assert!(out.contains("no value on standard input"), "{out}");
    let out = secrets(&service, &["set", name], &format!("{ACCOUNT_KEY}\nsecond line\n"), 2);
    assert!(out.contains("more than one line"), "{out}");
    assert!(!Keychain::with_service(&service).exists(name).unwrap());
}

#[test]
fn a_value_is_never_taken_from_an_argument() {
    let service = test_service("argument");
    for args in [["set", "storage/acct/key", ACCOUNT_KEY], ["set", "storage/acct/key", "-x"]] {
        let out = secrets(&service, &args, "", 2);
        assert!(out.contains("never taken from an argument") && out.contains("standard input"), "{out}");
    }
}

#[test]
fn a_bad_name_is_a_usage_error() {
    let service = test_service("names");
    let out = secrets(&service, &["set", "bad\tname"], &format!("{ACCOUNT_KEY}\n"), 2);
    assert!(out.contains("invalid keychain entry name") && out.contains("storage/<account>/key"), "{out}");
    let out = secrets(&service, &["exists", ""], "", 2);
    assert!(out.contains("it is empty"), "{out}");
}

#[test]
fn no_keychain_is_exit_2_with_how_to_fix_it() {
    // No session bus and no display: the Secret Service cannot be reached (Linux only).
    if !cfg!(target_os = "linux") {
        return;
    }
    let out = lrs(&test_service("nobus"))
        .args(["secrets", "set", "storage/acct/key"])
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env_remove("DISPLAY")
        .env("XDG_RUNTIME_DIR", "/nonexistent")
        .write_stdin(format!("{ACCOUNT_KEY}\n"))
        .assert()
        .code(2)
        .get_output()
        .clone();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("no keychain is reachable") && stderr.contains("dbus-run-session"), "{stderr}");
    assert_no_secret(&stderr, &[ACCOUNT_KEY]);
    assert_no_secret(&String::from_utf8(out.stdout).unwrap(), &[ACCOUNT_KEY]);
}
