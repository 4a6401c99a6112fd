//! `lrs inspect`: renders an inspection as a table per database, or as the JSON contract.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use lrs_core::backup::{self, DatabaseReport, FileReport, InspectOptions, Inspection, Severity};

/// Exit code when every database is restorable.
const EXIT_CLEAN: u8 = 0;
/// Exit code when inspection found errors.
const EXIT_FINDINGS: u8 = 1;
/// Exit code for usage errors and paths that cannot be opened (clap uses 2 as well).
const EXIT_USAGE: u8 = 2;

#[derive(Debug, clap::Args)]
pub struct InspectArgs {
    /// Backup files or folders (folders are read with their subfolders).
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Print the result as JSON instead of tables.
    #[arg(long)]
    json: bool,
    /// Autocomplete mode: the file you will name as the last backup; files after it are reported.
    #[arg(long, value_name = "FILE_NAME")]
    last_backup: Option<String>,
    /// The container the backups will be uploaded to, checked against the LRS naming rules.
    #[arg(long, value_name = "NAME")]
    container: Option<String>,
}

pub fn run(args: &InspectArgs) -> ExitCode {
    let options = InspectOptions { last_backup_name: args.last_backup.clone(), container: args.container.clone() };
    let inspection = match backup::inspect(&args.paths, &options) {
        Ok(inspection) => inspection,
        Err(err) => {
            eprintln!("lrs inspect: {err}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let mut out = std::io::stdout().lock();
    let written = if args.json { write_json(&mut out, &inspection) } else { write_tables(&mut out, &inspection) };
    if let Err(err) = written {
        // A closed pipe (`lrs inspect | head`) is not worth a message; anything else is.
        if err.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("lrs inspect: cannot write the result: {err}");
        }
        return ExitCode::from(EXIT_USAGE);
    }
    ExitCode::from(if inspection.is_clean() { EXIT_CLEAN } else { EXIT_FINDINGS })
}

fn write_json(out: &mut impl Write, inspection: &Inspection) -> std::io::Result<()> {
    let text = serde_json::to_string_pretty(inspection).map_err(std::io::Error::other)?;
    writeln!(out, "{text}")
}

fn write_tables(out: &mut impl Write, inspection: &Inspection) -> std::io::Result<()> {
    if inspection.databases.is_empty() && inspection.unreadable.is_empty() {
        return writeln!(
            out,
            "No backup files were found there: name the folder that holds the .bak, .diff and .trn/.log files."
        );
    }
    for db in &inspection.databases {
        write_database(out, db)?;
    }
    if !inspection.unreadable.is_empty() {
        writeln!(out, "Files that are not readable backups")?;
        for file in &inspection.unreadable {
            writeln!(out, "  error    {:<32} {}", file.code.as_str(), file.reason)?;
        }
        writeln!(out)?;
    }
    let restorable = inspection.databases.iter().filter(|d| d.restorable).count();
    writeln!(
        out,
        "{} database(s): {} restorable, {} with errors; {} unreadable file(s).",
        inspection.databases.len(),
        restorable,
        inspection.databases.len() - restorable,
        inspection.unreadable.len()
    )
}

fn write_database(out: &mut impl Write, db: &DatabaseReport) -> std::io::Result<()> {
    let server = db.files.first().map(|f| f.header.server.as_str()).unwrap_or("");
    let verdict = if db.restorable { "restorable" } else { "NOT restorable" };
    writeln!(out, "Database {} (server {server}): {verdict}; upload folder '{}'", db.name, db.folder)?;
    let steps: HashMap<&Path, usize> =
        db.restore_sequence.iter().enumerate().map(|(i, p)| (p.as_path(), i + 1)).collect();
    let rows: Vec<[String; 7]> = db.files.iter().enumerate().map(|(i, f)| file_row(&steps, i, f)).collect();
    let headings = ["#", "FILE", "KIND", "FIRST LSN", "LAST LSN", "CHECKSUM", "ROLE"].map(String::from);
    let mut widths = headings.clone().map(|h| h.len());
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    for row in std::iter::once(&headings).chain(&rows) {
        let line: Vec<String> = row.iter().zip(widths).map(|(cell, w)| format!("{cell:<w$}")).collect();
        writeln!(out, "  {}", line.join("  ").trim_end())?;
    }
    match &db.last_backup_name {
        Some(last) => writeln!(out, "  Last backup (for autocomplete): {last}")?,
        None => writeln!(out, "  No restore sequence.")?,
    }
    if !db.findings.is_empty() {
        writeln!(out, "  Findings:")?;
        for f in &db.findings {
            let file = f.file.as_ref().and_then(|p| p.file_name()).map(|n| format!("{}: ", n.to_string_lossy()));
            writeln!(
                out,
                "    {:<8} {:<26} {}{}",
                severity_label(f.severity),
                f.code.as_str(),
                file.unwrap_or_default(),
                f.message
            )?;
        }
    }
    writeln!(out)
}

fn file_row(steps: &HashMap<&Path, usize>, index: usize, f: &FileReport) -> [String; 7] {
    let h = &f.header;
    let step = f.role.in_sequence().then(|| steps.get(h.path.as_path())).flatten().map(ToString::to_string);
    [
        step.unwrap_or_else(|| "-".into()),
        h.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| index.to_string()),
        stripe_label(f),
        h.first_lsn.to_string(),
        h.last_lsn.to_string(),
        if h.has_checksum { "yes" } else { "no" }.into(),
        format!("{:?}", f.role).to_lowercase().replace("notneeded", "not needed"),
    ]
}

fn stripe_label(f: &FileReport) -> String {
    let h = &f.header;
    if h.family_count > 1 {
        format!("{} {}/{}", h.kind, h.family_sequence, h.family_count)
    } else {
        h.kind.to_string()
    }
}

fn severity_label(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "ERROR",
        Severity::Warning => "warning",
        Severity::Info => "info",
    }
}
