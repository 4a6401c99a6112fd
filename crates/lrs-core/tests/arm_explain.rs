//! Every error code the reference documents has a plain-language explanation and fix. The codes
//! are read from `../shared/reference/lrs-arm-api.md` (or `LRS_ARM_REFERENCE`): every
//! `<4xx|5xx> CodeName` in it, and the `/ OtherCode` that may follow. Without the file the test
//! says so and passes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use lrs_core::arm::explain::{explain, EXPLANATIONS};

fn reference() -> Option<String> {
    let path = std::env::var_os("LRS_ARM_REFERENCE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference/lrs-arm-api.md"));
    std::fs::read_to_string(&path).ok()
}

fn is_code(word: &str) -> bool {
    let mut chars = word.chars();
    chars.next().is_some_and(|c| c.is_ascii_uppercase())
        && word.chars().all(|c| c.is_ascii_alphanumeric())
        && word.chars().any(|c| c.is_ascii_lowercase())
        && word.len() > 3
}

/// `400 CodeName`, `429 A` / `B`: every code after an HTTP error status.
fn documented_codes(text: &str) -> Vec<String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let clean = |w: &str| w.trim_matches(|c: char| !c.is_ascii_alphanumeric()).to_string();
    let mut codes = Vec::new();
    for (i, w) in words.iter().enumerate() {
        let status = clean(w);
        let is_status = status.len() == 3 && status.parse::<u16>().is_ok_and(|s| (400..600).contains(&s));
        if !is_status || w.contains('|') {
            continue;
        }
        let Some(next) = words.get(i + 1).map(|n| clean(n)) else { continue };
        if !is_code(&next) {
            continue;
        }
        codes.push(next);
        if words.get(i + 2) == Some(&"/") {
            if let Some(alt) = words.get(i + 3).map(|n| clean(n)).filter(|n| is_code(n)) {
                codes.push(alt);
            }
        }
    }
    codes.sort();
    codes.dedup();
    codes
}

#[test]
fn every_documented_code_is_explained() {
    let Some(text) = reference() else {
        eprintln!("note: the LRS ARM reference is absent; set LRS_ARM_REFERENCE to check the codes against it");
        return;
    };
    let codes = documented_codes(&text);
    assert!(codes.len() >= 70, "the parser found only {} codes: {codes:?}", codes.len());
    for must in [
        "BrokenRestorePlanGapInLogBackups",
        "MissingThumbprint",
        "SubscriptionTooManyCreateUpdateRequests",
        "RequiredBackupIsNotLastRestored",
    ] {
        assert!(codes.iter().any(|c| c == must), "{must} not parsed");
    }
    let missing: Vec<&String> = codes.iter().filter(|c| explain(c).is_none()).collect();
    assert!(missing.is_empty(), "codes without an explanation: {missing:?}");
}

#[test]
fn documented_messages_match_the_reference() {
    let Some(text) = reference() else { return };
    for e in EXPLANATIONS.iter().filter(|e| !e.service_message.is_empty()) {
        let first_words: String = e.service_message.split_whitespace().take(6).collect::<Vec<_>>().join(" ");
        assert!(text.contains(&first_words), "{}: message not in the reference: {first_words}", e.code);
    }
}
