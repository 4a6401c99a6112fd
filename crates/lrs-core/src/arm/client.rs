//! [`ArmClient`]: the one client of Azure Resource Manager. It adds the bearer token (cached and
//! renewed before it runs out; sent to the cloud's ARM origin only), the api-version of each call,
//! and retries with the storage engine's policy: 408/429/5xx and network errors with exponential
//! backoff and jitter, `Retry-After` honoured, 400/403 never. Only a GET is sent again whatever
//! happened: a PUT, POST or DELETE (start, `completeRestore`, the drop) is sent again only when
//! the service certainly did not act on it (the request never left, or the answer was 429, or 503
//! with `Retry-After`), because acting twice can drop a database that has just been cut over.
//! Bodies are never logged: a start request carries a SAS.

use std::sync::Arc;
use std::time::Duration;

use azure_core::credentials::{AccessToken, TokenCredential};
use reqwest::header::HeaderMap;
use reqwest::Method;
use serde::de::DeserializeOwned;
use time::OffsetDateTime;
use url::Url;

use super::cloud::AzureCloud;
use super::defaults;
use super::error::{ArmError, ErrorKind};
use crate::secrets::redact;
use crate::storage::retry::{parse_retry_after, Jitter, RandomJitter, RetryPolicy};

/// Options of an [`ArmClient`].
#[derive(Clone)]
pub struct ArmClientOptions {
    pub retry: RetryPolicy,
    /// The jitter source of the backoff (fixed in tests).
    pub jitter: Arc<dyn Jitter>,
    /// A shared `reqwest` client (the storage engine's, say); a new one when `None`.
    pub http: Option<reqwest::Client>,
}

impl std::fmt::Debug for ArmClientOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ArmClientOptions").field("retry", &self.retry).finish_non_exhaustive()
    }
}

impl Default for ArmClientOptions {
    fn default() -> Self {
        ArmClientOptions { retry: defaults::retry_policy(), jitter: Arc::new(RandomJitter::new()), http: None }
    }
}

/// A successful ARM answer: its status, the headers that matter, and the body. Its `Debug` leaves
/// the body out: `listKeys` and `ListServiceSas` answers hold keys and SAS tokens.
#[derive(Clone)]
pub struct ArmResponse {
    pub status: u16,
    pub request_id: Option<String>,
    pub azure_async_operation: Option<String>,
    pub location: Option<String>,
    pub retry_after: Option<Duration>,
    pub body: Vec<u8>,
}

impl std::fmt::Debug for ArmResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ArmResponse")
            .field("status", &self.status)
            .field("request_id", &self.request_id)
            .field("azure_async_operation", &self.azure_async_operation)
            .field("location", &self.location)
            .field("retry_after", &self.retry_after)
            .field("body_len", &self.body.len())
            .finish()
    }
}

impl ArmResponse {
    /// The body as `T`; `what` names the call in the error.
    pub fn json<T: DeserializeOwned>(&self, what: &str) -> Result<T, ArmError> {
        serde_json::from_slice(&self.body).map_err(|e| {
            let mut err = ArmError::local(ErrorKind::Unexpected, what, format!("cannot read the answer: {e}"));
            err.status = Some(self.status);
            err.request_id = self.request_id.clone();
            err
        })
    }
}

/// The client; cheap to clone.
#[derive(Clone)]
pub struct ArmClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    cloud: AzureCloud,
    credential: Arc<dyn TokenCredential>,
    token: tokio::sync::Mutex<Option<AccessToken>>,
    retry: RetryPolicy,
    jitter: Arc<dyn Jitter>,
}

impl std::fmt::Debug for ArmClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ArmClient").field("cloud", &self.inner.cloud.name).finish_non_exhaustive()
    }
}

impl ArmClient {
    pub fn new(
        cloud: AzureCloud,
        credential: Arc<dyn TokenCredential>,
        options: ArmClientOptions,
    ) -> Result<Self, ArmError> {
        let http = match options.http {
            Some(http) => http,
            None => reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(15))
                .user_agent(concat!("lrs-wizard/", env!("CARGO_PKG_VERSION")))
                .build()
                .map_err(|e| ArmError::local(ErrorKind::Unexpected, "set up the HTTP client", e.to_string()))?,
        };
        let inner = Inner {
            http,
            cloud,
            credential,
            token: tokio::sync::Mutex::new(None),
            retry: options.retry,
            jitter: options.jitter,
        };
        Ok(ArmClient { inner: Arc::new(inner) })
    }

    pub fn cloud(&self) -> &AzureCloud {
        &self.inner.cloud
    }

    /// The URL of `path` (`/subscriptions/...`, possibly with a query) at `api_version`.
    pub fn url(&self, path: &str, api_version: &str) -> Result<Url, ArmError> {
        let mut url =
            self.inner.cloud.arm_endpoint.join(path.trim_start_matches('/')).map_err(|e| {
                ArmError::local(ErrorKind::Unexpected, format!("build the URL of '{path}'"), e.to_string())
            })?;
        url.query_pairs_mut().append_pair("api-version", api_version);
        Ok(url)
    }

    /// GET `path` and read the body as `T`.
    pub async fn get_json<T: DeserializeOwned>(
        &self,
        path: &str,
        api_version: &str,
        what: &str,
    ) -> Result<T, ArmError> {
        let url = self.url(path, api_version)?;
        self.send(Method::GET, url, None, what).await?.json(what)
    }

    /// POST `body` to `path` and read the answer as `T`.
    pub async fn post_json<T: DeserializeOwned>(
        &self,
        path: &str,
        api_version: &str,
        body: &serde_json::Value,
        what: &str,
    ) -> Result<T, ArmError> {
        let url = self.url(path, api_version)?;
        self.send(Method::POST, url, Some(body), what).await?.json(what)
    }

    /// Sends one request, with retries; a non-2xx answer is an [`ArmError`]. `url` must be on the
    /// cloud's ARM origin (a `nextLink` or polling URL from elsewhere is refused: the token would
    /// leak to it).
    pub async fn send(
        &self,
        method: Method,
        url: Url,
        body: Option<&serde_json::Value>,
        what: &str,
    ) -> Result<ArmResponse, ArmError> {
        if !self.inner.cloud.is_arm_origin(&url) {
            let origin = url.origin().ascii_serialization();
            let message = format!("refusing to send the ARM token to {origin}, which is not the ARM endpoint");
            return Err(ArmError::local(ErrorKind::Unexpected, what, message));
        }
        let policy = &self.inner.retry;
        let mut retry = 0;
        let mut reauthenticated = false;
        loop {
            let attempt = self.attempt(&method, &url, body, what);
            let result = match tokio::time::timeout(policy.attempt_timeout, attempt).await {
                Ok(result) => result,
                // The request may have reached the service: a POST is not sent again.
                Err(_) => Err((ArmError::local(ErrorKind::Timeout, what, "no answer in time"), true)),
            };
            let (error, sent) = match result {
                Ok(response) => return Ok(response),
                Err(failure) => failure,
            };
            if error.kind == ErrorKind::Unauthenticated && error.status == Some(401) && !reauthenticated {
                // The cached token may have been revoked or expired early: get a new one, once.
                reauthenticated = true;
                *self.inner.token.lock().await = None;
                continue;
            }
            let not_processed =
                matches!(error.status, Some(429)) || (error.status == Some(503) && error.retry_after.is_some());
            let may_resend = method == Method::GET || !sent || not_processed;
            if !error.kind.is_transient() || !may_resend || retry >= policy.max_retries {
                return Err(error);
            }
            let backoff = policy.backoff(retry, self.inner.jitter.next());
            let delay = error.retry_after.map_or(backoff, |after| backoff.max(after.min(policy.max_retry_after)));
            retry += 1;
            tracing::debug!(what, retry, delay_ms = delay.as_millis() as u64, error = %error, "ARM request retried");
            tokio::time::sleep(delay).await;
        }
    }

    /// One attempt. The error comes with whether the request may have reached the service.
    async fn attempt(
        &self,
        method: &Method,
        url: &Url,
        body: Option<&serde_json::Value>,
        what: &str,
    ) -> Result<ArmResponse, (ArmError, bool)> {
        let token = self.token(what).await.map_err(|e| (e, false))?;
        let mut request = self.inner.http.request(method.clone(), url.clone()).bearer_auth(token.token.secret());
        request = match body {
            Some(body) => request.json(body),
            None if *method == Method::POST => request.header(reqwest::header::CONTENT_LENGTH, "0"),
            None => request,
        };
        tracing::debug!(method = %method, path = url.path(), what, "ARM request");
        let response = request.send().await.map_err(|e| network_error(what, &e))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.map_err(|e| network_error(what, &e))?;
        let request_id =
            header(&headers, "x-ms-request-id").or_else(|| header(&headers, "x-ms-correlation-request-id"));
        let retry_after = parse_retry_after(
            header(&headers, "retry-after").as_deref(),
            header(&headers, "x-ms-retry-after-ms").as_deref(),
        );
        if !(200..300).contains(&status) {
            let mut error = ArmError::from_response(what, status, request_id, &bytes);
            error.retry_after = retry_after;
            return Err((error, true));
        }
        Ok(ArmResponse {
            status,
            request_id,
            azure_async_operation: header(&headers, "azure-asyncoperation"),
            location: header(&headers, "location"),
            retry_after,
            body: bytes.to_vec(),
        })
    }

    /// A token for ARM, from the cache while it has more than the refresh margin left.
    async fn token(&self, what: &str) -> Result<AccessToken, ArmError> {
        let mut cached = self.inner.token.lock().await;
        if let Some(token) = cached.as_ref() {
            if token.expires_on - OffsetDateTime::now_utc() > defaults::TOKEN_REFRESH_MARGIN {
                return Ok(token.clone());
            }
        }
        let scope = self.inner.cloud.arm_scope();
        let token = self.inner.credential.get_token(&[scope.as_str()], None).await.map_err(|e| {
            ArmError::local(ErrorKind::Unauthenticated, what, format!("cannot get a token for {scope}: {e}"))
        })?;
        *cached = Some(token.clone());
        Ok(token)
    }
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string)
}

/// A transport failure; `true` when the request may have been sent (anything but a refused connection).
fn network_error(what: &str, error: &reqwest::Error) -> (ArmError, bool) {
    let kind = if error.is_timeout() { ErrorKind::Timeout } else { ErrorKind::Network };
    // reqwest's text names the URL; ARM URLs carry no secret, but the text is scrubbed anyway.
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    (ArmError::local(kind, what, redact(&text)), !error.is_connect())
}
