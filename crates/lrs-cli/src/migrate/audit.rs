//! `lrs migrate audit`: the plan's audit log exported as JSON lines or CSV.

use std::io::Write;
use std::process::ExitCode;

use lrs_core::migration::audit::{export_csv, export_jsonl};

use super::{load, plan_store, AuditArgs, AuditFormat};
use crate::failure::Failure;

pub(super) fn audit(args: &AuditArgs) -> Result<ExitCode, Failure> {
    let plan = load(&args.plan)?;
    let store = plan_store(&args.plan, &plan)?;
    let entries =
        lrs_core::migration::AuditLog::at(store.audit_path()).read().map_err(|e| Failure::usage(e.to_string()))?;
    let mut out: Box<dyn Write> = match &args.out {
        Some(path) => Box::new(
            std::fs::File::create(path)
                .map_err(|e| Failure::usage(format!("cannot create '{}': {e}", path.display())))?,
        ),
        None => Box::new(std::io::stdout().lock()),
    };
    let written = match args.format {
        AuditFormat::Jsonl => export_jsonl(&entries, &mut out),
        AuditFormat::Csv => export_csv(&entries, &mut out),
    };
    written.and_then(|()| out.flush()).map_err(|e| Failure::usage(format!("cannot write the audit log: {e}")))?;
    Ok(ExitCode::SUCCESS)
}
