//! The error contract with the UI: every command fails with `{code, message}`. The code comes from a
//! small closed set the UI may branch on; the message is for people and is never matched on.

use lrs_core::backup::InspectError;
use lrs_core::session::{SessionError, SessionErrorKind};
use lrs_core::tsql::TsqlError;
use lrs_rehearsal::RehearsalError;
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
    /// The request itself is unusable (for example no path at all, or a malformed URL).
    InvalidInput,
    /// The step needs a sign-in (or the sign-in expired): go to "Sign in and target".
    NotSignedIn,
    /// The step needs an earlier one first (the message says which).
    NotReady,
    /// Azure (or the local emulator) refused or failed; the message has its code and request id.
    Azure,
    /// The OS keychain is unreachable, locked or refused.
    Keychain,
    /// The local rehearsal could not start (Azurite missing, a port, a folder).
    RehearsalUnavailable,
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

impl From<SessionError> for UiError {
    fn from(err: SessionError) -> Self {
        let code = match err.kind() {
            SessionErrorKind::InvalidInput => UiErrorCode::InvalidInput,
            SessionErrorKind::NotSignedIn => UiErrorCode::NotSignedIn,
            SessionErrorKind::NotReady => UiErrorCode::NotReady,
            SessionErrorKind::PermissionDenied => UiErrorCode::PermissionDenied,
            SessionErrorKind::PathNotFound => UiErrorCode::PathNotFound,
            SessionErrorKind::Azure => UiErrorCode::Azure,
            SessionErrorKind::Keychain => UiErrorCode::Keychain,
            SessionErrorKind::Internal => UiErrorCode::Internal,
        };
        UiError::new(code, err.to_string())
    }
}

impl From<RehearsalError> for UiError {
    fn from(err: RehearsalError) -> Self {
        match err {
            RehearsalError::Session(session) => session.into(),
            other => UiError::new(UiErrorCode::RehearsalUnavailable, other.to_string()),
        }
    }
}

impl From<TsqlError> for UiError {
    fn from(err: TsqlError) -> Self {
        UiError::new(UiErrorCode::InvalidInput, err.to_string())
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
            (UiErrorCode::NotSignedIn, "not_signed_in"),
            (UiErrorCode::NotReady, "not_ready"),
            (UiErrorCode::Azure, "azure"),
            (UiErrorCode::Keychain, "keychain"),
            (UiErrorCode::RehearsalUnavailable, "rehearsal_unavailable"),
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

    #[test]
    fn session_errors_map_to_codes() {
        assert_eq!(UiError::from(SessionError::NotSignedIn).code, UiErrorCode::NotSignedIn);
        assert_eq!(UiError::from(SessionError::NotReady("x".into())).code, UiErrorCode::NotReady);
        let missing = RehearsalError::Azurite(lrs_rehearsal::AzuriteError::NotInstalled { dir: "/x".into() });
        let ui = UiError::from(missing);
        assert_eq!(ui.code, UiErrorCode::RehearsalUnavailable);
        assert!(ui.message.contains("scripts/setup.sh"), "{}", ui.message);
        assert_eq!(UiError::from(TsqlError::NoDatabase).code, UiErrorCode::InvalidInput);
    }
}
