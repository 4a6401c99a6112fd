//! What a plan's run has done, per database, as it is saved between runs ([`MigrationState`]):
//! the status and every transition with its time and cause, the files shipped (name, size,
//! Content-MD5), the last restore status polled, the start's and the cutover's request ids, and
//! why a database failed or stopped shipping. No secret is ever put in it.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::plan::MigrationPlan;
use super::status::{next, DbStatus, Event, InvalidTransition};

/// One transition, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TransitionRecord {
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub at: OffsetDateTime,
    pub from: DbStatus,
    pub to: DbStatus,
    /// What caused it, in words.
    pub cause: String,
}

/// A file committed and verified in the database's folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ShippedFile {
    /// The blob's name in the folder (what LRS reports).
    pub name: String,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub size: u64,
    /// Base64 Content-MD5, read back from the service.
    pub content_md5: String,
}

/// The last `restoreDetails` poll, in short.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RestoreSnapshot {
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub polled_at: OffsetDateTime,
    /// `status` as the service sent it.
    pub status: Option<String>,
    pub last_restored_file: Option<String>,
    pub current_restoring_file: Option<String>,
    pub percent_completed: Option<f64>,
    pub block_reason: Option<String>,
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub files_restored: Option<u64>,
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub files_detected: Option<u64>,
}

/// The cutover the user asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CutoverRecord {
    pub last_backup: String,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub requested_at: OffsetDateTime,
    /// True once the `completeRestore` request was answered with success.
    pub accepted: bool,
    pub request_id: Option<String>,
}

/// One database's progress.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DbRecord {
    pub name: String,
    pub status: DbStatus,
    pub history: Vec<TransitionRecord>,
    /// In upload order.
    pub shipped: Vec<ShippedFile>,
    /// The last file of the local chain, as the last scan found it (its name in the folder).
    pub last_local: Option<String>,
    /// Files of the local chain not shipped yet (names in the folder).
    pub pending: Vec<String>,
    pub restore: Option<RestoreSnapshot>,
    pub start_request_id: Option<String>,
    pub cutover: Option<CutoverRecord>,
    /// Why the database failed, when it did.
    pub error: Option<String>,
    /// Continuous mode: why shipping stopped for this database (a gap in the log chain); cleared
    /// when a later scan finds the chain whole again.
    pub halted: Option<String>,
}

impl DbRecord {
    pub fn new(name: &str) -> DbRecord {
        DbRecord {
            name: name.to_string(),
            status: DbStatus::Planned,
            history: Vec::new(),
            shipped: Vec::new(),
            last_local: None,
            pending: Vec::new(),
            restore: None,
            start_request_id: None,
            cutover: None,
            error: None,
            halted: None,
        }
    }

    /// Applies `event`, recording the transition when the status changes.
    pub fn apply(&mut self, event: Event, cause: &str, at: OffsetDateTime) -> Result<bool, InvalidTransition> {
        let to = next(self.status, event)?;
        if to == self.status {
            return Ok(false);
        }
        self.history.push(TransitionRecord { at, from: self.status, to, cause: cause.to_string() });
        self.status = to;
        Ok(true)
    }

    pub fn is_shipped(&self, name: &str) -> bool {
        self.shipped.iter().any(|f| f.name == name)
    }

    /// The name of the last file shipped.
    pub fn last_shipped(&self) -> Option<&str> {
        self.shipped.last().map(|f| f.name.as_str())
    }

    /// When the database entered its current status.
    pub fn since(&self) -> Option<OffsetDateTime> {
        self.history.last().map(|t| t.at)
    }
}

/// A plan's whole progress.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MigrationState {
    pub plan_id: String,
    pub databases: Vec<DbRecord>,
}

impl MigrationState {
    /// A fresh state for `plan`: every database Planned.
    pub fn new(plan: &MigrationPlan) -> MigrationState {
        MigrationState {
            plan_id: plan.id.clone(),
            databases: plan.databases.iter().map(|d| DbRecord::new(&d.name)).collect(),
        }
    }

    /// The saved state brought in line with the plan: databases added to the plan are Planned,
    /// databases removed from it are kept (their history matters) but no longer driven.
    pub fn reconcile(mut self, plan: &MigrationPlan) -> MigrationState {
        for db in &plan.databases {
            if self.database(&db.name).is_none() {
                self.databases.push(DbRecord::new(&db.name));
            }
        }
        self
    }

    pub fn database(&self, name: &str) -> Option<&DbRecord> {
        self.databases.iter().find(|d| d.name.eq_ignore_ascii_case(name))
    }

    pub fn database_mut(&mut self, name: &str) -> Option<&mut DbRecord> {
        self.databases.iter_mut().find(|d| d.name.eq_ignore_ascii_case(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transitions_are_recorded_once_with_their_cause() {
        let mut db = DbRecord::new("Sales");
        let at = OffsetDateTime::UNIX_EPOCH;
        assert!(db.apply(Event::UploadBegan, "inspection passed", at).unwrap());
        assert!(!db.apply(Event::UploadBegan, "again", at).unwrap(), "a repeated event is not a transition");
        assert!(db.apply(Event::StartSending, "x", at).is_err());
        assert_eq!(db.history.len(), 1);
        assert_eq!(db.history[0].cause, "inspection passed");
        assert_eq!((db.history[0].from, db.history[0].to), (DbStatus::Planned, DbStatus::Uploading));
        let text = serde_json::to_string(&db).unwrap();
        assert_eq!(serde_json::from_str::<DbRecord>(&text).unwrap(), db);
    }
}
