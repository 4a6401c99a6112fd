//! The Log Replay Service: one [`Job`] per database started with `createMode:
//! RestoreExternalBackup`. A job lists its folder through the SAS and reads the backups' headers
//! with ranged reads ([`scan`]), plans the restore as `lrs-core`'s inspection does ([`plan`]),
//! then "restores" the backup sets in order on the emulator's clock ([`Job::advance`]), until the
//! cutover (autocomplete, or `completeRestore`) or a failure with the service's error codes.

pub mod blob;
pub mod codes;
pub mod details;
pub mod plan;
pub mod scan;
pub mod tick;

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use time::serde::rfc3339;
use time::{Duration, OffsetDateTime};

use crate::config::Timing;
use crate::state::ErrorInfo;

const MIB: f64 = 1024.0 * 1024.0;

/// Where a job is, as `restoreDetails.status` says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Phase {
    Initializing,
    Restoring,
    Completed,
    Failed,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Initializing => "Initializing",
            Phase::Restoring => "Restoring",
            Phase::Completed => "Completed",
            Phase::Failed => "Failed",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SetKind {
    Full,
    Diff,
    Log,
}

impl SetKind {
    /// `currentBackupType` and the backup-set array the set goes to.
    pub fn as_str(self) -> &'static str {
        match self {
            SetKind::Full => "Full",
            SetKind::Diff => "Diff",
            SetKind::Log => "Log",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SetStatus {
    Queued,
    Restoring,
    Restored,
    Skipped,
}

impl SetStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SetStatus::Queued => "Queued",
            SetStatus::Restoring => "Restoring",
            SetStatus::Restored => "Restored",
            SetStatus::Skipped => "Skipped",
        }
    }
}

/// One file of the folder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlobFile {
    /// The name in the folder (without the folder prefix).
    pub name: String,
    pub size: u64,
    pub etag: String,
    #[serde(with = "rfc3339::option", default)]
    pub last_modified: Option<OffsetDateTime>,
    /// False when its headers could not be read: an unrestorable file.
    pub readable: bool,
}

/// A backup set as planned: its stripes (file names) and size.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedSet {
    pub guid: String,
    pub kind: SetKind,
    pub stripes: Vec<String>,
    pub size_bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackupSet {
    pub set: PlannedSet,
    pub status: SetStatus,
    #[serde(with = "rfc3339")]
    pub queued: OffsetDateTime,
    #[serde(with = "rfc3339::option", default)]
    pub started: Option<OffsetDateTime>,
    #[serde(with = "rfc3339::option", default)]
    pub finished: Option<OffsetDateTime>,
}

impl BackupSet {
    pub fn size_mb(&self) -> i64 {
        (self.set.size_bytes as f64 / MIB).round() as i64
    }

    pub fn first_stripe(&self) -> &str {
        self.set.stripes.first().map(String::as_str).unwrap_or("")
    }

    fn named(&self, name: &str) -> bool {
        self.set.stripes.iter().any(|s| s.eq_ignore_ascii_case(name))
    }

    fn duration(&self, timing: &Timing) -> Duration {
        let transfer = self.set.size_bytes as f64 / (timing.megabytes_per_second.max(0.001) * MIB);
        Duration::seconds(timing.seconds_per_backup_set) + Duration::seconds_f64(transfer)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CompleteRequest {
    #[serde(with = "rfc3339")]
    pub requested: OffsetDateTime,
    pub last_backup_name: String,
    pub operation: String,
}

/// What a scan of the folder found (see [`scan::scan`]).
#[derive(Debug, Clone)]
pub enum Scan {
    /// The folder could not be read at all (SAS refused, storage unreachable, ...).
    Failed(ErrorInfo),
    Listed(Listing),
}

#[derive(Debug, Clone, Default)]
pub struct Listing {
    pub files: Vec<BlobFile>,
    pub plan: Option<plan::Plan>,
}

/// An LRS restore in progress or finished.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Job {
    pub storage_uri: String,
    pub sas: Option<String>,
    pub managed_identity: bool,
    pub auto_complete: bool,
    pub last_backup_name: Option<String>,
    #[serde(with = "rfc3339")]
    pub started: OffsetDateTime,
    pub phase: Phase,
    pub error: Option<ErrorInfo>,
    pub files: Vec<BlobFile>,
    pub sets: Vec<BackupSet>,
    pub skipped: Vec<BackupSet>,
    /// A broken plan fails the job once the sets before the break are restored.
    pub pending_failure: Option<ErrorInfo>,
    pub complete: Option<CompleteRequest>,
    /// The id of the start request's operation (also names the job's mirror folder).
    pub restore_operation: String,
    #[serde(with = "rfc3339::option", default)]
    pub completed: Option<OffsetDateTime>,
    /// Canceled by the 30-day limit.
    pub canceled: bool,
}

impl Job {
    pub fn is_over(&self) -> bool {
        matches!(self.phase, Phase::Completed | Phase::Failed)
    }

    /// True when the folder should be listed now: after the initializing delay, until a cutover
    /// was requested or the job ended.
    pub fn wants_scan(&self, now: OffsetDateTime, timing: &Timing) -> bool {
        match self.phase {
            Phase::Initializing => now >= self.started + Duration::seconds(timing.initializing_seconds),
            Phase::Restoring => self.complete.is_none(),
            Phase::Completed | Phase::Failed => false,
        }
    }

    pub fn last_restored(&self) -> Option<&BackupSet> {
        self.sets.iter().rev().find(|s| s.status == SetStatus::Restored)
    }

    pub fn restoring(&self) -> Option<&BackupSet> {
        self.sets.iter().find(|s| s.status == SetStatus::Restoring)
    }

    fn pending(&self) -> bool {
        self.sets.iter().any(|s| matches!(s.status, SetStatus::Queued | SetStatus::Restoring))
    }

    pub fn fail(&mut self, error: ErrorInfo) {
        self.phase = Phase::Failed;
        self.error = Some(error);
    }

    /// Moves the job on to `now`: restores what is due, then the cutover, the delayed failure of a
    /// broken plan, or the 30-day cancelation.
    pub fn advance(&mut self, now: OffsetDateTime, timing: &Timing) {
        if self.is_over() {
            return;
        }
        let deadline = self.started + Duration::seconds(timing.job_limit_seconds);
        let horizon = now.min(deadline);
        self.run_restores(horizon, timing);
        if !self.pending() {
            if let Some(failure) = self.pending_failure.clone() {
                self.fail(failure);
                return;
            }
            if let Some(at) = self.cutover_at(timing).filter(|at| *at <= horizon) {
                self.phase = Phase::Completed;
                self.completed = Some(at);
                return;
            }
        }
        if now >= deadline {
            self.canceled = true;
            self.fail(codes::error(
                codes::JOB_TIME_LIMIT,
                "A single LRS job can run for a maximum of 30 days, after which it is automatically canceled.",
            ));
        }
    }

    fn run_restores(&mut self, horizon: OffsetDateTime, timing: &Timing) {
        loop {
            let previous_end = self.last_restored().and_then(|s| s.finished);
            let Some(set) = self.sets.iter_mut().find(|s| matches!(s.status, SetStatus::Queued | SetStatus::Restoring))
            else {
                return;
            };
            if set.status == SetStatus::Queued {
                let start = previous_end.map_or(set.queued, |end| end.max(set.queued));
                if start > horizon {
                    return;
                }
                set.status = SetStatus::Restoring;
                set.started = Some(start);
            }
            let end = set.started.unwrap_or(horizon) + set.duration(timing);
            if end > horizon {
                return;
            }
            set.status = SetStatus::Restored;
            set.finished = Some(end);
        }
    }

    /// When the cutover ends: after a complete request, or after the last backup in autocomplete.
    fn cutover_at(&self, timing: &Timing) -> Option<OffsetDateTime> {
        let last = self.last_restored()?;
        let finished = last.finished?;
        let begins = match &self.complete {
            Some(request) => request.requested.max(finished),
            None if self.auto_complete && self.last_backup_name.as_deref().is_some_and(|n| last.named(n)) => finished,
            None => return None,
        };
        Some(begins + Duration::seconds(timing.cutover_seconds))
    }

    /// True when `name` is a file of the last restored backup set (and nothing is restoring).
    pub fn is_last_restored(&self, name: &str) -> bool {
        self.restoring().is_none() && self.last_restored().is_some_and(|s| s.named(name))
    }

    /// Takes in what a scan found.
    pub fn apply_scan(&mut self, scan: Scan, now: OffsetDateTime) {
        if self.is_over() {
            return;
        }
        let listing = match scan {
            Scan::Failed(error) => {
                // Once restoring, the service retries a broken storage connection by itself.
                if self.phase == Phase::Initializing {
                    self.fail(error);
                }
                return;
            }
            Scan::Listed(listing) => listing,
        };
        self.files = listing.files;
        if self.complete.is_some() {
            return;
        }
        let Some(plan) = listing.plan else { return };
        if let Some(error) = plan.fatal_now {
            self.fail(error);
            return;
        }
        self.merge(plan.sequence, now);
        self.skipped = plan
            .skipped
            .into_iter()
            .map(|set| BackupSet { set, status: SetStatus::Skipped, queued: now, started: None, finished: None })
            .collect();
        self.pending_failure = plan.fatal_after;
        if self.phase == Phase::Initializing && (!self.sets.is_empty() || self.pending_failure.is_some()) {
            self.phase = Phase::Restoring;
        }
    }

    /// Keeps what is restored or restoring and queues what the new plan has after it. A plan that
    /// no longer contains the last set begun (another full chosen) queues nothing new.
    fn merge(&mut self, sequence: Vec<PlannedSet>, now: OffsetDateTime) {
        let queued_at: HashMap<String, OffsetDateTime> =
            self.sets.iter().map(|s| (s.set.guid.clone(), s.queued)).collect();
        let begun = |s: &BackupSet| matches!(s.status, SetStatus::Restored | SetStatus::Restoring);
        let from = match self.sets.iter().rev().find(|s| begun(s)) {
            None => 0,
            Some(last) => match sequence.iter().position(|p| p.guid == last.set.guid) {
                Some(i) => i + 1,
                None => return,
            },
        };
        self.sets.retain(begun);
        for set in sequence.into_iter().skip(from) {
            let queued = queued_at.get(&set.guid).copied().unwrap_or(now);
            self.sets.push(BackupSet { set, status: SetStatus::Queued, queued, started: None, finished: None });
        }
    }
}
