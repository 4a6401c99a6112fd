//! Credentials: the self-redacting [`Secret`] type every key, token and password travels in, and
//! (in `keychain`) the OS keychain, the only place they are stored.

mod secret;

pub use secret::Secret;
