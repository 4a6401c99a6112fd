//! The [`MigrationView`] the pages show, built from the engine's state and the live picture, and
//! its delivery to the watcher; the live picture's samples and file sizes.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Mutex;

use super::{lock, Shared, Watcher, PLAN_FILE};
use crate::migration::{shipping, DbStatus, Migration};
use crate::session::dashboard::{self, Activity, DatabaseRow, LiveDb, MigrationMode, MigrationView};
use crate::storage::ContainerUrl;

pub(super) fn started(status: DbStatus) -> bool {
    !matches!(status, DbStatus::Planned | DbStatus::Uploading | DbStatus::Uploaded | DbStatus::Failed)
}

/// Sends the view to the page, unless the desk has left this migration: checked and sent under
/// the watcher's lock, so that no view of a cancelled migration follows the cancel.
pub(super) fn push(m: &Migration, shared: &Shared, watcher: &Mutex<Option<Watcher>>) {
    // Built and sent under the watcher's lock, so views reach the page in the order they were
    // built (a stale one never arrives last). The watcher only queues the view for the webview.
    let watcher = lock(watcher);
    if shared.retired.load(Ordering::SeqCst) {
        return;
    }
    if let Some(watcher) = watcher.as_ref() {
        watcher(build_view(m, shared));
    }
}

/// A progress sample per database (the chart's points).
pub(super) fn sample(m: &Migration, shared: &Shared) {
    let view = build_view(m, shared);
    let now = time::OffsetDateTime::now_utc().unix_timestamp_nanos() as f64 / 1e6;
    let mut live = lock(&shared.live);
    for row in &view.databases {
        live.entry(row.name.clone()).or_default().sample(now, row.percent, 30_000.0);
    }
}

/// Reads each database's local chain (names and sizes) for the byte counts.
pub(super) fn refresh_sizes(m: &Migration, shared: &Shared) {
    let container = ContainerUrl::parse(&m.plan().storage.container_url).map(|c| c.container().to_string());
    let container = container.unwrap_or_default();
    let state = m.state();
    for db in &m.plan().databases {
        let shipped: Vec<String> =
            state.database(&db.name).map(|r| r.shipped.iter().map(|f| f.name.clone()).collect()).unwrap_or_default();
        let Ok(scan) = shipping::scan(db, &container, &shipped) else { continue };
        let sizes: HashMap<String, u64> = scan
            .sequence
            .iter()
            .filter_map(|f| std::fs::metadata(&f.path).ok().map(|meta| (f.name.clone(), meta.len())))
            .collect();
        lock(&shared.live).entry(db.name.clone()).or_default().sizes = sizes;
    }
}

pub(super) fn build_view(m: &Migration, shared: &Shared) -> MigrationView {
    let plan = m.plan();
    let state = m.state();
    let mode = MigrationMode::from(plan.mode);
    let live = lock(&shared.live);
    let empty = LiveDb::default();
    let databases: Vec<DatabaseRow> = plan
        .databases
        .iter()
        .filter_map(|db| {
            let record = state.database(&db.name)?;
            Some(dashboard::row(db, record, live.get(&db.name).unwrap_or(&empty), mode))
        })
        .collect();
    drop(live);
    let task = lock(&shared.task);
    let statuses = || databases.iter().map(|d| d.status);
    let paused = task.activity == Activity::Idle
        && (task.paused || statuses().any(|s| s == DbStatus::Uploading))
        && statuses().any(|s| matches!(s, DbStatus::Planned | DbStatus::Uploading));
    MigrationView {
        plan_id: plan.id.clone(),
        plan_path: m.store().dir().join(PLAN_FILE).display().to_string(),
        mode,
        collation: plan.target.collation.clone(),
        instance: plan.target.instance.clone(),
        container_url: plan.storage.container_url.clone(),
        activity: task.activity,
        paused,
        uploaded: statuses().all(|s| !matches!(s, DbStatus::Planned | DbStatus::Uploading | DbStatus::Failed))
            || statuses().any(started),
        started: statuses().any(started),
        finished: !databases.is_empty() && statuses().all(DbStatus::is_final),
        shipping: m.shipping(),
        upload: dashboard::upload_progress(&databases),
        last_error: task.last_error.clone(),
        databases,
    }
}
