//! Interactive sign-in for desktop users, which `azure_identity` 1.x does not have: the OAuth 2.0
//! authorization code flow with PKCE, its redirect caught by a one-shot HTTP listener on loopback
//! (the system browser is opened by the caller), and the device code flow as the fallback (the
//! `oauth2` crate, its HTTP sent through our `reqwest` 0.13). The client id is configurable (a
//! public client registered for the product; see the README).
//!
//! A sign-in yields a [`RefreshTokenCredential`], an `azure_core` token credential that trades the
//! refresh token for ARM access tokens. The refresh token lives in a [`Secret`] and, when a
//! keychain is given, in the keychain only (entry `login/<sign-in host>/<tenant>/<client id>`),
//! rotated on use.

use std::sync::Arc;
use std::time::Duration;

use azure_core::credentials::{AccessToken, TokenCredential, TokenRequestOptions};
use oauth2::basic::{BasicClient, BasicErrorResponse, BasicTokenResponse};
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, CsrfToken, DeviceAuthorizationUrl, EndpointNotSet, EndpointSet,
    HttpRequest, HttpResponse, PkceCodeChallenge, RedirectUrl, RefreshToken, RequestTokenError, Scope,
    StandardDeviceAuthorizationResponse, TokenResponse, TokenUrl,
};
use time::OffsetDateTime;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::Mutex;

use super::cloud::AzureCloud;
use crate::secrets::{Keychain, Secret};
use crate::storage::client::redact;

/// The Azure CLI's public client id, which many tools reuse; a product should register its own.
pub const AZURE_CLI_CLIENT_ID: &str = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";
/// The tenant alias for any work or school account.
pub const ORGANIZATIONS: &str = "organizations";

type EntraClient = BasicClient<EndpointSet, EndpointSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

/// Why a sign-in failed. No variant holds a token.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    #[error("invalid sign-in endpoint: {0}")]
    Endpoint(String),
    #[error("the sign-in was refused: {error}{}", .description.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
    Refused { error: String, description: Option<String> },
    #[error("the sign-in service could not be reached: {0}")]
    Network(String),
    #[error("the sign-in service answered something unreadable ({0})")]
    Unreadable(String),
    #[error("the sign-in answer has no refresh token (is offline_access allowed for the app?)")]
    NoRefreshToken,
    #[error("the browser sign-in did not complete: {0}")]
    Redirect(String),
    #[error("no sign-in within {0} s")]
    TimedOut(u64),
    #[error(transparent)]
    Keychain(#[from] crate::secrets::KeychainError),
}

/// What the user must do for a device code sign-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevicePrompt {
    pub verification_uri: String,
    pub user_code: String,
    pub expires_in: Duration,
}

/// Who signs in, where.
#[derive(Debug, Clone)]
pub struct InteractiveSignIn {
    pub cloud: AzureCloud,
    /// A tenant id or an alias (`organizations`, `common`).
    pub tenant: String,
    pub client_id: String,
    /// How long a sign-in may take (device code, browser).
    pub timeout: Duration,
    http: reqwest::Client,
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct HttpError(String);

async fn send(http: reqwest::Client, request: HttpRequest) -> Result<HttpResponse, HttpError> {
    let (parts, body) = request.into_parts();
    let url = parts.uri.to_string();
    let mut builder = http.request(parts.method, &url).body(body);
    for (name, value) in &parts.headers {
        builder = builder.header(name, value);
    }
    let response = builder.send().await.map_err(|e| HttpError(redact(&e.to_string())))?;
    let mut out = oauth2::http::Response::builder().status(response.status());
    for (name, value) in response.headers() {
        out = out.header(name, value);
    }
    let body = response.bytes().await.map_err(|e| HttpError(redact(&e.to_string())))?;
    out.body(body.to_vec()).map_err(|e| HttpError(e.to_string()))
}

impl InteractiveSignIn {
    pub fn new(cloud: AzureCloud, tenant: &str, client_id: &str) -> Self {
        InteractiveSignIn {
            cloud,
            tenant: tenant.to_string(),
            client_id: client_id.to_string(),
            timeout: Duration::from_secs(15 * 60),
            http: reqwest::Client::new(),
        }
    }

    fn endpoint(&self, leaf: &str) -> Result<String, SignInError> {
        let url = self.cloud.authority_host.join(&format!("{}/oauth2/v2.0/{leaf}", self.tenant));
        url.map(|u| u.to_string()).map_err(|e| SignInError::Endpoint(e.to_string()))
    }

    fn client(&self) -> Result<EntraClient, SignInError> {
        let bad = |e: oauth2::url::ParseError| SignInError::Endpoint(e.to_string());
        Ok(BasicClient::new(ClientId::new(self.client_id.clone()))
            .set_auth_type(AuthType::RequestBody)
            .set_auth_uri(AuthUrl::new(self.endpoint("authorize")?).map_err(bad)?)
            .set_token_uri(TokenUrl::new(self.endpoint("token")?).map_err(bad)?)
            .set_device_authorization_url(DeviceAuthorizationUrl::new(self.endpoint("devicecode")?).map_err(bad)?))
    }

    /// The scopes of a user sign-in: ARM, and `offline_access` for the refresh token.
    fn scopes(&self) -> Vec<Scope> {
        vec![Scope::new(self.cloud.arm_scope()), Scope::new("offline_access".into())]
    }

    /// The device code flow: `prompt` tells the user where to go and what to type; this waits
    /// until they have signed in (or the code expires).
    pub async fn device_code(&self, prompt: impl FnOnce(&DevicePrompt)) -> Result<RefreshTokenCredential, SignInError> {
        let client = self.client()?;
        let http = self.http.clone();
        let call = move |r| send(http.clone(), r);
        let details: StandardDeviceAuthorizationResponse =
            client.exchange_device_code().add_scopes(self.scopes()).request_async(&call).await.map_err(token_error)?;
        prompt(&DevicePrompt {
            verification_uri: details.verification_uri().to_string(),
            user_code: details.user_code().secret().clone(),
            expires_in: details.expires_in(),
        });
        let token = client
            .exchange_device_access_token(&details)
            .request_async(&call, tokio::time::sleep, Some(self.timeout))
            .await
            .map_err(token_error)?;
        self.credential_from(&token)
    }

    /// The authorization code flow with PKCE: `open` is given the sign-in URL to show in the
    /// system browser; the redirect comes back to a listener on 127.0.0.1.
    pub async fn browser(
        &self,
        open: impl FnOnce(&str) -> Result<(), String>,
    ) -> Result<RefreshTokenCredential, SignInError> {
        let listener =
            tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(|e| SignInError::Redirect(e.to_string()))?;
        let port = listener.local_addr().map_err(|e| SignInError::Redirect(e.to_string()))?.port();
        let redirect =
            RedirectUrl::new(format!("http://127.0.0.1:{port}/")).map_err(|e| SignInError::Endpoint(e.to_string()))?;
        let client = self.client()?.set_redirect_uri(redirect);
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state) =
            client.authorize_url(CsrfToken::new_random).add_scopes(self.scopes()).set_pkce_challenge(challenge).url();
        open(url.as_str()).map_err(SignInError::Redirect)?;
        let wait = catch_redirect(listener, state.secret());
        let code = tokio::time::timeout(self.timeout, wait)
            .await
            .map_err(|_| SignInError::TimedOut(self.timeout.as_secs()))??;
        let http = self.http.clone();
        let call = move |r| send(http.clone(), r);
        let token = client
            .exchange_code(AuthorizationCode::new(code.expose().to_string()))
            .set_pkce_verifier(verifier)
            .request_async(&call)
            .await
            .map_err(token_error)?;
        self.credential_from(&token)
    }

    /// A credential from a refresh token kept earlier (in the keychain, say).
    pub fn credential(&self, refresh_token: Secret) -> RefreshTokenCredential {
        RefreshTokenCredential { sign_in: self.clone(), refresh: Arc::new(Mutex::new(refresh_token)), keychain: None }
    }

    /// The credential signed in earlier whose refresh token is in `keychain`, if there is one.
    pub fn from_keychain(&self, keychain: &Keychain) -> Result<Option<RefreshTokenCredential>, SignInError> {
        let entry = self.keychain_entry();
        Ok(keychain.get(&entry)?.map(|rt| self.credential(rt).with_keychain(keychain.clone())))
    }

    /// The keychain entry of this sign-in's refresh token: `login/<sign-in host>/<tenant>/<client id>`.
    /// The host is part of the name so that a token is only ever sent back to the host that issued
    /// it: a production sign-in never goes to an emulator, nor an emulator's to Azure.
    pub fn keychain_entry(&self) -> String {
        let host = match (self.cloud.authority_host.host_str(), self.cloud.authority_host.port()) {
            (Some(host), Some(port)) => format!("{host}:{port}"),
            (Some(host), None) => host.to_string(),
            (None, _) => "unknown-host".to_string(),
        };
        format!("login/{host}/{}/{}", self.tenant, self.client_id)
    }

    fn credential_from(&self, token: &BasicTokenResponse) -> Result<RefreshTokenCredential, SignInError> {
        let refresh = token.refresh_token().ok_or(SignInError::NoRefreshToken)?;
        Ok(self.credential(Secret::new(refresh.secret().clone())))
    }
}

/// Waits for the browser's redirect to `http://127.0.0.1:PORT/?code=...&state=...`, answers it
/// with a short page, and returns the code after checking the state.
async fn catch_redirect(listener: tokio::net::TcpListener, state: &str) -> Result<Secret, SignInError> {
    loop {
        let (mut socket, _) = listener.accept().await.map_err(|e| SignInError::Redirect(e.to_string()))?;
        let mut buffer = vec![0u8; 16 * 1024];
        let n = socket.read(&mut buffer).await.map_err(|e| SignInError::Redirect(e.to_string()))?;
        let head = String::from_utf8_lossy(&buffer[..n]).into_owned();
        let target = head.lines().next().and_then(|l| l.split_whitespace().nth(1)).unwrap_or("/").to_string();
        let query = target.split_once('?').map(|(_, q)| q).unwrap_or("");
        let pairs: Vec<(String, String)> = oauth2::url::form_urlencoded::parse(query.as_bytes()).into_owned().collect();
        let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        if get("code").is_none() && get("error").is_none() {
            // Not the redirect (a favicon request, say): keep waiting.
            let _ = socket.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").await;
            continue;
        }
        let (page, result) = if let Some(error) = get("error") {
            let refused = SignInError::Refused { error, description: get("error_description") };
            ("Sign-in failed. You can close this window and return to LRS Wizard.", Err(refused))
        } else if get("state").as_deref() != Some(state) {
            let mismatch = SignInError::Redirect("the state in the redirect does not match".into());
            ("Sign-in refused: the answer does not belong to this sign-in.", Err(mismatch))
        } else {
            let code = Secret::new(get("code").unwrap_or_default());
            ("Signed in. You can close this window and return to LRS Wizard.", Ok(code))
        };
        let html = format!("<!doctype html><title>LRS Wizard</title><p>{page}</p>");
        let reply = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{html}",
            html.len()
        );
        let _ = socket.write_all(reply.as_bytes()).await;
        return result;
    }
}

fn token_error<RE, T>(error: RequestTokenError<RE, T>) -> SignInError
where
    RE: std::error::Error + 'static,
    T: oauth2::ErrorResponse + ErrorDetails + 'static,
{
    match error {
        RequestTokenError::ServerResponse(r) => {
            let (error, description) = r.details();
            SignInError::Refused { error, description: description.map(|d| redact(&d)) }
        }
        RequestTokenError::Request(e) => SignInError::Network(redact(&e.to_string())),
        // The parse error's text may quote the body (a token): only its path is kept.
        RequestTokenError::Parse(e, _) => SignInError::Unreadable(format!("at '{}'", e.path())),
        RequestTokenError::Other(m) => SignInError::Unreadable(redact(&m)),
    }
}

/// The `error` and `error_description` of an OAuth error response.
trait ErrorDetails {
    fn details(&self) -> (String, Option<String>);
}

impl ErrorDetails for BasicErrorResponse {
    fn details(&self) -> (String, Option<String>) {
        (self.error().to_string(), self.error_description().cloned())
    }
}

impl ErrorDetails for oauth2::DeviceCodeErrorResponse {
    fn details(&self) -> (String, Option<String>) {
        (self.error().to_string(), self.error_description().cloned())
    }
}

/// A signed-in user: trades the refresh token for ARM access tokens, and keeps the rotated
/// refresh token (in the keychain when one is attached).
#[derive(Clone)]
pub struct RefreshTokenCredential {
    sign_in: InteractiveSignIn,
    refresh: Arc<Mutex<Secret>>,
    keychain: Option<Keychain>,
}

impl std::fmt::Debug for RefreshTokenCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RefreshTokenCredential")
            .field("tenant", &self.sign_in.tenant)
            .field("client_id", &self.sign_in.client_id)
            .finish_non_exhaustive()
    }
}

impl RefreshTokenCredential {
    /// Keeps the refresh token in `keychain` (now, and after each rotation).
    pub fn with_keychain(mut self, keychain: Keychain) -> Self {
        self.keychain = Some(keychain);
        self
    }

    /// Stores the current refresh token in the attached keychain.
    pub async fn save(&self) -> Result<(), SignInError> {
        if let Some(keychain) = &self.keychain {
            keychain.set(&self.sign_in.keychain_entry(), &*self.refresh.lock().await)?;
        }
        Ok(())
    }

    /// A fresh access token for `scopes` (rotating the refresh token).
    pub async fn access_token(&self, scopes: &[&str]) -> Result<AccessToken, SignInError> {
        let mut refresh = self.refresh.lock().await;
        let client = self.sign_in.client()?;
        let http = self.sign_in.http.clone();
        let call = move |r| send(http.clone(), r);
        let token = client
            .exchange_refresh_token(&RefreshToken::new(refresh.expose().to_string()))
            .add_scopes(scopes.iter().map(|s| Scope::new(s.to_string())))
            .request_async(&call)
            .await
            .map_err(token_error)?;
        if let Some(rotated) = token.refresh_token() {
            *refresh = Secret::new(rotated.secret().clone());
            if let Some(keychain) = &self.keychain {
                keychain.set(&self.sign_in.keychain_entry(), &refresh)?;
            }
        }
        let lifetime = token.expires_in().unwrap_or(Duration::from_secs(3600));
        let expires_on = OffsetDateTime::now_utc() + lifetime;
        Ok(AccessToken::new(token.access_token().secret().clone(), expires_on))
    }
}

#[async_trait::async_trait]
impl TokenCredential for RefreshTokenCredential {
    async fn get_token(
        &self,
        scopes: &[&str],
        _options: Option<TokenRequestOptions<'_>>,
    ) -> azure_core::Result<AccessToken> {
        self.access_token(scopes)
            .await
            .map_err(|e| azure_core::Error::with_message(azure_core::error::ErrorKind::Credential, e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn redirect_with(query: &str, state: &str) -> Result<Secret, SignInError> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/?{query}", listener.local_addr().unwrap());
        let waiter = tokio::spawn({
            let state = state.to_string();
            async move { catch_redirect(listener, &state).await }
        });
        let favicon = url.replace(&format!("/?{query}"), "/favicon.ico");
        assert_eq!(reqwest::get(&favicon).await.unwrap().status(), 404);
        let page = reqwest::get(&url).await.unwrap().text().await.unwrap();
        assert!(page.contains("LRS Wizard"));
        waiter.await.unwrap()
    }

    #[tokio::test]
    async fn the_redirect_gives_the_code_only_with_the_right_state() {
        let code = redirect_with("code=abc&state=s1", "s1").await.unwrap();
        assert_eq!(code.expose(), "abc");
        let err = redirect_with("code=abc&state=forged", "s1").await.unwrap_err();
        assert!(matches!(err, SignInError::Redirect(_)), "{err}");
        let err =
            redirect_with("error=access_denied&error_description=User+cancelled&state=s1", "s1").await.unwrap_err();
        assert_eq!(err.to_string(), "the sign-in was refused: access_denied: User cancelled");
    }

    #[test]
    fn endpoints_and_keychain_entry() {
        let s = InteractiveSignIn::new(AzureCloud::public(), ORGANIZATIONS, AZURE_CLI_CLIENT_ID);
        assert_eq!(
            s.endpoint("devicecode").unwrap(),
            "https://login.microsoftonline.com/organizations/oauth2/v2.0/devicecode"
        );
        assert_eq!(s.keychain_entry(), format!("login/login.microsoftonline.com/organizations/{AZURE_CLI_CLIENT_ID}"));
        let scopes: Vec<String> = s.scopes().iter().map(|x| x.to_string()).collect();
        assert_eq!(scopes, ["https://management.azure.com/.default", "offline_access"]);
        let c = s.credential(Secret::new("rt-secret-value"));
        assert!(!format!("{c:?}").contains("rt-secret-value"));
    }
}
