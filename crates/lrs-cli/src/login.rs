//! `lrs login`: signs in to Azure and proves it by listing the subscriptions the sign-in sees.
//!
//! - default: the browser (authorization code with PKCE, redirect to a loopback listener); the URL
//!   is always printed, and the system browser opened when possible (`$BROWSER`, else `xdg-open`,
//!   `open` or `start`);
//! - `--device-code`: a code to type at a page, for machines without a browser;
//! - `--azure-cli`: checks the Azure CLI's login (nothing is stored);
//! - `--service-principal`: checks the service principal of `AZURE_TENANT_ID`, `AZURE_CLIENT_ID`,
//!   `AZURE_CLIENT_SECRET` (and `AZURE_AUTHORITY_HOST`); `--save` keeps its secret in the keychain.
//!
//! The refresh token of an interactive sign-in goes to the keychain only (`login/<sign-in
//! host>/<tenant>/<client id>`, rotated on use), never to a file or the output. Exit codes: 0 signed in, 1 the sign-in or
//! ARM refused, 2 bad usage or no usable keychain.

use std::process::ExitCode;
use std::sync::Arc;

use lrs_core::arm::interactive::{DevicePrompt, RefreshTokenCredential};
use lrs_core::arm::{ArmClient, ArmClientOptions, ArmCredential, AzureCloud, ServicePrincipal};
use lrs_core::secrets::Keychain;
use serde_json::json;

use crate::arm_args::{runtime, CloudArgs, SignInArgs};
use crate::failure::Failure;

#[derive(Debug, clap::Args)]
pub struct LoginArgs {
    /// Sign in with a device code instead of the browser.
    #[arg(long, conflicts_with_all = ["service_principal", "no_browser"])]
    device_code: bool,
    /// Check the service principal of the AZURE_* environment variables.
    #[arg(long)]
    service_principal: bool,
    /// With --service-principal: keep its secret in the keychain (entry sp/<tenant>/<client id>).
    #[arg(long, requires = "service_principal")]
    save: bool,
    /// Do not try to open the system browser (the sign-in URL is printed either way).
    #[arg(long)]
    no_browser: bool,
    /// Machine-readable result.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    cloud: CloudArgs,
    #[command(flatten)]
    sign_in: SignInArgs,
}

pub fn run(args: &LoginArgs) -> ExitCode {
    match runtime().and_then(|rt| rt.block_on(login(args))) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report("login", args.json),
    }
}

async fn login(args: &LoginArgs) -> Result<(), Failure> {
    if args.sign_in.azure_cli && (args.device_code || args.service_principal) {
        return Err(Failure::usage("--azure-cli cannot be combined with --device-code or --service-principal"));
    }
    let cloud = args.cloud.cloud()?;
    let (credential, method) = if args.sign_in.azure_cli {
        let tenant = args.sign_in.tenant.as_deref();
        let cli = lrs_core::arm::credential::azure_cli(tenant).map_err(|e| Failure::usage(e.to_string()))?;
        (cli, "azure-cli")
    } else if args.service_principal {
        (service_principal(&cloud, args.save)?, "service-principal")
    } else {
        let user = interactive(args, &cloud).await?;
        let credential: ArmCredential = Arc::new(user);
        (credential, if args.device_code { "device-code" } else { "browser" })
    };
    let client = ArmClient::new(cloud.clone(), credential, ArmClientOptions::default())?;
    let subscriptions = client.subscriptions().await?;
    if args.json {
        let subs: Vec<_> = subscriptions
            .iter()
            .map(|s| json!({"subscriptionId": s.subscription_id, "displayName": s.display_name}))
            .collect();
        println!("{}", json!({ "signedIn": true, "method": method, "cloud": cloud.name, "subscriptions": subs }));
    } else {
        println!("Signed in to {} ({method}); {} subscription(s) visible:", cloud.name, subscriptions.len());
        for s in &subscriptions {
            println!("  {}  {}", s.subscription_id, s.display_name);
        }
    }
    Ok(())
}

fn service_principal(cloud: &AzureCloud, save: bool) -> Result<ArmCredential, Failure> {
    let sp = ServicePrincipal::from_env().map_err(|e| Failure::usage(e.to_string()))?.ok_or_else(|| {
        Failure::usage(
            "--service-principal needs AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET in the environment",
        )
    })?;
    let credential = sp.credential(cloud).map_err(|e| Failure::usage(e.to_string()))?;
    if save {
        sp.save_to_keychain(&Keychain::from_env()).map_err(|e| Failure::usage(e.to_string()))?;
        eprintln!(
            "Kept the secret of {} in the keychain; use it with --tenant {} --client-id {}.",
            sp.client_id, sp.tenant_id, sp.client_id
        );
    }
    Ok(credential)
}

/// Browser or device code; the refresh token is stored in the keychain before anything else.
async fn interactive(args: &LoginArgs, cloud: &AzureCloud) -> Result<RefreshTokenCredential, Failure> {
    let keychain = Keychain::from_env();
    // Fail before the user signs in, not after, when the token would have nowhere to go.
    keychain.exists("login/probe").map_err(|e| Failure::usage(format!("the keychain cannot keep the sign-in: {e}")))?;
    let sign_in = args.sign_in.interactive(cloud);
    let refused = |e: lrs_core::arm::interactive::SignInError| Failure::Refused { message: e.to_string(), fix: None };
    let user = if args.device_code {
        sign_in.device_code(print_device_prompt).await.map_err(refused)?
    } else {
        let no_browser = args.no_browser;
        sign_in.browser(|url| open_browser(url, no_browser)).await.map_err(refused)?
    };
    let user = user.with_keychain(keychain);
    user.save().await.map_err(|e| Failure::usage(format!("the keychain cannot keep the sign-in: {e}")))?;
    eprintln!("The sign-in is kept in the keychain (entry {}).", sign_in.keychain_entry());
    Ok(user)
}

fn print_device_prompt(prompt: &DevicePrompt) {
    eprintln!(
        "To sign in, open {} and enter the code {} (valid {} minutes).",
        prompt.verification_uri,
        prompt.user_code,
        prompt.expires_in.as_secs() / 60
    );
}

/// Prints the URL, then tries the system browser; failing to open one is not an error.
fn open_browser(url: &str, no_browser: bool) -> Result<(), String> {
    eprintln!("To sign in, open this address in a browser:\n  {url}");
    if no_browser {
        return Ok(());
    }
    let opened = match std::env::var("BROWSER").ok().filter(|b| !b.trim().is_empty()) {
        Some(browser) => spawn_shell_command(&browser, url),
        None => system_opener(url),
    };
    if !opened {
        eprintln!("(No browser could be opened here: open the address yourself.)");
    }
    Ok(())
}

/// `$BROWSER` is a command line; the URL is passed as its last argument, never through a shell.
fn spawn_shell_command(command: &str, url: &str) -> bool {
    let mut words = command.split_whitespace();
    let Some(program) = words.next() else { return false };
    std::process::Command::new(program)
        .args(words)
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .is_ok()
}

fn system_opener(url: &str) -> bool {
    if cfg!(target_os = "windows") {
        spawn_shell_command("rundll32 url.dll,FileProtocolHandler", url)
    } else if cfg!(target_os = "macos") {
        spawn_shell_command("open", url)
    } else {
        spawn_shell_command("xdg-open", url)
    }
}
