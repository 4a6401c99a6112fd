//! Secret scanning for tests: checks that logs, journals, error messages and CLI output hold no
//! credential. [`assert_no_secret`] looks for the values a test knows it used (also percent-encoded,
//! as they appear in URLs); [`find_secret_like`] looks for anything shaped like one: a SAS
//! signature (`sig=...`), a bearer token, or an 88-character base64 storage account key.
//!
//! Reports never repeat a value in full (a failing test's output is a log too): they give its kind,
//! byte offset, length and first four characters.

/// Characters a SAS signature is made of: base64, and its percent-encoded form.
fn is_sig_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=' | '%' | '-' | '_')
}

/// Characters of an RFC 6750 bearer token (`b64token`).
fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~' | '+' | '/' | '=')
}

/// Where a finding is and what it starts with, without the value itself.
fn describe(kind: &str, offset: usize, value: &str) -> String {
    let head: String = value.chars().take(4).collect();
    format!("{kind} at byte {offset} ({} chars, starts {head:?}…)", value.chars().count())
}

/// The longest prefix of `text` made of chars accepted by `accept`.
fn run_of(text: &str, accept: fn(char) -> bool) -> &str {
    let end = text.char_indices().find(|&(_, c)| !accept(c)).map_or(text.len(), |(i, _)| i);
    &text[..end]
}

/// Byte offsets of `needle` (ASCII, lowercase) in `haystack`, ignoring ASCII case.
fn find_ignoring_case(haystack: &str, needle: &str) -> Vec<usize> {
    let lower = haystack.to_ascii_lowercase();
    lower.match_indices(needle).map(|(i, _)| i).collect()
}

/// Whether the char before byte `at` ends a word (so `xsig=` is not a `sig=`).
fn starts_a_word(haystack: &str, at: usize) -> bool {
    haystack[..at].chars().next_back().is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_'))
}

fn is_redacted(value: &str) -> bool {
    let lower = value.to_ascii_lowercase();
    ["<redacted>", "%3credacted%3e", "redacted", "***"].iter().any(|mark| lower.starts_with(mark))
}

fn sas_signatures(haystack: &str, found: &mut Vec<String>) {
    for at in find_ignoring_case(haystack, "sig=") {
        if !starts_a_word(haystack, at) {
            continue;
        }
        let rest = &haystack[at + 4..];
        let value = run_of(rest, is_sig_char);
        if !value.is_empty() && !is_redacted(rest) {
            found.push(describe("SAS signature (sig=)", at + 4, value));
        }
    }
}

/// `Bearer <token>` where the token looks machine-made (it has a digit or one of `-._~+/=`), so that
/// prose such as "a bearer token is required" does not count.
fn bearer_tokens(haystack: &str, found: &mut Vec<String>) {
    for at in find_ignoring_case(haystack, "bearer") {
        if !starts_a_word(haystack, at) {
            continue;
        }
        let after = &haystack[at + 6..];
        let trimmed = after.trim_start_matches([' ', '\t']);
        if trimmed.len() == after.len() {
            continue;
        }
        let token = run_of(trimmed, is_token_char);
        let machine_made = token.chars().any(|c| c.is_ascii_digit() || !c.is_ascii_alphanumeric());
        if token.len() >= 8 && machine_made && !is_redacted(trimmed) {
            let offset = haystack.len() - trimmed.len();
            found.push(describe("bearer token", offset, token));
        }
    }
}

/// 86 base64 digits then `==`, not inside a longer base64 string: the shape of a 64-byte account
/// key. The char before may be `=` (`AccountKey=...` in a connection string).
fn account_keys(haystack: &str, found: &mut Vec<String>) {
    let bytes = haystack.as_bytes();
    let is_digit = |b: u8| b.is_ascii_alphanumeric() || b == b'+' || b == b'/';
    let mut at = 0;
    while at < bytes.len() {
        if !is_digit(bytes[at]) {
            at += 1;
            continue;
        }
        let start = at;
        while at < bytes.len() && is_digit(bytes[at]) {
            at += 1;
        }
        let padded = bytes[at..].starts_with(b"==");
        let ends_there = bytes.get(at + 2).is_none_or(|&b| !is_digit(b) && b != b'=');
        if at - start == 86 && padded && ends_there {
            found.push(describe("account key (88-char base64)", start, &haystack[start..at + 2]));
        }
    }
}

/// Everything in `haystack` shaped like a credential: a `sig=` value that is not `<redacted>`, an
/// `Authorization: Bearer` token, an 88-character base64 account key. Each finding is described
/// (kind, byte offset, length, first four characters) without the value.
pub fn find_secret_like(haystack: &str) -> Vec<String> {
    let mut found = Vec::new();
    sas_signatures(haystack, &mut found);
    bearer_tokens(haystack, &mut found);
    account_keys(haystack, &mut found);
    found
}

/// `value` with the characters that URLs escape in a base64 string percent-encoded.
fn percent_encoded(value: &str) -> String {
    value.replace('%', "%25").replace('+', "%2B").replace('/', "%2F").replace('=', "%3D")
}

/// Panics when `haystack` contains any of `secrets`, as is or percent-encoded (in upper or lower
/// case hex). The message names the secret by index and position, never by value.
///
/// # Panics
/// On a match, and on an empty secret (it would match anything: a bug in the test).
pub fn assert_no_secret(haystack: &str, secrets: &[&str]) {
    for (index, secret) in secrets.iter().enumerate() {
        assert!(!secret.is_empty(), "assert_no_secret: secret #{index} is empty");
        let encoded = percent_encoded(secret);
        for form in [secret.to_string(), encoded.clone(), encoded.to_ascii_lowercase()] {
            if let Some(at) = haystack.find(&form) {
                panic!(
                    "secret #{index} ({} chars) appears at byte {at} of the scanned text ({} bytes)",
                    secret.chars().count(),
                    haystack.len()
                );
            }
        }
    }
}

/// Panics when [`find_secret_like`] finds anything in `haystack`; `what` names the text (for example
/// "stderr of lrs upload").
///
/// # Panics
/// When something shaped like a credential is found.
pub fn assert_no_secret_like(what: &str, haystack: &str) {
    let found = find_secret_like(haystack);
    assert!(found.is_empty(), "{what} holds something shaped like a credential: {}", found.join("; "));
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
    const SIG: &str = "sig=Zm9vYmFyYmF6cXV4%2B%2FZm9vYmFy%3D";

    #[test]
    fn flags_a_sas_signature() {
        let url = format!("GET https://a.blob.core.windows.net/c?sv=2022-11-02&sp=rl&sr=c&{SIG} 403");
        let found = find_secret_like(&url);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].starts_with("SAS signature") && !found[0].contains("YmFy"), "{found:?}");
        assert_eq!(find_secret_like("?SIG=abc").len(), 1);
        assert_eq!(find_secret_like("\"sig=abc\"").len(), 1);
    }

    #[test]
    fn ignores_redacted_empty_and_other_words() {
        for clean in [
            "https://a.blob.core.windows.net/c?sv=2022-11-02&sp=rl&sig=<redacted>",
            "sig=%3Credacted%3E",
            "sig=REDACTED",
            "sig=",
            "sig= ",
            "design=1 xsig=abc config_sig=abc",
            "signature checks passed",
        ] {
            assert_eq!(find_secret_like(clean), Vec::<String>::new(), "{clean}");
        }
    }

    #[test]
    fn flags_bearer_tokens() {
        let jwt = "eyJhbGciOiJub25lIn0.eyJvaWQiOiIxIn0.";
        for text in [
            format!("Authorization: Bearer {jwt}"),
            format!("authorization: \"bearer {jwt}\""),
            format!("{{\"Authorization\":\"Bearer {jwt}\"}}"),
        ] {
            let found = find_secret_like(&text);
            assert_eq!(found.len(), 1, "{text}: {found:?}");
            assert!(found[0].starts_with("bearer token") && !found[0].contains("hbGci"), "{found:?}");
        }
        for clean in [
            "a bearer token is required",
            "Authorization: Bearer <redacted>",
            "Bearer authentication failed",
            "Bearer abc",
            "unbearer x1234567890",
        ] {
            assert_eq!(find_secret_like(clean), Vec::<String>::new(), "{clean}");
        }
    }

    #[test]
    fn flags_account_keys_of_exactly_88_chars() {
        let found = find_secret_like(&format!("AccountKey={KEY};EndpointSuffix=core.windows.net"));
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].contains("88 chars") && !found[0].contains("Eby8vdM02"), "{found:?}");
        assert_eq!(find_secret_like(&format!("key: {KEY}\n")).len(), 1);
        assert_eq!(find_secret_like(&format!("x{KEY}")).len(), 0, "a longer run is not a key");
        assert_eq!(find_secret_like(&KEY[2..]).len(), 0);
        assert_eq!(find_secret_like(&"A".repeat(88)).len(), 0, "no padding, no key");
    }

    #[test]
    fn clean_text_has_no_findings() {
        let log = "uploaded db1/full.bak (10485883 bytes, md5 1B2M2Y8AsgTpgAmY7PhCfg==) in 2.1 s; sp=rl se=2026-12-29";
        assert_eq!(find_secret_like(log), Vec::<String>::new());
        assert_no_secret_like("a clean log", log);
    }

    #[test]
    fn assert_no_secret_passes_on_clean_text() {
        assert_no_secret("stored storage/acct/key in the keychain", &[KEY, "s3cr3t"]);
    }

    #[test]
    #[should_panic(expected = "secret #1 (6 chars) appears at byte 9")]
    fn assert_no_secret_names_the_secret_by_index() {
        assert_no_secret("password s3cr3t", &[KEY, "s3cr3t"]);
    }

    #[test]
    #[should_panic(expected = "secret #0")]
    fn assert_no_secret_finds_the_percent_encoded_form() {
        assert_no_secret("sig=ab%2Fcd%3D%3D", &["ab/cd=="]);
    }

    #[test]
    fn the_panic_message_does_not_repeat_the_value() {
        let outcome = std::panic::catch_unwind(|| assert_no_secret(&format!("key {KEY}"), &[KEY]));
        let payload = outcome.err().and_then(|p| p.downcast_ref::<String>().cloned()).unwrap_or_default();
        assert!(payload.contains("secret #0") && !payload.contains("Eby8"), "{payload}");
    }
}
