//! HTTP craft shared by every endpoint: ARM error bodies (`{"error": {"code", "message"}}`), JSON
//! responses, the `api-version` parameter, and the request id headers every ARM response carries.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

/// An ARM error response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArmError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
    /// Sent as `WWW-Authenticate` with 401s.
    pub challenge: Option<String>,
}

impl ArmError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> ArmError {
        ArmError { status, code: code.to_string(), message: message.into(), challenge: None }
    }

    pub fn bad_request(code: &str, message: impl Into<String>) -> ArmError {
        ArmError::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// ARM's 404 for a resource under a resource group.
    pub fn resource_not_found(resource: &str, group: &str) -> ArmError {
        ArmError::new(
            StatusCode::NOT_FOUND,
            "ResourceNotFound",
            format!(
                "The Resource '{resource}' under resource group '{group}' was not found. For more details please go \
                 to https://aka.ms/ARMResourceNotFoundFix"
            ),
        )
    }

    pub fn group_not_found(group: &str) -> ArmError {
        ArmError::new(
            StatusCode::NOT_FOUND,
            "ResourceGroupNotFound",
            format!("Resource group '{group}' could not be found."),
        )
    }

    pub fn subscription_not_found(subscription: &str) -> ArmError {
        ArmError::new(
            StatusCode::NOT_FOUND,
            "SubscriptionNotFound",
            format!("The subscription '{subscription}' could not be found."),
        )
    }

    pub fn no_route(method: &str, path: &str) -> ArmError {
        ArmError::new(
            StatusCode::NOT_FOUND,
            "InvalidResourceType",
            format!("The resource type could not be found for '{method} {path}' in the LRS emulator."),
        )
    }

    pub fn body(&self) -> Value {
        json!({"error": {"code": self.code, "message": self.message}})
    }
}

impl IntoResponse for ArmError {
    fn into_response(self) -> Response {
        let mut response = json_response(self.status, &self.body());
        if let Some(challenge) = self.challenge.as_deref().and_then(|c| HeaderValue::from_str(c).ok()) {
            response.headers_mut().insert("WWW-Authenticate", challenge);
        }
        response
    }
}

/// A JSON response with ARM's content type.
pub fn json_response(status: StatusCode, value: &Value) -> Response {
    let mut response = Response::new(Body::from(value.to_string()));
    *response.status_mut() = status;
    response.headers_mut().insert("Content-Type", HeaderValue::from_static("application/json; charset=utf-8"));
    response
}

/// An empty response.
pub fn empty(status: StatusCode) -> Response {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = status;
    response
}

/// The `api-version` query parameter, required by ARM on every request.
pub fn api_version(query: Option<&str>) -> Result<String, ArmError> {
    query_param(query, "api-version").filter(|v| !v.is_empty()).ok_or_else(|| {
        ArmError::bad_request(
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
        )
    })
}

/// One query parameter, decoded (names compared without case).
pub fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.into_owned())
}

/// Adds `x-ms-request-id` and `x-ms-correlation-request-id` to every response (the correlation id
/// echoes the client's `x-ms-correlation-request-id` or `x-ms-client-request-id` when it sent one).
pub async fn request_ids(request: Request, next: Next) -> Response {
    let correlation = correlation_id(request.headers());
    let mut response = next.run(request).await;
    let request_id = uuid::Uuid::new_v4().to_string();
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        headers.insert("x-ms-request-id", v);
    }
    if let Ok(v) = HeaderValue::from_str(&correlation.unwrap_or(request_id)) {
        headers.insert("x-ms-correlation-request-id", v);
    }
    response
}

fn correlation_id(headers: &HeaderMap) -> Option<String> {
    ["x-ms-correlation-request-id", "x-ms-client-request-id"]
        .iter()
        .find_map(|name| headers.get(*name).and_then(|v| v.to_str().ok()).map(str::to_string))
}

/// ARM's timestamp form: UTC, RFC 3339, with the fraction trimmed (`2020-08-26T12:06:53.27Z`).
pub fn timestamp(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}
