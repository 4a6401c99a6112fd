//! The one place the CLI gets a storage credential: [`CredentialArgs`] (flattened into the storage
//! commands) takes exactly one of `--account-key-env VAR`, `--sas-env VAR` or `--keychain NAME`, and
//! [`CredentialArgs::resolve`] turns it into a [`StorageCredential`]. Secrets never come from
//! arguments, and errors name the variable or entry, never the value.
//!
//! The kind of a keychain entry comes from its name: `storage/<account>/key` is an account key and
//! `sas/<account>/<container>` a SAS token (`lrs_core::secrets::EntryKind`). Any other name needs
//! `--keychain-kind account-key|sas`; a flag that contradicts the name is refused.
//!
//! Values are passed on unchanged: a SAS with a leading `?` is accepted here and reported by the
//! SAS check, which says how to fix it.

// Used by `lrs upload` and `lrs sas`, which are being written.
#![allow(dead_code)]

use std::ffi::OsString;
use std::fmt;

use lrs_core::secrets::{EntryKind, Keychain, KeychainError, Secret};

/// A credential for Blob Storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorageCredential {
    /// A storage account key (base64): signs a short-lived write SAS and the Read+List SAS.
    AccountKey(Secret),
    /// A SAS token, as given (possibly with a leading `?`).
    Sas(Secret),
}

/// What a keychain entry holds, when its name does not say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum KeychainKind {
    AccountKey,
    Sas,
}

impl From<KeychainKind> for EntryKind {
    fn from(kind: KeychainKind) -> Self {
        match kind {
            KeychainKind::AccountKey => EntryKind::AccountKey,
            KeychainKind::Sas => EntryKind::Sas,
        }
    }
}

/// Where the storage credential comes from (at most one; [`CredentialArgs::resolve`] requires one).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct CredentialArgs {
    /// Environment variable holding the storage account key.
    #[arg(long, value_name = "VAR", conflicts_with_all = ["sas_env", "keychain"])]
    pub account_key_env: Option<String>,
    /// Environment variable holding a SAS token for the container.
    #[arg(long, value_name = "VAR", conflicts_with_all = ["account_key_env", "keychain"])]
    pub sas_env: Option<String>,
    /// Keychain entry holding the credential (store it with `lrs secrets set NAME`). Names
    /// storage/<account>/key and sas/<account>/<container> say what they hold.
    #[arg(long, value_name = "NAME", conflicts_with_all = ["account_key_env", "sas_env"])]
    pub keychain: Option<String>,
    /// What the --keychain entry holds, for a name outside the convention.
    #[arg(long, value_name = "KIND", requires = "keychain")]
    pub keychain_kind: Option<KeychainKind>,
}

/// Why no credential could be resolved. Messages name the variable or entry, never a value.
#[derive(Debug)]
pub enum CredentialError {
    NotGiven,
    EnvUnset { var: String },
    EnvEmpty { var: String, what: &'static str },
    EnvNotText { var: String, what: &'static str },
    EntryMissing { name: String },
    EntryEmpty { name: String },
    KindUnknown { name: String },
    KindConflict { name: String, named: &'static str, flag: &'static str },
    Keychain(KeychainError),
}

/// How to put a value in a variable without it reaching the command line or the shell history.
fn how_to_set(var: &str) -> String {
    format!("bash: `read -rs {var} && export {var}`; PowerShell: `$env:{var} = Read-Host -MaskInput`")
}

impl fmt::Display for CredentialError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CredentialError::NotGiven => {
                f.write_str("no storage credential given: pass one of --account-key-env VAR, --sas-env VAR or --keychain NAME")
            }
            CredentialError::EnvUnset { var } => {
                write!(f, "environment variable {var} is not set: set it first, keeping the value off the command line ({})", how_to_set(var))
            }
            CredentialError::EnvEmpty { var, what } => {
                write!(f, "environment variable {var} is empty: set it to the {what} ({})", how_to_set(var))
            }
            CredentialError::EnvNotText { var, what } => {
                write!(f, "environment variable {var} does not hold valid UTF-8 text: set it again to the {what}")
            }
            CredentialError::EntryMissing { name } => write!(
                f,
                "no keychain entry named {name:?}: store it with `lrs secrets set {name}` (the value is read from standard input)"
            ),
            CredentialError::EntryEmpty { name } => {
                write!(f, "keychain entry {name:?} is empty: store it again with `lrs secrets set {name}`")
            }
            CredentialError::KindUnknown { name } => write!(
                f,
                "the name of keychain entry {name:?} does not say what it holds: add --keychain-kind account-key or \
                 --keychain-kind sas (or name it storage/<account>/key or sas/<account>/<container>)"
            ),
            CredentialError::KindConflict { name, named, flag } => write!(
                f,
                "keychain entry {name:?} is named as {named}, but --keychain-kind says {flag}: drop the flag or fix the name"
            ),
            CredentialError::Keychain(err) => err.fmt(f),
        }
    }
}

impl std::error::Error for CredentialError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CredentialError::Keychain(err) => err.source(),
            _ => None,
        }
    }
}

impl From<KeychainError> for CredentialError {
    fn from(err: KeychainError) -> Self {
        CredentialError::Keychain(err)
    }
}

fn kind_label(kind: EntryKind) -> &'static str {
    match kind {
        EntryKind::AccountKey => "an account key",
        EntryKind::Sas => "a SAS token",
    }
}

impl CredentialArgs {
    /// Whether any credential option was given (a command that can also sign in with Entra ID
    /// checks this before calling [`resolve`](Self::resolve)).
    pub fn is_given(&self) -> bool {
        self.account_key_env.is_some() || self.sas_env.is_some() || self.keychain.is_some()
    }

    /// Reads the credential from the process environment or the keychain (`$LRS_KEYCHAIN_SERVICE`
    /// or `lrs-wizard`).
    pub fn resolve(&self) -> Result<StorageCredential, CredentialError> {
        self.resolve_with(|var| std::env::var_os(var), &Keychain::from_env())
    }

    /// [`resolve`](Self::resolve) with the environment and the keychain passed in.
    pub fn resolve_with(
        &self,
        env: impl Fn(&str) -> Option<OsString>,
        keychain: &Keychain,
    ) -> Result<StorageCredential, CredentialError> {
        if let Some(var) = &self.account_key_env {
            return read_env_secret(var, "storage account key", env).map(StorageCredential::AccountKey);
        }
        if let Some(var) = &self.sas_env {
            return read_env_secret(var, "SAS token", env).map(StorageCredential::Sas);
        }
        let Some(name) = &self.keychain else { return Err(CredentialError::NotGiven) };
        let kind = self.keychain_entry_kind(name)?;
        let value = keychain.get(name)?.ok_or_else(|| CredentialError::EntryMissing { name: name.clone() })?;
        if value.is_empty() {
            return Err(CredentialError::EntryEmpty { name: name.clone() });
        }
        Ok(match kind {
            EntryKind::AccountKey => StorageCredential::AccountKey(value),
            EntryKind::Sas => StorageCredential::Sas(value),
        })
    }

    fn keychain_entry_kind(&self, name: &str) -> Result<EntryKind, CredentialError> {
        let named = EntryKind::from_name(name);
        let flag = self.keychain_kind.map(EntryKind::from);
        match (named, flag) {
            (Some(named), Some(flag)) if named != flag => Err(CredentialError::KindConflict {
                name: name.to_owned(),
                named: kind_label(named),
                flag: kind_label(flag),
            }),
            (Some(kind), _) | (None, Some(kind)) => Ok(kind),
            (None, None) => Err(CredentialError::KindUnknown { name: name.to_owned() }),
        }
    }
}

/// The secret in environment variable `var` (`what` names it in messages: "SAS token"), unchanged.
/// For commands that take one variable outside [`CredentialArgs`] (`lrs sas create --account-key-env`).
pub fn read_env_secret(
    var: &str,
    what: &'static str,
    env: impl Fn(&str) -> Option<OsString>,
) -> Result<Secret, CredentialError> {
    let value = env(var).ok_or_else(|| CredentialError::EnvUnset { var: var.to_owned() })?;
    // The OsString is the value itself: it must not reach the error.
    let value = value.into_string().map_err(|_| CredentialError::EnvNotText { var: var.to_owned(), what })?;
    if value.is_empty() {
        return Err(CredentialError::EnvEmpty { var: var.to_owned(), what });
    }
    Ok(Secret::new(value))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::collections::HashMap;

    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        credential: CredentialArgs,
    }

    fn parse(args: &[&str]) -> Result<CredentialArgs, clap::Error> {
        Cli::try_parse_from(std::iter::once("lrs").chain(args.iter().copied())).map(|cli| cli.credential)
    }

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> {
        let map: HashMap<String, OsString> = pairs.iter().map(|(k, v)| (k.to_string(), OsString::from(v))).collect();
        move |var| map.get(var).cloned()
    }

    /// A keychain that is never reached: these tests fail before or without a lookup.
    fn no_keychain() -> Keychain {
        Keychain::with_service("lrs-wizard-credentials-unit")
    }

    #[test]
    fn at_most_one_source() {
        assert!(parse(&["--account-key-env", "K", "--sas-env", "S"]).is_err());
        assert!(parse(&["--sas-env", "S", "--keychain", "sas/a/c"]).is_err());
        assert!(parse(&["--keychain-kind", "sas"]).is_err(), "--keychain-kind needs --keychain");
        let none = parse(&[]).unwrap();
        assert!(!none.is_given());
        assert!(matches!(none.resolve_with(env(&[]), &no_keychain()), Err(CredentialError::NotGiven)));
    }

    #[test]
    fn env_values_pass_unchanged() {
        let args = parse(&["--sas-env", "LRS_SAS"]).unwrap();
        let sas = "?sv=2022-11-02&sp=rl&sr=c&sig=abc%3D";
        let got = args.resolve_with(env(&[("LRS_SAS", sas)]), &no_keychain()).unwrap();
        assert_eq!(got, StorageCredential::Sas(Secret::new(sas)));
        let args = parse(&["--account-key-env", "KEY"]).unwrap();
        let got = args.resolve_with(env(&[("KEY", "a2V5 ")]), &no_keychain()).unwrap();
        assert_eq!(got, StorageCredential::AccountKey(Secret::new("a2V5 ")));
    }

    #[test]
    fn unset_and_empty_variables_say_how_to_set_them() {
        let args = parse(&["--account-key-env", "LRS_KEY"]).unwrap();
        let unset = args.resolve_with(env(&[]), &no_keychain()).unwrap_err().to_string();
        assert!(unset.contains("LRS_KEY is not set") && unset.contains("read -rs LRS_KEY"), "{unset}");
        let empty = args.resolve_with(env(&[("LRS_KEY", "")]), &no_keychain()).unwrap_err().to_string();
        assert!(empty.contains("LRS_KEY is empty") && empty.contains("storage account key"), "{empty}");
    }

    #[cfg(unix)]
    #[test]
    fn a_non_utf8_value_is_not_repeated() {
        use std::os::unix::ffi::OsStringExt;
        let args = parse(&["--sas-env", "S"]).unwrap();
        let bad = OsString::from_vec(b"sig=secret\xff".to_vec());
        let err = args.resolve_with(move |_| Some(bad.clone()), &no_keychain()).unwrap_err();
        for text in [err.to_string(), format!("{err:?}")] {
            assert!(text.contains("valid UTF-8") || text.contains("EnvNotText"), "{text}");
            assert!(!text.contains("secret"), "{text}");
        }
    }

    #[test]
    fn the_entry_name_or_the_flag_gives_the_kind() {
        let kind = |args: &[&str]| {
            let parsed = parse(args).unwrap();
            let name = parsed.keychain.clone().unwrap();
            parsed.keychain_entry_kind(&name)
        };
        assert_eq!(kind(&["--keychain", "storage/acct/key"]).unwrap(), EntryKind::AccountKey);
        assert_eq!(kind(&["--keychain", "sas/acct/backups"]).unwrap(), EntryKind::Sas);
        assert_eq!(kind(&["--keychain", "prod", "--keychain-kind", "sas"]).unwrap(), EntryKind::Sas);
        assert_eq!(kind(&["--keychain", "sas/a/c", "--keychain-kind", "sas"]).unwrap(), EntryKind::Sas);
        let unknown = kind(&["--keychain", "prod"]).unwrap_err().to_string();
        assert!(unknown.contains("--keychain-kind"), "{unknown}");
        let conflict = kind(&["--keychain", "sas/a/c", "--keychain-kind", "account-key"]).unwrap_err().to_string();
        assert!(conflict.contains("named as a SAS token"), "{conflict}");
    }

    #[test]
    fn an_invalid_entry_name_is_refused_before_any_lookup() {
        let args = parse(&["--keychain", "bad\tname", "--keychain-kind", "sas"]).unwrap();
        let err = args.resolve_with(env(&[]), &no_keychain()).unwrap_err();
        assert!(matches!(err, CredentialError::Keychain(KeychainError::InvalidName { .. })), "{err}");
    }

    #[test]
    fn reads_a_keychain_entry_of_the_named_kind() {
        let keychain = Keychain::with_service(format!("lrs-wizard-cli-unit-{}", std::process::id()));
        let name = "sas/acct/backups";
        if let Err(err) = keychain.set(name, &Secret::new("sv=2022-11-02&sp=rl&sig=unit")) {
            let required = std::env::var("LRS_REQUIRE_KEYCHAIN").is_ok_and(|v| v == "1");
            assert!(!required && err.is_store_unusable(), "the platform keychain must work here: {err}");
            eprintln!("SKIPPED: no usable keychain ({err}); scripts/test.sh runs this for real");
            return;
        }
        let got = parse(&["--keychain", name]).unwrap().resolve_with(env(&[]), &keychain);
        let missing = parse(&["--keychain", "sas/acct/other"]).unwrap().resolve_with(env(&[]), &keychain);
        keychain.delete(name).unwrap();
        assert_eq!(got.unwrap(), StorageCredential::Sas(Secret::new("sv=2022-11-02&sp=rl&sig=unit")));
        let missing = missing.unwrap_err().to_string();
        assert!(missing.contains("lrs secrets set sas/acct/other"), "{missing}");
    }
}
