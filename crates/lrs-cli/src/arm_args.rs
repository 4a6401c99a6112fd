//! The flags every Azure command shares, and the sign-in they select.
//!
//! - [`CloudArgs`]: `--cloud NAME` (AzureCloud, the default; AzureUSGovernment; AzureChinaCloud) or
//!   `--arm-endpoint URL` for a custom cloud such as the local emulator (`http://` only on loopback,
//!   which `lrs-core` enforces), with its `--authority-host` and `--audience`.
//! - [`SignInArgs`]: which sign-in to use. In order: `--azure-cli`; a service principal from
//!   `AZURE_TENANT_ID` / `AZURE_CLIENT_ID` / `AZURE_CLIENT_SECRET` (and `AZURE_AUTHORITY_HOST`), as
//!   every Azure SDK reads them; the refresh token `lrs login` kept in the keychain
//!   (`login/<sign-in host>/<tenant>/<client id>`); a service principal secret `lrs login --service-principal --save`
//!   kept in the keychain (`sp/<tenant>/<client id>`).
//! - [`SubscriptionArg`] and [`DatabaseArgs`]: where the command acts; without `--subscription`
//!   the one subscription the sign-in sees is used (and it is an error when it sees several).

use std::sync::Arc;

use lrs_core::arm::interactive::{InteractiveSignIn, AZURE_CLI_CLIENT_ID, ORGANIZATIONS};
use lrs_core::arm::{
    credential, ArmClient, ArmClientOptions, ArmCredential, AzureCloud, DatabaseRef, ServicePrincipal,
};
use lrs_core::secrets::Keychain;

use crate::failure::Failure;

/// Which cloud: a built-in one by name, or a custom ARM endpoint.
#[derive(Debug, Clone, Default, clap::Args)]
#[command(next_help_heading = "Cloud")]
pub struct CloudArgs {
    /// AzureCloud (default), AzureUSGovernment or AzureChinaCloud.
    #[arg(long, value_name = "NAME", conflicts_with = "arm_endpoint")]
    pub cloud: Option<String>,
    /// A custom ARM endpoint, such as the LRS emulator's base URL (http:// only on loopback).
    #[arg(long, value_name = "URL")]
    pub arm_endpoint: Option<String>,
    /// The Entra ID authority host of the custom cloud (default: the ARM endpoint, as the emulator serves both).
    #[arg(long, value_name = "URL", requires = "arm_endpoint")]
    pub authority_host: Option<String>,
    /// The token audience of the custom cloud (default: https://management.azure.com).
    #[arg(long, value_name = "URI", requires = "arm_endpoint")]
    pub audience: Option<String>,
}

impl CloudArgs {
    pub fn cloud(&self) -> Result<AzureCloud, Failure> {
        let cloud = match (&self.cloud, &self.arm_endpoint) {
            (_, Some(endpoint)) => {
                AzureCloud::custom(endpoint, self.authority_host.as_deref(), self.audience.as_deref())
            }
            (Some(name), None) => AzureCloud::by_name(name),
            (None, None) => Ok(AzureCloud::public()),
        };
        cloud.map_err(|e| Failure::usage(e.to_string()))
    }
}

/// Who signs in (see the module documentation for the order).
#[derive(Debug, Clone, Default, clap::Args)]
#[command(next_help_heading = "Sign-in")]
pub struct SignInArgs {
    /// Use the Azure CLI's login (`az login`).
    #[arg(long)]
    pub azure_cli: bool,
    /// Tenant of the sign-in: an id, or `organizations` (default) for any work or school account.
    #[arg(long, value_name = "TENANT", env = "LRS_TENANT_ID")]
    pub tenant: Option<String>,
    /// Client id of the public client app registration used by `lrs login` (default: the Azure
    /// CLI's), or of a service principal kept in the keychain.
    #[arg(long, value_name = "ID", env = "LRS_CLIENT_ID")]
    pub client_id: Option<String>,
}

impl SignInArgs {
    pub fn tenant(&self) -> &str {
        self.tenant.as_deref().filter(|t| !t.trim().is_empty()).unwrap_or(ORGANIZATIONS)
    }

    pub fn client_id(&self) -> &str {
        self.client_id.as_deref().filter(|c| !c.trim().is_empty()).unwrap_or(AZURE_CLI_CLIENT_ID)
    }

    pub fn interactive(&self, cloud: &AzureCloud) -> InteractiveSignIn {
        InteractiveSignIn::new(cloud.clone(), self.tenant(), self.client_id())
    }

    /// The credential this command signs in with, and what it is (for messages).
    pub fn credential(&self, cloud: &AzureCloud) -> Result<(ArmCredential, String), Failure> {
        let usage = |e: &dyn std::fmt::Display| Failure::usage(e.to_string());
        if self.azure_cli {
            let tenant = self.tenant.as_deref();
            return Ok((credential::azure_cli(tenant).map_err(|e| usage(&e))?, "the Azure CLI login".into()));
        }
        if let Some(sp) = ServicePrincipal::from_env().map_err(|e| usage(&e))? {
            let what = format!("service principal {} (environment)", sp.client_id);
            return Ok((sp.credential(cloud).map_err(|e| usage(&e))?, what));
        }
        let keychain = Keychain::from_env();
        let sign_in = self.interactive(cloud);
        let keychain_problem = match sign_in.from_keychain(&keychain) {
            Ok(Some(user)) => return Ok((Arc::new(user), format!("the sign-in of `lrs login` ({})", self.tenant()))),
            Ok(None) => None,
            Err(e) => Some(e.to_string()),
        };
        if self.tenant.is_some() && self.client_id.is_some() {
            if let Ok(sp) = ServicePrincipal::from_keychain(&keychain, self.tenant(), self.client_id()) {
                let what = format!("service principal {} (keychain)", sp.client_id);
                return Ok((sp.credential(cloud).map_err(|e| usage(&e))?, what));
            }
        }
        let mut message = String::from(
            "not signed in: run `lrs login` (browser, or --device-code), pass --azure-cli, or set AZURE_TENANT_ID, \
             AZURE_CLIENT_ID and AZURE_CLIENT_SECRET for a service principal",
        );
        if let Some(problem) = keychain_problem {
            message.push_str(&format!(" (the keychain could not be read: {problem})"));
        }
        Err(Failure::Usage(message))
    }
}

/// Cloud and sign-in, flattened into every Azure command.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ArmArgs {
    #[command(flatten)]
    pub cloud: CloudArgs,
    #[command(flatten)]
    pub sign_in: SignInArgs,
}

impl ArmArgs {
    /// The ARM client for these flags.
    pub fn client(&self) -> Result<ArmClient, Failure> {
        let cloud = self.cloud.cloud()?;
        let (credential, _) = self.sign_in.credential(&cloud)?;
        Ok(ArmClient::new(cloud, credential, ArmClientOptions::default())?)
    }
}

/// `--subscription`, optional when the sign-in sees exactly one.
#[derive(Debug, Clone, Default, clap::Args)]
#[command(next_help_heading = "Target")]
pub struct SubscriptionArg {
    /// Subscription id (default: the only subscription the sign-in sees).
    #[arg(long, value_name = "ID")]
    pub subscription: Option<String>,
}

impl SubscriptionArg {
    pub async fn resolve(&self, client: &ArmClient) -> Result<String, Failure> {
        if let Some(id) = self.subscription.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            return Ok(id.to_string());
        }
        let subscriptions = client.subscriptions().await?;
        match subscriptions.as_slice() {
            [only] => Ok(only.subscription_id.clone()),
            [] => Err(Failure::usage(
                "the sign-in sees no subscription: check its role assignments, or pass --subscription",
            )),
            many => {
                let ids: Vec<String> =
                    many.iter().map(|s| format!("{} ({})", s.subscription_id, s.display_name)).collect();
                Err(Failure::usage(format!(
                    "several subscriptions are visible: pass --subscription, one of {}",
                    ids.join(", ")
                )))
            }
        }
    }
}

/// The database an LRS command acts on.
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Target")]
pub struct DatabaseArgs {
    #[command(flatten)]
    pub subscription: SubscriptionArg,
    /// Resource group of the managed instance.
    #[arg(long, value_name = "NAME")]
    pub resource_group: String,
    /// Managed instance name.
    #[arg(long, value_name = "NAME")]
    pub instance: String,
    /// Database name on the managed instance.
    #[arg(long, value_name = "NAME")]
    pub database: String,
}

impl DatabaseArgs {
    pub async fn resolve(&self, client: &ArmClient) -> Result<DatabaseRef, Failure> {
        Ok(DatabaseRef {
            subscription: self.subscription.resolve(client).await?,
            resource_group: self.resource_group.clone(),
            instance: self.instance.clone(),
            database: self.database.clone(),
        })
    }
}

/// The runtime of one command (the CLI does one thing at a time).
pub fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::usage(format!("cannot start the async runtime: {e}")))
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        arm: ArmArgs,
    }

    fn parse(args: &[&str]) -> Result<ArmArgs, clap::Error> {
        Cli::try_parse_from(std::iter::once("lrs").chain(args.iter().copied())).map(|c| c.arm)
    }

    #[test]
    fn clouds_by_name_or_endpoint() {
        assert_eq!(parse(&[]).unwrap().cloud.cloud().unwrap().name, "AzureCloud");
        let gov = parse(&["--cloud", "AzureUSGovernment"]).unwrap().cloud.cloud().unwrap();
        assert_eq!(gov.arm_endpoint.as_str(), "https://management.usgovcloudapi.net/");
        let emu = parse(&["--arm-endpoint", "http://127.0.0.1:9"]).unwrap().cloud.cloud().unwrap();
        assert_eq!(emu.authority_host.as_str(), "http://127.0.0.1:9/");
        assert!(parse(&["--cloud", "AzureCloud", "--arm-endpoint", "https://x"]).is_err());
        assert!(parse(&["--audience", "https://x"]).is_err(), "--audience needs --arm-endpoint");
        let remote = parse(&["--arm-endpoint", "http://10.1.2.3:8443"]).unwrap().cloud.cloud();
        assert!(matches!(remote, Err(Failure::Usage(m)) if m.contains("non-loopback")));
        assert!(matches!(parse(&["--cloud", "Mars"]).unwrap().cloud.cloud(), Err(Failure::Usage(_))));
    }

    #[test]
    fn interactive_defaults() {
        let args = SignInArgs::default();
        assert_eq!(args.tenant(), ORGANIZATIONS);
        assert_eq!(args.client_id(), AZURE_CLI_CLIENT_ID);
        let entry = args.interactive(&AzureCloud::public()).keychain_entry();
        assert_eq!(entry, format!("login/login.microsoftonline.com/organizations/{AZURE_CLI_CLIENT_ID}"));
        let emulator = args.interactive(&AzureCloud::emulator("http://127.0.0.1:8443").unwrap()).keychain_entry();
        assert_eq!(emulator, format!("login/127.0.0.1:8443/organizations/{AZURE_CLI_CLIENT_ID}"));
    }
}
