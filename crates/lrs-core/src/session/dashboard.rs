//! What the wizard's Upload, Start, Dashboard and Cutover pages show of a migration, and the pure
//! rules that turn the engine's state ([`crate::migration::MigrationState`]) plus the live upload
//! events into it: one row per database (status in words, current file, counts, percent, the
//! block reason or error in plain language, the cutover gate in short) and a small ring of
//! progress samples per database for the chart. No secret is in any of these types.

use std::collections::{HashMap, VecDeque};

use serde::{Deserialize, Serialize};

use crate::arm::explain::explain;
use crate::migration::{self, DatabasePlan, DbRecord, DbStatus};
use crate::storage::upload::UploadEvent;

/// Progress samples kept per database (one every few seconds while something moves).
pub const SAMPLES_KEPT: usize = 180;

/// Autocomplete (LRS completes after the last backup) or continuous (logs keep being shipped until
/// the cutover). The wizard's name for [`migration::Mode`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum MigrationMode {
    Autocomplete,
    Continuous,
}

impl From<migration::Mode> for MigrationMode {
    fn from(mode: migration::Mode) -> Self {
        match mode {
            migration::Mode::Autocomplete => MigrationMode::Autocomplete,
            migration::Mode::Continuous => MigrationMode::Continuous,
        }
    }
}

impl From<MigrationMode> for migration::Mode {
    fn from(mode: MigrationMode) -> Self {
        match mode {
            MigrationMode::Autocomplete => migration::Mode::Autocomplete,
            MigrationMode::Continuous => migration::Mode::Continuous,
        }
    }
}

/// What the app is doing with the migration.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Activity {
    /// Nothing runs (before the upload, paused, or after the app restarted).
    #[default]
    Idle,
    /// Uploading the restore sequences (the Upload step).
    Uploading,
    /// Starting, following, shipping new logs (from the Start step on).
    Running,
}

/// The Start step's choices.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct StartChoice {
    pub mode: MigrationMode,
    /// `null`: the instance's collation.
    #[cfg_attr(feature = "ts", ts(optional = nullable))]
    pub collation: Option<String>,
}

/// One database to cut over: the last backup (preselected: `null` means the last one shipped)
/// and its name typed by the user.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CutoverRequest {
    pub database: String,
    #[cfg_attr(feature = "ts", ts(optional = nullable))]
    pub last_backup: Option<String>,
    pub typed_name: String,
}

/// One database to stop (its restoring copy is dropped), with its name typed by the user.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct StopRequest {
    pub database: String,
    pub typed_name: String,
}

/// What a cutover or stop did for one database.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ActionOutcome {
    pub database: String,
    pub ok: bool,
    pub message: String,
}

/// The audit log's export formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum AuditFormat {
    Jsonl,
    Csv,
}

impl AuditFormat {
    pub fn extension(self) -> &'static str {
        match self {
            AuditFormat::Jsonl => "jsonl",
            AuditFormat::Csv => "csv",
        }
    }
}

/// One line of the audit log as the window shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AuditRow {
    /// RFC 3339, UTC.
    pub at_utc: String,
    pub identity: String,
    pub action: String,
    pub database: Option<String>,
    pub target: String,
    pub outcome: String,
    pub request_id: Option<String>,
    pub detail: String,
}

impl From<&migration::AuditEntry> for AuditRow {
    fn from(e: &migration::AuditEntry) -> Self {
        AuditRow {
            at_utc: rfc3339(e.at),
            identity: e.identity.clone(),
            action: e.action.as_str().to_string(),
            database: e.database.clone(),
            target: e.target.clone(),
            outcome: e.outcome.clone(),
            request_id: e.request_id.clone(),
            detail: e.detail.clone(),
        }
    }
}

/// Bytes and files of the whole upload, with the throughput now and an estimate of the time left.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct UploadProgress {
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub done_bytes: u64,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub total_bytes: u64,
    pub files_done: u32,
    pub files_total: u32,
    /// Bytes per second of the uploads running now (0 when none runs).
    pub bytes_per_second: f64,
    /// About this many seconds left at that rate; `null` when unknown.
    pub eta_seconds: Option<f64>,
}

/// One point of a database's progress chart.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ProgressSample {
    /// Milliseconds since the Unix epoch.
    pub at_ms: f64,
    pub percent: f64,
}

/// LRS's block reason, explained when its code is documented.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct BlockView {
    /// As LRS sent it.
    pub reason: String,
    /// What it means, for a person who does not know LRS (`null` for an unknown code).
    pub meaning: Option<String>,
    pub fix: Option<String>,
}

/// One database of the migration.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DatabaseRow {
    pub name: String,
    /// Its folder in the container.
    pub folder: String,
    /// The local folder its backups are read from.
    pub source: String,
    pub status: DbStatus,
    /// The status in words.
    pub status_text: String,
    /// When it entered this status (RFC 3339, UTC).
    pub since_utc: Option<String>,
    /// The file being uploaded, or else the one LRS is restoring.
    pub current_file: Option<String>,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub current_file_done: u64,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub current_file_total: u64,
    pub uploading: bool,
    pub bytes_per_second: f64,
    pub files_uploaded: u32,
    pub files_total: u32,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub bytes_uploaded: u64,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub bytes_total: u64,
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub files_restored: Option<u64>,
    pub last_restored_file: Option<String>,
    /// 0–100: half for the upload (bytes), half for the restore (files LRS restored).
    pub percent: f64,
    /// Local backups not shipped yet.
    pub pending: Vec<String>,
    /// The files shipped, in order (the cutover's last backup is one of them).
    pub shipped: Vec<String>,
    /// The cutover's last backup, preselected: the last file shipped.
    pub last_backup: Option<String>,
    pub block: Option<BlockView>,
    pub error: Option<String>,
    pub halted: Option<String>,
    /// Why the cutover is not possible now, in words; `null` when the gates should pass (they
    /// are checked again, on the folder itself, when the cutover is asked).
    pub cutover_blocked: Option<String>,
    pub can_stop: bool,
    pub samples: Vec<ProgressSample>,
}

/// The migration as the pages show it.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MigrationView {
    pub plan_id: String,
    /// The plan file (TOML; `lrs migrate` can drive it too).
    pub plan_path: String,
    pub mode: MigrationMode,
    pub collation: Option<String>,
    pub instance: String,
    pub container_url: String,
    pub activity: Activity,
    /// The upload was paused (or the app closed) before it ended: Resume carries on.
    pub paused: bool,
    /// Every database is uploaded (or beyond): the migration may start.
    pub uploaded: bool,
    /// The Start step was done (some database went past Uploaded).
    pub started: bool,
    /// Every database is Completed or Stopped.
    pub finished: bool,
    /// Continuous mode: new log backups are shipped.
    pub shipping: bool,
    pub upload: UploadProgress,
    pub databases: Vec<DatabaseRow>,
    /// Why the last background run ended early, when it did.
    pub last_error: Option<String>,
}

/// The upload of one database as the events report it.
#[derive(Debug, Clone, Default)]
pub(crate) struct LiveDb {
    /// The file name in the folder being uploaded now.
    pub current: Option<String>,
    pub file_done: u64,
    pub file_total: u64,
    pub bytes_per_second: f64,
    /// The local chain's file names and sizes, from the last scan.
    pub sizes: HashMap<String, u64>,
    pub samples: VecDeque<ProgressSample>,
}

impl LiveDb {
    /// Applies an upload event.
    pub fn apply(&mut self, event: &UploadEvent) {
        match event {
            UploadEvent::FileStarted { blob, size, .. } => {
                self.current = Some(file_of(blob));
                self.file_done = 0;
                self.file_total = *size;
            }
            UploadEvent::Waiting { blob, size } => {
                self.current = Some(file_of(blob));
                self.file_total = *size;
            }
            UploadEvent::Progress { blob, file_done, file_total, bytes_per_second, .. } => {
                self.current = Some(file_of(blob));
                self.file_done = *file_done;
                self.file_total = *file_total;
                self.bytes_per_second = *bytes_per_second;
            }
            UploadEvent::Completed { .. } | UploadEvent::Skipped { .. } => {
                self.current = None;
                self.file_done = 0;
                self.file_total = 0;
                self.bytes_per_second = 0.0;
            }
            UploadEvent::JobStarted { .. } | UploadEvent::Retry { .. } | UploadEvent::Restarted { .. } => {}
        }
    }

    /// Keeps a sample when the percent moved, or every `every_ms` anyway.
    pub fn sample(&mut self, at_ms: f64, percent: f64, every_ms: f64) {
        let keep = match self.samples.back() {
            None => true,
            Some(last) => (last.percent - percent).abs() > f64::EPSILON || at_ms - last.at_ms >= every_ms,
        };
        if keep {
            if self.samples.len() == SAMPLES_KEPT {
                self.samples.pop_front();
            }
            self.samples.push_back(ProgressSample { at_ms, percent });
        }
    }
}

/// `folder/name` → `name`.
fn file_of(blob: &str) -> String {
    blob.rsplit('/').next().unwrap_or(blob).to_string()
}

/// The status in words.
pub fn status_text(status: DbStatus, mode: MigrationMode) -> &'static str {
    match status {
        DbStatus::Planned => "Waiting to upload",
        DbStatus::Uploading => "Uploading the backups",
        DbStatus::Uploaded => "Uploaded; waiting for the start",
        DbStatus::Starting => "Starting the restore",
        DbStatus::Restoring if mode == MigrationMode::Autocomplete => "Restoring; LRS completes it by itself",
        DbStatus::Restoring => "Restoring the backups",
        DbStatus::ReadyForCutover => "Ready for cutover",
        DbStatus::CuttingOver => "Cutting over",
        DbStatus::Completed => "Completed: online on the managed instance",
        DbStatus::Failed => "Failed",
        DbStatus::Stopped => "Stopped",
    }
}

/// The block reason in plain language (its first word is LRS's code when there is one).
pub fn block_view(reason: &str) -> BlockView {
    let code = reason.trim().split([':', ' ', ',', '.']).next().unwrap_or("");
    let explained = explain(code);
    BlockView {
        reason: reason.to_string(),
        meaning: explained.map(|e| e.meaning.to_string()),
        fix: explained.map(|e| e.fix.to_string()),
    }
}

/// Why a cutover cannot be asked now, from the saved record alone (the engine's gates check the
/// folder again when it is asked).
pub fn cutover_blocked(record: &DbRecord, mode: MigrationMode) -> Option<String> {
    if mode == MigrationMode::Autocomplete {
        return Some("Autocomplete mode: LRS cuts over by itself after the last backup.".to_string());
    }
    if let Some(halt) = &record.halted {
        return Some(format!("Shipping is halted: {halt}"));
    }
    match record.status {
        DbStatus::ReadyForCutover => {}
        DbStatus::CuttingOver => return Some("The cutover was asked; LRS is completing it.".to_string()),
        DbStatus::Completed | DbStatus::Stopped => return Some(format!("It is {}.", record.status)),
        other => {
            return Some(format!(
                "Not ready yet ({}): the cutover opens once the last local backup is restored.",
                status_text(other, mode)
            ))
        }
    }
    if let Some(block) = record.restore.as_ref().and_then(|r| r.block_reason.as_ref()) {
        return Some(format!("LRS reports a block: {block}"));
    }
    if !record.pending.is_empty() {
        return Some(format!("Not shipped yet: {}.", record.pending.join(", ")));
    }
    None
}

/// One database's row.
pub(crate) fn row(plan: &DatabasePlan, record: &DbRecord, live: &LiveDb, mode: MigrationMode) -> DatabaseRow {
    let shipped: Vec<String> = record.shipped.iter().map(|f| f.name.clone()).collect();
    let mut names: Vec<&str> = shipped.iter().map(String::as_str).collect();
    for name in record.pending.iter().map(String::as_str).chain(live.sizes.keys().map(String::as_str)) {
        if !names.contains(&name) {
            names.push(name);
        }
    }
    let size_of = |name: &str| {
        record.shipped.iter().find(|f| f.name == name).map(|f| f.size).or_else(|| live.sizes.get(name).copied())
    };
    let files_total = u32::try_from(names.len()).unwrap_or(u32::MAX);
    let bytes_total: u64 = names.iter().filter_map(|n| size_of(n)).sum();
    let files_uploaded = u32::try_from(shipped.len()).unwrap_or(u32::MAX);
    let uploading_now = live.current.as_deref().filter(|c| !record.is_shipped(c));
    let bytes_uploaded: u64 =
        record.shipped.iter().map(|f| f.size).sum::<u64>() + uploading_now.map_or(0, |_| live.file_done);
    let restore = record.restore.as_ref();
    let files_restored = restore.and_then(|r| r.files_restored);
    let upload_fraction = if bytes_total > 0 {
        bytes_uploaded as f64 / bytes_total as f64
    } else if files_total > 0 {
        f64::from(files_uploaded) / f64::from(files_total)
    } else {
        0.0
    };
    let restore_fraction = match record.status {
        DbStatus::ReadyForCutover | DbStatus::CuttingOver | DbStatus::Completed => 1.0,
        _ if files_total > 0 => files_restored.unwrap_or(0) as f64 / f64::from(files_total),
        _ => 0.0,
    };
    let percent = if record.status == DbStatus::Completed {
        100.0
    } else {
        (50.0 * upload_fraction.clamp(0.0, 1.0) + 50.0 * restore_fraction.clamp(0.0, 1.0)).min(99.9)
    };
    let restoring = restore.and_then(|r| r.current_restoring_file.clone());
    DatabaseRow {
        name: record.name.clone(),
        folder: plan.folder.clone(),
        source: plan.source.display().to_string(),
        status: record.status,
        status_text: status_text(record.status, mode).to_string(),
        since_utc: record.since().map(rfc3339),
        current_file: uploading_now.map(str::to_string).or(restoring),
        current_file_done: if uploading_now.is_some() { live.file_done } else { 0 },
        current_file_total: if uploading_now.is_some() { live.file_total } else { 0 },
        uploading: uploading_now.is_some(),
        bytes_per_second: if uploading_now.is_some() { live.bytes_per_second } else { 0.0 },
        files_uploaded,
        files_total,
        bytes_uploaded: bytes_uploaded.min(bytes_total.max(bytes_uploaded)),
        bytes_total,
        files_restored,
        last_restored_file: restore.and_then(|r| r.last_restored_file.clone()),
        percent,
        pending: record.pending.clone(),
        last_backup: record.last_shipped().map(str::to_string),
        shipped,
        block: restore.and_then(|r| r.block_reason.as_deref()).filter(|b| !b.trim().is_empty()).map(block_view),
        error: record.error.clone(),
        halted: record.halted.clone(),
        cutover_blocked: cutover_blocked(record, mode),
        can_stop: !record.status.is_final(),
        samples: live.samples.iter().copied().collect(),
    }
}

/// The whole upload from the rows.
pub(crate) fn upload_progress(rows: &[DatabaseRow]) -> UploadProgress {
    let done_bytes = rows.iter().map(|r| r.bytes_uploaded).sum::<u64>();
    let total_bytes = rows.iter().map(|r| r.bytes_total).sum::<u64>();
    let bytes_per_second = rows.iter().map(|r| r.bytes_per_second).sum::<f64>();
    let left = total_bytes.saturating_sub(done_bytes);
    UploadProgress {
        done_bytes,
        total_bytes,
        files_done: rows.iter().map(|r| r.files_uploaded).sum(),
        files_total: rows.iter().map(|r| r.files_total).sum(),
        bytes_per_second,
        eta_seconds: (bytes_per_second > 0.0).then(|| left as f64 / bytes_per_second),
    }
}

pub(crate) fn rfc3339(t: time::OffsetDateTime) -> String {
    t.replace_nanosecond(0).unwrap_or(t).format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migration::state::{RestoreSnapshot, ShippedFile};

    fn record(status: DbStatus) -> DbRecord {
        let mut r = DbRecord::new("Sales");
        r.status = status;
        r
    }

    fn live(sizes: &[(&str, u64)]) -> LiveDb {
        LiveDb { sizes: sizes.iter().map(|(n, s)| (n.to_string(), *s)).collect(), ..LiveDb::default() }
    }

    #[test]
    fn a_row_counts_files_and_bytes_and_the_file_being_sent() {
        let plan = DatabasePlan::new("Sales", "/b/Sales", "Sales");
        let mut r = record(DbStatus::Uploading);
        r.shipped.push(ShippedFile { name: "full.bak".into(), size: 600, content_md5: String::new() });
        r.pending = vec!["log1.log".into()];
        let mut l = live(&[("full.bak", 600), ("log1.log", 400)]);
        l.apply(&UploadEvent::FileStarted {
            blob: "Sales/log1.log".into(),
            size: 400,
            block_size: 8,
            blocks: 1,
            blocks_reused: 0,
        });
        l.apply(&UploadEvent::Progress {
            blob: "Sales/log1.log".into(),
            file_done: 100,
            file_total: 400,
            done: 100,
            total: 400,
            bytes_per_second: 50.0,
            eta_seconds: Some(6.0),
        });
        let row = row(&plan, &r, &l, MigrationMode::Continuous);
        assert_eq!((row.files_uploaded, row.files_total), (1, 2));
        assert_eq!((row.bytes_uploaded, row.bytes_total), (700, 1000));
        assert_eq!(row.current_file.as_deref(), Some("log1.log"));
        assert!((row.percent - 35.0).abs() < 1e-9, "{}", row.percent);
        let totals = upload_progress(&[row]);
        assert_eq!(totals.eta_seconds, Some(6.0));
    }

    #[test]
    fn the_percent_is_half_upload_half_restore_and_completed_is_100() {
        let plan = DatabasePlan::new("Sales", "/b/Sales", "Sales");
        let mut r = record(DbStatus::Restoring);
        for name in ["a.bak", "b.log"] {
            r.shipped.push(ShippedFile { name: name.into(), size: 10, content_md5: String::new() });
        }
        r.restore = Some(RestoreSnapshot {
            polled_at: time::OffsetDateTime::UNIX_EPOCH,
            status: Some("Restoring".into()),
            last_restored_file: Some("a.bak".into()),
            current_restoring_file: Some("b.log".into()),
            percent_completed: None,
            block_reason: None,
            files_restored: Some(1),
            files_detected: Some(2),
        });
        let l = live(&[]);
        let row = row(&plan, &r, &l, MigrationMode::Continuous);
        assert!((row.percent - 75.0).abs() < 1e-9);
        assert_eq!(row.current_file.as_deref(), Some("b.log"), "the file LRS restores");
        assert!(row.cutover_blocked.as_deref().unwrap_or("").contains("Not ready yet"));
        r.status = DbStatus::Completed;
        assert_eq!(super::row(&plan, &r, &l, MigrationMode::Continuous).percent, 100.0);
    }

    #[test]
    fn the_cutover_is_open_only_when_ready_and_nothing_is_pending() {
        let mut r = record(DbStatus::ReadyForCutover);
        assert_eq!(cutover_blocked(&r, MigrationMode::Continuous), None);
        assert!(cutover_blocked(&r, MigrationMode::Autocomplete).unwrap().contains("by itself"));
        r.pending = vec!["log9.log".into()];
        assert!(cutover_blocked(&r, MigrationMode::Continuous).unwrap().contains("log9.log"));
        r.pending.clear();
        r.halted = Some("a gap".into());
        assert!(cutover_blocked(&r, MigrationMode::Continuous).unwrap().contains("halted"));
    }

    #[test]
    fn block_reasons_are_explained_when_known() {
        let unknown = block_view("SomethingNew: odd");
        assert_eq!(unknown.meaning, None);
        let first = crate::arm::explain::explain("ExternalBackupAlreadySignaledToComplete").map(|e| e.code);
        if let Some(code) = first {
            let known = block_view(&format!("{code}: details"));
            assert!(known.meaning.is_some() && known.fix.is_some());
        }
    }

    #[test]
    fn samples_form_a_bounded_ring() {
        let mut l = LiveDb::default();
        for i in 0..(SAMPLES_KEPT + 20) {
            l.sample(i as f64 * 1000.0, i as f64 / 10.0, 30_000.0);
        }
        assert_eq!(l.samples.len(), SAMPLES_KEPT);
        l.sample(1e9, l.samples.back().unwrap().percent, 30_000.0);
        assert_eq!(l.samples.back().unwrap().at_ms, 1e9, "a flat line still gets a point now and then");
        let before = l.samples.len();
        let last = *l.samples.back().unwrap();
        l.sample(last.at_ms + 1.0, last.percent, 30_000.0);
        assert_eq!(l.samples.len(), before, "no point when nothing moved");
    }
}
