//! The account-key SAS builders: a blob service SAS (container or blob scope) and an account SAS,
//! signed with HMAC-SHA256 over the service's string-to-sign. Pure functions of their inputs (no
//! clock, no I/O): the caller passes start and expiry, so fixed-time known-answer tests pin them.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use time::macros::format_description;
use time::{OffsetDateTime, UtcOffset};

use super::{Permissions, SasError};
use crate::secrets::Secret;
use crate::storage::endpoint::ContainerUrl;

/// What a service SAS grants access to (`sr`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignedResource {
    /// The whole container (`sr=c`): what LRS needs.
    Container,
    /// One blob of the container (`sr=b`), by its name.
    Blob(String),
}

/// A blob service SAS signed with the account key (string-to-sign layout of `sv` 2020-12-06 and later).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceSas {
    pub resource: SignedResource,
    pub permissions: Permissions,
    pub start: Option<OffsetDateTime>,
    pub expiry: OffsetDateTime,
    /// `spr`: `https` or `https,http`; `None` leaves it out (both allowed).
    pub protocol: Option<String>,
    /// `si`: a stored access policy (LRS refuses tokens that use one; here for tests and checks).
    pub identifier: Option<String>,
    pub version: String,
}

impl ServiceSas {
    /// Signs the token for `container` of `account`. The result has no leading `?`.
    pub fn sign(&self, account: &str, container: &str, key: &Secret) -> Result<Secret, SasError> {
        let (sr, resource) = match &self.resource {
            SignedResource::Container => ("c", format!("/blob/{account}/{container}")),
            SignedResource::Blob(name) => ("b", format!("/blob/{account}/{container}/{name}")),
        };
        check_window(self.start, self.expiry)?;
        let sp = self.permissions.letters();
        let st = self.start.map(format_time).unwrap_or_default();
        let se = format_time(self.expiry);
        let si = self.identifier.clone().unwrap_or_default();
        let spr = self.protocol.clone().unwrap_or_default();
        // sp, st, se, resource, si, sip, spr, sv, sr, snapshot, ses, rscc, rscd, rsce, rscl, rsct
        let fields = [sp.as_str(), &st, &se, &resource, &si, "", &spr, &self.version, sr, "", "", "", "", "", "", ""];
        let sig = hmac_base64(key, &fields.join("\n"))?;
        let query = [("st", st), ("se", se), ("sp", sp), ("spr", spr), ("sv", self.version.clone()), ("si", si)];
        Ok(Secret::new(query_string(&query, &[("sr", sr.to_string()), ("sig", sig)])))
    }
}

/// An account SAS signed with the account key (string-to-sign layout of `sv` 2020-12-06 and later).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountSas {
    /// `ss`: services, such as `b` (blob) or `bfqt`.
    pub services: String,
    /// `srt`: resource types, `s` service, `c` container, `o` object.
    pub resource_types: String,
    /// `sp` in account-SAS order (`rwdxylacupfti`), written as given.
    pub permissions: String,
    pub start: Option<OffsetDateTime>,
    pub expiry: OffsetDateTime,
    pub protocol: Option<String>,
    pub version: String,
}

impl AccountSas {
    /// Every blob right (`rwdlacup`) on service, containers and blobs, from 15 minutes ago for
    /// `lifetime`, over https or http: what setting up an emulator's containers takes (creating a
    /// container needs an account SAS or Shared Key, and the official crates have no Shared Key).
    /// Never a token for LRS, which accepts Read and List only.
    pub fn full_blob_access(now: OffsetDateTime, lifetime: time::Duration) -> AccountSas {
        AccountSas {
            services: "b".into(),
            resource_types: "sco".into(),
            permissions: "rwdlacup".into(),
            start: Some(now - super::START_SKEW),
            expiry: now + lifetime,
            protocol: Some("https,http".into()),
            version: super::SIGNED_VERSION.into(),
        }
    }

    pub fn sign(&self, account: &str, key: &Secret) -> Result<Secret, SasError> {
        check_window(self.start, self.expiry)?;
        let st = self.start.map(format_time).unwrap_or_default();
        let se = format_time(self.expiry);
        let spr = self.protocol.clone().unwrap_or_default();
        let fields =
            [account, &self.permissions, &self.services, &self.resource_types, &st, &se, "", &spr, &self.version, ""];
        let sig = hmac_base64(key, &(fields.join("\n") + "\n"))?;
        let query = [("st", st), ("se", se), ("sp", self.permissions.clone()), ("spr", spr)];
        let tail = [
            ("sv", self.version.clone()),
            ("ss", self.services.clone()),
            ("srt", self.resource_types.clone()),
            ("sig", sig),
        ];
        Ok(Secret::new(query_string(&query, &tail)))
    }
}

/// `spr` for a container: `https`, or `https,http` for a loopback emulator (Azurite serves plain
/// http there, and Azure refuses `spr=http` alone).
pub fn protocol_for(container: &ContainerUrl) -> &'static str {
    if container.is_loopback() {
        "https,http"
    } else {
        "https"
    }
}

/// A SAS time: UTC, whole seconds, `YYYY-MM-DDThh:mm:ssZ`.
pub fn format_time(t: OffsetDateTime) -> String {
    let format = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    // The description has only numeric fields, so formatting cannot fail for years 0..=9999.
    truncate(t).format(&format).unwrap_or_default()
}

/// `t` in UTC without its sub-second part (a SAS carries whole seconds).
pub fn truncate(t: OffsetDateTime) -> OffsetDateTime {
    let t = t.to_offset(UtcOffset::UTC);
    t.replace_nanosecond(0).unwrap_or(t)
}

fn check_window(start: Option<OffsetDateTime>, expiry: OffsetDateTime) -> Result<(), SasError> {
    match start {
        Some(start) if truncate(start) >= truncate(expiry) => {
            Err(SasError::EmptyWindow { start: format_time(start), expiry: format_time(expiry) })
        }
        _ => Ok(()),
    }
}

fn hmac_base64(key: &Secret, string_to_sign: &str) -> Result<String, SasError> {
    if key.expose().trim().is_empty() {
        return Err(SasError::EmptyKey);
    }
    let key = BASE64.decode(key.expose().trim()).map_err(|_| SasError::KeyNotBase64)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).map_err(|_| SasError::KeyNotBase64)?;
    mac.update(string_to_sign.as_bytes());
    Ok(BASE64.encode(mac.finalize().into_bytes()))
}

/// Joins non-empty parameters as the SDKs do (`name=value`, percent-encoded like Python's `quote`).
fn query_string(head: &[(&str, String)], tail: &[(&str, String)]) -> String {
    head.iter()
        .chain(tail)
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    //! Known answers computed once with Python's azure-storage-blob 12.31.1 (`generate_container_sas`
    //! and `SharedAccessSignature.generate_account` with `X_MS_VERSION` set to 2022-11-02), same
    //! inputs: the Azurite key, start 2026-01-01T11:45:00Z.
    use super::*;
    use crate::storage::endpoint::EMULATOR_KEY;
    use crate::storage::sas::{lrs_read_list_sas, write_sas, SIGNED_VERSION};
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-01-01 12:00:00.123 UTC);

    #[test]
    fn lrs_token_matches_python_sdk_https() {
        // The host-style URL names account "devstoreaccount1" so the inputs equal the Python run.
        let c = ContainerUrl::parse("https://devstoreaccount1.blob.core.windows.net/migrations").unwrap();
        let sas = lrs_read_list_sas(&c, &Secret::new(EMULATOR_KEY), NOW, datetime!(2026-02-02 12:00 UTC)).unwrap();
        assert_eq!(
            sas.expose(),
            "st=2026-01-01T11%3A45%3A00Z&se=2026-02-02T12%3A00%3A00Z&sp=rl&spr=https&sv=2022-11-02&sr=c\
             &sig=KQbBUVMs0JdGMldRj63W45zzk7KWXgCfIdHLtukI5kg%3D"
        );
    }

    #[test]
    fn lrs_token_for_loopback_emulator_allows_http() {
        let c = ContainerUrl::parse("http://127.0.0.1:10000/devstoreaccount1/migrations").unwrap();
        let expiry = datetime!(2026-02-02 14:00 +02:00); // the same instant as 12:00 UTC
        let sas = lrs_read_list_sas(&c, &Secret::new(EMULATOR_KEY), NOW, expiry).unwrap();
        assert_eq!(
            sas.expose(),
            "st=2026-01-01T11%3A45%3A00Z&se=2026-02-02T12%3A00%3A00Z&sp=rl&spr=https%2Chttp&sv=2022-11-02&sr=c\
             &sig=D20UyAst2no%2B9KC5DFejkfJ9OKKewytMwsxXWaiHd9k%3D"
        );
    }

    #[test]
    fn write_sas_matches_python_sdk() {
        let c = ContainerUrl::parse("https://myaccount.blob.core.windows.net/backups").unwrap();
        let sas = write_sas(&c, &Secret::new(EMULATOR_KEY), NOW, time::Duration::hours(2)).unwrap();
        assert_eq!(
            sas.expose(),
            "st=2026-01-01T11%3A45%3A00Z&se=2026-01-01T14%3A00%3A00Z&sp=racw&spr=https&sv=2022-11-02&sr=c\
             &sig=Aaq3sHKTMSkuhdstMdDF5oMvYs30R%2BDVpnuRqMtq4Yg%3D"
        );
    }

    #[test]
    fn full_blob_access_covers_every_blob_right_and_starts_early() {
        let now = time::macros::datetime!(2026-01-01 12:00 UTC);
        let sas = AccountSas::full_blob_access(now, time::Duration::hours(2));
        assert_eq!(
            (sas.services.as_str(), sas.resource_types.as_str(), sas.permissions.as_str()),
            ("b", "sco", "rwdlacup")
        );
        assert_eq!(sas.start, Some(now - super::super::START_SKEW));
        assert_eq!(sas.expiry, now + time::Duration::hours(2));
        assert!(sas.sign("devstoreaccount1", &Secret::new("a2V5")).unwrap().expose().contains("sp=rwdlacup"));
    }

    #[test]
    fn account_sas_matches_python_sdk() {
        let sas = AccountSas {
            services: "b".into(),
            resource_types: "co".into(),
            permissions: "rl".into(),
            start: Some(datetime!(2026-01-01 11:45 UTC)),
            expiry: datetime!(2026-02-02 12:00 UTC),
            protocol: Some("https,http".into()),
            version: SIGNED_VERSION.into(),
        };
        assert_eq!(
            sas.sign("devstoreaccount1", &Secret::new(EMULATOR_KEY)).unwrap().expose(),
            "st=2026-01-01T11%3A45%3A00Z&se=2026-02-02T12%3A00%3A00Z&sp=rl&spr=https%2Chttp&sv=2022-11-02&ss=b&srt=co\
             &sig=M4n5DG8UDjOIgDPkGY1J4Z3%2BNNyP8gnKm16%2B2N%2BYSjI%3D"
        );
    }

    #[test]
    fn refuses_bad_keys_and_windows_without_echoing_the_key() {
        let c = ContainerUrl::parse("https://acct.blob.core.windows.net/mig").unwrap();
        let later = NOW + time::Duration::days(1);
        let err = lrs_read_list_sas(&c, &Secret::new("not base64!!"), NOW, later).unwrap_err();
        assert_eq!(err, SasError::KeyNotBase64);
        assert!(!err.to_string().contains("not base64!!"));
        assert_eq!(lrs_read_list_sas(&c, &Secret::new(""), NOW, later).unwrap_err(), SasError::EmptyKey);
        let err = lrs_read_list_sas(&c, &Secret::new(EMULATOR_KEY), NOW, NOW).unwrap_err();
        assert!(matches!(err, SasError::ExpiryInPast { .. }));
    }
}
