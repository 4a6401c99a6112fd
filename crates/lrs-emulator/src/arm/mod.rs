//! The ARM front door: every request is authenticated (bearer token issued by the emulator), must
//! carry an `api-version`, and is routed by its path, compared without case as ARM does. Lists are
//! paged with `nextLink`.
//!
//! - [`catalog`]: subscriptions, resource groups, managed instances, storage accounts (`listKeys`,
//!   `ListServiceSas`);
//! - [`databases`]: managed databases, `restoreDetails`, `completeRestore`;
//! - [`operations`]: the Azure-AsyncOperation and Location resources of long-running operations.

pub mod catalog;
pub mod databases;
pub mod operations;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use time::OffsetDateTime;

use crate::app::Shared;
use crate::auth::{authenticate, Subject};
use crate::http::{api_version, query_param, ArmError};
use crate::seed;

/// api-versions of Microsoft.Sql the emulator answers (reference §1.2).
pub const SQL_API_VERSIONS: [&str; 22] = [
    "2019-06-01-preview",
    "2020-02-02-preview",
    "2020-08-01-preview",
    "2020-11-01-preview",
    "2021-02-01-preview",
    "2021-05-01-preview",
    "2021-08-01-preview",
    "2021-11-01",
    "2021-11-01-preview",
    "2022-02-01-preview",
    "2022-05-01-preview",
    "2022-08-01-preview",
    "2022-11-01-preview",
    "2023-02-01-preview",
    "2023-05-01-preview",
    "2023-08-01",
    "2023-08-01-preview",
    "2024-05-01-preview",
    "2024-11-01-preview",
    "2025-01-01",
    "2025-02-01-preview",
    "2025-08-01-preview",
];

/// One authenticated ARM request.
#[derive(Debug)]
pub struct Req {
    pub app: Shared,
    pub method: Method,
    pub uri: Uri,
    pub segments: Vec<String>,
    pub api_version: String,
    pub subject: Subject,
    pub body: Bytes,
    pub now: OffsetDateTime,
}

impl Req {
    /// The segments at the `*` of `pattern` when the path matches it (literals without case).
    pub fn matches(&self, method: Method, pattern: &str) -> Option<Vec<String>> {
        if self.method != method {
            return None;
        }
        let parts: Vec<&str> = pattern.split('/').collect();
        if parts.len() != self.segments.len() {
            return None;
        }
        let mut captured = Vec::new();
        for (part, segment) in parts.iter().zip(&self.segments) {
            if *part == "*" {
                captured.push(segment.clone());
            } else if !part.eq_ignore_ascii_case(segment) {
                return None;
            }
        }
        Some(captured)
    }

    /// The subscription, if it exists and belongs to the token's tenant.
    pub fn subscription(&self, id: &str) -> Result<seed::Subscription, ArmError> {
        let sub =
            self.app.read(|s| s.seed.subscription(id).cloned()).ok_or_else(|| ArmError::subscription_not_found(id))?;
        if !sub.tenant_id.eq_ignore_ascii_case(&self.subject.tenant_id) {
            return Err(ArmError::new(
                StatusCode::UNAUTHORIZED,
                "InvalidAuthenticationTokenTenant",
                format!(
                    "The access token is from the wrong issuer 'https://sts.windows.net/{}/'. It must match the tenant \
                     'https://sts.windows.net/{}/' associated with this subscription. Please use the authority (URL) \
                     'https://login.windows.net/{}' to get the token.",
                    self.subject.tenant_id, sub.tenant_id, sub.tenant_id
                ),
            ));
        }
        Ok(sub)
    }

    pub fn group(&self, sub: &str, group: &str) -> Result<seed::ResourceGroup, ArmError> {
        self.subscription(sub)?.group(group).cloned().ok_or_else(|| ArmError::group_not_found(group))
    }

    pub fn instance(&self, sub: &str, group: &str, name: &str) -> Result<seed::ManagedInstance, ArmError> {
        self.group(sub, group)?
            .instance(name)
            .cloned()
            .ok_or_else(|| ArmError::resource_not_found(&format!("Microsoft.Sql/managedInstances/{name}"), group))
    }

    /// Microsoft.Sql requests must use an api-version it knows.
    pub fn require_sql_version(&self, location: &str, resource_type: &str) -> Result<(), ArmError> {
        if SQL_API_VERSIONS.contains(&self.api_version.as_str()) {
            return Ok(());
        }
        Err(ArmError::bad_request(
            "NoRegisteredProviderFound",
            format!(
                "No registered resource provider found for location '{location}' and API version '{}' for type \
                 '{resource_type}'. The supported api-versions are '{}'.",
                self.api_version,
                SQL_API_VERSIONS.join(", ")
            ),
        ))
    }

    /// `{"value": [...], "nextLink": ...}`: a page of `items`, from `$skiptoken`.
    pub fn page(&self, items: Vec<Value>) -> Value {
        let skip: usize = query_param(self.uri.query(), "$skiptoken").and_then(|v| v.parse().ok()).unwrap_or(0);
        let size = self.app.page_size.max(1);
        let total = items.len();
        let value: Vec<Value> = items.into_iter().skip(skip).take(size).collect();
        let mut body = json!({ "value": value });
        if skip + size < total {
            let next = format!(
                "{}{}?api-version={}&$skiptoken={}",
                self.app.base_url,
                self.uri.path(),
                self.api_version,
                skip + size
            );
            body["nextLink"] = json!(next);
        }
        body
    }
}

/// The fallback handler: every path that is not a token endpoint is ARM.
pub async fn dispatch(
    State(app): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match handle(app, method, uri, headers, body).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

async fn handle(app: Shared, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Result<Response, ArmError> {
    let now = app.now();
    let subject = app.read(|s| authenticate(s, &headers, now, &app.base_url))?;
    let api_version = api_version(uri.query())?;
    let segments = uri
        .path()
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| url::form_urlencoded::parse(format!("s={s}").as_bytes()).map(|(_, v)| v.into_owned()).collect())
        .collect();
    let req = Req { app, method, uri, segments, api_version, subject, body, now };
    if let Some(response) = catalog::route(&req)? {
        return Ok(response);
    }
    if let Some(response) = databases::route(&req).await? {
        return Ok(response);
    }
    if let Some(response) = operations::route(&req).await? {
        return Ok(response);
    }
    Err(ArmError::no_route(req.method.as_str(), req.uri.path()))
}
