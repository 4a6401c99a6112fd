//! Restore chain planner (in progress).
use super::discover::{Discovery, FoundFile};
use super::header::BackupHeader;
use super::report::DatabaseReport;
use super::InspectOptions;

pub(crate) fn plan_databases(_found: &Discovery, _headers: Vec<(FoundFile, Vec<BackupHeader>)>, _options: &InspectOptions) -> Vec<DatabaseReport> {
    Vec::new()
}
