//! Migrations that survive days: a plan of databases on one managed instance and one container,
//! driven from Planned to Completed by one process at a time, resumable after any crash.
//!
//! - [`plan`]: the plan file (TOML, no secret) and its checks;
//! - [`status`]: the per-database state machine (one transition table);
//! - [`state`] and [`store`]: what a run did, saved atomically after every change, and the lock
//!   that keeps a second process from driving the same plan;
//! - [`audit`]: the append-only audit log (JSON lines; CSV export);
//! - [`shipping`]: what to upload next from a database's folder (chain order, gaps, files still
//!   being written); [`gates`]: when a cutover may be sent;
//! - [`runner`]: the orchestration ([`Migration`]); [`pacer`]: the ARM read budget of its polls;
//! - [`requests`]: the inbox through which another process asks the one driving the plan for a
//!   cutover or a stop, carried out through the same gates and audited the same way.

pub mod audit;
pub mod gates;
pub mod pacer;
pub mod plan;
pub mod requests;
pub mod runner;
pub mod shipping;
pub mod state;
pub mod status;
pub mod store;

pub use audit::{Action, AuditEntry, AuditLog};
pub use plan::{DatabasePlan, MigrationPlan, Mode, PlanError, StoragePlan, Target};
pub use requests::{Request, RequestAction, RequestInbox, RequestOutcome, RequestResult};
pub use runner::{DbSummary, Migration, MigrationEvent, RunOptions, RunSummary, Services};
pub use state::{DbRecord, MigrationState};
pub use status::DbStatus;
pub use store::{PlanStore, StoreError};

/// The default budget of ARM reads per minute for a plan's polls: 120 a minute is 7,200 an hour,
/// 60 % of ARM's historical 12,000 reads per hour per subscription and principal. With 100
/// databases each is polled about every 50 seconds.
pub const DEFAULT_ARM_READS_PER_MINUTE: u32 = 120;

/// Why a migration command could not go on.
#[derive(Debug, thiserror::Error)]
pub enum MigrationError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Audit(#[from] audit::AuditError),
    #[error("'{0}' is not a database of this plan")]
    UnknownDatabase(String),
    #[error("the SAS for LRS cannot be made: {0}")]
    Sas(String),
    #[error("{0}")]
    Gate(String),
    #[error("{0}")]
    Lrs(String),
    #[error("the run was cancelled")]
    Cancelled,
}

impl From<status::InvalidTransition> for MigrationError {
    fn from(e: status::InvalidTransition) -> Self {
        MigrationError::Gate(e.to_string())
    }
}
