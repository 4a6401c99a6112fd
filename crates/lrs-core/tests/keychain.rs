//! The keychain on the real platform store (gnome-keyring on a private D-Bus under
//! `scripts/test.sh`): a value set through one `Keychain` is read back by a new one, then deleted.
//! Runs for real when `LRS_REQUIRE_KEYCHAIN=1` (set by `scripts/test.sh`); elsewhere it skips with a
//! note when no Secret Service is reachable.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use lrs_core::secrets::{Keychain, KeychainError, Secret};

fn keychain_required() -> bool {
    std::env::var("LRS_REQUIRE_KEYCHAIN").is_ok_and(|v| v == "1")
}

/// A service name of its own, so that runs and tests never see each other's entries.
fn test_service(test: &str) -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    format!("lrs-wizard-test-{test}-{}-{nanos}", std::process::id())
}

/// Skips (returns false) when the store is unusable and the run does not require it.
fn usable(result: Result<(), KeychainError>) -> bool {
    match result {
        Ok(()) => true,
        Err(err) => {
            assert!(!keychain_required() && err.is_store_unusable(), "the platform keychain must work here: {err}");
            eprintln!("SKIPPED: no usable keychain ({err}); scripts/test.sh runs this for real");
            false
        }
    }
}

#[test]
fn round_trip_through_a_new_keychain_object() {
    let service = test_service("roundtrip");
    let name = "storage/devstoreaccount1/key";
    let value = Secret::new("Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==");
    if !usable(Keychain::with_service(&service).set(name, &value)) {
        return;
    }
    let reader = Keychain::with_service(&service);
    assert_eq!(reader.get(name).unwrap(), Some(value.clone()), "a new Keychain must read the stored value");
    assert!(reader.exists(name).unwrap());

    let replacement = Secret::new("second value");
    Keychain::with_service(&service).set(name, &replacement).unwrap();
    assert_eq!(reader.get(name).unwrap(), Some(replacement), "set replaces");

    assert!(Keychain::with_service(&service).delete(name).unwrap(), "delete reports the entry it removed");
    assert_eq!(reader.get(name).unwrap(), None);
    assert!(!reader.exists(name).unwrap());
    assert!(!reader.delete(name).unwrap(), "deleting a missing entry is not an error");
}

#[test]
fn services_keep_their_entries_apart() {
    let (first, second) = (Keychain::with_service(test_service("a")), Keychain::with_service(test_service("b")));
    let name = "sas/acct/backups";
    if !usable(first.set(name, &Secret::new("sv=2022-11-02&sp=rl&sig=first"))) {
        return;
    }
    let seen_by_second = second.get(name);
    first.delete(name).unwrap();
    assert_eq!(seen_by_second.unwrap(), None);
}

#[test]
fn non_ascii_values_survive() {
    let keychain = Keychain::with_service(test_service("utf8"));
    let value = Secret::new("pässwörd ✓ 密码");
    if !usable(keychain.set("client secret", &value)) {
        return;
    }
    let read = Keychain::with_service(keychain.service()).get("client secret");
    keychain.delete("client secret").unwrap();
    assert_eq!(read.unwrap(), Some(value));
}

#[test]
fn invalid_names_fail_before_reaching_the_store() {
    let keychain = Keychain::with_service(test_service("names"));
    for bad in ["", "tab\there", "line\nbreak", " padded "] {
        let err = keychain.get(bad).unwrap_err();
        assert_eq!(err.code(), "keychain_invalid_name", "{bad:?}: {err}");
        assert!(matches!(keychain.set(bad, &Secret::new("v")), Err(KeychainError::InvalidName { .. })));
    }
}
