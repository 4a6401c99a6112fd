//! The Entra ID v2.0 endpoints, where Entra has them: `POST /{tenant}/oauth2/v2.0/token`
//! (client_credentials, device_code, authorization_code with PKCE S256, refresh_token),
//! `POST /{tenant}/oauth2/v2.0/devicecode`, `GET /{tenant}/oauth2/v2.0/authorize` (signs the
//! seeded user in at once and redirects to the loopback `redirect_uri`), and `/devicelogin`, where
//! a test (or a person) approves a device code by its `user_code`. Errors have Entra's shape.
//!
//! ARM tokens are opaque and checked by the emulator's ARM. A token for Blob Storage
//! (`https://storage.azure.com/.default`, client credentials or refresh) is an unsigned JWT with
//! the claims Azurite's `--oauth basic` checks (`iss` under `https://sts.windows.net/`, `aud`
//! `https://storage.azure.com`, `nbf`, `iat`, `exp`): the emulator stands in for Entra in front of
//! a local Azurite, for `lrs sas create --user-delegation` end to end. ARM refuses such a token.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::json;
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

use super::{opaque, AccessToken, AuthCode, DeviceCode, Subject};
use crate::app::Shared;
use crate::http::{json_response, timestamp};
use crate::state;

const DEVICE_CODE_SECONDS: i64 = 900;
const AUTH_CODE_SECONDS: i64 = 600;
const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

type FormData = Form<HashMap<String, String>>;

/// An Entra error: `{"error", "error_description", "error_codes", "timestamp", ...}`.
fn oauth_error(status: StatusCode, error: &str, aadsts: u32, description: &str, now: OffsetDateTime) -> Response {
    let body = json!({
        "error": error,
        "error_description": format!("AADSTS{aadsts}: {description}"),
        "error_codes": [aadsts],
        "timestamp": timestamp(now),
        "trace_id": uuid::Uuid::new_v4().to_string(),
        "correlation_id": uuid::Uuid::new_v4().to_string(),
    });
    json_response(status, &body)
}

fn known_tenants(state: &state::State) -> Vec<String> {
    let seed = &state.seed;
    let mut tenants: Vec<String> = seed.service_principals.iter().map(|s| s.tenant_id.clone()).collect();
    tenants.extend(seed.users.iter().map(|u| u.tenant_id.clone()));
    tenants.extend(seed.subscriptions.iter().map(|s| s.tenant_id.clone()));
    tenants
}

/// The tenant a path names: a known tenant id, or `organizations`/`common` for the first user's.
fn resolve_tenant(state: &state::State, tenant: &str, allow_alias: bool) -> Option<String> {
    if allow_alias && matches!(tenant.to_ascii_lowercase().as_str(), "organizations" | "common") {
        return state.seed.users.first().map(|u| u.tenant_id.clone());
    }
    known_tenants(state).into_iter().find(|t| t.eq_ignore_ascii_case(tenant))
}

/// Only ARM scopes are granted (`https://management.azure.com/.default` and its older spellings),
/// with `openid`, `profile` and `offline_access` alongside for user sign-ins.
fn arm_scope(scope: &str) -> bool {
    let mut arm = false;
    for part in scope.split_whitespace() {
        let lower = part.to_ascii_lowercase();
        let base = lower.trim_end_matches("/.default").trim_end_matches("/user_impersonation").trim_end_matches('/');
        if base == "https://management.azure.com" || base == "https://management.core.windows.net" {
            arm = true;
        } else if !matches!(lower.as_str(), "openid" | "profile" | "offline_access") {
            return false;
        }
    }
    arm
}

/// The one Blob Storage scope granted: `https://storage.azure.com/.default`, with `openid`,
/// `profile` and `offline_access` alongside for user sign-ins.
fn storage_scope(scope: &str) -> bool {
    let mut storage = false;
    for part in scope.split_whitespace() {
        let lower = part.to_ascii_lowercase();
        if lower == STORAGE_SCOPE {
            storage = true;
        } else if !matches!(lower.as_str(), "openid" | "profile" | "offline_access") {
            return false;
        }
    }
    storage
}

const STORAGE_SCOPE: &str = "https://storage.azure.com/.default";

pub async fn token(State(app): State<Shared>, Path(tenant): Path<String>, Form(form): FormData) -> Response {
    let now = app.now();
    let get = |k: &str| form.get(k).map(String::as_str).unwrap_or("");
    match get("grant_type") {
        "client_credentials" => client_credentials(&app, &tenant, &form, now),
        DEVICE_GRANT => device_grant(&app, get("device_code"), now),
        "authorization_code" => code_grant(&app, &form, now),
        "refresh_token" => refresh_grant(&app, get("refresh_token"), get("scope"), now),
        other => oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            70003,
            &format!("The app requested an unsupported grant type '{other}'."),
            now,
        ),
    }
}

fn client_credentials(app: &Shared, tenant: &str, form: &HashMap<String, String>, now: OffsetDateTime) -> Response {
    let get = |k: &str| form.get(k).map(String::as_str).unwrap_or("");
    let (client_id, secret, scope) = (get("client_id"), get("client_secret"), get("scope"));
    let Some(tenant_id) = app.read(|s| resolve_tenant(s, tenant, false)) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            90002,
            &format!("Tenant '{tenant}' not found."),
            now,
        );
    };
    let principal = app.read(|s| {
        s.seed
            .service_principals
            .iter()
            .find(|p| p.client_id.eq_ignore_ascii_case(client_id) && p.tenant_id.eq_ignore_ascii_case(&tenant_id))
            .cloned()
    });
    let Some(principal) = principal else {
        let text = format!("Application with identifier '{client_id}' was not found in the directory '{tenant_id}'.");
        return oauth_error(StatusCode::BAD_REQUEST, "unauthorized_client", 700016, &text, now);
    };
    if principal.secret != secret {
        let text = format!("Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{client_id}'.");
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", 7000215, &text, now);
    }
    let subject = Subject { tenant_id, client_id: principal.client_id.clone(), name: principal.client_id };
    if storage_scope(scope) {
        return issue_storage(app, subject, false, now);
    }
    if !scope.to_ascii_lowercase().ends_with("/.default") || !arm_scope(scope) {
        let text = format!("The provided value for scope {scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).");
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_scope", 1002012, &text, now);
    }
    issue(app, subject, false, now)
}

/// Issues an access token (and a refresh token for user sign-ins) and answers as Entra does.
fn issue(app: &Shared, subject: Subject, refresh: bool, now: OffsetDateTime) -> Response {
    let lifetime = app.timing.token_lifetime_seconds;
    let access = opaque("emu-at");
    let refresh_token = refresh.then(|| opaque("emu-rt"));
    app.write(|s| {
        s.grants.prune(now);
        s.grants.access_tokens.insert(
            access.clone(),
            AccessToken { subject: subject.clone(), expires: now + Duration::seconds(lifetime) },
        );
        if let Some(rt) = &refresh_token {
            s.grants.refresh_tokens.insert(rt.clone(), subject.clone());
        }
    });
    let scope = "https://management.azure.com/user_impersonation https://management.azure.com/.default";
    token_response(scope, lifetime, &access, refresh_token)
}

/// The token endpoint's answer: a bearer token for `scope`, and the refresh token when one was issued.
fn token_response(scope: &str, lifetime: i64, access: &str, refresh_token: Option<String>) -> Response {
    let mut body = json!({
        "token_type": "Bearer",
        "scope": scope,
        "expires_in": lifetime,
        "ext_expires_in": lifetime,
        "access_token": access,
    });
    if let Some(rt) = refresh_token {
        body["refresh_token"] = json!(rt);
    }
    json_response(StatusCode::OK, &body)
}

/// Issues a Blob Storage access token: an unsigned JWT (`alg` `none`) that only Azurite's basic
/// OAuth check accepts (it reads the claims and does not verify signatures). Not kept: ARM never
/// accepts it.
fn issue_storage(app: &Shared, subject: Subject, refresh: bool, now: OffsetDateTime) -> Response {
    let lifetime = app.timing.token_lifetime_seconds;
    let refresh_token = refresh.then(|| opaque("emu-rt"));
    if let Some(rt) = &refresh_token {
        app.write(|s| s.grants.refresh_tokens.insert(rt.clone(), subject.clone()));
    }
    let (iat, exp) = (now.unix_timestamp(), (now + Duration::seconds(lifetime)).unix_timestamp());
    let claims = json!({
        "aud": "https://storage.azure.com",
        "iss": format!("https://sts.windows.net/{}/", subject.tenant_id),
        "iat": iat, "nbf": iat - 300, "exp": exp,
        "tid": subject.tenant_id, "oid": subject.client_id, "sub": subject.name, "appid": subject.client_id,
        "ver": "1.0",
    });
    let part = |v: &serde_json::Value| URL_SAFE_NO_PAD.encode(v.to_string());
    let access = format!("{}.{}.", part(&json!({"alg": "none", "typ": "JWT"})), part(&claims));
    token_response(STORAGE_SCOPE, lifetime, &access, refresh_token)
}

fn user_subject(app: &Shared, tenant_id: &str, client_id: &str) -> Subject {
    let name = app.read(|s| {
        s.seed.users.iter().find(|u| u.tenant_id.eq_ignore_ascii_case(tenant_id)).map(|u| u.user_name.clone())
    });
    Subject { tenant_id: tenant_id.into(), client_id: client_id.into(), name: name.unwrap_or_else(|| "user".into()) }
}

pub async fn device_code(State(app): State<Shared>, Path(tenant): Path<String>, Form(form): FormData) -> Response {
    let now = app.now();
    let client_id = form.get("client_id").cloned().unwrap_or_default();
    let scope = form.get("scope").cloned().unwrap_or_default();
    let Some(tenant_id) = app.read(|s| resolve_tenant(s, &tenant, true)) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            90002,
            &format!("Tenant '{tenant}' not found."),
            now,
        );
    };
    if client_id.is_empty() || !arm_scope(&scope) {
        let text =
            format!("The provided value for the input parameter 'scope' is not valid. The scope {scope} is not valid.");
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_scope", 70011, &text, now);
    }
    let device = opaque("emu-dc");
    let simple = uuid::Uuid::new_v4().simple().to_string().to_ascii_uppercase();
    let user_code = simple.get(..9).unwrap_or("ABCDEFGHI").to_string();
    let expires = now + Duration::seconds(DEVICE_CODE_SECONDS);
    let entry = DeviceCode { user_code: user_code.clone(), tenant_id, client_id, expires, approved: false };
    app.write(|s| s.grants.device_codes.insert(device.clone(), entry));
    let uri = format!("{}/devicelogin", app.base_url);
    let body = json!({
        "user_code": user_code,
        "device_code": device,
        "verification_uri": uri,
        "expires_in": DEVICE_CODE_SECONDS,
        "interval": 1,
        "message": format!("To sign in, use a web browser to open the page {uri} and enter the code {user_code} to authenticate."),
    });
    json_response(StatusCode::OK, &body)
}

fn device_grant(app: &Shared, device: &str, now: OffsetDateTime) -> Response {
    let Some(entry) = app.read(|s| s.grants.device_codes.get(device).cloned()) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "expired_token",
            70020,
            "The provided value for the input parameter 'device_code' is not valid or has expired.",
            now,
        );
    };
    if entry.expires <= now {
        return oauth_error(StatusCode::BAD_REQUEST, "expired_token", 70020, "The device code has expired.", now);
    }
    if !entry.approved {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "authorization_pending",
            70016,
            "OAuth 2.0 device flow error. Authorization is pending. Continue polling.",
            now,
        );
    }
    app.write(|s| s.grants.device_codes.remove(device));
    issue(app, user_subject(app, &entry.tenant_id, &entry.client_id), true, now)
}

/// Approves a device code: `GET /devicelogin?user_code=...` or a form POST with `user_code`.
pub async fn device_login(State(app): State<Shared>, Query(query): Query<HashMap<String, String>>) -> Response {
    let code = query.get("user_code").cloned().unwrap_or_default();
    let now = app.now();
    let found = app.write(|s| {
        let entry = s
            .grants
            .device_codes
            .values_mut()
            .find(|d| d.user_code.eq_ignore_ascii_case(code.trim()) && d.expires > now);
        entry.map(|d| d.approved = true).is_some()
    });
    if found {
        (StatusCode::OK, "Signed in. You can close this window.").into_response()
    } else {
        (StatusCode::BAD_REQUEST, "That code is unknown or has expired.").into_response()
    }
}

pub async fn device_login_form(state: State<Shared>, Form(form): FormData) -> Response {
    device_login(state, Query(form)).await
}

/// The redirect URI must be a loopback `http` address, as for desktop apps.
fn loopback_redirect(uri: &str) -> bool {
    url::Url::parse(uri)
        .is_ok_and(|u| u.scheme() == "http" && matches!(u.host_str(), Some("127.0.0.1" | "localhost" | "[::1]")))
}

pub async fn authorize(
    State(app): State<Shared>,
    Path(tenant): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let now = app.now();
    let get = |k: &str| q.get(k).cloned().unwrap_or_default();
    let redirect_uri = get("redirect_uri");
    if !loopback_redirect(&redirect_uri) {
        let text = format!("The redirect URI '{redirect_uri}' specified in the request does not match the redirect URIs configured for the application.");
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", 50011, &text, now);
    }
    let Some(mut target) = url::Url::parse(&redirect_uri).ok() else {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", 50011, "The redirect URI is not valid.", now);
    };
    let fail = |mut target: url::Url, error: &str, text: &str| {
        target
            .query_pairs_mut()
            .append_pair("error", error)
            .append_pair("error_description", text)
            .append_pair("state", &get("state"));
        Redirect::to(target.as_str()).into_response()
    };
    let tenant_id = app.read(|s| resolve_tenant(s, &tenant, true));
    let Some(tenant_id) = tenant_id else { return fail(target, "invalid_request", "AADSTS90002: Tenant not found.") };
    if get("response_type") != "code" {
        return fail(target, "unsupported_response_type", "AADSTS70005: response_type must be 'code'.");
    }
    if get("code_challenge").is_empty() || get("code_challenge_method") != "S256" {
        return fail(target, "invalid_request", "AADSTS9002325: Proof Key for Code Exchange (S256) is required.");
    }
    if !arm_scope(&get("scope")) {
        return fail(target, "invalid_scope", "AADSTS70011: The provided scope is not valid.");
    }
    let code = opaque("emu-ac");
    let entry = AuthCode {
        tenant_id,
        client_id: get("client_id"),
        redirect_uri: redirect_uri.clone(),
        code_challenge: get("code_challenge"),
        expires: now + Duration::seconds(AUTH_CODE_SECONDS),
    };
    app.write(|s| s.grants.auth_codes.insert(code.clone(), entry));
    target.query_pairs_mut().append_pair("code", &code).append_pair("state", &get("state"));
    Redirect::to(target.as_str()).into_response()
}

fn code_grant(app: &Shared, form: &HashMap<String, String>, now: OffsetDateTime) -> Response {
    let get = |k: &str| form.get(k).map(String::as_str).unwrap_or("");
    let Some(entry) = app.write(|s| s.grants.auth_codes.remove(get("code"))) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            70008,
            "The provided authorization code or refresh token has expired or was already used.",
            now,
        );
    };
    if entry.expires <= now || entry.client_id != get("client_id") || entry.redirect_uri != get("redirect_uri") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            70008,
            "The authorization code does not match the client, the redirect URI, or has expired.",
            now,
        );
    }
    let digest = URL_SAFE_NO_PAD.encode(Sha256::digest(get("code_verifier").as_bytes()));
    if digest != entry.code_challenge {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            501481,
            "The Code_Verifier does not match the code_challenge supplied in the authorization request.",
            now,
        );
    }
    issue(app, user_subject(app, &entry.tenant_id, &entry.client_id), true, now)
}

fn refresh_grant(app: &Shared, token: &str, scope: &str, now: OffsetDateTime) -> Response {
    let Some(subject) = app.write(|s| s.grants.refresh_tokens.remove(token)) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            70008,
            "The provided authorization code or refresh token has expired or was already used.",
            now,
        );
    };
    if storage_scope(scope) {
        return issue_storage(app, subject, true, now);
    }
    issue(app, subject, true, now)
}
