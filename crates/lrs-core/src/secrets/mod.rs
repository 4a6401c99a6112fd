//! Credentials: the self-redacting [`Secret`] type every key, token and password travels in, and
//! (in [`keychain`]) the OS keychain, the only place they are stored.

pub mod keychain;
mod secret;

pub use keychain::{EntryKind, Keychain, KeychainError};
pub use secret::Secret;
