//! [`SessionError`]: why a wizard step could not be done, with the small closed set of kinds the
//! app turns into its `{code, message}` contract. Messages never carry a secret: every source error
//! is already redacted.

use crate::arm::interactive::SignInError;
use crate::arm::{ArmError, CloudError, CredentialError};
use crate::backup::InspectError;
use crate::secrets::KeychainError;
use crate::storage::endpoint::EndpointError;
use crate::storage::sas::SasError;

use super::settings::SettingsError;

/// What kind of failure it is; the UI branches on this, never on the message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionErrorKind {
    /// The request is unusable (a bad URL, name or number).
    InvalidInput,
    /// A step needs a sign-in, or the sign-in expired.
    NotSignedIn,
    /// A step needs an earlier one (a target before storage, a key before a SAS).
    NotReady,
    /// Signed in, but the role assignment does not allow it; or a path may not be read.
    PermissionDenied,
    /// A path the user named does not exist.
    PathNotFound,
    /// Azure (or the emulator) refused or failed.
    Azure,
    /// The keychain is unreachable, locked or refused.
    Keychain,
    /// Anything else.
    Internal,
}

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("sign in first (step 'Sign in and target')")]
    NotSignedIn,
    #[error("{0}")]
    NotReady(String),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Arm(#[from] ArmError),
    #[error(transparent)]
    Credential(#[from] CredentialError),
    #[error(transparent)]
    SignIn(#[from] SignInError),
    #[error(transparent)]
    Cloud(#[from] CloudError),
    #[error(transparent)]
    Keychain(#[from] KeychainError),
    #[error(transparent)]
    Endpoint(#[from] EndpointError),
    #[error(transparent)]
    Sas(#[from] SasError),
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error(transparent)]
    Inspect(#[from] InspectError),
    /// Azure or LRS refused a migration step (the message says why, in words).
    #[error("{0}")]
    Refused(String),
    #[error("{0}")]
    Internal(String),
}

impl SessionError {
    pub fn kind(&self) -> SessionErrorKind {
        use crate::arm::ErrorKind as Arm;
        match self {
            SessionError::NotSignedIn => SessionErrorKind::NotSignedIn,
            SessionError::NotReady(_) => SessionErrorKind::NotReady,
            SessionError::Invalid(_)
            | SessionError::Cloud(_)
            | SessionError::Endpoint(_)
            | SessionError::Sas(_)
            | SessionError::Settings(SettingsError::Invalid(_)) => SessionErrorKind::InvalidInput,
            SessionError::Arm(e) => match e.kind {
                Arm::Unauthenticated => SessionErrorKind::NotSignedIn,
                Arm::PermissionDenied => SessionErrorKind::PermissionDenied,
                _ => SessionErrorKind::Azure,
            },
            SessionError::Credential(CredentialError::Keychain(_)) | SessionError::Keychain(_) => {
                SessionErrorKind::Keychain
            }
            SessionError::SignIn(SignInError::Keychain(_)) => SessionErrorKind::Keychain,
            SessionError::Credential(CredentialError::Missing(_)) => SessionErrorKind::InvalidInput,
            SessionError::Credential(CredentialError::NotInKeychain { .. }) => SessionErrorKind::NotSignedIn,
            SessionError::Credential(_) | SessionError::SignIn(_) => SessionErrorKind::NotSignedIn,
            SessionError::Inspect(InspectError::NoPaths) => SessionErrorKind::InvalidInput,
            SessionError::Inspect(InspectError::Open { source, .. }) => match source.kind() {
                std::io::ErrorKind::NotFound => SessionErrorKind::PathNotFound,
                std::io::ErrorKind::PermissionDenied => SessionErrorKind::PermissionDenied,
                _ => SessionErrorKind::Internal,
            },
            SessionError::Refused(_) => SessionErrorKind::Azure,
            SessionError::Settings(_) | SessionError::Internal(_) => SessionErrorKind::Internal,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_of_common_failures() {
        assert_eq!(SessionError::NotSignedIn.kind(), SessionErrorKind::NotSignedIn);
        assert_eq!(SessionError::NotReady("x".into()).kind(), SessionErrorKind::NotReady);
        let denied = ArmError::local(crate::arm::ErrorKind::PermissionDenied, "list", "no");
        assert_eq!(SessionError::from(denied).kind(), SessionErrorKind::PermissionDenied);
        let expired = ArmError::local(crate::arm::ErrorKind::Unauthenticated, "list", "no");
        assert_eq!(SessionError::from(expired).kind(), SessionErrorKind::NotSignedIn);
        let missing =
            InspectError::Open { path: "/nowhere".into(), source: std::io::Error::from(std::io::ErrorKind::NotFound) };
        assert_eq!(SessionError::from(missing).kind(), SessionErrorKind::PathNotFound);
        assert_eq!(SessionError::from(SasError::EmptyKey).kind(), SessionErrorKind::InvalidInput);
    }
}
