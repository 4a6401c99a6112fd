//! [`RestoreStatus`]: the `restoreDetails/Default` resource, typed. Two schemas exist: the basic
//! one (api-versions up to 2021-11-01-preview and stable 2023-08-01: `percentCompleted` a double,
//! `unrestorableFiles` strings, no `type`) and the extended one (2022-02-01-preview and later
//! previews, stable 2025-01-01: `type`, file counters, backup sets, `percentCompleted` an integer,
//! `unrestorableFiles` objects). Both are read; absent properties stay `None` (the service omits
//! nulls), and the properties are kept as sent for `--json`.

use serde::{Serialize, Serializer};
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// The restore's state, from `status` (a free string in the specification).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RestoreState {
    Initializing,
    Restoring,
    Completed,
    Failed,
    Blocked,
    /// A value not seen in any source (kept as sent).
    Other(String),
    /// No `status` at all.
    Unknown,
}

impl RestoreState {
    pub fn parse(status: Option<&str>) -> RestoreState {
        let Some(status) = status else { return RestoreState::Unknown };
        match status.to_ascii_lowercase().as_str() {
            "initializing" => RestoreState::Initializing,
            "restoring" => RestoreState::Restoring,
            "completed" => RestoreState::Completed,
            "failed" => RestoreState::Failed,
            "blocked" => RestoreState::Blocked,
            _ => RestoreState::Other(status.to_string()),
        }
    }

    /// True once the restore can change no more.
    pub fn is_final(&self) -> bool {
        matches!(self, RestoreState::Completed | RestoreState::Failed)
    }
}

/// The file counters (extended schema; the basic one has `numberOfFilesDetected` only).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FileCounts {
    pub detected: Option<u64>,
    pub queued: Option<u64>,
    pub skipped: Option<u64>,
    pub restoring: Option<u64>,
    pub restored: Option<u64>,
    pub unrestorable: Option<u64>,
}

/// One full, differential or log backup set (extended schema).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BackupSet {
    /// `Queued`, `Restoring`, `Restored`, `Skipped`...
    pub status: Option<String>,
    pub first_stripe_name: Option<String>,
    pub number_of_stripes: Option<u64>,
    pub backup_size_mb: Option<u64>,
    #[serde(serialize_with = "rfc3339")]
    pub restore_started: Option<OffsetDateTime>,
    #[serde(serialize_with = "rfc3339")]
    pub restore_finished: Option<OffsetDateTime>,
}

/// The restore's progress, from either schema.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RestoreStatus {
    pub state: RestoreState,
    /// `status` as sent.
    pub status: Option<String>,
    /// `type`: `LRSRestore` for a Log Replay restore; absent in the basic schema.
    pub restore_type: Option<String>,
    pub block_reason: Option<String>,
    pub current_restoring_file: Option<String>,
    pub current_backup_type: Option<String>,
    pub last_restored_file: Option<String>,
    #[serde(serialize_with = "rfc3339")]
    pub last_restored_time: Option<OffsetDateTime>,
    pub last_uploaded_file: Option<String>,
    #[serde(serialize_with = "rfc3339")]
    pub last_uploaded_time: Option<OffsetDateTime>,
    pub percent_completed: Option<f64>,
    pub restored_size_mb: Option<u64>,
    pub restore_plan_size_mb: Option<u64>,
    pub files: FileCounts,
    pub full_backup_sets: Vec<BackupSet>,
    pub diff_backup_sets: Vec<BackupSet>,
    pub log_backup_sets: Vec<BackupSet>,
    pub unrestorable_files: Vec<String>,
    /// The `properties` object exactly as the service sent it, under its own names.
    pub properties: Value,
}

fn rfc3339<S: Serializer>(t: &Option<OffsetDateTime>, s: S) -> Result<S::Ok, S::Error> {
    match t.and_then(|t| t.format(&Rfc3339).ok()) {
        Some(text) => s.serialize_some(&text),
        None => s.serialize_none(),
    }
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_string)
}

/// An integer counter, also when sent as a number with a fraction (`0.0`).
fn count(v: &Value, key: &str) -> Option<u64> {
    let x = v.get(key)?;
    x.as_u64().or_else(|| x.as_f64().filter(|f| *f >= 0.0).map(|f| f.round() as u64))
}

fn when(v: &Value, key: &str) -> Option<OffsetDateTime> {
    v.get(key).and_then(Value::as_str).and_then(|s| OffsetDateTime::parse(s, &Rfc3339).ok())
}

fn backup_sets(v: &Value, key: &str) -> Vec<BackupSet> {
    let Some(items) = v.get(key).and_then(Value::as_array) else { return Vec::new() };
    items
        .iter()
        .map(|s| BackupSet {
            status: text(s, "status"),
            first_stripe_name: text(s, "firstStripeName"),
            number_of_stripes: count(s, "numberOfStripes"),
            backup_size_mb: count(s, "backupSizeMB"),
            restore_started: when(s, "restoreStartedTimestampUtc"),
            restore_finished: when(s, "restoreFinishedTimestampUtc"),
        })
        .collect()
}

/// `unrestorableFiles`: strings (basic) or `{ "name": ... }` objects (extended).
fn unrestorable(v: &Value) -> Vec<String> {
    let Some(items) = v.get("unrestorableFiles").and_then(Value::as_array) else { return Vec::new() };
    items.iter().filter_map(|f| f.as_str().map(str::to_string).or_else(|| text(f, "name"))).collect()
}

impl RestoreStatus {
    /// Reads a `restoreDetails` resource (the whole body, with `properties`).
    pub fn from_resource(resource: &Value) -> RestoreStatus {
        let p = resource.get("properties").cloned().unwrap_or(Value::Object(Default::default()));
        let status = text(&p, "status");
        RestoreStatus {
            state: RestoreState::parse(status.as_deref()),
            restore_type: text(&p, "type"),
            block_reason: text(&p, "blockReason"),
            current_restoring_file: text(&p, "currentRestoringFileName"),
            current_backup_type: text(&p, "currentBackupType"),
            last_restored_file: text(&p, "lastRestoredFileName"),
            last_restored_time: when(&p, "lastRestoredFileTime"),
            last_uploaded_file: text(&p, "lastUploadedFileName"),
            last_uploaded_time: when(&p, "lastUploadedFileTime"),
            percent_completed: p.get("percentCompleted").and_then(Value::as_f64),
            restored_size_mb: count(&p, "currentRestoredSizeMB"),
            restore_plan_size_mb: count(&p, "currentRestorePlanSizeMB"),
            files: FileCounts {
                detected: count(&p, "numberOfFilesDetected"),
                queued: count(&p, "numberOfFilesQueued"),
                skipped: count(&p, "numberOfFilesSkipped"),
                restoring: count(&p, "numberOfFilesRestoring"),
                restored: count(&p, "numberOfFilesRestored"),
                unrestorable: count(&p, "numberOfFilesUnrestorable"),
            },
            full_backup_sets: backup_sets(&p, "fullBackupSets"),
            diff_backup_sets: backup_sets(&p, "diffBackupSets"),
            log_backup_sets: backup_sets(&p, "logBackupSets"),
            unrestorable_files: unrestorable(&p),
            status,
            properties: p,
        }
    }

    /// True when the resource says this is a Log Replay restore (`type` is `LRSRestore`).
    pub fn is_lrs_restore(&self) -> bool {
        self.restore_type.as_deref().is_some_and(|t| t.eq_ignore_ascii_case("LRSRestore"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_schema_with_a_double_percent_and_string_files() {
        let body = serde_json::json!({"properties": {"status": "Restoring", "currentRestoringFileName": "full_0",
            "percentCompleted": 0.0, "unrestorableFiles": ["x.jpg"], "numberOfFilesDetected": 26,
            "lastUploadedFileName": "log2_3", "lastUploadedFileTime": "2018-06-15T11:38:33Z"}});
        let s = RestoreStatus::from_resource(&body);
        assert_eq!(s.state, RestoreState::Restoring);
        assert_eq!(s.percent_completed, Some(0.0));
        assert_eq!(s.files.detected, Some(26));
        assert_eq!(s.unrestorable_files, ["x.jpg"]);
        assert_eq!(s.restore_type, None);
        assert!(!s.is_lrs_restore());
        assert_eq!(s.last_uploaded_time.unwrap().year(), 2018);
    }

    #[test]
    fn states_and_empty_bodies() {
        assert_eq!(RestoreState::parse(Some("COMPLETED")), RestoreState::Completed);
        assert_eq!(RestoreState::parse(Some("Paused")), RestoreState::Other("Paused".into()));
        assert_eq!(RestoreState::parse(None), RestoreState::Unknown);
        let s = RestoreStatus::from_resource(&serde_json::json!({}));
        assert_eq!(s.state, RestoreState::Unknown);
        assert!(s.full_backup_sets.is_empty() && s.unrestorable_files.is_empty());
    }
}
