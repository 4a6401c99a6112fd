//! `lrs sas create` and `lrs sas check`: the Read+List container SAS that LRS needs. `create` signs
//! one with an account key read from an environment variable, or (`--user-delegation`) with a user
//! delegation key that the Blob service gives the Entra ID sign-in of the ARM commands (Azure CLI,
//! a service principal from `AZURE_*` or the keychain, or the refresh token of `lrs login`; the SDK
//! asks it for a `https://storage.azure.com/.default` token), and prints it (stdout is the one
//! place a token may be printed, because the user asked for it); `check` runs every static and
//! live check of a token and prints the verdict, never the token. Exit codes: 0 LRS will accept the
//! token (or it was created), 1 a check failed or the service refused, 2 bad usage or configuration.

use std::process::ExitCode;

use clap::ArgGroup;
use lrs_core::secrets::Secret;
use lrs_core::storage::client::{HttpOptions, StorageClient};
use lrs_core::storage::sas::delegation::{self, MAX_DELEGATION_LIFETIME};
use lrs_core::storage::sas::{self, LiveOptions, Verdict};
use lrs_core::storage::ContainerUrl;
use serde::Serialize;
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

#[derive(Debug, clap::Subcommand)]
pub enum SasCommand {
    /// Create the Read+List container SAS for LRS (sr=c, sp=rl, starts 15 minutes ago, https only)
    /// and print it without a leading '?'. Exit code 0: created; 2: bad usage or key.
    Create(CreateArgs),
    /// Check a SAS token against LRS's rules, then prove it on the container: listing the folder and
    /// reading a blob must work, creating and deleting a blob must be refused. The token is never
    /// printed. Exit code 0: LRS will accept it; 1: a check failed; 2: bad usage.
    Check(CheckArgs),
}

#[derive(Debug, clap::Args)]
#[command(group(ArgGroup::new("signer").required(true).args(["account_key_env", "user_delegation"])))]
pub struct CreateArgs {
    /// The container URL, such as https://ACCOUNT.blob.core.windows.net/CONTAINER (no '?...').
    #[arg(long, value_name = "URL")]
    container_url: String,
    /// The environment variable that holds the storage account key (never pass the key itself).
    #[arg(long, value_name = "VAR")]
    account_key_env: Option<String>,
    /// Sign with a user delegation key from an Entra ID sign-in instead of the account key (the
    /// sign-in options below; it needs the Storage Blob Delegator role, or a Storage Blob Data
    /// role, on the account). Such a token lasts at most 7 days (the default).
    #[arg(long)]
    user_delegation: bool,
    /// The Entra ID sign-in and cloud, for --user-delegation.
    #[command(flatten)]
    arm: crate::arm_args::ArmArgs,
    /// Days the token stays valid (default 32 with an account key: an LRS job lasts at most 30;
    /// 7 with --user-delegation, Azure's limit).
    #[arg(long, value_name = "N", conflicts_with = "expiry", value_parser = clap::value_parser!(u16).range(1..=3650))]
    days: Option<u16>,
    /// The expiry as an RFC 3339 time, such as 2026-03-01T12:00:00Z (stored in UTC).
    #[arg(long, value_name = "RFC3339")]
    expiry: Option<String>,
    /// Print JSON (with the token, the window and the permissions) instead of the bare token.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The container URL the token is for (no '?...').
    #[arg(long, value_name = "URL")]
    container_url: String,
    /// The environment variable that holds the SAS token (never pass the token itself).
    #[arg(long, value_name = "VAR")]
    sas_env: String,
    /// The database folder LRS will read (listing and reading are proven there).
    #[arg(long, value_name = "NAME")]
    folder: Option<String>,
    /// Days from now the token must stay valid (default 30, the longest LRS job).
    #[arg(long, value_name = "N", conflicts_with = "until", value_parser = clap::value_parser!(u16).range(1..=3650))]
    days: Option<u16>,
    /// The planned end of the migration, as an RFC 3339 time; the token must be valid until then.
    #[arg(long, value_name = "RFC3339")]
    until: Option<String>,
    /// Print the verdict as JSON (without the token).
    #[arg(long)]
    json: bool,
}

pub fn run(command: &SasCommand) -> ExitCode {
    let result = match command {
        SasCommand::Create(args) => create(args),
        SasCommand::Check(args) => check(args),
    };
    result.unwrap_or_else(|message| {
        eprintln!("lrs sas: {message}");
        ExitCode::from(2)
    })
}

#[derive(Serialize)]
struct Created<'a> {
    container_url: String,
    token: &'a str,
    permissions: &'static str,
    start: String,
    expiry: String,
}

fn create(args: &CreateArgs) -> Result<ExitCode, String> {
    let container = ContainerUrl::parse(&args.container_url).map_err(|e| e.to_string())?;
    let now = OffsetDateTime::now_utc();
    let expiry = match (&args.expiry, args.days) {
        (Some(text), _) => parse_time("--expiry", text)?,
        (None, Some(days)) => now + Duration::days(days.into()),
        // A little under Azure's 7 days, so that a clock a few minutes ahead of Azure's still gets a key.
        (None, None) if args.user_delegation => now + MAX_DELEGATION_LIFETIME - Duration::minutes(5),
        (None, None) => now + sas::DEFAULT_LRS_LIFETIME,
    };
    if expiry <= now {
        return Err(format!("--expiry {} is not in the future", fmt(expiry)));
    }
    let token = if args.user_delegation {
        match user_delegation(args, &container, now, expiry) {
            Ok(token) => token,
            Err(Refusal::Usage(message)) => return Err(message),
            Err(Refusal::Service(message)) => {
                eprintln!("lrs sas: {message}");
                return Ok(ExitCode::from(1));
            }
        }
    } else {
        let var = args.account_key_env.as_deref().unwrap_or_default();
        let key = secret_from_env(var, "the storage account key")?;
        sas::lrs_read_list_sas(&container, &key, now, expiry).map_err(|e| e.to_string())?
    };
    if expiry < now + sas::LONGEST_LRS_JOB {
        eprintln!("note: the token expires {} (UTC), before the 30 days an LRS job may last", fmt(expiry));
    }
    if args.json {
        let created = Created {
            container_url: container.to_string(),
            token: token.expose(),
            permissions: "rl",
            start: fmt(now - sas::START_SKEW),
            expiry: fmt(expiry),
        };
        println!("{}", serde_json::to_string_pretty(&created).map_err(|e| e.to_string())?);
    } else {
        println!("{}", token.expose());
        eprintln!(
            "Read+List SAS for {container}, valid from {} until {} (UTC). Give it to LRS as the storage \
             container SAS token (without '?'); check it with `lrs sas check`.",
            fmt(now - sas::START_SKEW),
            fmt(expiry)
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Why a user delegation SAS was not made: bad usage or sign-in configuration (exit 2), or the
/// sign-in or the Blob service refused (exit 1).
enum Refusal {
    Usage(String),
    Service(String),
}

/// Signs in as the ARM commands do and signs a Read+List SAS with a user delegation key.
fn user_delegation(
    args: &CreateArgs,
    container: &ContainerUrl,
    now: OffsetDateTime,
    expiry: OffsetDateTime,
) -> Result<Secret, Refusal> {
    let usage = |f: crate::failure::Failure| {
        Refusal::Usage(match f {
            crate::failure::Failure::Usage(m) | crate::failure::Failure::Refused { message: m, .. } => m,
            crate::failure::Failure::Lrs(e) => e.to_string(),
            crate::failure::Failure::Arm(e) => crate::failure::arm_text(&e),
        })
    };
    if expiry - now > MAX_DELEGATION_LIFETIME {
        return Err(Refusal::Usage(sas::SasError::DelegationTooLong.to_string()));
    }
    let cloud = args.arm.cloud.cloud().map_err(usage)?;
    let (credential, who) = args.arm.sign_in.credential(&cloud).map_err(usage)?;
    // The Blob clients go through the engine's one HTTP client (its TLS roots and timeouts).
    let http = StorageClient::new(&HttpOptions::default()).map_err(|e| Refusal::Usage(e.to_string()))?;
    let options = http.blob_service_options();
    let runtime = crate::arm_args::runtime().map_err(usage)?;
    let signed = runtime.block_on(delegation::user_delegation_sas(container, credential, now, expiry, Some(options)));
    signed.map_err(|e| Refusal::Service(format!("{e} (signed in as {who})")))
}

#[derive(Serialize)]
struct CheckReport<'a> {
    container_url: String,
    folder: Option<&'a str>,
    until: String,
    accepted: bool,
    #[serde(flatten)]
    verdict: &'a Verdict,
}

fn check(args: &CheckArgs) -> Result<ExitCode, String> {
    let container = ContainerUrl::parse(&args.container_url).map_err(|e| e.to_string())?;
    let now = OffsetDateTime::now_utc();
    let until = match (&args.until, args.days) {
        (Some(text), _) => parse_time("--until", text)?,
        (None, Some(days)) => now + Duration::days(days.into()),
        (None, None) => now + sas::LONGEST_LRS_JOB,
    };
    if until <= now {
        return Err(format!("--until {} is not in the future", fmt(until)));
    }
    let token = secret_from_env(&args.sas_env, "the SAS token")?;
    let folder = args.folder.as_deref().map(|f| f.trim_matches('/')).filter(|f| !f.is_empty());
    let mut verdict = sas::check(&token, now, until);
    let http = StorageClient::new(&HttpOptions::default()).map_err(|e| e.to_string())?;
    let options = LiveOptions { folder: folder.map(str::to_string), probe_suffix: probe_suffix(now) };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
    let live = runtime.block_on(sas::prove_live(http.http(), &container, &token, &options));
    verdict.checks.extend(live);
    let accepted = verdict.accepted();
    if args.json {
        let report = CheckReport {
            container_url: container.to_string(),
            folder,
            until: fmt(until),
            accepted,
            verdict: &verdict,
        };
        println!("{}", serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?);
    } else {
        print_verdict(&container, folder, until, &verdict);
    }
    Ok(if accepted { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn print_verdict(container: &ContainerUrl, folder: Option<&str>, until: OffsetDateTime, verdict: &Verdict) {
    let place = folder.map_or(String::new(), |f| format!(", folder {f}/"));
    println!("SAS check for {container}{place}, valid through {} (UTC)", fmt(until));
    for check in &verdict.checks {
        let id = serde_json::to_value(check.id).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
        println!("  {}  {id:<20} {}", if check.passed { "PASS" } else { "FAIL" }, check.message);
        if let Some(fix) = &check.fix {
            println!("        {:<20} fix: {fix}", "");
        }
    }
    let failed = verdict.failed().count();
    if failed == 0 {
        println!("LRS will accept this token.");
    } else {
        println!("LRS will not accept this token: {failed} check(s) failed.");
    }
}

/// Reads a secret from an environment variable, through the CLI's one credential reader.
fn secret_from_env(var: &str, what: &'static str) -> Result<Secret, String> {
    crate::credentials::read_env_secret(var, what, |name| std::env::var_os(name)).map_err(|e| e.to_string())
}

fn parse_time(flag: &str, text: &str) -> Result<OffsetDateTime, String> {
    OffsetDateTime::parse(text.trim(), &Rfc3339)
        .map(|t| t.to_offset(time::UtcOffset::UTC))
        .map_err(|_| format!("{flag} '{text}' is not an RFC 3339 time, such as 2026-03-01T12:00:00Z"))
}

fn fmt(t: OffsetDateTime) -> String {
    sas::service::format_time(t)
}

/// A probe blob name no one else uses: the time in nanoseconds and this process's id.
fn probe_suffix(now: OffsetDateTime) -> String {
    format!("{:x}-{:x}", now.unix_timestamp_nanos(), std::process::id())
}
