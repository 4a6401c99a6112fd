//! Credentials: the self-redacting [`Secret`] type every key, token and password travels in, and
//! (in [`keychain`]) the OS keychain, the only place they are stored; [`redact`] scrubs credentials
//! out of text that comes from elsewhere.

pub mod keychain;
mod redact;
mod secret;

pub use keychain::{EntryKind, Keychain, KeychainError};
pub use redact::redact;
pub use secret::Secret;
