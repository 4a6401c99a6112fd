//! Microsoft Entra ID, as far as ARM clients need it: the token endpoints (client credentials,
//! device code, authorization code with PKCE, refresh) in [`oauth`], and the check of the bearer
//! token on every ARM request. The emulator accepts only tokens it issued, until they expire on
//! its clock.

pub mod oauth;

use std::collections::BTreeMap;

use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use time::serde::rfc3339;
use time::OffsetDateTime;

use crate::http::{timestamp, ArmError};
use crate::state::State;

/// The audience of every token the emulator issues: ARM.
pub const ARM_AUDIENCE: &str = "https://management.azure.com/";

/// Who a token stands for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subject {
    pub tenant_id: String,
    pub client_id: String,
    /// The service principal's client id, or the user's name.
    pub name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessToken {
    pub subject: Subject,
    #[serde(with = "rfc3339")]
    pub expires: OffsetDateTime,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeviceCode {
    pub user_code: String,
    pub tenant_id: String,
    pub client_id: String,
    #[serde(with = "rfc3339")]
    pub expires: OffsetDateTime,
    pub approved: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuthCode {
    pub tenant_id: String,
    pub client_id: String,
    pub redirect_uri: String,
    pub code_challenge: String,
    #[serde(with = "rfc3339")]
    pub expires: OffsetDateTime,
}

/// Everything the token endpoints handed out.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Grants {
    pub access_tokens: BTreeMap<String, AccessToken>,
    pub refresh_tokens: BTreeMap<String, Subject>,
    pub device_codes: BTreeMap<String, DeviceCode>,
    pub auth_codes: BTreeMap<String, AuthCode>,
}

impl Grants {
    /// Forgets what expired before `now`.
    pub fn prune(&mut self, now: OffsetDateTime) {
        self.access_tokens.retain(|_, t| t.expires > now);
        self.device_codes.retain(|_, d| d.expires > now);
        self.auth_codes.retain(|_, c| c.expires > now);
    }
}

/// Checks the `Authorization: Bearer` header of an ARM request, with ARM's 401 bodies.
pub fn authenticate(
    state: &State,
    headers: &HeaderMap,
    now: OffsetDateTime,
    base_url: &str,
) -> Result<Subject, ArmError> {
    let unauthorized = |code: &str, message: String| {
        let mut err = ArmError::new(StatusCode::UNAUTHORIZED, code, message.clone());
        err.challenge = Some(format!(
            "Bearer authorization_uri=\"{base_url}/{}\", error=\"invalid_token\", error_description=\"{message}\"",
            crate::seed::DEFAULT_TENANT
        ));
        err
    };
    let Some(value) = headers.get("authorization") else {
        return Err(unauthorized(
            "AuthenticationFailed",
            "Authentication failed. The 'Authorization' header is missing.".into(),
        ));
    };
    let token = value.to_str().ok().and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")));
    let Some(token) = token.map(str::trim).filter(|t| !t.is_empty()) else {
        return Err(unauthorized(
            "AuthenticationFailed",
            "Authentication failed. The 'Authorization' header is provided in an invalid format.".into(),
        ));
    };
    let Some(issued) = state.grants.access_tokens.get(token) else {
        return Err(unauthorized("InvalidAuthenticationToken", "The access token is invalid.".into()));
    };
    if issued.expires <= now {
        return Err(unauthorized(
            "ExpiredAuthenticationToken",
            format!(
                "The access token expiry UTC time '{}' is earlier than current UTC time '{}'.",
                timestamp(issued.expires),
                timestamp(now)
            ),
        ));
    }
    Ok(issued.subject.clone())
}

/// A new opaque secret: a prefix and two random UUIDs.
pub fn opaque(prefix: &str) -> String {
    format!("{prefix}.{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple())
}
