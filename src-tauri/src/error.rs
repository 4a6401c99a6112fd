//! The error contract with the UI: every command fails with `{code, message}`. The code comes from a
//! small closed set the UI may branch on; the message is for people and is never matched on.

use lrs_core::backup::InspectError;
use serde::Serialize;

/// What kind of failure the UI is looking at. Part of the JSON contract: never rename one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum UiErrorCode {
    /// A path the user named does not exist.
    PathNotFound,
    /// A path exists but may not be read.
    PermissionDenied,
    /// The request itself is unusable (for example no path at all).
    InvalidInput,
    /// Anything else: a bug or an unexpected system failure.
    Internal,
}

/// The error every command returns, serialised as `{"code": "...", "message": "..."}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct UiError {
    pub code: UiErrorCode,
    pub message: String,
}

impl UiError {
    pub fn new(code: UiErrorCode, message: impl Into<String>) -> Self {
        UiError { code, message: message.into() }
    }

    /// An unexpected failure, shown with its own text.
    pub fn internal(err: impl std::fmt::Display) -> Self {
        UiError::new(UiErrorCode::Internal, err.to_string())
    }
}

impl From<InspectError> for UiError {
    fn from(err: InspectError) -> Self {
        let code = match &err {
            InspectError::Open { source, .. } => match source.kind() {
                std::io::ErrorKind::NotFound => UiErrorCode::PathNotFound,
                std::io::ErrorKind::PermissionDenied => UiErrorCode::PermissionDenied,
                _ => UiErrorCode::Internal,
            },
            InspectError::NoPaths => UiErrorCode::InvalidInput,
        };
        UiError::new(code, err.to_string())
    }
}

impl From<tauri::Error> for UiError {
    fn from(err: tauri::Error) -> Self {
        UiError::new(UiErrorCode::Internal, err.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn serialises_as_code_and_message() {
        let err = UiError::new(UiErrorCode::PathNotFound, "cannot open 'x'");
        let json = serde_json::to_value(&err).unwrap_or_default();
        assert_eq!(json, serde_json::json!({"code": "path_not_found", "message": "cannot open 'x'"}));
    }

    #[test]
    fn codes_are_snake_case() {
        let codes = [
            (UiErrorCode::PathNotFound, "path_not_found"),
            (UiErrorCode::PermissionDenied, "permission_denied"),
            (UiErrorCode::InvalidInput, "invalid_input"),
            (UiErrorCode::Internal, "internal"),
        ];
        for (code, text) in codes {
            assert_eq!(serde_json::to_value(code).unwrap_or_default(), serde_json::json!(text));
        }
    }

    #[test]
    fn inspect_errors_map_to_codes() {
        let missing = InspectError::Open {
            path: PathBuf::from("/nowhere"),
            source: std::io::Error::from(std::io::ErrorKind::NotFound),
        };
        assert_eq!(UiError::from(missing).code, UiErrorCode::PathNotFound);
        let denied = InspectError::Open {
            path: PathBuf::from("/secret"),
            source: std::io::Error::from(std::io::ErrorKind::PermissionDenied),
        };
        assert_eq!(UiError::from(denied).code, UiErrorCode::PermissionDenied);
        let none = UiError::from(InspectError::NoPaths);
        assert_eq!(none.code, UiErrorCode::InvalidInput);
        assert!(none.message.contains("no path given"));
    }
}
