//! The wizard's Upload step on [`lrs_core::session::MigrationDesk`], driven as the desktop app
//! drives it (a rehearsal session, the desk over the app's data folder, the calls the commands
//! make), against real Azurite and the LRS emulator: pause stops the upload and resume sends only
//! the blocks still missing; after the app's process dies a new one finds the plan and carries on;
//! cancel leaves the migration before the start (a new upload skips what is there) and is refused
//! once a restore was started; a stop during the upload ends it at once.
//!
//! Every Put Block goes through a logging proxy. With one block in flight, the proxy holds one
//! block of the differential backup unanswered (a network that hangs), so the upload is surely in
//! the middle of that file, with the full committed and the blocks before the held one staged,
//! when the test pauses, cancels or ends the app. Skips without Azurite or a keychain (see
//! `desk_support.rs`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod desk_support;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use desk_support::*;
use lrs_core::migration::{DbStatus, PlanStore};
use lrs_core::session::{Activity, CutoverRequest, MigrationView, SessionErrorKind, StopRequest};
use lrs_core::storage::upload::blob_name;
use lrs_testkit::{Fault, Op, Scheduled};

/// How long a whole upload of a test chain may take.
const UPLOAD_TIMEOUT: Duration = Duration::from_secs(120);

/// A chain being uploaded through the proxy, held at the third block of its differential.
struct HeldUpload {
    /// Dropped first: the app ends before the world it talks to.
    app: App,
    world: World,
    data: PathBuf,
    files: Vec<PathBuf>,
    /// The blob of each file, in restore order.
    blobs: Vec<String>,
    folder: String,
    plan_id: String,
    pushed: PushedViews,
    _dir: tempfile::TempDir,
}

/// Starts the upload of a 20 MiB full, a 40 MiB differential and two logs, and returns once the
/// proxy holds the differential's third block.
fn held_upload(test: &str) -> Option<HeldUpload> {
    let dir = tempfile::tempdir().unwrap();
    let backups = dir.path().join("backups").join("Sales");
    let files = write_chain(&backups, "Sales", 20, 40);
    let held = blocks_of(&files[0]) + 3;
    let hold = Scheduled { op: Op::PutBlock, nth: held, fault: Fault::Stall(Duration::from_secs(300)) };
    let world = World::start(test, vec![hold])?;
    let data = dir.path().join("app");
    let app = world.app(&data);
    app.one_block_at_a_time();
    app.walk_wizard(&world, &backups, &world.proxied_container(), false);
    let pushed = PushedViews::default();
    pushed.watch(&app);
    let view = app.on(|session, desk| desk.start_upload(session)).unwrap();
    assert_eq!(view.activity, Activity::Uploading, "{view:#?}");
    assert_eq!(view.databases.len(), 1);
    let folder = view.databases[0].folder.clone();
    let blobs = files.iter().map(|f| blob_name(&folder, f, false)).collect();
    world.wait_for_put_blocks(held, UPLOAD_TIMEOUT);
    let plan_id = view.plan_id;
    Some(HeldUpload { app, world, data, files, blobs, folder, plan_id, pushed, _dir: dir })
}

impl HeldUpload {
    /// The container while the differential is held: the full committed, the differential's two
    /// first blocks staged. Returns those blocks.
    fn staged_before_the_held_block(&self) -> std::collections::HashSet<String> {
        let committed = self.world.committed_blobs();
        assert!(committed.contains(&self.blobs[0]), "the full is committed: {committed:?}");
        assert!(!committed.contains(&self.blobs[1]), "the differential is not: {committed:?}");
        let staged = self.world.staged_blocks(&self.blobs[1]);
        assert_eq!(staged.len(), 2, "the blocks before the held one: {staged:?}");
        staged
    }

    /// After the upload carried on from request `from`: every blob is identical to its file, the
    /// full was not sent again and the differential got exactly its missing blocks.
    fn assert_finished_without_resending(&self, from: usize, staged: &std::collections::HashSet<String>) {
        self.world.assert_identical(&self.folder, &self.files);
        let sent = by_blob(&self.world.put_blocks_since(from));
        assert!(!sent.contains_key(&self.blobs[0]), "the committed full was sent again: {sent:?}");
        let diff = sent.get(&self.blobs[1]).cloned().unwrap_or_default();
        let again: Vec<&String> = diff.iter().filter(|id| staged.contains(*id)).collect();
        assert!(again.is_empty(), "blocks staged before were sent again: {again:?}");
        assert_eq!(diff.len(), blocks_of(&self.files[1]) - staged.len(), "only the missing blocks: {diff:?}");
    }
}

fn uploaded(view: &MigrationView) -> bool {
    view.uploaded && view.activity == Activity::Idle
}

fn assert_all_uploaded(view: &MigrationView) {
    assert!(!view.paused && view.last_error.is_none(), "{view:#?}");
    assert!(view.databases.iter().all(|d| d.status == DbStatus::Uploaded), "{view:#?}");
    assert_eq!(view.upload.done_bytes, view.upload.total_bytes);
    assert_eq!(view.upload.files_done, view.upload.files_total);
}

#[test]
fn pause_stops_the_upload_and_resume_sends_only_the_missing_blocks() {
    let Some(t) = held_upload("pause") else { return };
    let paused_at = Instant::now();
    let view = t.app.on(|_, desk| desk.pause()).unwrap().expect("the migration's view");
    assert_eq!(view.plan_id, t.plan_id);
    let view = t.app.wait_view("the pause", Duration::from_secs(10), |v| v.activity == Activity::Idle);
    assert!(paused_at.elapsed() < Duration::from_secs(10), "a hanging block does not hold the pause up");
    assert!(view.paused && !view.uploaded, "the view says paused: {view:#?}");
    assert_eq!(view.databases[0].status, DbStatus::Uploading);
    assert_eq!(view.databases[0].files_uploaded, 1, "{view:#?}");
    let end = Instant::now() + Duration::from_secs(5);
    while !t.pushed.last().is_some_and(|v| v.paused && v.activity == Activity::Idle) {
        assert!(Instant::now() < end, "the page was not told: {:#?}", t.pushed.last());
        std::thread::sleep(Duration::from_millis(50));
    }

    // Nothing more reaches the container once the pause settled.
    let seen = t.world.requests_seen();
    let staged = t.staged_before_the_held_block();
    let committed = t.world.committed_blobs();
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(t.world.requests_seen(), seen, "requests after the pause: {:?}", &t.world.proxy.log()[seen..]);
    assert_eq!(t.world.staged_blocks(&t.blobs[1]), staged);
    assert_eq!(t.world.committed_blobs(), committed);
    assert!(t.app.view().unwrap().paused, "still paused");

    let view = t.app.on(|session, desk| desk.resume(session)).unwrap();
    assert_eq!(view.activity, Activity::Uploading, "{view:#?}");
    assert!(!view.paused);
    let view = t.app.wait_view("the upload", UPLOAD_TIMEOUT, uploaded);
    assert_all_uploaded(&view);
    t.assert_finished_without_resending(seen, &staged);
}

#[test]
fn a_resume_at_once_after_a_pause_is_not_lost() {
    let Some(t) = held_upload("quick-resume") else { return };
    let staged = t.staged_before_the_held_block();
    let from = t.world.requests_seen();
    t.app.on(|_, desk| desk.pause()).unwrap();
    // The held block is still being dropped: the paused task has not ended yet.
    let view = t.app.on(|session, desk| desk.resume(session)).unwrap();
    assert_eq!(view.activity, Activity::Uploading, "{view:#?}");
    let view = t.app.wait_view("the task's end", UPLOAD_TIMEOUT, |v| v.activity == Activity::Idle);
    assert_all_uploaded(&view);
    t.assert_finished_without_resending(from, &staged);
}

#[test]
fn after_the_app_dies_a_new_one_finds_the_upload_and_carries_on() {
    let Some(t) = held_upload("restart") else { return };
    let HeldUpload { world, app, data, files, blobs, folder, plan_id, _dir, .. } = t;
    app.kill();

    // A new process over the same data folder: a new session (rehearsal, signed in) and desk.
    let t = HeldUpload {
        app: world.app(&data),
        world,
        data,
        files,
        blobs,
        folder,
        plan_id: plan_id.clone(),
        pushed: PushedViews::default(),
        _dir,
    };
    let staged = t.staged_before_the_held_block();
    let from = t.world.requests_seen();
    let view = t.app.view().expect("the saved migration is found again");
    assert_eq!(view.plan_id, plan_id);
    assert_eq!(view.activity, Activity::Idle);
    assert!(view.paused && !view.uploaded, "an interrupted upload shows as paused: {view:#?}");
    assert_eq!(view.databases[0].status, DbStatus::Uploading);
    assert_eq!(view.databases[0].files_uploaded, 1, "{view:#?}");
    assert!(t.app.session.choices().databases.is_empty(), "the new app's wizard starts empty");

    // The Upload page's Resume.
    let view = t.app.on(|session, desk| desk.start_upload(session)).unwrap();
    assert_eq!(view.plan_id, plan_id);
    assert_eq!(view.activity, Activity::Uploading, "{view:#?}");
    let view = t.app.wait_view("the upload", UPLOAD_TIMEOUT, uploaded);
    assert_all_uploaded(&view);
    t.assert_finished_without_resending(from, &staged);
}

#[test]
fn an_app_opened_while_lrs_migrate_drives_its_plan_says_so_until_it_is_free() {
    let Some(t) = held_upload("locked") else { return };
    let HeldUpload { world, app, data, plan_id, _dir, .. } = t;
    app.kill();
    // `lrs migrate run` (here: this test) drives the plan the app saved.
    let store = PlanStore::for_plan(Some(&data.join("migrations")), &plan_id).unwrap();
    let held = store.lock().unwrap();
    let app = world.app(&data);
    for attempt in 1..=2 {
        let refused = app.on(|_, desk| desk.view()).expect_err("the plan is driven by another process");
        assert_eq!(refused.kind(), SessionErrorKind::NotReady, "attempt {attempt}: {refused}");
        assert!(refused.to_string().contains("another lrs process"), "attempt {attempt}: {refused}");
    }
    drop(held);
    let view = app.view().expect("once free, the app's migration is back");
    assert_eq!(view.plan_id, plan_id);
}

#[test]
fn cancel_before_the_start_leaves_the_migration_and_a_new_upload_skips_what_is_there() {
    let Some(t) = held_upload("cancel") else { return };
    let staged = t.staged_before_the_held_block();
    t.app.on(|_, desk| desk.cancel()).unwrap();
    let pushed_before = t.pushed.count();
    assert!(t.app.view().is_none(), "no current migration after cancel");
    assert!(!t.data.join("migrations/current").exists());

    // The cancelled upload stops, and the page is not shown that migration again.
    let end = Instant::now() + Duration::from_secs(5);
    let mut seen = t.world.requests_seen();
    loop {
        std::thread::sleep(Duration::from_secs(1));
        let now = t.world.requests_seen();
        if now == seen {
            break;
        }
        assert!(Instant::now() < end, "the cancelled upload keeps sending");
        seen = now;
    }
    let late: Vec<String> = t.pushed.since(pushed_before).into_iter().map(|v| v.plan_id).collect();
    assert!(late.iter().all(|id| id != &t.plan_id), "views of the cancelled migration were pushed: {late:?}");

    let view = t.app.on(|session, desk| desk.start_upload(session)).unwrap();
    assert_ne!(view.plan_id, t.plan_id, "a new migration");
    let view = t.app.wait_view("the new upload", UPLOAD_TIMEOUT, uploaded);
    assert_all_uploaded(&view);
    t.assert_finished_without_resending(seen, &staged);
    let audit = t.app.on(|_, desk| desk.audit()).unwrap();
    let full = audit
        .iter()
        .find(|row| row.action == "uploaded" && row.target.ends_with(&t.blobs[0]))
        .expect("the full in the new migration's audit log");
    assert!(full.detail.contains("Skipped"), "{full:?}");
}

#[test]
fn during_the_upload_a_cutover_is_refused_at_once_and_a_stop_ends_it() {
    let Some(t) = held_upload("stop") else { return };
    let staged = t.staged_before_the_held_block();
    // A cutover now is refused at once, not after the hanging upload.
    let asked = Instant::now();
    let cutover = CutoverRequest { database: "Sales".into(), last_backup: None, typed_name: "Sales".into() };
    let refused = t.app.block_on(t.app.desk.cutover(&t.app.session, vec![cutover])).unwrap();
    assert!(!refused[0].ok && refused[0].message.contains("is Uploading, not ReadyForCutover"), "{refused:?}");
    assert!(asked.elapsed() < Duration::from_secs(5), "the refusal waited {:?}", asked.elapsed());

    let stop = StopRequest { database: "Sales".into(), typed_name: "Sales".into() };
    let outcomes = t.app.block_on(t.app.desk.stop(&t.app.session, vec![stop]));
    let outcome = &outcomes.unwrap()[0];
    assert!(outcome.ok && outcome.message.contains("nothing had been started"), "{outcome:?}");

    // The held block would hang for minutes, and the rest of the sequence follow it: the stop
    // ends the upload instead, and the task with it.
    let view = t.app.wait_view("the stopped upload's end", Duration::from_secs(10), |v| v.activity == Activity::Idle);
    assert_eq!(view.databases[0].status, DbStatus::Stopped, "{view:#?}");
    let seen = t.world.requests_seen();
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(t.world.requests_seen(), seen, "requests after the stop: {:?}", &t.world.proxy.log()[seen..]);
    let committed = t.world.committed_blobs();
    assert!(t.blobs[1..].iter().all(|b| !committed.contains(b)), "nothing more was committed: {committed:?}");
    assert_eq!(t.world.staged_blocks(&t.blobs[1]), staged);
    let audit = t.app.on(|_, desk| desk.audit()).unwrap();
    assert!(audit.iter().any(|row| row.action == "stop" && row.detail.contains("during its upload")), "{audit:?}");
}

#[test]
fn cancel_is_refused_once_a_restore_was_started() {
    let Some(world) = World::start("refused", Vec::new()) else { return };
    let dir = tempfile::tempdir().unwrap();
    let backups = dir.path().join("backups").join("HR");
    write_chain(&backups, "HR", 2, 1);
    let data = dir.path().join("app");
    let app = world.app(&data);
    app.walk_wizard(&world, &backups, &world.direct_container(), true);
    let view = app.on(|session, desk| desk.start_upload(session)).unwrap();
    let plan_id = view.plan_id;
    app.wait_view("the upload", UPLOAD_TIMEOUT, uploaded);
    app.start_continuous();
    app.wait_view("the start", UPLOAD_TIMEOUT, |v| v.databases.iter().all(|d| d.status.may_have_restore()));

    let err = app.on(|_, desk| desk.cancel()).unwrap_err();
    assert_eq!(err.kind(), SessionErrorKind::NotReady, "{err}");
    assert!(err.to_string().contains("'HR' is being restored"), "{err}");
    let view = app.view().expect("the migration is still the current one");
    assert_eq!(view.plan_id, plan_id);
    assert!(data.join("migrations/current").exists());
}
