//! `lrs list subscriptions|groups|instances|storage-accounts`: what the sign-in can see, as a
//! table or (`--json`) as an array of the `lrs-core` picker records. Exit codes: 0 listed, 1 ARM
//! refused or failed, 2 bad usage or no sign-in.

use std::process::ExitCode;

use lrs_core::arm::ArmClient;
use serde::Serialize;

use crate::arm_args::{runtime, ArmArgs, SubscriptionArg};
use crate::failure::Failure;

#[derive(Debug, clap::Subcommand)]
pub enum ListCommand {
    /// The subscriptions the sign-in sees.
    Subscriptions(ListArgs),
    /// The resource groups of a subscription.
    Groups(ListArgs),
    /// The SQL managed instances (region, tier, collation, state) of a subscription or group.
    Instances(ScopedArgs),
    /// The storage accounts and their blob endpoints, of a subscription or group.
    StorageAccounts(ScopedArgs),
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Print a JSON array.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    subscription: SubscriptionArg,
    #[command(flatten)]
    arm: ArmArgs,
}

#[derive(Debug, clap::Args)]
pub struct ScopedArgs {
    #[command(flatten)]
    list: ListArgs,
    /// Only this resource group.
    #[arg(long, value_name = "NAME")]
    resource_group: Option<String>,
}

pub fn run(command: &ListCommand) -> ExitCode {
    let args = match command {
        ListCommand::Subscriptions(a) | ListCommand::Groups(a) => a,
        ListCommand::Instances(s) | ListCommand::StorageAccounts(s) => &s.list,
    };
    match runtime().and_then(|rt| rt.block_on(list(command, args))) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report("list", args.json),
    }
}

async fn list(command: &ListCommand, args: &ListArgs) -> Result<(), Failure> {
    let client = args.arm.client()?;
    match command {
        ListCommand::Subscriptions(_) => {
            let items = client.subscriptions().await?;
            let rows = items.iter().map(|s| vec![s.subscription_id.clone(), s.display_name.clone(), opt(&s.state)]);
            print(args.json, &items, &["SUBSCRIPTION", "NAME", "STATE"], rows.collect())
        }
        ListCommand::Groups(_) => {
            let items = client.resource_groups(&subscription(&client, args).await?).await?;
            let rows = items.iter().map(|g| vec![g.name.clone(), g.location.clone()]);
            print(args.json, &items, &["GROUP", "LOCATION"], rows.collect())
        }
        ListCommand::Instances(scoped) => {
            let sub = subscription(&client, args).await?;
            let items = client.managed_instances(&sub, scoped.resource_group.as_deref()).await?;
            let rows = items.iter().map(|m| {
                vec![
                    m.name.clone(),
                    m.resource_group.clone(),
                    m.location.clone(),
                    opt(&m.tier),
                    m.vcores.map_or("-".into(), |v| v.to_string()),
                    opt(&m.collation),
                    opt(&m.state),
                ]
            });
            let header = ["INSTANCE", "GROUP", "LOCATION", "TIER", "VCORES", "COLLATION", "STATE"];
            print(args.json, &items, &header, rows.collect())
        }
        ListCommand::StorageAccounts(scoped) => {
            let sub = subscription(&client, args).await?;
            let items = client.storage_accounts(&sub, scoped.resource_group.as_deref()).await?;
            let rows = items
                .iter()
                .map(|a| vec![a.name.clone(), a.resource_group.clone(), a.location.clone(), opt(&a.blob_endpoint)]);
            print(args.json, &items, &["ACCOUNT", "GROUP", "LOCATION", "BLOB ENDPOINT"], rows.collect())
        }
    }
}

async fn subscription(client: &ArmClient, args: &ListArgs) -> Result<String, Failure> {
    args.subscription.resolve(client).await
}

fn opt(value: &Option<String>) -> String {
    value.clone().unwrap_or_else(|| "-".into())
}

/// JSON: the records; text: an aligned table (or a note when there is nothing).
fn print<T: Serialize>(json: bool, items: &[T], header: &[&str], rows: Vec<Vec<String>>) -> Result<(), Failure> {
    if json {
        let text = serde_json::to_string_pretty(items).map_err(|e| Failure::usage(e.to_string()))?;
        println!("{text}");
        return Ok(());
    }
    if rows.is_empty() {
        println!("(none)");
        return Ok(());
    }
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        let padded: Vec<String> = cells.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
        println!("{}", padded.join("  ").trim_end());
    };
    line(header.iter().map(|h| h.to_string()).collect());
    for row in rows {
        line(row);
    }
    Ok(())
}
