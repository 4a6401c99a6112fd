//! The user delegation SAS, for users signed in with Entra ID who have no account key: a delegation
//! key from the Blob service (`Get User Delegation Key`, with the caller's bearer token), then a
//! Read+List container SAS signed with it by the official `azure_storage_sas` builder.
//!
//! Azure caps a delegation key at 7 days, and the SAS cannot outlive its key: such a token cannot
//! cover a 30-day LRS job, so a longer expiry is refused here with a message that says so.

use std::sync::Arc;

use azure_core::credentials::TokenCredential;
use azure_storage_blob::models::KeyInfo;
use azure_storage_blob::{BlobServiceClient, BlobServiceClientOptions};
use azure_storage_sas::{SasBuilder, SasProtocol};
use time::{Duration, OffsetDateTime};

use super::service::truncate;
use super::{SasError, START_SKEW};
use crate::secrets::Secret;
use crate::storage::endpoint::ContainerUrl;

/// The longest lifetime Azure grants a user delegation key (and so a user delegation SAS).
pub const MAX_DELEGATION_LIFETIME: Duration = Duration::days(7);

/// Gets a delegation key valid from `now` − 15 minutes until `expiry` and signs a Read+List
/// container SAS with it (`spr=https`, or `https,http` for a loopback emulator). `options` carries
/// a custom transport (for example a test's self-signed certificate).
pub async fn user_delegation_sas(
    container: &ContainerUrl,
    credential: Arc<dyn TokenCredential>,
    now: OffsetDateTime,
    expiry: OffsetDateTime,
    options: Option<BlobServiceClientOptions>,
) -> Result<Secret, SasError> {
    let (now, expiry) = (truncate(now), truncate(expiry));
    if expiry <= now {
        return Err(SasError::ExpiryInPast {
            expiry: super::service::format_time(expiry),
            now: super::service::format_time(now),
        });
    }
    if expiry - now > MAX_DELEGATION_LIFETIME {
        return Err(SasError::DelegationTooLong);
    }
    let start = now - START_SKEW;
    let service = BlobServiceClient::new(container.account_endpoint().clone(), Some(credential), options)
        .map_err(|e| SasError::DelegationKey(short(&e.to_string())))?;
    let key_info = KeyInfo { start: Some(start), expiry: Some(expiry), ..Default::default() }
        .try_into()
        .map_err(|e: azure_core::Error| SasError::DelegationKey(short(&e.to_string())))?;
    let key = service
        .get_user_delegation_key(key_info, None)
        .await
        .and_then(|response| response.into_model())
        .map_err(|e| SasError::DelegationKey(chain(&e)))?;
    let protocol = if container.is_loopback() { SasProtocol::HttpsAndHttp } else { SasProtocol::Https };
    let builder = SasBuilder::new(container.account(), &key, expiry)
        .map_err(|e| SasError::Delegation(short(&e.to_string())))?
        .container(container.container())
        .read()
        .list()
        .start(start)
        .protocol(protocol);
    Ok(Secret::new(builder.build()))
}

/// An SDK error with its causes ("non-transport error" alone says nothing), redacted and bounded.
fn chain(error: &azure_core::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        let next = cause.to_string();
        if !text.contains(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        source = cause.source();
    }
    short(&crate::secrets::redact(&text))
}

/// An SDK error's text, bounded (it names the endpoint and the service's code, never the bearer token).
fn short(text: &str) -> String {
    text.chars().take(300).collect()
}
