//! The Entra ID token endpoints: client credentials (and its errors), device code approved at
//! `/devicelogin`, authorization code with PKCE through a loopback redirect, refresh; every token
//! they issue is accepted by ARM.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::Value;
use sha2::{Digest, Sha256};
use support::{form_body, Harness};

const TENANT: &str = "11111111-1111-1111-1111-111111111111";
const SCOPE: &str = "https://management.azure.com/.default offline_access";

async fn post(h: &Harness, path: &str, form: &[(&str, &str)]) -> (u16, Value) {
    let r = h
        .http
        .post(format!("{}{path}", h.emulator.base_url()))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(form_body(form))
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

async fn arm_accepts(h: &Harness, token: &str) -> bool {
    let r = h.http.get(h.url("/subscriptions")).bearer_auth(token).send().await.unwrap();
    r.status() == 200
}

async fn harness() -> (Harness, tempfile::TempDir) {
    let state = tempfile::tempdir().unwrap();
    (Harness::start(state.path(), "http://127.0.0.1:9/devstoreaccount1").await, state)
}

#[tokio::test]
async fn client_credentials_and_its_errors() {
    let (h, _s) = harness().await;
    let token = h.token().await;
    assert!(arm_accepts(&h, &token).await);
    let path = format!("/{TENANT}/oauth2/v2.0/token");
    let base = [
        ("grant_type", "client_credentials"),
        ("client_id", "33333333-3333-3333-3333-333333333333"),
        ("scope", "https://management.azure.com/.default"),
    ];
    let (status, err) = post(&h, &path, &[&base[..], &[("client_secret", "wrong")]].concat()).await;
    assert_eq!((status, err["error"].as_str()), (401, Some("invalid_client")));
    assert!(err["error_description"].as_str().unwrap().starts_with("AADSTS7000215"));
    let (status, err) = post(&h, "/99999999-0000-0000-0000-000000000000/oauth2/v2.0/token", &base).await;
    assert_eq!((status, err["error"].as_str()), (400, Some("invalid_request")));
    let storage = [
        ("grant_type", "client_credentials"),
        ("client_id", "33333333-3333-3333-3333-333333333333"),
        ("client_secret", "rehearsal-secret"),
        ("scope", "https://storage.azure.com/.default"),
    ];
    // A Blob Storage token is a JWT for Azurite's `--oauth basic`, which ARM refuses.
    let (status, token) = post(&h, &path, &storage).await;
    assert_eq!(status, 200, "{token}");
    let jwt = token["access_token"].as_str().unwrap();
    let claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(jwt.split('.').nth(1).unwrap()).unwrap()).unwrap();
    assert_eq!(claims["aud"], "https://storage.azure.com");
    assert_eq!(claims["iss"], format!("https://sts.windows.net/{TENANT}/"));
    assert!(claims["nbf"].as_i64() <= claims["iat"].as_i64() && claims["iat"].as_i64() < claims["exp"].as_i64());
    assert!(!arm_accepts(&h, jwt).await);
    let other = [&storage[..3], &[("scope", "https://vault.azure.net/.default")]].concat();
    let (status, err) = post(&h, &path, &other).await;
    assert_eq!((status, err["error"].as_str()), (400, Some("invalid_scope")));
}

#[tokio::test]
async fn device_code_flow() {
    let (h, _s) = harness().await;
    let client = [("client_id", "04b07795-8ddb-461a-bbee-02f9e1bf7b46"), ("scope", SCOPE)];
    let (status, code) = post(&h, "/organizations/oauth2/v2.0/devicecode", &client).await;
    assert_eq!(status, 200, "{code}");
    let device = code["device_code"].as_str().unwrap().to_string();
    let poll = [
        ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
        ("client_id", client[0].1),
        ("device_code", &device),
    ];
    let (status, pending) = post(&h, "/organizations/oauth2/v2.0/token", &poll).await;
    assert_eq!((status, pending["error"].as_str()), (400, Some("authorization_pending")));
    let approve =
        format!("{}?user_code={}", code["verification_uri"].as_str().unwrap(), code["user_code"].as_str().unwrap());
    assert_eq!(h.http.get(approve).send().await.unwrap().status(), 200);
    let (status, token) = post(&h, "/organizations/oauth2/v2.0/token", &poll).await;
    assert_eq!(status, 200, "{token}");
    assert!(arm_accepts(&h, token["access_token"].as_str().unwrap()).await);
    let refresh = [
        ("grant_type", "refresh_token"),
        ("client_id", client[0].1),
        ("refresh_token", token["refresh_token"].as_str().unwrap()),
        ("scope", SCOPE),
    ];
    let (status, renewed) = post(&h, "/organizations/oauth2/v2.0/token", &refresh).await;
    assert_eq!(status, 200);
    assert!(arm_accepts(&h, renewed["access_token"].as_str().unwrap()).await);
}

#[tokio::test]
async fn authorization_code_with_pkce() {
    let (h, _s) = harness().await;
    let verifier = "a-long-random-verifier-0123456789-abcdefghijklmnopqrstuvwxyz";
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let redirect = "http://127.0.0.1:53682/callback";
    let no_redirects = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let mut authorize = url::Url::parse(&format!("{}/{TENANT}/oauth2/v2.0/authorize", h.emulator.base_url())).unwrap();
    authorize.query_pairs_mut().extend_pairs([
        ("client_id", "app"),
        ("response_type", "code"),
        ("redirect_uri", redirect),
        ("scope", SCOPE),
        ("state", "xyz"),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
    ]);
    let r = no_redirects.get(authorize.as_str()).send().await.unwrap();
    assert!(r.status().is_redirection());
    let location = url::Url::parse(r.headers()["location"].to_str().unwrap()).unwrap();
    assert!(location.as_str().starts_with(redirect));
    let query: std::collections::HashMap<_, _> = location.query_pairs().into_owned().collect();
    assert_eq!(query["state"], "xyz");
    let exchange = |v: &'static str| {
        vec![
            ("grant_type", "authorization_code"),
            ("client_id", "app"),
            ("redirect_uri", redirect),
            ("code", query["code"].as_str()),
            ("code_verifier", v),
        ]
    };
    let (status, err) = post(&h, &format!("/{TENANT}/oauth2/v2.0/token"), &exchange("wrong-verifier")).await;
    assert_eq!((status, err["error"].as_str()), (400, Some("invalid_grant")));
    let (status, _) = post(&h, &format!("/{TENANT}/oauth2/v2.0/token"), &exchange(verifier)).await;
    assert_eq!(status, 400, "a code is used once, even after a failed attempt");
}

#[tokio::test]
async fn authorization_code_exchange_succeeds_with_the_right_verifier() {
    let (h, _s) = harness().await;
    let verifier = "another-verifier-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFG";
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let redirect = "http://localhost:8400/";
    let no_redirects = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let mut authorize = url::Url::parse(&format!("{}/{TENANT}/oauth2/v2.0/authorize", h.emulator.base_url())).unwrap();
    authorize.query_pairs_mut().extend_pairs([
        ("client_id", "app"),
        ("response_type", "code"),
        ("redirect_uri", redirect),
        ("scope", SCOPE),
        ("state", "s"),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
    ]);
    let r = no_redirects.get(authorize.as_str()).send().await.unwrap();
    let location = url::Url::parse(r.headers()["location"].to_str().unwrap()).unwrap();
    let code = location.query_pairs().find(|(k, _)| k == "code").unwrap().1.into_owned();
    let form = [
        ("grant_type", "authorization_code"),
        ("client_id", "app"),
        ("redirect_uri", redirect),
        ("code", &code),
        ("code_verifier", verifier),
    ];
    let (status, token) = post(&h, &format!("/{TENANT}/oauth2/v2.0/token"), &form).await;
    assert_eq!(status, 200, "{token}");
    assert!(token["refresh_token"].is_string());
    assert!(arm_accepts(&h, token["access_token"].as_str().unwrap()).await);
}
