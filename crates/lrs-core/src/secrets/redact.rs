//! Redaction of credentials inside text that comes from elsewhere (a library's error, a URL, a
//! service's answer): every `sig=` value and bearer token is replaced, so such text can be shown
//! or logged.

/// Replaces the value of every SAS signature (`sig=...`) and bearer token in `text`, so that a
/// message built from a library's error cannot leak a credential.
pub fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    loop {
        let lower = rest.to_ascii_lowercase();
        let next =
            ["sig=", "bearer "].iter().filter_map(|m| lower.find(m).map(|i| (i, m.len()))).min_by_key(|(i, _)| *i);
        let Some((at, len)) = next else {
            out.push_str(rest);
            return out;
        };
        out.push_str(&rest[..at + len]);
        out.push_str("REDACTED");
        let value = &rest[at + len..];
        let end = value
            .find(|c: char| c == '&' || c == '"' || c == '\'' || c == ')' || c == '<' || c.is_whitespace())
            .unwrap_or(value.len());
        rest = &value[end..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_signatures_and_bearer_tokens() {
        let text = "error sending request for url (http://127.0.0.1:1/acct/c/db/a.bak?sv=2022-11-02&sig=ab%2Bcd%3D&comp=block): reset";
        let red = redact(text);
        assert_eq!(red, "error sending request for url (http://127.0.0.1:1/acct/c/db/a.bak?sv=2022-11-02&sig=REDACTED&comp=block): reset");
        assert_eq!(redact("Authorization: Bearer eyJ0eXAi.x.y done"), "Authorization: Bearer REDACTED done");
        assert_eq!(redact("SIG=abc"), "SIG=REDACTED");
        assert_eq!(redact("no secrets"), "no secrets");
    }
}
