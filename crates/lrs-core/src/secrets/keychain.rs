//! [`Keychain`]: the OS credential store (Secret Service on Linux, Credential Manager on Windows,
//! the login keychain on macOS), the only place LRS Wizard keeps account keys, SAS tokens, client
//! secrets and refresh tokens. Values go in and come out as [`Secret`]; [`KeychainError`] says how to
//! fix an unreachable, locked or refusing store and never carries a value.
//!
//! Entries are addressed by a service name (`lrs-wizard`) and an entry name. Names are free-form
//! but follow a convention that also tells what the value is: `storage/<account>/key` for an
//! account key and `sas/<account>/<container>` for a SAS token (see [`EntryKind`]).
//!
//! The platform store is chosen explicitly in `Cargo.toml`: with no platform feature, `keyring`
//! silently falls back to an in-memory mock that a second entry object cannot read. A test below
//! proves that the real store is in use.

use std::fmt;

use super::Secret;

/// The service name every LRS Wizard entry is stored under.
pub const DEFAULT_SERVICE: &str = "lrs-wizard";

/// Environment variable that replaces [`DEFAULT_SERVICE`], so that tests (and a second
/// installation) keep their entries apart from the user's.
pub const SERVICE_ENV: &str = "LRS_KEYCHAIN_SERVICE";

/// Longest entry name accepted, well below every platform's attribute limits.
const MAX_NAME_CHARS: usize = 200;

/// What an entry holds, read from its name (`storage/<account>/key` or `sas/<account>/<container>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// A storage account key (`storage/<account>/key`).
    AccountKey,
    /// A SAS token (`sas/<account>/<container>`).
    Sas,
}

impl EntryKind {
    /// The kind the naming convention gives `name`, or `None` for a name outside the convention.
    pub fn from_name(name: &str) -> Option<EntryKind> {
        let parts: Vec<&str> = name.split('/').collect();
        match parts.as_slice() {
            ["storage", account, "key"] if !account.is_empty() => Some(EntryKind::AccountKey),
            ["sas", account, container] if !account.is_empty() && !container.is_empty() => Some(EntryKind::Sas),
            _ => None,
        }
    }
}

/// The conventional entry name for a storage account's key.
pub fn account_key_entry(account: &str) -> String {
    format!("storage/{account}/key")
}

/// The conventional entry name for a SAS token on one container.
pub fn sas_entry(account: &str, container: &str) -> String {
    format!("sas/{account}/{container}")
}

/// Why the keychain could not do what was asked. No variant holds a secret value (the platform
/// error for a value that is not UTF-8 carries its bytes, so it is not kept).
#[derive(Debug, thiserror::Error)]
pub enum KeychainError {
    #[error("invalid keychain entry name \"{name}\": {reason} (use names like storage/<account>/key or sas/<account>/<container>)")]
    InvalidName { name: String, reason: &'static str },
    #[error(
        "no keychain is reachable ({detail}). On Linux the Secret Service needs a D-Bus session: start a desktop \
         session, or run inside `dbus-run-session` with gnome-keyring unlocked (see the README, \"Keychain\")"
    )]
    Unavailable { detail: String, source: keyring::Error },
    #[error(
        "the keychain is locked ({detail}): unlock your login keyring (on a headless Linux session: \
         `printf '<password>' | gnome-keyring-daemon --unlock --components=secrets`), then try again"
    )]
    Locked { detail: String, source: keyring::Error },
    #[error("the keychain refused access to entry {name:?} ({detail}): allow LRS Wizard to use it in your keychain settings")]
    AccessDenied { name: String, detail: String, source: keyring::Error },
    #[error("keychain entry {name:?} does not hold UTF-8 text: store it again with `lrs secrets set {name}`")]
    NotText { name: String },
    #[error(
        "{count} keychain entries match {name:?}: delete them with `lrs secrets delete {name}` and store it again"
    )]
    Ambiguous { name: String, count: usize },
    #[error("the keychain rejected entry {name:?}: {detail}")]
    Rejected { name: String, detail: String },
    #[error("the keychain failed on entry {name:?}: {detail}")]
    Platform { name: String, detail: String, source: keyring::Error },
}

impl KeychainError {
    /// A stable code for the UI edge (`{code, message}`), one per variant.
    pub fn code(&self) -> &'static str {
        match self {
            KeychainError::InvalidName { .. } => "keychain_invalid_name",
            KeychainError::Unavailable { .. } => "keychain_unavailable",
            KeychainError::Locked { .. } => "keychain_locked",
            KeychainError::AccessDenied { .. } => "keychain_access_denied",
            KeychainError::NotText { .. } => "keychain_not_text",
            KeychainError::Ambiguous { .. } => "keychain_ambiguous",
            KeychainError::Rejected { .. } => "keychain_rejected",
            KeychainError::Platform { .. } => "keychain_failure",
        }
    }

    /// True when the store itself cannot be used (none reachable, or locked), as opposed to a
    /// problem with one entry.
    pub fn is_store_unusable(&self) -> bool {
        matches!(self, KeychainError::Unavailable { .. } | KeychainError::Locked { .. })
    }

    /// Maps a `keyring` error for entry `name`. Platform details are D-Bus or OS messages about the
    /// store; the value is never part of them.
    fn from_keyring(name: &str, err: keyring::Error) -> KeychainError {
        let name = name.to_owned();
        match err {
            keyring::Error::NoStorageAccess(ref inner) => {
                let detail = inner.to_string();
                if mentions_any(&detail, &["denied", "permission"]) {
                    KeychainError::AccessDenied { name, detail, source: err }
                } else {
                    // Secret Service: locked collection, dismissed unlock prompt; macOS: user
                    // interaction not allowed on a locked keychain.
                    KeychainError::Locked { detail, source: err }
                }
            }
            keyring::Error::PlatformFailure(ref inner) => {
                let detail = inner.to_string();
                if mentions_any(&detail, &["accessdenied", "access denied", "permission denied"]) {
                    KeychainError::AccessDenied { name, detail, source: err }
                } else if is_unreachable(&detail) {
                    KeychainError::Unavailable { detail, source: err }
                } else {
                    KeychainError::Platform { name, detail, source: err }
                }
            }
            keyring::Error::BadEncoding(_) => KeychainError::NotText { name },
            keyring::Error::Ambiguous(items) => KeychainError::Ambiguous { name, count: items.len() },
            keyring::Error::TooLong(attr, limit) => {
                KeychainError::Rejected { name, detail: format!("{attr} is longer than the platform limit of {limit}") }
            }
            keyring::Error::Invalid(attr, reason) => {
                KeychainError::Rejected { name, detail: format!("{attr} is invalid: {reason}") }
            }
            other => KeychainError::Platform { name, detail: other.to_string(), source: other },
        }
    }
}

fn mentions_any(detail: &str, needles: &[&str]) -> bool {
    let lower = detail.to_ascii_lowercase();
    needles.iter().any(|needle| lower.contains(needle))
}

/// D-Bus messages that mean no session bus or no Secret Service provider on it.
fn is_unreachable(detail: &str) -> bool {
    mentions_any(
        detail,
        &[
            "no dbus session",
            "autolaunch",
            "org.freedesktop.secrets",
            "serviceunknown",
            "failed to connect to socket",
            "noserver",
            "no such file or directory",
            "connection refused",
            "disconnected",
        ],
    )
}

/// Checks an entry name: non-empty, at most 200 characters, no control characters, no whitespace
/// other than inner spaces.
pub fn validate_name(name: &str) -> Result<(), KeychainError> {
    let reason = if name.is_empty() {
        Some("it is empty")
    } else if name.chars().count() > MAX_NAME_CHARS {
        Some("it is longer than 200 characters")
    } else if name.chars().any(|c| c.is_control()) {
        Some("it contains control characters")
    } else if name.chars().any(|c| c.is_whitespace() && c != ' ') {
        Some("it contains whitespace other than spaces")
    } else if name.starts_with(' ') || name.ends_with(' ') {
        Some("it begins or ends with a space")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(KeychainError::InvalidName { name: printable(name), reason }),
        None => Ok(()),
    }
}

/// The name as it may appear in a message: control characters escaped, length capped.
fn printable(name: &str) -> String {
    name.chars().take(MAX_NAME_CHARS).flat_map(char::escape_debug).collect()
}

/// The OS keychain, scoped to one service name.
#[derive(Clone, PartialEq, Eq)]
pub struct Keychain {
    service: String,
}

impl fmt::Debug for Keychain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keychain").field("service", &self.service).finish()
    }
}

impl Default for Keychain {
    fn default() -> Self {
        Keychain::new()
    }
}

impl Keychain {
    /// The keychain under [`DEFAULT_SERVICE`].
    pub fn new() -> Keychain {
        Keychain::with_service(DEFAULT_SERVICE)
    }

    /// The keychain under another service name (tests use a unique one per run).
    pub fn with_service(service: impl Into<String>) -> Keychain {
        Keychain { service: service.into() }
    }

    /// The keychain under `$LRS_KEYCHAIN_SERVICE` when it is set and not empty, else [`DEFAULT_SERVICE`].
    pub fn from_env() -> Keychain {
        match std::env::var(SERVICE_ENV) {
            Ok(service) if !service.trim().is_empty() => Keychain::with_service(service),
            _ => Keychain::new(),
        }
    }

    pub fn service(&self) -> &str {
        &self.service
    }

    fn entry(&self, name: &str) -> Result<keyring::Entry, KeychainError> {
        validate_name(name)?;
        keyring::Entry::new(&self.service, name).map_err(|err| KeychainError::from_keyring(name, err))
    }

    /// Stores `value` under `name`, replacing any value already there.
    pub fn set(&self, name: &str, value: &Secret) -> Result<(), KeychainError> {
        let entry = self.entry(name)?;
        entry.set_password(value.expose()).map_err(|err| KeychainError::from_keyring(name, err))
    }

    /// The value stored under `name`, or `None` when there is no such entry.
    pub fn get(&self, name: &str) -> Result<Option<Secret>, KeychainError> {
        match self.entry(name)?.get_password() {
            Ok(value) => Ok(Some(Secret::new(value))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(err) => Err(KeychainError::from_keyring(name, err)),
        }
    }

    /// Whether an entry named `name` exists.
    pub fn exists(&self, name: &str) -> Result<bool, KeychainError> {
        Ok(self.get(name)?.is_some())
    }

    /// Deletes the entry named `name`. Deleting a missing entry is not an error: the result says
    /// whether there was one (`true`) or not (`false`).
    pub fn delete(&self, name: &str) -> Result<bool, KeychainError> {
        match self.entry(name)?.delete_credential() {
            Ok(()) => Ok(true),
            Err(keyring::Error::NoEntry) => Ok(false),
            Err(err) => Err(KeychainError::from_keyring(name, err)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_rules() {
        for good in ["storage/acct/key", "sas/acct/backups", "client secret", "a"] {
            assert!(validate_name(good).is_ok(), "{good}");
        }
        let long = "x".repeat(201);
        for bad in ["", " lead", "trail ", "tab\there", "new\nline", "nul\0", "bell\u{7}", "nbsp\u{2028}", &long] {
            let err = validate_name(bad).err();
            assert!(matches!(err, Some(KeychainError::InvalidName { .. })), "{bad:?}");
        }
        let message = validate_name("a\nb").err().map(|e| e.to_string()).unwrap_or_default();
        assert!(message.contains("a\\nb") && message.contains("storage/<account>/key"), "{message}");
    }

    #[test]
    fn the_name_tells_the_kind() {
        assert_eq!(EntryKind::from_name(&account_key_entry("acct")), Some(EntryKind::AccountKey));
        assert_eq!(EntryKind::from_name(&sas_entry("acct", "backups")), Some(EntryKind::Sas));
        for other in ["storage//key", "storage/acct", "sas/acct", "sas//c", "sas/a/", "my key", "storage/a/key/x"] {
            assert_eq!(EntryKind::from_name(other), None, "{other}");
        }
    }

    fn platform(detail: &str) -> keyring::Error {
        keyring::Error::PlatformFailure(detail.into())
    }

    #[test]
    fn platform_errors_become_actionable_messages() {
        let no_bus = KeychainError::from_keyring(
            "n",
            platform("DBus error: Unable to autolaunch a dbus-daemon without a $DISPLAY for X11"),
        );
        assert_eq!(no_bus.code(), "keychain_unavailable");
        assert!(no_bus.to_string().contains("dbus-run-session"), "{no_bus}");
        let no_provider = KeychainError::from_keyring(
            "n",
            platform("DBus error: The name org.freedesktop.secrets was not provided by any .service files"),
        );
        assert_eq!(no_provider.code(), "keychain_unavailable");
        let locked =
            KeychainError::from_keyring("n", keyring::Error::NoStorageAccess("Secret Service: no result found".into()));
        assert_eq!(locked.code(), "keychain_locked");
        assert!(locked.to_string().contains("unlock your login keyring"), "{locked}");
        let denied = KeychainError::from_keyring("n", platform("DBus error: org.freedesktop.DBus.Error.AccessDenied"));
        assert_eq!(denied.code(), "keychain_access_denied");
        let other = KeychainError::from_keyring("n", platform("Crypto error: bad padding"));
        assert_eq!(other.code(), "keychain_failure");
    }

    #[test]
    fn errors_never_carry_the_value() {
        let value = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq";
        let mut bytes = value.as_bytes().to_vec();
        bytes.push(0xff);
        let err = KeychainError::from_keyring("storage/acct/key", keyring::Error::BadEncoding(bytes));
        assert_eq!(err.code(), "keychain_not_text");
        for text in [err.to_string(), format!("{err:?}")] {
            assert!(!text.contains("Eby8") && !text.contains("69, 98, 121"), "{text}");
        }
    }

    /// Whether the keychain tests must run for real: `scripts/test.sh` sets `LRS_REQUIRE_KEYCHAIN=1`
    /// after starting gnome-keyring on a private D-Bus. Elsewhere they skip, with a note, when no
    /// Secret Service is reachable.
    fn keychain_required() -> bool {
        std::env::var("LRS_REQUIRE_KEYCHAIN").is_ok_and(|v| v == "1")
    }

    /// The mock store that `keyring` falls back to without a platform feature keeps a value in the
    /// entry object, so only a real store lets a second, independent object read it back.
    #[test]
    fn a_new_entry_object_reads_what_another_stored() {
        let service = format!("lrs-wizard-unit-{}", std::process::id());
        let name = "unit/platform-store";
        let write = |value: &str| keyring::Entry::new(&service, name).and_then(|entry| entry.set_password(value));
        if let Err(err) = write("stored-by-the-first-entry") {
            let err = KeychainError::from_keyring(name, err);
            assert!(!keychain_required() && err.is_store_unusable(), "the platform keychain must work here: {err}");
            eprintln!("SKIPPED: no usable keychain ({err}); scripts/test.sh runs this for real");
            return;
        }
        let read = keyring::Entry::new(&service, name).and_then(|entry| entry.get_password());
        let removed = keyring::Entry::new(&service, name).and_then(|entry| entry.delete_credential());
        assert_eq!(
            read.ok().as_deref(),
            Some("stored-by-the-first-entry"),
            "a second entry object must read the value"
        );
        assert!(removed.is_ok(), "a third entry object must delete it");
        let gone = keyring::Entry::new(&service, name).and_then(|entry| entry.get_password());
        assert!(matches!(gone, Err(keyring::Error::NoEntry)));
    }
}
