//! `lrs login` against the emulator's Entra ID endpoints, with the real `lrs` binary: the browser
//! flow (the "browser" is `$BROWSER`, here curl following the emulator's redirect to the CLI's
//! loopback listener) and the device code flow (the code read from the CLI's stderr and approved at
//! `/devicelogin`). Each leaves a refresh token in the keychain only, which a later `lrs list`
//! signs in with, without any AZURE_* variable. Skipped with a note without Azurite or without a
//! usable keychain (scripts/test.sh provides one and sets LRS_REQUIRE_KEYCHAIN=1).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use lrs_core::secrets::{Keychain, Secret};
use lrs_emulator::seed::DEFAULT_TENANT;
use support::{strings, World, SUB};
use tokio::io::{AsyncBufReadExt, BufReader};

/// A client id for the public client (the emulator accepts any).
const CLIENT_ID: &str = "44444444-4444-4444-4444-444444444444";

fn keychain_usable(service: &str) -> bool {
    let keychain = Keychain::with_service(service);
    match keychain.set("probe", &Secret::new("probe")).and_then(|()| keychain.delete("probe")) {
        Ok(_) => true,
        Err(err) => {
            let required = std::env::var("LRS_REQUIRE_KEYCHAIN").is_ok_and(|v| v == "1");
            assert!(!required && err.is_store_unusable(), "the platform keychain must work here: {err}");
            eprintln!("SKIPPED: no usable keychain ({err}); scripts/test.sh runs this for real");
            false
        }
    }
}

fn login_args(world: &World, mode: &[&str]) -> Vec<String> {
    let base = world.emulator.base_url();
    let mut args = strings(&["login", "--arm-endpoint", base, "--tenant", DEFAULT_TENANT, "--client-id", CLIENT_ID]);
    args.extend(strings(mode));
    args
}

/// `lrs list subscriptions` with no AZURE_* variable: only the keychain can sign it in.
async fn list_with_the_kept_sign_in(world: &World) {
    let base = world.emulator.base_url();
    let args = strings(&[
        "list",
        "subscriptions",
        "--arm-endpoint",
        base,
        "--tenant",
        DEFAULT_TENANT,
        "--client-id",
        CLIENT_ID,
    ]);
    let out = world.lrs(&args, &[("AZURE_CLIENT_SECRET", "")], None).await.expect(0);
    assert!(out.stdout.contains(SUB), "{out:?}");
}

fn forget(world: &World) {
    // The entry names the sign-in host (the emulator), so the token never goes to another host.
    let base = world.emulator.base_url().to_string();
    let host = base.trim_start_matches("http://").trim_start_matches("https://").trim_end_matches('/');
    let entry = format!("login/{host}/{DEFAULT_TENANT}/{CLIENT_ID}");
    let keychain = Keychain::with_service(&world.keychain_service);
    assert!(keychain.get(&entry).unwrap().is_some(), "the refresh token is in the keychain");
    keychain.delete(&entry).unwrap();
}

#[tokio::test]
async fn browser_sign_in_keeps_the_refresh_token_in_the_keychain() {
    let Some(world) = World::start("browserlogin").await else { return };
    if !keychain_usable(&world.keychain_service) {
        return;
    }
    let browser = "curl -s -L -o /dev/null";
    let out = world.lrs(&login_args(&world, &[]), &[("AZURE_CLIENT_SECRET", ""), ("BROWSER", browser)], None).await;
    let out = out.expect(0);
    assert!(out.stderr.contains("/oauth2/v2.0/authorize?"), "the URL is printed: {out:?}");
    assert!(out.stdout.contains("Signed in to Custom (browser)") && out.stdout.contains(SUB), "{out:?}");
    assert!(!std::fs::read_dir(world.work.path()).unwrap().any(|e| e.unwrap().file_name() == "data"));
    list_with_the_kept_sign_in(&world).await;
    forget(&world);
}

#[tokio::test]
async fn device_code_sign_in_keeps_the_refresh_token_in_the_keychain() {
    let Some(world) = World::start("devicelogin").await else { return };
    if !keychain_usable(&world.keychain_service) {
        return;
    }
    let mut child =
        world.command(&login_args(&world, &["--device-code"]), &[("AZURE_CLIENT_SECRET", "")]).spawn().unwrap();
    drop(child.stdin.take());
    let mut stderr = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut seen = String::new();
    while let Some(line) = stderr.next_line().await.unwrap() {
        seen.push_str(&line);
        seen.push('\n');
        if let Some(code) = line.split("enter the code ").nth(1).and_then(|r| r.split_whitespace().next()) {
            let url = format!("{}/devicelogin?user_code={code}", world.emulator.base_url());
            let status = reqwest::get(url).await.unwrap().status();
            assert_eq!(status, 200, "approve the device code");
            break;
        }
    }
    while let Some(line) = stderr.next_line().await.unwrap() {
        seen.push_str(&line);
        seen.push('\n');
    }
    let output = child.wait_with_output().await.unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    world.scan(&seen);
    world.scan(&stdout);
    assert!(output.status.success(), "{stdout}\n{seen}");
    assert!(stdout.contains("Signed in to Custom (device-code)") && stdout.contains(SUB), "{stdout}");
    list_with_the_kept_sign_in(&world).await;
    forget(&world);
}
