//! `lrs migrate run`: drives the plan and shows it (JSON lines, or the live table on a terminal),
//! then sums up how it ended as the exit code.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use lrs_core::migration::{DbStatus, Migration, MigrationEvent, MigrationState, RunOptions, RunSummary};
use lrs_core::storage::upload::{UploadEvent, UploadOptions};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::status::table;
use super::{engine, interrupt_on_signal, open, runtime, seconds, services, RunArgs, EXIT_INTERRUPTED};
use crate::failure::{Failure, EXIT_FAILED};

pub(super) fn run_plan(args: &RunArgs) -> Result<ExitCode, Failure> {
    let migration = open(&args.plan)?;
    let runtime = runtime()?;
    runtime.block_on(async {
        let services = services(migration.plan(), &args.sign_in).await?;
        let options = RunOptions {
            until_ready: args.until_ready,
            poll_interval: seconds(args.poll_seconds),
            arm_reads_per_minute: args.reads_per_minute.max(1),
            scan_interval: seconds(args.scan_seconds),
            uploads_at_once: 2,
            upload: UploadOptions {
                concurrency: usize::from(args.concurrency),
                settle_window: seconds(args.settle_seconds),
                ..UploadOptions::default()
            },
            force: args.force,
        };
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let migration = Arc::new(migration.with_events(tx));
        let cancel = CancellationToken::new();
        interrupt_on_signal(&cancel);
        let done = CancellationToken::new();
        let printer = tokio::spawn(render(rx, args.json, migration.clone(), done.clone()));
        let result = migration.run(&services, &options, cancel).await;
        let state = migration.state();
        done.cancel();
        let _ = printer.await;
        let summary = result.map_err(engine)?;
        Ok(finish(&summary, &state, args.json, args.until_ready))
    })
}

fn finish(summary: &RunSummary, state: &MigrationState, json: bool, until_ready: bool) -> ExitCode {
    if json {
        println!("{}", json!({"event": "summary", "summary": summary}));
    } else {
        eprintln!("{}", table(state));
    }
    if summary.interrupted {
        if !json {
            eprintln!("Interrupted: run the same command again to resume.");
        }
        return ExitCode::from(EXIT_INTERRUPTED);
    }
    if !summary.all_well() {
        if !json {
            for db in summary.databases.iter().filter(|d| d.status == DbStatus::Failed || d.halted.is_some()) {
                let why = db.error.as_deref().or(db.halted.as_deref()).unwrap_or("");
                eprintln!("{}: {}", db.name, why);
            }
        }
        return ExitCode::from(EXIT_FAILED);
    }
    if until_ready && !json {
        let ready: Vec<&str> = summary
            .databases
            .iter()
            .filter(|d| d.status == DbStatus::ReadyForCutover)
            .map(|d| d.name.as_str())
            .collect();
        if !ready.is_empty() {
            eprintln!(
                "Ready for cutover: {}. Cut over with: lrs migrate cutover PLAN --database NAME (or --all)",
                ready.join(", ")
            );
        }
    }
    ExitCode::SUCCESS
}

/// Shows the run: JSON lines; or, on a terminal, the per-database table redrawn in place with the
/// notable events printed above it; or else one line per notable event.
async fn render(
    mut rx: tokio::sync::mpsc::UnboundedReceiver<MigrationEvent>,
    json: bool,
    view: Arc<Migration>,
    done: CancellationToken,
) {
    let live = (!json && std::io::stderr().is_terminal()).then(|| LiveTable::new(&view.state()));
    loop {
        let event = tokio::select! {
            event = rx.recv() => event,
            () = done.cancelled() => rx.try_recv().ok(),
            () = tokio::time::sleep(Duration::from_secs(1)) => {
                if let Some(live) = &live {
                    live.show(&view.state());
                }
                continue;
            }
        };
        let Some(event) = event else { break };
        if json {
            // Progress events are many: keep the JSON stream to the ones a script acts on.
            if let MigrationEvent::Upload { upload: UploadEvent::Progress { .. }, .. } = event {
                continue;
            }
            if let Ok(line) = serde_json::to_string(&event) {
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "{line}");
                let _ = out.flush();
            }
            continue;
        }
        if let Some(line) = event_line(&event) {
            match &live {
                Some(live) => live.println(&line),
                None => eprintln!("{line}"),
            }
        }
    }
    if let Some(live) = live {
        live.clear();
    }
}

/// The events worth a line of their own.
fn event_line(event: &MigrationEvent) -> Option<String> {
    match event {
        MigrationEvent::Transition { database, from, to, cause } => {
            Some(format!("{database}: {from} → {to} ({cause})"))
        }
        MigrationEvent::Note { database, message } => Some(format!("{database}: {message}")),
        MigrationEvent::Upload { database, upload: UploadEvent::Completed { blob, size, .. } } => {
            Some(format!("{database}: uploaded and verified {blob} ({size} bytes)"))
        }
        MigrationEvent::Upload { database, upload: UploadEvent::Retry { blob, attempt, reason, .. } } => {
            Some(format!("{database}: retry {attempt} for {blob}: {reason}"))
        }
        _ => None,
    }
}

/// The table on a terminal: one line per database, redrawn in place (indicatif).
struct LiveTable {
    multi: MultiProgress,
    lines: Vec<ProgressBar>,
}

impl LiveTable {
    fn new(state: &MigrationState) -> LiveTable {
        let multi = MultiProgress::new();
        let style = ProgressStyle::with_template("{msg}").unwrap_or_else(|_| ProgressStyle::default_bar());
        let lines =
            (0..=state.databases.len()).map(|_| multi.add(ProgressBar::new(1).with_style(style.clone()))).collect();
        let live = LiveTable { multi, lines };
        live.show(state);
        live
    }

    fn show(&self, state: &MigrationState) {
        for (bar, line) in self.lines.iter().zip(table(state).lines()) {
            bar.set_message(line.to_string());
        }
    }

    fn println(&self, line: &str) {
        let _ = self.multi.println(line);
    }

    fn clear(&self) {
        let _ = self.multi.clear();
    }
}
