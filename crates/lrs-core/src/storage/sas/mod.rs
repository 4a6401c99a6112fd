//! SAS tokens for LRS: signing them (a pure account-key builder for container service and account
//! SAS, and the user delegation SAS for Entra ID sign-ins), checking any token against LRS's rules,
//! and proving a token live against its container.
//!
//! LRS reads the backups through a container SAS that must carry exactly Read and List; a token with
//! one more permission, a stored access policy, a blob scope or a short window makes it refuse to
//! start. The upload engine gets its own short-lived write SAS from [`write_sas`].

pub mod check;
pub mod delegation;
pub mod live;
pub mod permissions;
pub mod service;

use time::{Duration, OffsetDateTime};

use crate::secrets::Secret;
use crate::storage::endpoint::ContainerUrl;

pub use check::{check, Check, CheckId, Verdict};
pub use delegation::user_delegation_sas;
pub use live::{explain, prove_live, LiveOptions};

pub use permissions::Permissions;
pub use service::{AccountSas, ServiceSas, SignedResource};

/// The storage service version the account-key builders sign with (`sv`). Its string-to-sign was
/// verified against Azurite 3.35 and 3.37 and against the Python SDK (known-answer tests).
pub const SIGNED_VERSION: &str = "2022-11-02";

/// How far before "now" a generated token starts, so that a clock running a little fast on the
/// machine that uses it (LRS, Azure Storage) does not see a token that is not valid yet.
pub const START_SKEW: Duration = Duration::minutes(15);

/// The default lifetime of the LRS token: an LRS job lasts at most 30 days, plus two days of margin.
pub const DEFAULT_LRS_LIFETIME: Duration = Duration::days(32);

/// The longest LRS job (the planned end a token must cover by default).
pub const LONGEST_LRS_JOB: Duration = Duration::days(30);

/// Why a SAS could not be signed. No variant carries a key or a token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SasError {
    #[error("the account key is not valid base64 (copy it again from the storage account's Access keys page)")]
    KeyNotBase64,
    #[error("the account key is empty")]
    EmptyKey,
    #[error("the SAS would expire ({expiry}) before it starts ({start}): choose a later expiry")]
    EmptyWindow { start: String, expiry: String },
    #[error("the SAS expiry must be in the future (it is {expiry}, now is {now})")]
    ExpiryInPast { expiry: String, now: String },
    #[error("'{0}' is not a permission letter of a blob SAS")]
    UnknownPermission(char),
    #[error(
        "a user delegation SAS lasts at most 7 days (Azure's limit for the delegation key), too short for an \
         LRS job that may last 30: choose --days 7 or less, or sign with the account key"
    )]
    DelegationTooLong,
    #[error(
        "could not get a user delegation key: {0}. The sign-in needs Entra ID access to the storage account \
         (a role with generateUserDelegationKey: Storage Blob Delegator, or a Storage Blob Data role) and a \
         token for https://storage.azure.com; or sign with the account key (--account-key-env)"
    )]
    DelegationKey(String),
    #[error("could not build the user delegation SAS: {0}")]
    Delegation(String),
}

/// The Read+List container SAS for LRS: `sr=c`, `sp=rl`, start 15 minutes before `now`, the
/// given `expiry`, `spr=https` (or `https,http` for a loopback emulator), signed with the account
/// key. The token has no leading `?`.
pub fn lrs_read_list_sas(
    container: &ContainerUrl,
    key: &Secret,
    now: OffsetDateTime,
    expiry: OffsetDateTime,
) -> Result<Secret, SasError> {
    container_sas(container, key, Permissions::READ_LIST, now, expiry)
}

/// A short-lived container SAS for the upload engine (`sp=racw`: stage and commit blocks, read
/// back block lists and properties), valid from 15 minutes before `now` for `lifetime`.
pub fn write_sas(
    container: &ContainerUrl,
    key: &Secret,
    now: OffsetDateTime,
    lifetime: Duration,
) -> Result<Secret, SasError> {
    let permissions = Permissions::parse("racw")?;
    container_sas(container, key, permissions, now, now + lifetime)
}

fn container_sas(
    container: &ContainerUrl,
    key: &Secret,
    permissions: Permissions,
    now: OffsetDateTime,
    expiry: OffsetDateTime,
) -> Result<Secret, SasError> {
    let now = service::truncate(now);
    let expiry = service::truncate(expiry);
    if expiry <= now {
        return Err(SasError::ExpiryInPast { expiry: service::format_time(expiry), now: service::format_time(now) });
    }
    ServiceSas {
        resource: SignedResource::Container,
        permissions,
        start: Some(now - START_SKEW),
        expiry,
        protocol: Some(service::protocol_for(container).to_string()),
        identifier: None,
        version: SIGNED_VERSION.to_string(),
    }
    .sign(container.account(), container.container(), key)
}
