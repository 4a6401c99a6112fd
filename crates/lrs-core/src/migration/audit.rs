//! The audit log of a plan: every action (plan, upload, SAS minted or checked, start, complete,
//! stop, a request from another process, and what failed) with its time, the identity that acted, the target, and ARM's request id,
//! appended as one JSON line to `audit.jsonl` and synced before the action counts as done. Nothing
//! rewrites the file. Every free text goes through [`redact`] first; the SAS, keys and tokens are
//! never given to it in the first place. Exported as JSON lines or CSV.

use std::fs::OpenOptions;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::secrets::redact;

/// What was done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Action {
    PlanCreated,
    RunStarted,
    Inspected,
    Uploaded,
    SasMinted,
    SasChecked,
    Start,
    Reattached,
    Shipped,
    ShippingHalted,
    RestoreFailed,
    Complete,
    Completed,
    Stop,
    /// A cutover or stop asked by another process through the plan's request inbox.
    Requested,
    Failed,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::PlanCreated => "plan_created",
            Action::RunStarted => "run_started",
            Action::Inspected => "inspected",
            Action::Uploaded => "uploaded",
            Action::SasMinted => "sas_minted",
            Action::SasChecked => "sas_checked",
            Action::Start => "start",
            Action::Reattached => "reattached",
            Action::Shipped => "shipped",
            Action::ShippingHalted => "shipping_halted",
            Action::RestoreFailed => "restore_failed",
            Action::Complete => "complete",
            Action::Completed => "completed",
            Action::Stop => "stop",
            Action::Requested => "requested",
            Action::Failed => "failed",
        }
    }
}

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AuditEntry {
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub at: OffsetDateTime,
    /// Who acted: the sign-in (`service principal <id>`, `the Azure CLI login`...).
    pub identity: String,
    pub action: Action,
    /// The database of the plan, when the action concerns one.
    pub database: Option<String>,
    /// What was acted on: an ARM resource path, a blob, a container.
    pub target: String,
    /// `ok`, `refused` or `failed`.
    pub outcome: String,
    /// ARM's `x-ms-request-id`, for a support ticket.
    pub request_id: Option<String>,
    pub detail: String,
}

impl AuditEntry {
    pub fn new(identity: &str, action: Action, target: impl Into<String>) -> AuditEntry {
        AuditEntry {
            at: OffsetDateTime::now_utc(),
            identity: identity.to_string(),
            action,
            database: None,
            target: target.into(),
            outcome: "ok".to_string(),
            request_id: None,
            detail: String::new(),
        }
    }

    pub fn database(mut self, name: &str) -> AuditEntry {
        self.database = Some(name.to_string());
        self
    }

    pub fn outcome(mut self, outcome: &str) -> AuditEntry {
        self.outcome = outcome.to_string();
        self
    }

    pub fn request_id(mut self, id: Option<&str>) -> AuditEntry {
        self.request_id = id.map(str::to_string);
        self
    }

    pub fn detail(mut self, detail: impl AsRef<str>) -> AuditEntry {
        self.detail = detail.as_ref().to_string();
        self
    }

    fn redacted(mut self) -> AuditEntry {
        self.identity = redact(&self.identity);
        self.target = redact(&self.target);
        self.detail = redact(&self.detail);
        self
    }
}

/// Why the audit log could not be written or read.
#[derive(Debug, thiserror::Error)]
#[error("{what} the audit log '{}': {message}", path.display())]
pub struct AuditError {
    what: &'static str,
    path: PathBuf,
    message: String,
}

/// The append-only log of one plan.
#[derive(Debug, Clone)]
pub struct AuditLog {
    path: PathBuf,
}

impl AuditLog {
    pub fn at(path: impl Into<PathBuf>) -> AuditLog {
        AuditLog { path: path.into() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one entry (redacted) and syncs it to disk.
    pub fn append(&self, entry: AuditEntry) -> Result<(), AuditError> {
        let fail = |message: String| AuditError { what: "cannot append to", path: self.path.clone(), message };
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| fail(e.to_string()))?;
        }
        let mut line = serde_json::to_string(&entry.redacted()).map_err(|e| fail(e.to_string()))?;
        line.push('\n');
        let mut file =
            OpenOptions::new().create(true).append(true).open(&self.path).map_err(|e| fail(e.to_string()))?;
        // One write of the whole line: appends of one line are not interleaved with another process's.
        file.write_all(line.as_bytes()).and_then(|()| file.sync_data()).map_err(|e| fail(e.to_string()))
    }

    /// Every entry, oldest first. A line cut short by a crash (the last one) is skipped.
    pub fn read(&self) -> Result<Vec<AuditEntry>, AuditError> {
        let file = match std::fs::File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(AuditError { what: "cannot read", path: self.path.clone(), message: e.to_string() }),
        };
        let mut entries = Vec::new();
        for line in std::io::BufReader::new(file).lines() {
            let line =
                line.map_err(|e| AuditError { what: "cannot read", path: self.path.clone(), message: e.to_string() })?;
            if let Ok(entry) = serde_json::from_str(&line) {
                entries.push(entry);
            }
        }
        Ok(entries)
    }
}

/// The entries as JSON lines.
pub fn export_jsonl(entries: &[AuditEntry], out: &mut impl Write) -> std::io::Result<()> {
    for entry in entries {
        serde_json::to_writer(&mut *out, entry)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// The entries as CSV with a header row (RFC 4180 quoting, by the `csv` crate).
pub fn export_csv(entries: &[AuditEntry], out: &mut impl Write) -> std::io::Result<()> {
    let mut writer = csv::Writer::from_writer(out);
    writer.write_record(["at", "identity", "action", "database", "target", "outcome", "request_id", "detail"])?;
    for e in entries {
        let at = e.at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
        writer.write_record([
            at.as_str(),
            &e.identity,
            e.action.as_str(),
            e.database.as_deref().unwrap_or(""),
            &e.target,
            &e.outcome,
            e.request_id.as_deref().unwrap_or(""),
            &e.detail,
        ])?;
    }
    writer.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_appended_redacted_and_exported() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::at(dir.path().join("audit.jsonl"));
        log.append(
            AuditEntry::new("sp 1", Action::Start, "/subscriptions/s/x").database("Sales").request_id(Some("r-1")),
        )
        .unwrap();
        log.append(
            AuditEntry::new("sp 1", Action::Failed, "https://a.blob.core.windows.net/c/x?sv=1&sig=SECRETSIG")
                .outcome("failed")
                .detail("refused, \"quoted\", sig=SECRETSIG"),
        )
        .unwrap();
        let raw = std::fs::read_to_string(log.path()).unwrap();
        assert!(!raw.contains("SECRETSIG"), "{raw}");
        // A line cut by a crash is skipped, the rest still read.
        std::fs::write(log.path(), format!("{raw}{{\"at\":\"20")).unwrap();
        let entries = log.read().unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].request_id.as_deref(), Some("r-1"));
        let mut csv_out = Vec::new();
        export_csv(&entries, &mut csv_out).unwrap();
        let csv_text = String::from_utf8(csv_out).unwrap();
        assert!(csv_text.starts_with("at,identity,action,database,target,outcome,request_id,detail\n"));
        assert!(csv_text.contains(",start,Sales,"), "{csv_text}");
        assert!(csv_text.contains("\"refused, \"\"quoted\"\""), "{csv_text}");
        let mut jsonl = Vec::new();
        export_jsonl(&entries, &mut jsonl).unwrap();
        assert_eq!(String::from_utf8(jsonl).unwrap().lines().count(), 2);
    }
}
