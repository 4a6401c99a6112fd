//! `restoreDetails/Default` as the service answers it, in the schema of the request's api-version:
//! the extended one (`type`, file counters, backup sets, `unrestorableFiles: [{name}]`, integer
//! `percentCompleted`) from 2022-02-01-preview on and in stable 2025-01-01, the basic one before
//! and in stable 2023-08-01 (reference §2.2-2.3). Absent values are left out, as observed.

use serde_json::{json, Map, Value};

use super::{BackupSet, Job, Phase, SetKind, SetStatus};
use crate::http::timestamp;

/// True when the api-version answers with the extended schema.
pub fn extended_schema(api_version: &str) -> bool {
    let date = api_version.get(..10).unwrap_or(api_version);
    if api_version.ends_with("-preview") {
        date >= "2022-02-01"
    } else {
        date >= "2025-01-01"
    }
}

/// The resource body: `id`, `name: Default`, `type`, `properties`.
pub fn resource(database_id: &str, job: &Job, api_version: &str) -> Value {
    let properties = if extended_schema(api_version) { extended(job) } else { basic(job) };
    json!({
        "properties": properties,
        "id": format!("{database_id}/restoreDetails/Default"),
        "name": "Default",
        "type": "Microsoft.Sql/managedInstances/databases/restoreDetails",
    })
}

struct Summary<'a> {
    current: Option<&'a BackupSet>,
    last_restored: Option<&'a BackupSet>,
    last_uploaded: Option<&'a super::BlobFile>,
    percent: f64,
    restored_bytes: u64,
    plan_bytes: u64,
}

fn summary(job: &Job) -> Summary<'_> {
    let plan_bytes: u64 = job.sets.iter().map(|s| s.set.size_bytes).sum();
    let restored_bytes: u64 =
        job.sets.iter().filter(|s| s.status == SetStatus::Restored).map(|s| s.set.size_bytes).sum();
    let percent = match job.phase {
        Phase::Completed => 100.0,
        _ if plan_bytes == 0 => 0.0,
        _ => (restored_bytes as f64 * 100.0 / plan_bytes as f64).floor(),
    };
    Summary {
        current: job.restoring().or_else(|| job.last_restored()),
        last_restored: job.last_restored(),
        last_uploaded: job.files.iter().filter(|f| f.last_modified.is_some()).max_by_key(|f| f.last_modified),
        percent,
        restored_bytes,
        plan_bytes,
    }
}

fn status(job: &Job) -> &'static str {
    job.phase.as_str()
}

fn common(job: &Job, s: &Summary<'_>, props: &mut Map<String, Value>) {
    props.insert("status".into(), json!(status(job)));
    if let Some(error) = &job.error {
        props.insert("blockReason".into(), json!(error.code));
    }
    if let Some(file) = s.last_uploaded {
        props.insert("lastUploadedFileName".into(), json!(file.name));
        props.insert("lastUploadedFileTime".into(), json!(file.last_modified.map(timestamp)));
    }
    if let Some(set) = s.last_restored {
        props.insert("lastRestoredFileName".into(), json!(set.first_stripe()));
        props.insert("lastRestoredFileTime".into(), json!(set.finished.map(timestamp)));
    }
    if let Some(set) = s.current {
        props.insert("currentRestoringFileName".into(), json!(set.first_stripe()));
    }
}

fn basic(job: &Job) -> Value {
    let s = summary(job);
    let mut props = Map::new();
    common(job, &s, &mut props);
    if job.phase != Phase::Initializing {
        props.insert("percentCompleted".into(), json!(s.percent));
        let names: Vec<&str> = job.files.iter().filter(|f| !f.readable).map(|f| f.name.as_str()).collect();
        props.insert("unrestorableFiles".into(), json!(names));
    }
    props.insert("numberOfFilesDetected".into(), json!(job.files.len()));
    Value::Object(props)
}

fn extended(job: &Job) -> Value {
    let s = summary(job);
    let mut props = Map::new();
    props.insert("type".into(), json!("LRSRestore"));
    common(job, &s, &mut props);
    props.insert("numberOfFilesDetected".into(), json!(job.files.len()));
    if job.phase == Phase::Initializing {
        return Value::Object(props);
    }
    let mb = |bytes: u64| (bytes as f64 / (1024.0 * 1024.0)).round() as i64;
    props.insert("percentCompleted".into(), json!(s.percent as i64));
    props.insert("currentRestoredSizeMB".into(), json!(mb(s.restored_bytes)));
    props.insert("currentRestorePlanSizeMB".into(), json!(mb(s.plan_bytes)));
    if let Some(set) = s.current {
        props.insert("currentBackupType".into(), json!(set.set.kind.as_str()));
    }
    let files = |status: SetStatus| -> usize {
        job.sets.iter().chain(&job.skipped).filter(|s| s.status == status).map(|s| s.set.stripes.len()).sum()
    };
    props.insert("numberOfFilesQueued".into(), json!(files(SetStatus::Queued)));
    props.insert("numberOfFilesSkipped".into(), json!(files(SetStatus::Skipped)));
    props.insert("numberOfFilesRestoring".into(), json!(files(SetStatus::Restoring)));
    props.insert("numberOfFilesRestored".into(), json!(files(SetStatus::Restored)));
    let unrestorable: Vec<Value> = job.files.iter().filter(|f| !f.readable).map(|f| json!({"name": f.name})).collect();
    props.insert("numberOfFilesUnrestorable".into(), json!(unrestorable.len()));
    for (key, kind) in
        [("fullBackupSets", SetKind::Full), ("diffBackupSets", SetKind::Diff), ("logBackupSets", SetKind::Log)]
    {
        let sets: Vec<Value> =
            job.skipped.iter().chain(&job.sets).filter(|s| s.set.kind == kind).map(backup_set).collect();
        props.insert(key.into(), json!(sets));
    }
    props.insert("unrestorableFiles".into(), json!(unrestorable));
    Value::Object(props)
}

fn backup_set(set: &BackupSet) -> Value {
    let mut value = json!({
        "status": set.status.as_str(),
        "firstStripeName": set.first_stripe(),
        "numberOfStripes": set.set.stripes.len(),
        "backupSizeMB": set.size_mb(),
    });
    if let Some(t) = set.started {
        value["restoreStartedTimestampUtc"] = json!(timestamp(t));
    }
    if let Some(t) = set.finished {
        value["restoreFinishedTimestampUtc"] = json!(timestamp(t));
    }
    value
}

#[cfg(test)]
mod tests {
    use super::extended_schema;

    #[test]
    fn schema_follows_the_api_version() {
        for v in ["2022-02-01-preview", "2022-05-01-preview", "2024-11-01-preview", "2025-01-01", "2025-08-01-preview"]
        {
            assert!(extended_schema(v), "{v}");
        }
        for v in ["2021-11-01", "2021-11-01-preview", "2023-08-01", "2019-06-01-preview", "2018-06-01-preview"] {
            assert!(!extended_schema(v), "{v}");
        }
    }
}
