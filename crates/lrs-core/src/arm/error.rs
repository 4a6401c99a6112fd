//! [`ArmError`]: every failed ARM call, sign-in or long-running operation, with the HTTP status
//! mapped to a meaning ([`ErrorKind`]) here and nowhere else, the service's error code and message
//! (from `{"error": {"code", "message"}}`), and the `x-ms-request-id` to quote to Azure support.
//! Messages pass through the storage engine's redaction, so no SAS signature or bearer token can
//! reach a log or the UI through an error.

use std::fmt;
use std::time::Duration;

use serde::Deserialize;

use crate::secrets::redact;
use crate::storage::retry::Meaning;

/// What a failure means; the closed set the CLI and the UI branch on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// 400: the request was refused as invalid (most LRS validation codes).
    BadRequest,
    /// 401, or no token could be obtained.
    Unauthenticated,
    /// 403: signed in, but the role assignment does not allow the action.
    PermissionDenied,
    /// 404.
    NotFound,
    /// 409 or 412: another operation holds the resource.
    Conflict,
    /// 408 or 429: slow down.
    Throttled,
    /// 500, 502, 503, 504.
    ServerBusy,
    /// The connection failed or was reset.
    Network,
    /// No complete answer in time.
    Timeout,
    /// A long-running operation ended `Failed` or `Canceled`.
    OperationFailed,
    /// The answer could not be understood (or a status no rule covers).
    Unexpected,
}

impl ErrorKind {
    /// The meaning of an HTTP error status, from the storage engine's table (one table for both).
    pub fn from_status(status: u16) -> ErrorKind {
        match Meaning::of_status(status) {
            Meaning::BadRequest => ErrorKind::BadRequest,
            Meaning::Unauthenticated => ErrorKind::Unauthenticated,
            Meaning::PermissionDenied => ErrorKind::PermissionDenied,
            Meaning::NotFound => ErrorKind::NotFound,
            Meaning::Conflict => ErrorKind::Conflict,
            Meaning::Throttled => ErrorKind::Throttled,
            Meaning::ServerBusy => ErrorKind::ServerBusy,
            Meaning::Network => ErrorKind::Network,
            Meaning::Timeout => ErrorKind::Timeout,
            Meaning::Other => ErrorKind::Unexpected,
        }
    }

    pub fn is_transient(self) -> bool {
        matches!(self, ErrorKind::Throttled | ErrorKind::ServerBusy | ErrorKind::Network | ErrorKind::Timeout)
    }

    fn describe(self) -> &'static str {
        match self {
            ErrorKind::BadRequest => "the request was refused",
            ErrorKind::Unauthenticated => "not signed in (or the sign-in expired)",
            ErrorKind::PermissionDenied => "permission denied",
            ErrorKind::NotFound => "not found",
            ErrorKind::Conflict => "another operation is in progress",
            ErrorKind::Throttled => "Azure is throttling requests",
            ErrorKind::ServerBusy => "Azure is temporarily unavailable",
            ErrorKind::Network => "network error",
            ErrorKind::Timeout => "no answer in time",
            ErrorKind::OperationFailed => "the operation failed",
            ErrorKind::Unexpected => "unexpected answer",
        }
    }
}

/// A failed ARM request or operation.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct ArmError {
    pub kind: ErrorKind,
    /// What was being done, for example `get managed instance 'mi1'` (never a URL with a query).
    pub operation: String,
    /// The HTTP status, when the service answered.
    pub status: Option<u16>,
    /// The service's error code, such as `BrokenRestorePlanGapInLogBackups`.
    pub code: Option<String>,
    /// The service's message (redacted), or a description of the local failure.
    pub message: String,
    /// `x-ms-request-id` (or `x-ms-correlation-request-id`) of the failed response.
    pub request_id: Option<String>,
    /// From `Retry-After`, when the service asked to wait.
    pub retry_after: Option<Duration>,
}

impl fmt::Display for ArmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.operation, self.kind.describe())?;
        match (self.status, &self.code) {
            (Some(s), Some(c)) => write!(f, " ({s} {c})")?,
            (Some(s), None) => write!(f, " ({s})")?,
            (None, Some(c)) => write!(f, " ({c})")?,
            (None, None) => {}
        }
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        if let Some(id) = &self.request_id {
            write!(f, " [request id {id}]")?;
        }
        Ok(())
    }
}

#[derive(Deserialize)]
struct Envelope {
    error: Option<Body>,
    code: Option<String>,
    message: Option<String>,
}

#[derive(Deserialize)]
struct Body {
    code: Option<String>,
    message: Option<String>,
}

impl ArmError {
    /// A local failure (no HTTP status).
    pub fn local(kind: ErrorKind, operation: impl Into<String>, message: impl AsRef<str>) -> ArmError {
        ArmError {
            kind,
            operation: operation.into(),
            status: None,
            code: None,
            message: redact(message.as_ref()),
            request_id: None,
            retry_after: None,
        }
    }

    /// An error response: `{"error": {"code", "message"}}` (or the same fields at the top level).
    pub fn from_response(operation: impl Into<String>, status: u16, request_id: Option<String>, body: &[u8]) -> Self {
        let (code, message) = parse_body(body);
        let message = message.unwrap_or_else(|| match std::str::from_utf8(body) {
            Ok(text) if !text.trim().is_empty() && text.len() <= 500 => text.trim().to_string(),
            _ => String::new(),
        });
        ArmError {
            kind: ErrorKind::from_status(status),
            operation: operation.into(),
            status: Some(status),
            code,
            message: redact(&message),
            request_id,
            retry_after: None,
        }
    }

    /// A long-running operation that ended `Failed` or `Canceled`, with the operation's error.
    pub fn operation_failed(operation: impl Into<String>, code: Option<String>, message: Option<String>) -> Self {
        ArmError {
            kind: ErrorKind::OperationFailed,
            operation: operation.into(),
            status: None,
            code,
            message: redact(message.as_deref().unwrap_or_default()),
            request_id: None,
            retry_after: None,
        }
    }

    /// The plain-language explanation and fix of the service's code, when it is a known one.
    pub fn explanation(&self) -> Option<&'static super::explain::Explanation> {
        self.code.as_deref().and_then(super::explain::explain)
    }

    /// The kind as the UI edge spells it (`not_found`, `permission_denied`...).
    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            ErrorKind::BadRequest => "bad_request",
            ErrorKind::Unauthenticated => "unauthenticated",
            ErrorKind::PermissionDenied => "permission_denied",
            ErrorKind::NotFound => "not_found",
            ErrorKind::Conflict => "conflict",
            ErrorKind::Throttled => "throttled",
            ErrorKind::ServerBusy => "server_busy",
            ErrorKind::Network => "network",
            ErrorKind::Timeout => "timeout",
            ErrorKind::OperationFailed => "operation_failed",
            ErrorKind::Unexpected => "unexpected",
        }
    }

    pub fn is_not_found(&self) -> bool {
        self.kind == ErrorKind::NotFound
    }
}

/// The `code` and `message` of an ARM error body, if it has them.
pub fn parse_body(body: &[u8]) -> (Option<String>, Option<String>) {
    match serde_json::from_slice::<Envelope>(body) {
        Ok(Envelope { error: Some(e), .. }) => (e.code, e.message),
        Ok(Envelope { error: None, code, message }) => (code, message),
        Err(_) => (None, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_real_not_found_body_becomes_a_typed_error() {
        let body = br#"{
  "error": {
    "code": "ResourceNotFound",
    "message": "The Resource 'Microsoft.Sql/managedInstances/ps6172' under resource group 'ps3312' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix"
  }
}"#;
        let e = ArmError::from_response("get managed instance 'ps6172'", 404, Some("rid-1".into()), body);
        assert_eq!(e.kind, ErrorKind::NotFound);
        assert_eq!(e.code.as_deref(), Some("ResourceNotFound"));
        assert!(e.message.starts_with("The Resource 'Microsoft.Sql/managedInstances/ps6172'"));
        let text = e.to_string();
        assert!(text.starts_with("get managed instance 'ps6172': not found (404 ResourceNotFound): The Resource"));
        assert!(text.ends_with("[request id rid-1]"));
    }

    #[test]
    fn statuses_map_once() {
        let cases = [
            (400, ErrorKind::BadRequest),
            (401, ErrorKind::Unauthenticated),
            (403, ErrorKind::PermissionDenied),
            (404, ErrorKind::NotFound),
            (409, ErrorKind::Conflict),
            (429, ErrorKind::Throttled),
            (408, ErrorKind::Throttled),
            (503, ErrorKind::ServerBusy),
            (418, ErrorKind::Unexpected),
        ];
        for (status, kind) in cases {
            assert_eq!(ErrorKind::from_status(status), kind, "{status}");
        }
        assert!(!ErrorKind::BadRequest.is_transient() && !ErrorKind::PermissionDenied.is_transient());
        assert!(ErrorKind::Throttled.is_transient() && ErrorKind::Network.is_transient());
    }

    #[test]
    fn odd_bodies_and_secrets_in_messages() {
        let e = ArmError::from_response("x", 500, None, b"<html>oops</html>");
        assert_eq!((e.code, e.message.as_str()), (None, "<html>oops</html>"));
        let e = ArmError::from_response("x", 400, None, br#"{"code":"C","message":"bad sig=abc&sv=1"}"#);
        assert_eq!(e.code.as_deref(), Some("C"));
        assert_eq!(e.message, "bad sig=REDACTED&sv=1");
        assert_eq!(serde_json::to_string(&ErrorKind::PermissionDenied).unwrap(), "\"permission_denied\"");
    }
}
