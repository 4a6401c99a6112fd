//! The per-database state machine of a migration: [`DbStatus`] and the [`Event`]s that move it,
//! with one transition table ([`next`]). Pure: no clock, no I/O; the runner records each
//! transition with its time and cause.
//!
//! ```text
//! Planned → Uploading → Uploaded → Starting → Restoring ⇄ ReadyForCutover → CuttingOver → Completed
//!                                                └────────── (autocomplete) ──────────────→ Completed
//! any state before Completed → Failed | Stopped;  Failed (before the start) → Planned (retry)
//! ```

use serde::{Deserialize, Serialize};

/// Where one database of a plan is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum DbStatus {
    /// In the plan; nothing sent yet.
    Planned,
    /// Its restore sequence is being uploaded.
    Uploading,
    /// Every file of the sequence is committed and verified; LRS not started.
    Uploaded,
    /// The start was (or is being) sent; whether Azure accepted it is not known yet.
    Starting,
    /// LRS is restoring (or shipping new logs to it).
    Restoring,
    /// Continuous mode: the last local backup is uploaded and restored, nothing is pending.
    ReadyForCutover,
    /// The cutover (`completeRestore`) was sent; waiting for the database to come online.
    CuttingOver,
    /// The database is online on the managed instance.
    Completed,
    /// Something failed; the reason is recorded.
    Failed,
    /// Stopped by the user (after the start, the restoring database was dropped).
    Stopped,
}

impl DbStatus {
    pub const ALL: [DbStatus; 10] = [
        DbStatus::Planned,
        DbStatus::Uploading,
        DbStatus::Uploaded,
        DbStatus::Starting,
        DbStatus::Restoring,
        DbStatus::ReadyForCutover,
        DbStatus::CuttingOver,
        DbStatus::Completed,
        DbStatus::Failed,
        DbStatus::Stopped,
    ];

    /// Nothing will move it any more (a failed database may still be retried or stopped).
    pub fn is_final(self) -> bool {
        matches!(self, DbStatus::Completed | DbStatus::Stopped)
    }

    /// LRS may have a restore running for it (a stop must drop the database).
    pub fn may_have_restore(self) -> bool {
        matches!(self, DbStatus::Starting | DbStatus::Restoring | DbStatus::ReadyForCutover | DbStatus::CuttingOver)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DbStatus::Planned => "Planned",
            DbStatus::Uploading => "Uploading",
            DbStatus::Uploaded => "Uploaded",
            DbStatus::Starting => "Starting",
            DbStatus::Restoring => "Restoring",
            DbStatus::ReadyForCutover => "ReadyForCutover",
            DbStatus::CuttingOver => "CuttingOver",
            DbStatus::Completed => "Completed",
            DbStatus::Failed => "Failed",
            DbStatus::Stopped => "Stopped",
        }
    }
}

impl std::fmt::Display for DbStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What happened to a database. Each transition is caused by one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// The inspection passed and the upload of the sequence begins.
    UploadBegan,
    /// Every file of the sequence is committed and verified.
    UploadFinished,
    /// The SAS passed its checks and the start is about to be sent.
    StartSending,
    /// Azure accepted the start, or a restore it started earlier was found.
    RestoreRunning,
    /// Continuous mode: a new log backup is being shipped.
    NewBackupShipping,
    /// Continuous mode: the last local backup is restored and nothing is pending.
    CaughtUp,
    /// The cutover was sent.
    CutoverSent,
    /// `restoreDetails` says Completed (after a cutover, or by itself in autocomplete mode).
    RestoreCompleted,
    /// An error that stops this database (a refused start, a failed restore, a broken chain).
    Failure,
    /// The user asked to try a database again that failed before its start.
    Retry,
    /// The user stopped it (and the restoring database was dropped, when there was one).
    StoppedByUser,
}

/// Why a transition is refused: the event makes no sense in that state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a database that is {from} cannot take '{event:?}'")]
pub struct InvalidTransition {
    pub from: DbStatus,
    pub event: Event,
}

/// The one transition table: the state `event` leads to from `from`.
pub fn next(from: DbStatus, event: Event) -> Result<DbStatus, InvalidTransition> {
    use DbStatus as S;
    use Event as E;
    let to = match (from, event) {
        (S::Planned | S::Uploading, E::UploadBegan) => S::Uploading,
        (S::Planned | S::Uploading, E::UploadFinished) => S::Uploaded,
        (S::Uploaded | S::Starting, E::StartSending) => S::Starting,
        (S::Starting | S::Restoring, E::RestoreRunning) => S::Restoring,
        (S::Restoring | S::ReadyForCutover, E::NewBackupShipping) => S::Restoring,
        (S::Restoring | S::ReadyForCutover, E::CaughtUp) => S::ReadyForCutover,
        (S::ReadyForCutover | S::CuttingOver, E::CutoverSent) => S::CuttingOver,
        (S::Restoring | S::ReadyForCutover | S::CuttingOver, E::RestoreCompleted) => S::Completed,
        (s, E::Failure) if !s.is_final() => S::Failed,
        (S::Failed, E::Retry) => S::Planned,
        (s, E::StoppedByUser) if !s.is_final() => S::Stopped,
        _ => return Err(InvalidTransition { from, event }),
    };
    Ok(to)
}

#[cfg(test)]
mod tests {
    use super::*;

    const EVENTS: [Event; 11] = [
        Event::UploadBegan,
        Event::UploadFinished,
        Event::StartSending,
        Event::RestoreRunning,
        Event::NewBackupShipping,
        Event::CaughtUp,
        Event::CutoverSent,
        Event::RestoreCompleted,
        Event::Failure,
        Event::Retry,
        Event::StoppedByUser,
    ];

    #[test]
    fn the_continuous_path_reaches_completed() {
        let path = [
            Event::UploadBegan,
            Event::UploadFinished,
            Event::StartSending,
            Event::RestoreRunning,
            Event::CaughtUp,
            Event::NewBackupShipping,
            Event::CaughtUp,
            Event::CutoverSent,
            Event::RestoreCompleted,
        ];
        let end = path.iter().try_fold(DbStatus::Planned, |s, e| next(s, *e)).unwrap();
        assert_eq!(end, DbStatus::Completed);
    }

    #[test]
    fn autocomplete_completes_without_a_cutover() {
        assert_eq!(next(DbStatus::Restoring, Event::RestoreCompleted), Ok(DbStatus::Completed));
    }

    #[test]
    fn final_states_take_nothing() {
        for from in [DbStatus::Completed, DbStatus::Stopped] {
            for event in EVENTS {
                assert!(next(from, event).is_err(), "{from} took {event:?}");
            }
        }
    }

    #[test]
    fn cutover_only_from_ready() {
        for from in DbStatus::ALL {
            let allowed = next(from, Event::CutoverSent).is_ok();
            assert_eq!(allowed, matches!(from, DbStatus::ReadyForCutover | DbStatus::CuttingOver), "{from}");
        }
    }

    #[test]
    fn uploads_are_refused_once_the_restore_started() {
        for from in [DbStatus::Starting, DbStatus::Restoring, DbStatus::CuttingOver, DbStatus::Completed] {
            assert!(next(from, Event::UploadBegan).is_err(), "{from}");
        }
    }

    #[test]
    fn only_a_failure_can_be_retried_and_every_live_state_can_fail_or_stop() {
        for from in DbStatus::ALL {
            assert_eq!(next(from, Event::Retry).is_ok(), from == DbStatus::Failed, "{from}");
            assert_eq!(next(from, Event::Failure).is_ok(), !from.is_final(), "{from}");
            assert_eq!(next(from, Event::StoppedByUser).is_ok(), !from.is_final(), "{from}");
        }
    }
}
