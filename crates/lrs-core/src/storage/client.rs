//! The one HTTP client of the storage engine and the clients built over it. [`StorageClient`] owns
//! a single `reqwest` 0.13 client (connection pool, timeouts, no automatic decompression, as the
//! Azure SDK asks of custom clients); [`ContainerClient`] gives the official `azure_storage_blob`
//! 1.x clients of one container over that transport, authenticated by a SAS (given, or minted from
//! an account key: the official crates have no Shared Key) or by an Entra ID token.
//!
//! The SDK's own retry policy is turned off: retries are the engine's (`retry.rs`), so that they
//! are tested with a fixed jitter, report each retry as a progress event, and time out a stalled
//! block by its size. URLs carrying a SAS never reach an error: messages are built from the blob
//! name and passed through [`redact`].

use std::sync::{Arc, Mutex};

use azure_core::credentials::TokenCredential;
use azure_core::http::{ClientOptions, RetryOptions, Transport, Url};
use azure_storage_blob::{BlobClient, BlobClientOptions};
use time::OffsetDateTime;

use super::defaults;
use super::endpoint::ContainerUrl;
use super::sas::{self, SasError};
use crate::secrets::Secret;

/// How the engine authenticates to a container.
#[derive(Clone)]
pub enum UploadCredential {
    /// A SAS token for the container (with or without a leading `?`); it needs `racw`.
    Sas(Secret),
    /// A storage account key: the engine mints a short-lived write SAS from it and renews it.
    AccountKey(Secret),
    /// An Entra ID sign-in (https endpoints only).
    Token(Arc<dyn TokenCredential>),
}

impl std::fmt::Debug for UploadCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            UploadCredential::Sas(_) => "UploadCredential::Sas(<redacted>)",
            UploadCredential::AccountKey(_) => "UploadCredential::AccountKey(<redacted>)",
            UploadCredential::Token(_) => "UploadCredential::Token",
        })
    }
}

/// Why a client could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot set up the HTTP client: {0}")]
    Http(String),
    #[error("cannot sign the upload SAS: {0}")]
    Sas(#[from] SasError),
    #[error("cannot build the client for blob '{blob}': {message}")]
    Blob { blob: String, message: String },
}

/// Options of the shared HTTP client.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    pub connect_timeout: std::time::Duration,
    pub pool_idle_timeout: std::time::Duration,
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions { connect_timeout: defaults::CONNECT_TIMEOUT, pool_idle_timeout: defaults::POOL_IDLE_TIMEOUT }
    }
}

/// The engine's one HTTP client; cheap to clone (the pool is shared).
#[derive(Debug, Clone)]
pub struct StorageClient {
    http: reqwest::Client,
}

impl StorageClient {
    pub fn new(options: &HttpOptions) -> Result<Self, ClientError> {
        let http = reqwest::Client::builder()
            .connect_timeout(options.connect_timeout)
            .pool_idle_timeout(options.pool_idle_timeout)
            .tcp_nodelay(true)
            .user_agent(concat!("lrs-wizard/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ClientError::Http(redact(&e.to_string())))?;
        Ok(StorageClient { http })
    }

    /// The shared `reqwest` client, for calls made without the SDK (ARM, the SAS live check).
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// Options for an SDK `BlobServiceClient` over this client (the user delegation key request).
    pub fn blob_service_options(&self) -> azure_storage_blob::BlobServiceClientOptions {
        azure_storage_blob::BlobServiceClientOptions {
            client_options: ClientOptions {
                transport: Some(Transport::new(Arc::new(self.http.clone()))),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    /// A client for `container`, authenticated by `credential`.
    pub fn container(&self, container: ContainerUrl, credential: UploadCredential) -> ContainerClient {
        let transport = Transport::new(Arc::new(self.http.clone()));
        ContainerClient { container, credential, transport, minted: Mutex::new(None) }
    }
}

/// One container's clients over the shared transport.
pub struct ContainerClient {
    container: ContainerUrl,
    credential: UploadCredential,
    transport: Transport,
    /// The write SAS minted from an account key and when it must be renewed.
    minted: Mutex<Option<(Secret, OffsetDateTime)>>,
}

impl std::fmt::Debug for ContainerClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ContainerClient").field("container", &self.container).finish_non_exhaustive()
    }
}

impl ContainerClient {
    pub fn container(&self) -> &ContainerUrl {
        &self.container
    }

    /// The SDK client of one blob. With a SAS the URL carries the token (the SDK keeps the query
    /// and adds its own parameters); the URL itself is never put in a message.
    pub fn blob_client(&self, blob: &str) -> Result<BlobClient, ClientError> {
        let mut url: Url = self.container.blob_url(blob);
        let token = match &self.credential {
            UploadCredential::Sas(sas) => Some(sas.clone()),
            UploadCredential::AccountKey(key) => Some(self.write_sas(key)?),
            UploadCredential::Token(_) => None,
        };
        if let Some(token) = &token {
            url.set_query(Some(token.expose().trim_start_matches('?')));
        }
        let credential = match &self.credential {
            UploadCredential::Token(c) => Some(c.clone()),
            _ => None,
        };
        let options = BlobClientOptions {
            client_options: ClientOptions {
                transport: Some(self.transport.clone()),
                retry: RetryOptions::none(),
                ..Default::default()
            },
            ..Default::default()
        };
        BlobClient::new(url, credential, Some(options))
            .map_err(|e| ClientError::Blob { blob: blob.to_string(), message: redact(&e.to_string()) })
    }

    /// The current write SAS, minted again when it is about to run out.
    fn write_sas(&self, key: &Secret) -> Result<Secret, ClientError> {
        let now = OffsetDateTime::now_utc();
        let mut minted = self.minted.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((token, renew_at)) = minted.as_ref() {
            if now < *renew_at {
                return Ok(token.clone());
            }
        }
        let lifetime = time::Duration::try_from(defaults::WRITE_SAS_LIFETIME).unwrap_or(time::Duration::HOUR);
        let renew_before = time::Duration::try_from(defaults::WRITE_SAS_RENEW_BEFORE).unwrap_or(time::Duration::ZERO);
        let token = sas::write_sas(&self.container, key, now, lifetime)?;
        *minted = Some((token.clone(), now + lifetime - renew_before));
        Ok(token)
    }
}

/// Kept here for callers of the storage client; the one implementation is in `secrets`.
pub use crate::secrets::redact;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_do_not_print() {
        let c = UploadCredential::Sas(Secret::new("sv=1&sig=SECRET"));
        assert!(!format!("{c:?}").contains("SECRET"));
    }

    #[test]
    fn blob_clients_carry_the_sas_without_a_leading_question_mark() {
        let http = StorageClient::new(&HttpOptions::default()).unwrap();
        let container = ContainerUrl::parse("http://127.0.0.1:10000/devstoreaccount1/mig").unwrap();
        let c = http.container(container, UploadCredential::Sas(Secret::new("?sv=2022-11-02&sp=racw&sig=x")));
        let blob = c.blob_client("db/a.bak").unwrap();
        assert_eq!(blob.url().query(), Some("sv=2022-11-02&sp=racw&sig=x"));
        assert_eq!(blob.url().path(), "/devstoreaccount1/mig/db/a.bak");
    }

    #[test]
    fn an_account_key_mints_a_write_sas_once() {
        let http = StorageClient::new(&HttpOptions::default()).unwrap();
        let container = ContainerUrl::parse("http://127.0.0.1:10000/devstoreaccount1/mig").unwrap();
        let key = Secret::new(super::super::endpoint::EMULATOR_KEY);
        let c = http.container(container, UploadCredential::AccountKey(key));
        let a = c.blob_client("db/a.bak").unwrap();
        let b = c.blob_client("db/b.bak").unwrap();
        let query = a.url().query().unwrap();
        assert!(query.contains("sp=racw") && query.contains("sig="), "{}", redact(query));
        assert_eq!(a.url().query(), b.url().query());
    }
}
