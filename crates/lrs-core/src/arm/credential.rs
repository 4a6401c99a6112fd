//! Sign-in for ARM, as `azure_core` token credentials: a service principal (client id + secret,
//! read from the keychain or from the environment variables every Azure SDK reads) and the Azure
//! CLI login. A service principal on an `https://` authority uses `azure_identity`'s
//! `ClientSecretCredential`; `azure_identity` refuses `http://`, so on a loopback authority (the
//! local emulator) the same client-credentials request is made by [`LoopbackClientSecret`].
//! Interactive sign-in (browser with PKCE, device code) is not here yet.

use std::sync::Arc;

use azure_core::cloud::{CloudConfiguration, CustomConfiguration};
use azure_core::credentials::{AccessToken, TokenCredential, TokenRequestOptions};
use azure_core::http::{ClientOptions, Transport};
use azure_identity::{AzureCliCredential, AzureCliCredentialOptions, ClientSecretCredential};
use time::OffsetDateTime;
use url::Url;

use super::cloud::{checked_url, AzureCloud, CloudError};
use crate::secrets::redact;
use crate::secrets::{Keychain, KeychainError, Secret};

pub const ENV_TENANT_ID: &str = "AZURE_TENANT_ID";
pub const ENV_CLIENT_ID: &str = "AZURE_CLIENT_ID";
pub const ENV_CLIENT_SECRET: &str = "AZURE_CLIENT_SECRET";
pub const ENV_AUTHORITY_HOST: &str = "AZURE_AUTHORITY_HOST";

/// A credential for ARM.
pub type ArmCredential = Arc<dyn TokenCredential>;

/// Why a credential could not be set up. No variant holds a secret.
#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    #[error("the service principal is incomplete: {0} is not set")]
    Missing(&'static str),
    #[error("no client secret for tenant '{tenant_id}', client '{client_id}' in the keychain (entry '{entry}')")]
    NotInKeychain { tenant_id: String, client_id: String, entry: String },
    #[error(transparent)]
    Cloud(#[from] CloudError),
    #[error(transparent)]
    Keychain(#[from] KeychainError),
    #[error("cannot set up the {what} credential: {message}")]
    Identity { what: &'static str, message: String },
}

/// A service principal: tenant, client id and client secret, and optionally its own authority host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServicePrincipal {
    pub tenant_id: String,
    pub client_id: String,
    pub secret: Secret,
    /// Overrides the cloud's authority host (`AZURE_AUTHORITY_HOST`).
    pub authority_host: Option<String>,
}

impl ServicePrincipal {
    /// From `AZURE_TENANT_ID`, `AZURE_CLIENT_ID`, `AZURE_CLIENT_SECRET` and, optionally,
    /// `AZURE_AUTHORITY_HOST`; `None` when none of the first three is set.
    pub fn from_env() -> Result<Option<ServicePrincipal>, CredentialError> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// As [`from_env`](Self::from_env), with the variables read through `var` (for tests).
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Option<ServicePrincipal>, CredentialError> {
        let get = |name| var(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        let (tenant, client, secret) = (get(ENV_TENANT_ID), get(ENV_CLIENT_ID), var(ENV_CLIENT_SECRET));
        if tenant.is_none() && client.is_none() && secret.is_none() {
            return Ok(None);
        }
        Ok(Some(ServicePrincipal {
            tenant_id: tenant.ok_or(CredentialError::Missing(ENV_TENANT_ID))?,
            client_id: client.ok_or(CredentialError::Missing(ENV_CLIENT_ID))?,
            secret: Secret::new(secret.filter(|s| !s.is_empty()).ok_or(CredentialError::Missing(ENV_CLIENT_SECRET))?),
            authority_host: get(ENV_AUTHORITY_HOST),
        }))
    }

    /// The keychain entry of a service principal's secret: `sp/<tenant>/<client id>`.
    pub fn keychain_entry(tenant_id: &str, client_id: &str) -> String {
        format!("sp/{tenant_id}/{client_id}")
    }

    /// The service principal whose secret the keychain holds.
    pub fn from_keychain(keychain: &Keychain, tenant_id: &str, client_id: &str) -> Result<Self, CredentialError> {
        let entry = Self::keychain_entry(tenant_id, client_id);
        match keychain.get(&entry)? {
            Some(secret) => Ok(ServicePrincipal {
                tenant_id: tenant_id.to_string(),
                client_id: client_id.to_string(),
                secret,
                authority_host: None,
            }),
            None => Err(CredentialError::NotInKeychain {
                tenant_id: tenant_id.to_string(),
                client_id: client_id.to_string(),
                entry,
            }),
        }
    }

    /// Stores the secret in the keychain (the only place it is kept).
    pub fn save_to_keychain(&self, keychain: &Keychain) -> Result<(), CredentialError> {
        keychain.set(&Self::keychain_entry(&self.tenant_id, &self.client_id), &self.secret)?;
        Ok(())
    }

    /// The token credential for `cloud` (or for this principal's own authority host).
    pub fn credential(&self, cloud: &AzureCloud) -> Result<ArmCredential, CredentialError> {
        let authority = match &self.authority_host {
            Some(host) => checked_url("authority host", host)?,
            None => cloud.authority_host.clone(),
        };
        if authority.scheme() == "http" {
            let endpoint = cloud.clone().with_authority_host(authority.as_str())?.token_endpoint(&self.tenant_id)?;
            return Ok(Arc::new(LoopbackClientSecret::new(endpoint, &self.client_id, self.secret.clone())));
        }
        let mut custom = CustomConfiguration::default();
        custom.authority_host = authority.as_str().trim_end_matches('/').to_string();
        let options = azure_identity::ClientSecretCredentialOptions {
            client_options: ClientOptions {
                cloud: Some(Arc::new(CloudConfiguration::Custom(custom))),
                transport: Some(Transport::new(Arc::new(http_client()?))),
                ..Default::default()
            },
        };
        let secret = azure_core::credentials::Secret::new(self.secret.expose().to_string());
        let credential = ClientSecretCredential::new(&self.tenant_id, self.client_id.clone(), secret, Some(options))
            .map_err(|e| identity_error("service principal", &e))?;
        Ok(credential)
    }
}

/// The Azure CLI's login (`az login`), optionally for another tenant than its default.
pub fn azure_cli(tenant_id: Option<&str>) -> Result<ArmCredential, CredentialError> {
    let options = AzureCliCredentialOptions { tenant_id: tenant_id.map(str::to_string), ..Default::default() };
    let credential = AzureCliCredential::new(Some(options)).map_err(|e| identity_error("Azure CLI", &e))?;
    Ok(credential)
}

fn identity_error(what: &'static str, error: &azure_core::Error) -> CredentialError {
    CredentialError::Identity { what, message: redact(&error.to_string()) }
}

fn http_client() -> Result<reqwest::Client, CredentialError> {
    reqwest::Client::builder()
        .connect_timeout(std::time::Duration::from_secs(15))
        .build()
        .map_err(|e| CredentialError::Identity { what: "HTTP", message: e.to_string() })
}

/// The OAuth 2.0 client-credentials request against a loopback `http://` authority (the local
/// emulator), which `azure_identity` refuses. Built only from a URL that passed [`checked_url`].
pub struct LoopbackClientSecret {
    endpoint: Url,
    client_id: String,
    secret: Secret,
    http: reqwest::Client,
}

impl std::fmt::Debug for LoopbackClientSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoopbackClientSecret")
            .field("endpoint", &self.endpoint.as_str())
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

impl LoopbackClientSecret {
    fn new(endpoint: Url, client_id: &str, secret: Secret) -> Self {
        LoopbackClientSecret { endpoint, client_id: client_id.to_string(), secret, http: reqwest::Client::new() }
    }
}

#[derive(serde::Deserialize)]
struct TokenResponse {
    access_token: String,
    expires_in: Option<i64>,
}

#[async_trait::async_trait]
impl TokenCredential for LoopbackClientSecret {
    async fn get_token(
        &self,
        scopes: &[&str],
        _options: Option<TokenRequestOptions<'_>>,
    ) -> azure_core::Result<AccessToken> {
        let fail = |message: String| azure_core::Error::with_message(azure_core::error::ErrorKind::Credential, message);
        let body = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("client_id", &self.client_id)
            .append_pair("client_secret", self.secret.expose())
            .append_pair("grant_type", "client_credentials")
            .append_pair("scope", &scopes.join(" "))
            .finish();
        let response = self
            .http
            .post(self.endpoint.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .map_err(|e| fail(format!("token request to {} failed: {e}", self.endpoint)))?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await.map_err(|e| fail(format!("token response unreadable: {e}")))?;
        if status != 200 {
            let text = String::from_utf8_lossy(&bytes);
            let text: String = text.chars().take(500).collect();
            return Err(fail(format!("the token endpoint answered {status}: {}", redact(&text))));
        }
        let token: TokenResponse =
            serde_json::from_slice(&bytes).map_err(|e| fail(format!("token response unreadable: {e}")))?;
        let expires_on = OffsetDateTime::now_utc() + time::Duration::seconds(token.expires_in.unwrap_or(3600));
        Ok(AccessToken::new(token.access_token, expires_on))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: std::collections::HashMap<String, String> =
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn service_principal_from_environment_variables() {
        assert!(ServicePrincipal::from_vars(vars(&[])).unwrap().is_none());
        let sp = ServicePrincipal::from_vars(vars(&[
            (ENV_TENANT_ID, "11111111-1111-1111-1111-111111111111"),
            (ENV_CLIENT_ID, "33333333-3333-3333-3333-333333333333"),
            (ENV_CLIENT_SECRET, "rehearsal-secret"),
            (ENV_AUTHORITY_HOST, "http://127.0.0.1:9000"),
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(sp.authority_host.as_deref(), Some("http://127.0.0.1:9000"));
        assert!(!format!("{sp:?}").contains("rehearsal-secret"));
        let err = ServicePrincipal::from_vars(vars(&[(ENV_TENANT_ID, "t"), (ENV_CLIENT_ID, "c")])).unwrap_err();
        assert!(matches!(err, CredentialError::Missing(ENV_CLIENT_SECRET)));
    }

    #[test]
    fn credentials_for_https_and_loopback_authorities() {
        let sp = ServicePrincipal {
            tenant_id: "11111111-1111-1111-1111-111111111111".into(),
            client_id: "c".into(),
            secret: Secret::new("s3cr3t-value"),
            authority_host: None,
        };
        let public = sp.credential(&AzureCloud::public()).unwrap();
        assert!(!format!("{public:?}").contains("s3cr3t-value"));
        let emu = AzureCloud::custom("http://127.0.0.1:9000", None, None).unwrap();
        let loopback = sp.credential(&emu).unwrap();
        let text = format!("{loopback:?}");
        assert!(text.contains("http://127.0.0.1:9000/11111111-1111-1111-1111-111111111111/oauth2/v2.0/token"));
        assert!(!text.contains("s3cr3t-value"));
        let remote = ServicePrincipal { authority_host: Some("http://login.example".into()), ..sp };
        assert!(matches!(remote.credential(&AzureCloud::public()), Err(CredentialError::Cloud(_))));
        assert!(azure_cli(Some("11111111-1111-1111-1111-111111111111")).is_ok());
    }
}
