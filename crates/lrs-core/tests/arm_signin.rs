//! Interactive sign-in against the emulator's Entra ID endpoints: the device code flow (the test
//! approves the code as the user would) and the authorization code flow with PKCE (the test plays
//! the browser: it opens the sign-in URL and follows the redirect to the loopback listener). Each
//! sign-in's credential then lists subscriptions through ARM, trading its refresh token.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use azure_core::credentials::TokenCredential;
use lrs_core::arm::interactive::{InteractiveSignIn, ORGANIZATIONS};
use lrs_core::arm::{ArmClient, ArmClientOptions, AzureCloud};
use lrs_emulator::{Emulator, EmulatorConfig, RunningEmulator};

const SUBSCRIPTION: &str = "22222222-2222-2222-2222-222222222222";
const PUBLIC_CLIENT: &str = "44444444-4444-4444-4444-444444444444";

async fn emulator() -> RunningEmulator {
    Emulator::start(EmulatorConfig::rehearsal()).await.unwrap()
}

async fn lists_subscriptions(cloud: AzureCloud, credential: Arc<dyn TokenCredential>) {
    let arm = ArmClient::new(cloud, credential, ArmClientOptions::default()).unwrap();
    let subs = arm.subscriptions().await.unwrap();
    assert!(subs.iter().any(|s| s.subscription_id == SUBSCRIPTION), "{subs:?}");
}

#[tokio::test]
async fn device_code_sign_in() {
    let emu = emulator().await;
    let cloud = AzureCloud::emulator(emu.base_url()).unwrap();
    let sign_in = InteractiveSignIn::new(cloud.clone(), ORGANIZATIONS, PUBLIC_CLIENT);
    let mut shown = None;
    let credential = sign_in
        .device_code(|prompt| {
            shown = Some(prompt.clone());
            // The user opens the page and types the code.
            let approve = format!("{}?user_code={}", prompt.verification_uri, prompt.user_code);
            tokio::spawn(async move { reqwest::get(approve).await.unwrap().error_for_status().unwrap() });
        })
        .await
        .unwrap();
    let shown = shown.unwrap();
    assert!(shown.verification_uri.starts_with(emu.base_url()));
    assert!(!shown.user_code.is_empty());
    let credential: Arc<dyn TokenCredential> = Arc::new(credential);
    lists_subscriptions(cloud, credential.clone()).await;
    // The refresh token was rotated and still works.
    credential.get_token(&["https://management.azure.com/.default"], None).await.unwrap();
    emu.shutdown().await;
}

#[tokio::test]
async fn browser_sign_in_with_pkce_and_a_loopback_redirect() {
    let emu = emulator().await;
    let cloud = AzureCloud::emulator(emu.base_url()).unwrap();
    let sign_in = InteractiveSignIn::new(cloud.clone(), ORGANIZATIONS, PUBLIC_CLIENT);
    let credential = sign_in
        .browser(|url| {
            let url = url.to_string();
            assert!(url.contains("code_challenge_method=S256") && url.contains("offline_access"), "{url}");
            // The browser: the sign-in page redirects to the loopback listener, which answers a page.
            tokio::spawn(async move {
                let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
                let answer = browser.get(&url).send().await.unwrap();
                assert!(answer.status().is_redirection(), "{}", answer.status());
                let location = answer.headers()["location"].to_str().unwrap().to_string();
                assert!(location.starts_with("http://127.0.0.1:"), "{location}");
                let page = browser.get(&location).send().await.unwrap().text().await.unwrap();
                assert!(page.contains("Signed in"), "{page}");
            });
            Ok(())
        })
        .await
        .unwrap();
    lists_subscriptions(cloud, Arc::new(credential)).await;
    emu.shutdown().await;
}
