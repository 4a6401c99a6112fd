//! `lrs upload DIR --container-url URL --folder NAME`: checks the backups as `lrs inspect` does,
//! then uploads the database's restore sequence (the full, the differential and the logs LRS will
//! restore; files the plan does not need are left out) to the flat folder NAME: parallel, each
//! block checked by the service (`--block-checksum`: CRC-64, or MD5 for an emulator on loopback)
//! and the whole file by its MD5 (read back after commit), resumable after a crash or kill (run the same command again). Progress bars on a terminal, JSON lines with `--json`.
//!
//! Exit codes: 0 every blob committed and verified; 1 the inspection found errors (without
//! `--force`) or the upload failed; 2 bad usage, an unusable credential or path; 130 interrupted
//! (Ctrl-C; run the same command again to resume).

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use lrs_core::backup::{self, has_reserved_keyword, InspectOptions, Inspection};
use lrs_core::storage::client::{HttpOptions, StorageClient, UploadCredential};
use lrs_core::storage::defaults::{DEFAULT_CONCURRENCY, MIB, SETTLE_WINDOW};
use lrs_core::storage::retry::Meaning;
use lrs_core::storage::upload::{
    blob_name, BlockChecksum, UploadError, UploadEvent, UploadFile, UploadJob, UploadOptions, UploadSummary,
};
use lrs_core::storage::ContainerUrl;
use serde_json::json;
use tokio::sync::mpsc::UnboundedReceiver;

use crate::credentials::{CredentialArgs, StorageCredential};

const EXIT_OK: u8 = 0;
const EXIT_FAILED: u8 = 1;
const EXIT_USAGE: u8 = 2;
const EXIT_INTERRUPTED: u8 = 130;

#[derive(Debug, clap::Args)]
pub struct UploadArgs {
    /// The folder holding one database's backups (read with its subfolders).
    #[arg(value_name = "DIR")]
    dir: PathBuf,
    /// The container, such as https://ACCOUNT.blob.core.windows.net/CONTAINER (no SAS in it).
    #[arg(long, value_name = "URL")]
    container_url: String,
    /// The database's flat folder in the container (LRS restores one database per folder).
    #[arg(long, value_name = "NAME")]
    folder: String,
    #[command(flatten)]
    credential: CredentialArgs,
    /// Blocks in flight (memory: this many blocks).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_CONCURRENCY as u16, value_parser = clap::value_parser!(u16).range(1..=64))]
    concurrency: u16,
    /// Block size in MiB (8 to 4000; raised for files that would need more than 50,000 blocks).
    #[arg(long, value_name = "MIB", value_parser = clap::value_parser!(u64).range(8..=4000))]
    block_size_mib: Option<u64>,
    /// Keep the .trn extension (by default .trn files become .log, which LRS requires).
    #[arg(long)]
    keep_trn: bool,
    /// Upload even when the inspection found errors.
    #[arg(long)]
    force: bool,
    /// Replace blobs already in the folder with other content (refused by default: LRS may have
    /// restored them already).
    #[arg(long)]
    overwrite: bool,
    /// Print JSON lines (one event per line, then a summary) instead of progress bars.
    #[arg(long)]
    json: bool,
    /// The checksum each block carries for the service to check: `auto` is MD5 for an emulator on
    /// loopback (Azurite checks CRC-64 in slow JavaScript) and CRC-64 otherwise (Azure checks both
    /// natively; CRC-64 costs less CPU here). The whole file's MD5 is checked either way.
    #[arg(long, value_enum, value_name = "KIND", default_value = "auto")]
    block_checksum: BlockChecksumArg,
    /// A file modified less than this many seconds ago is still being written: wait for it.
    #[arg(long, value_name = "SECONDS", default_value_t = SETTLE_WINDOW.as_secs_f64())]
    settle_seconds: f64,
}

/// `--block-checksum`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum BlockChecksumArg {
    Auto,
    Crc64,
    Md5,
}

impl BlockChecksumArg {
    /// `None` for auto: the engine applies the rule for the endpoint.
    fn choice(self) -> Option<BlockChecksum> {
        match self {
            BlockChecksumArg::Auto => None,
            BlockChecksumArg::Crc64 => Some(BlockChecksum::Crc64),
            BlockChecksumArg::Md5 => Some(BlockChecksum::Md5),
        }
    }
}

/// A refusal before anything is sent: exit code and message.
struct Refusal(u8, String, &'static str);

pub fn run(args: &UploadArgs) -> ExitCode {
    let prepared = prepare(args);
    let (container, credential, files) = match prepared {
        Ok(p) => p,
        Err(Refusal(code, message, kind)) => return fail(args.json, code, kind, &message),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => return fail(args.json, EXIT_FAILED, "internal", &format!("cannot start: {e}")),
    };
    let result = runtime.block_on(upload(args, container, credential, files));
    match result {
        Ok(summary) => {
            if args.json {
                println!("{}", json!({"event": "summary", "summary": summary}));
            } else {
                let uploaded = summary.files.iter().filter(|f| f.blocks_sent > 0 || f.size == 0).count();
                eprintln!(
                    "{} file(s) committed and verified in folder '{}' ({} uploaded now, {:.1} MB sent in {:.1} s; \
                     per-block checksum {}).",
                    summary.files.len(),
                    args.folder,
                    uploaded,
                    summary.bytes_sent as f64 / 1e6,
                    summary.elapsed_seconds,
                    summary.block_checksum
                );
            }
            ExitCode::from(EXIT_OK)
        }
        Err(e) if e.is_cancelled() => {
            fail(args.json, EXIT_INTERRUPTED, "cancelled", "interrupted: run the same command again to resume")
        }
        Err(e) => fail(args.json, EXIT_FAILED, error_kind(&e), &e.to_string()),
    }
}

fn fail(json: bool, code: u8, kind: &str, message: &str) -> ExitCode {
    if json {
        println!("{}", json!({"event": "error", "code": kind, "message": message}));
    } else {
        eprintln!("lrs upload: {message}");
    }
    ExitCode::from(code)
}

/// The closed set of error codes of `--json` output.
fn error_kind(e: &UploadError) -> &'static str {
    match e {
        UploadError::Cancelled => "cancelled",
        UploadError::Source { .. } | UploadError::Plan { .. } => "source",
        UploadError::SourceKeptChanging { .. } => "source_changed",
        UploadError::Verification { .. } => "verification_failed",
        UploadError::ExistsWithOtherContent { .. } => "exists_with_other_content",
        UploadError::Journal(_) => "journal",
        UploadError::Request(r) => match r.meaning() {
            Meaning::PermissionDenied | Meaning::Unauthenticated => "permission_denied",
            Meaning::Network | Meaning::Timeout | Meaning::Throttled | Meaning::ServerBusy => "network",
            Meaning::NotFound => "not_found",
            _ => "service",
        },
    }
}

type Prepared = (ContainerUrl, UploadCredential, Vec<UploadFile>);

fn prepare(args: &UploadArgs) -> Result<Prepared, Refusal> {
    let usage = |m: String| Refusal(EXIT_USAGE, m, "usage");
    let folder = args.folder.trim_matches('/');
    if folder.is_empty() || folder.contains('/') || folder.contains('\\') {
        return Err(usage(format!(
            "--folder '{}' must be one folder name, with no '/' (LRS reads a flat folder)",
            args.folder
        )));
    }
    if has_reserved_keyword(folder) {
        return Err(usage(format!(
            "--folder '{folder}' contains the reserved keyword 'backup', which LRS refuses: choose another name, such as the database name"
        )));
    }
    let container = ContainerUrl::parse(&args.container_url).map_err(|e| usage(e.to_string()))?;
    let credential = match args.credential.resolve().map_err(|e| usage(e.to_string()))? {
        StorageCredential::AccountKey(key) => UploadCredential::AccountKey(key),
        StorageCredential::Sas(sas) => UploadCredential::Sas(sas),
    };
    let options = InspectOptions { last_backup_name: None, container: Some(container.container().to_string()) };
    let inspection = backup::inspect(std::slice::from_ref(&args.dir), &options).map_err(|e| usage(e.to_string()))?;
    let paths = files_to_upload(&inspection, args)?;
    let files =
        paths.into_iter().map(|p| UploadFile { blob: blob_name(folder, &p, args.keep_trn), source: p }).collect();
    Ok((container, credential, files))
}

/// The restore sequence of the one database in DIR, after the inspection's verdict.
fn files_to_upload(inspection: &Inspection, args: &UploadArgs) -> Result<Vec<PathBuf>, Refusal> {
    let refuse = |m: String| Refusal(EXIT_FAILED, m, "inspection_failed");
    let [db] = inspection.databases.as_slice() else {
        let names: Vec<&str> = inspection.databases.iter().map(|d| d.name.as_str()).collect();
        return Err(Refusal(
            EXIT_USAGE,
            match names.is_empty() {
                true => format!("no backup of any database was found in '{}'", args.dir.display()),
                false => format!(
                    "'{}' holds backups of {} databases ({}): LRS restores one database per folder, so point DIR at one database's backups",
                    args.dir.display(),
                    names.len(),
                    names.join(", ")
                ),
            },
            "usage",
        ));
    };
    if !inspection.is_clean() && !args.force {
        let errors: Vec<String> = db
            .findings
            .iter()
            .filter(|f| f.severity == backup::Severity::Error)
            .map(|f| format!("  {}: {}", f.code.as_str(), f.message))
            .chain(inspection.unreadable.iter().map(|u| format!("  {}: {}", u.code.as_str(), u.reason)))
            .collect();
        return Err(refuse(format!(
            "the inspection found errors; nothing was uploaded (run `lrs inspect {}` for details, or add --force):\n{}",
            args.dir.display(),
            errors.join("\n")
        )));
    }
    if db.restore_sequence.is_empty() {
        return Err(refuse(format!("database {} has no restore sequence to upload", db.name)));
    }
    Ok(db.restore_sequence.clone())
}

async fn upload(
    args: &UploadArgs,
    container: ContainerUrl,
    credential: UploadCredential,
    files: Vec<UploadFile>,
) -> Result<UploadSummary, UploadError> {
    let http = StorageClient::new(&HttpOptions::default())
        .map_err(|e| UploadError::Source { path: args.dir.clone(), source: std::io::Error::other(e.to_string()) })?;
    let label = container.url().to_string();
    let store = http.container(container, credential);
    let options = UploadOptions {
        concurrency: usize::from(args.concurrency),
        block_size: args.block_size_mib.map(|m| m * MIB),
        settle_window: Duration::from_secs_f64(args.settle_seconds.max(0.0)),
        overwrite_different: args.overwrite,
        block_checksum: args.block_checksum.choice(),
        ..UploadOptions::default()
    };
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let job = UploadJob::new(store, label, files, options).with_events(tx);
    let cancel = job.cancel_token();
    let interrupt = cancel.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            interrupt.cancel();
        }
    });
    let printer = tokio::spawn(render(rx, args.json));
    let result = job.run().await;
    let _ = printer.await;
    result
}

/// Prints the events: JSON lines, bars on a terminal, or one line per file otherwise.
async fn render(mut rx: UnboundedReceiver<UploadEvent>, json: bool) {
    let bars = (!json && std::io::stderr().is_terminal()).then(Bars::new);
    while let Some(event) = rx.recv().await {
        if json {
            if let Ok(line) = serde_json::to_string(&event) {
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "{line}");
            }
        } else if let Some(bars) = &bars {
            bars.show(&event);
        } else {
            plain(&event);
        }
    }
}

fn plain(event: &UploadEvent) {
    match event {
        UploadEvent::Completed { blob, size, .. } => eprintln!("uploaded and verified {blob} ({size} bytes)"),
        UploadEvent::Skipped { blob, .. } => eprintln!("already there, same MD5: {blob}"),
        UploadEvent::Waiting { blob, .. } => eprintln!("waiting: {blob} is still being written"),
        UploadEvent::Restarted { blob, reason } => eprintln!("starting {blob} over: {reason}"),
        UploadEvent::Retry { blob, attempt, reason, .. } => eprintln!("retry {attempt} for {blob}: {reason}"),
        _ => {}
    }
}

/// One overall bar (bytes, rate, ETA) and a line per file in progress.
struct Bars {
    multi: MultiProgress,
    overall: ProgressBar,
    files: std::cell::RefCell<std::collections::HashMap<String, ProgressBar>>,
}

impl Bars {
    fn new() -> Self {
        let multi = MultiProgress::new();
        let overall = multi.add(ProgressBar::new(0));
        if let Ok(style) =
            ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {bytes_per_sec} ETA {eta} {msg}")
        {
            overall.set_style(style);
        }
        Bars { multi, overall, files: Default::default() }
    }

    fn show(&self, event: &UploadEvent) {
        let mut files = self.files.borrow_mut();
        match event {
            UploadEvent::JobStarted { total_bytes, .. } => self.overall.set_length(*total_bytes),
            UploadEvent::FileStarted { blob, size, .. } => {
                let bar = self.multi.add(ProgressBar::new(*size));
                if let Ok(style) = ProgressStyle::with_template("  {wide_msg} {bytes}/{total_bytes}") {
                    bar.set_style(style);
                }
                bar.set_message(blob.clone());
                files.insert(blob.clone(), bar);
            }
            UploadEvent::Progress { blob, file_done, done, .. } => {
                self.overall.set_position(*done);
                if let Some(bar) = files.get(blob) {
                    bar.set_position(*file_done);
                }
            }
            UploadEvent::Completed { blob, .. } | UploadEvent::Skipped { blob, .. } => {
                if let Some(bar) = files.remove(blob) {
                    bar.finish_and_clear();
                }
                let verb = if matches!(event, UploadEvent::Skipped { .. }) { "already there" } else { "verified" };
                let _ = self.multi.println(format!("{verb}: {blob}"));
            }
            UploadEvent::Waiting { blob, .. } => self.overall.set_message(format!("waiting for {blob} to be complete")),
            UploadEvent::Retry { blob, reason, .. } => {
                let _ = self.multi.println(format!("retrying {blob}: {reason}"));
            }
            UploadEvent::Restarted { blob, reason } => {
                let _ = self.multi.println(format!("starting {blob} over: {reason}"));
            }
        }
    }
}
