//! The desk's background work: one task at a time uploading or running the migration, and the
//! forwarder that applies the engine's events to the live picture and pushes views.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use tokio::sync::mpsc::UnboundedReceiver;
use tokio_util::sync::CancellationToken;

use super::view::{push, refresh_sizes, sample};
use super::{lock, Shared, Watcher};
use crate::migration::{Migration, MigrationEvent, RunOptions, Services};
use crate::session::dashboard::Activity;

/// True while a background task runs that was not asked to stop. A paused task may still be
/// winding down (its last block being dropped): a resume then starts a new task, which waits for it.
pub(super) fn working(shared: &Shared) -> bool {
    lock(&shared.task).cancel.is_some()
}

/// Runs the upload or the whole migration in the background, once the previous task has ended.
pub(super) fn spawn(
    kind: Activity,
    m: Arc<Migration>,
    shared: Arc<Shared>,
    watcher: Arc<Mutex<Option<Watcher>>>,
    services: Services,
    options: RunOptions,
) {
    let cancel = CancellationToken::new();
    // Locked until the new task is recorded, so that the next spawn waits for this one.
    let mut task = lock(&shared.task);
    task.generation += 1;
    task.activity = kind;
    task.cancel = Some(cancel.clone());
    task.paused = false;
    task.last_error = None;
    let generation = task.generation;
    let previous = task.running.take();
    shared.dirty.store(true, Ordering::SeqCst);
    let task_shared = shared.clone();
    task.running = Some(tokio::spawn(async move {
        let shared = task_shared;
        if let Some(previous) = previous {
            // Two tasks must never drive one plan at once (the same blobs, the same state).
            let _ = previous.await;
        }
        // Paused (or left) while it waited for the previous task: it never begins, so no run
        // is audited as started.
        let result = match kind {
            _ if cancel.is_cancelled() => None,
            Activity::Uploading => Some(m.upload(&services, &options, cancel).await),
            _ => Some(m.run(&services, &options, cancel).await),
        };
        {
            let mut task = lock(&shared.task);
            if task.generation == generation {
                task.activity = Activity::Idle;
                task.cancel = None;
                match result {
                    None => task.paused = true,
                    Some(Ok(summary)) => task.paused |= summary.interrupted,
                    Some(Err(e)) => task.last_error = Some(e.to_string()),
                }
            }
        }
        push(&m, &shared, &watcher);
    }));
}

/// Applies the engine's events to the live picture and pushes views while something changes.
pub(super) async fn forward(
    mut rx: UnboundedReceiver<MigrationEvent>,
    migration: Weak<Migration>,
    shared: Arc<Shared>,
    watcher: Arc<Mutex<Option<Watcher>>>,
) {
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    let mut last_sample = std::time::Instant::now() - Duration::from_secs(60);
    loop {
        tokio::select! {
            event = rx.recv() => {
                let Some(event) = event else { return };
                match &event {
                    MigrationEvent::Upload { database, upload } => {
                        lock(&shared.live).entry(database.clone()).or_default().apply(upload);
                    }
                    MigrationEvent::Transition { .. } => {
                        if let Some(m) = migration.upgrade() {
                            let shared = shared.clone();
                            let _ = tokio::task::spawn_blocking(move || refresh_sizes(&m, &shared)).await;
                        }
                    }
                    MigrationEvent::Polled { .. } | MigrationEvent::Note { .. } => {}
                }
                shared.dirty.store(true, Ordering::SeqCst);
            }
            _ = tick.tick() => {
                let Some(m) = migration.upgrade() else { return };
                let busy = lock(&shared.task).activity != Activity::Idle;
                if busy && last_sample.elapsed() >= Duration::from_secs(2) {
                    last_sample = std::time::Instant::now();
                    sample(&m, &shared);
                    shared.dirty.store(true, Ordering::SeqCst);
                }
                if shared.dirty.swap(false, Ordering::SeqCst) {
                    push(&m, &shared, &watcher);
                }
            }
        }
    }
}
