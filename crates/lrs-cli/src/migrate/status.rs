//! `lrs migrate status`: the saved state as the per-database table (also shown by `run` and
//! `cutover`) or as JSON.

use std::process::ExitCode;

use lrs_core::migration::{DbRecord, DbStatus, MigrationState};
use serde_json::json;

use super::{load, plan_store, saved_state, StatusArgs};
use crate::failure::{Failure, EXIT_FAILED};

pub(super) fn status(args: &StatusArgs) -> Result<ExitCode, Failure> {
    let plan = load(&args.plan)?;
    let store = plan_store(&args.plan, &plan)?;
    let state = saved_state(&store, &plan)?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string(&json!({"plan": plan.id, "mode": plan.mode, "databases": state.databases}))
                .unwrap_or_default()
        );
    } else {
        println!("{}", table(&state));
        for db in &state.databases {
            if let Some(why) = db.error.as_deref().or(db.halted.as_deref()) {
                println!("{}: {why}", db.name);
            }
        }
    }
    let failed = state.databases.iter().any(|d| d.status == DbStatus::Failed || d.halted.is_some());
    Ok(if failed { ExitCode::from(EXIT_FAILED) } else { ExitCode::SUCCESS })
}

/// The per-database table: status, current file, uploaded, restored, lag.
pub(super) fn table(state: &MigrationState) -> String {
    let mut rows =
        vec![["database", "status", "current file", "uploaded", "restored", "lag"].map(String::from).to_vec()];
    for db in &state.databases {
        rows.push(row(db));
    }
    let widths: Vec<usize> = (0..6).map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0)).collect();
    rows.iter()
        .map(|r| {
            r.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect::<Vec<_>>().join("  ").trim_end().to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn row(db: &DbRecord) -> Vec<String> {
    let restore = db.restore.as_ref();
    let current = restore
        .and_then(|r| r.current_restoring_file.clone())
        .or_else(|| db.pending.first().cloned())
        .unwrap_or_else(|| "-".into());
    let total = db.shipped.len() + db.pending.len();
    let last_restored = restore.and_then(|r| r.last_restored_file.as_deref());
    let restored_count = last_restored.and_then(|l| db.shipped.iter().position(|f| f.name == l)).map_or(0, |i| i + 1);
    let lag = db.shipped.len().saturating_sub(restored_count);
    let status = match (&db.halted, db.status) {
        (Some(_), s) => format!("{s} (halted)"),
        (None, s) => s.to_string(),
    };
    vec![
        db.name.clone(),
        status,
        current,
        format!("{}/{}", db.shipped.len(), total),
        last_restored.map_or_else(|| "-".to_string(), |l| format!("{restored_count} (last {l})")),
        format!("{lag} file(s)"),
    ]
}
