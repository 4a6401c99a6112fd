//! The plan's request inbox: how a cutover or a stop asked by another process (`lrs migrate
//! cutover|stop` while `lrs migrate run` or the app drives the plan and holds its lock) reaches
//! the process that drives it, which carries it out through the same gated [`Migration::cutover`]
//! and [`Migration::stop`] and writes the answer back.
//!
//! Under the plan's folder ([`PlanStore::dir`]), `requests/` holds three folders, one JSON file
//! per request named by its id (its time first, so names sort oldest first):
//! - `inbox/<id>.json`: a posted [`Request`], written atomically. Deleting it withdraws it (the
//!   asker withdraws it itself when it stops waiting before it was taken);
//! - `taken/<id>.json`: the driving process moved it there with one rename before acting, so a
//!   request is taken at most once, and a withdrawal (a delete) and a take cannot both succeed;
//! - `results/<id>.json`: its [`RequestResult`] (`done` with the new status, `refused` or `failed`
//!   with the plain message), written atomically once carried out. The asker removes it once read;
//!   one nobody read is removed a day later by the next process that opens the plan.
//!
//! A request in `taken/` with no result when a process opens the plan was being carried out by a
//! process that ended (killed, crashed): it is answered `interrupted` and never carried out again,
//! since a stop drops a database and a destructive action is not repeated on its own (a cutover
//! already recorded as CuttingOver is followed by the run anyway). For the same reason a request
//! carries the time its asker stops waiting (`expires_at`): one taken after it (its asker was
//! killed before it could withdraw it) is refused, never carried out days later by a new run
//! with nobody watching. No file holds a secret: the database, the backup's name, the name typed
//! to confirm, who asked and when.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::audit::{Action, AuditEntry};
use super::runner::{Migration, Services};
use super::status::DbStatus;
use super::store::{PlanStore, StoreError};
use super::MigrationError;
use crate::local;

/// The longest time between two looks at the inbox while a plan is driven.
pub const REQUEST_CHECK_INTERVAL: Duration = Duration::from_secs(1);

/// How long an answer waits for its asker before it is removed (when a process opens the plan).
pub const UNREAD_ANSWER_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// How long a request may wait to be taken, unless its asker says otherwise
/// ([`Request::valid_for`]).
pub const DEFAULT_REQUEST_VALIDITY: Duration = Duration::from_secs(120);

/// What is asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestAction {
    Cutover,
    Stop,
}

impl RequestAction {
    pub fn as_str(self) -> &'static str {
        match self {
            RequestAction::Cutover => "cutover",
            RequestAction::Stop => "stop",
        }
    }
}

/// One request, as posted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    pub id: String,
    pub action: RequestAction,
    pub database: String,
    /// Cutover: the last backup to complete with (`None`: the last one shipped and restored).
    pub last_backup: Option<String>,
    /// The name typed to confirm (the gates check it as if typed in the driving process).
    pub typed_name: String,
    /// Who asked (`local user alice`), for the audit log.
    pub requested_by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub requested_at: OffsetDateTime,
    /// When its asker stops waiting: taken later, it is refused, not carried out.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

impl Request {
    /// A new request with a fresh id (its time, then a random part).
    pub fn new(action: RequestAction, database: &str, typed_name: &str, requested_by: &str) -> Request {
        let now = OffsetDateTime::now_utc();
        let millis = now.unix_timestamp_nanos() / 1_000_000;
        let random = uuid::Uuid::new_v4().simple().to_string();
        Request {
            id: format!("{millis:013}-{}", &random[..8]),
            action,
            database: database.to_string(),
            last_backup: None,
            typed_name: typed_name.to_string(),
            requested_by: requested_by.to_string(),
            requested_at: now,
            expires_at: now + DEFAULT_REQUEST_VALIDITY,
        }
    }

    /// How long after it was asked the request may still be taken (at most 30 days, the longest
    /// LRS job).
    pub fn valid_for(mut self, validity: Duration) -> Request {
        self.expires_at = self.requested_at + validity.min(Duration::from_secs(30 * 24 * 3600));
        self
    }

    /// Whether its asker has stopped waiting for it.
    pub fn expired(&self, now: OffsetDateTime) -> bool {
        now > self.expires_at
    }

    pub fn last_backup(mut self, last_backup: Option<&str>) -> Request {
        self.last_backup = last_backup.map(str::to_string);
        self
    }
}

/// What came of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum RequestOutcome {
    /// Carried out: the database's status after it (CuttingOver once Azure accepted a cutover).
    Done { status: DbStatus },
    /// A gate refused it; nothing was sent.
    Refused { message: String },
    /// Azure or the plan's store refused or failed it.
    Failed { message: String },
    /// The process carrying it out ended before it answered; it was not carried out again.
    Interrupted { message: String },
}

impl RequestOutcome {
    /// The plain message of anything but `done`.
    pub fn message(&self) -> Option<&str> {
        match self {
            RequestOutcome::Done { .. } => None,
            RequestOutcome::Refused { message }
            | RequestOutcome::Failed { message }
            | RequestOutcome::Interrupted { message } => Some(message),
        }
    }

    fn audit_outcome(&self) -> &'static str {
        match self {
            RequestOutcome::Done { .. } => "ok",
            RequestOutcome::Refused { .. } => "refused",
            RequestOutcome::Failed { .. } | RequestOutcome::Interrupted { .. } => "failed",
        }
    }
}

/// The answer to one request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestResult {
    pub id: String,
    #[serde(flatten)]
    pub outcome: RequestOutcome,
    /// The process that answered (`process 4242`).
    pub answered_by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub answered_at: OffsetDateTime,
}

impl RequestResult {
    fn now(id: &str, outcome: RequestOutcome) -> RequestResult {
        RequestResult {
            id: id.to_string(),
            outcome,
            answered_by: format!("process {}", std::process::id()),
            answered_at: OffsetDateTime::now_utc(),
        }
    }
}

/// The inbox of one plan.
#[derive(Debug, Clone)]
pub struct RequestInbox {
    dir: PathBuf,
}

impl RequestInbox {
    /// The inbox in the plan's folder.
    pub fn of(store: &PlanStore) -> RequestInbox {
        RequestInbox { dir: store.dir().join("requests") }
    }

    /// Where a posted request waits until it is taken (delete it to withdraw it).
    pub fn posted_path(&self, id: &str) -> PathBuf {
        self.dir.join("inbox").join(format!("{id}.json"))
    }

    fn taken_path(&self, id: &str) -> PathBuf {
        self.dir.join("taken").join(format!("{id}.json"))
    }

    fn result_path(&self, id: &str) -> PathBuf {
        self.dir.join("results").join(format!("{id}.json"))
    }

    /// Posts `request`; returns where it waits.
    pub fn post(&self, request: &Request) -> Result<PathBuf, StoreError> {
        let path = self.posted_path(&request.id);
        let bytes = serde_json::to_vec_pretty(request)
            .map_err(|e| StoreError::Damaged { path: path.clone(), message: e.to_string() })?;
        local::write_atomic(&path, &bytes).map_err(|source| io("cannot post the request", &path, source))?;
        Ok(path)
    }

    /// Withdraws a request not taken yet: `true` when it was withdrawn, `false` when it had been
    /// taken already (then its result comes).
    pub fn withdraw(&self, id: &str) -> Result<bool, StoreError> {
        let path = self.posted_path(id);
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(source) => Err(io("cannot withdraw the request", &path, source)),
        }
    }

    /// Whether the request still waits in the inbox.
    pub fn is_waiting(&self, id: &str) -> bool {
        self.posted_path(id).exists()
    }

    /// Takes the oldest request (one rename: no other process can take it too). A request whose
    /// file cannot be read is answered `failed` and skipped.
    pub fn take_next(&self) -> Result<Option<Request>, StoreError> {
        for id in self.ids("inbox")? {
            let taken = self.taken_path(&id);
            let folder = self.dir.join("taken");
            std::fs::create_dir_all(&folder).map_err(|source| io("cannot create", &folder, source))?;
            match std::fs::rename(self.posted_path(&id), &taken) {
                Ok(()) => {}
                // Withdrawn, or taken by another process, meanwhile; or held for a moment by
                // another program (a virus scanner on Windows): looked at again next time.
                Err(_) => continue,
            }
            let read = std::fs::read(&taken).map_err(|e| e.to_string());
            match read.and_then(|bytes| serde_json::from_slice::<Request>(&bytes).map_err(|e| e.to_string())) {
                Ok(request) if request.id == id => return Ok(Some(request)),
                Ok(_) => {
                    self.answer(&id, RequestOutcome::Failed { message: "the request's id is not its file's".into() })?
                }
                Err(e) => {
                    self.answer(&id, RequestOutcome::Failed { message: format!("the request cannot be read: {e}") })?
                }
            };
        }
        Ok(None)
    }

    /// Writes the answer to a taken request.
    pub fn answer(&self, id: &str, outcome: RequestOutcome) -> Result<RequestResult, StoreError> {
        let result = RequestResult::now(id, outcome);
        let path = self.result_path(id);
        let bytes = serde_json::to_vec_pretty(&result)
            .map_err(|e| StoreError::Damaged { path: path.clone(), message: e.to_string() })?;
        local::write_atomic(&path, &bytes).map_err(|source| io("cannot write the request's result", &path, source))?;
        Ok(result)
    }

    /// The answer to a request, once there is one.
    pub fn result(&self, id: &str) -> Result<Option<RequestResult>, StoreError> {
        let path = self.result_path(id);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| StoreError::Damaged { path, message: e.to_string() }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(io("cannot read the request's result", &path, source)),
        }
    }

    /// Removes a request's files once its asker has read the answer.
    pub fn forget(&self, id: &str) {
        let _ = std::fs::remove_file(self.result_path(id));
        let _ = std::fs::remove_file(self.taken_path(id));
    }

    /// Removes the answers nobody came to read (their asker was killed or interrupted) once they
    /// are older than `age`, with their taken request; the audit log keeps what happened.
    pub fn forget_unread(&self, age: Duration) -> Result<usize, StoreError> {
        let mut forgotten = 0;
        for id in self.ids("results")? {
            let path = self.result_path(&id);
            let modified = std::fs::metadata(&path).and_then(|m| m.modified());
            if modified.is_ok_and(|at| at.elapsed().is_ok_and(|elapsed| elapsed > age)) {
                self.forget(&id);
                forgotten += 1;
            }
        }
        Ok(forgotten)
    }

    /// Answers `interrupted` every request taken and never answered. Call it only while holding
    /// the plan's lock: then no process is carrying one out.
    pub fn answer_interrupted(&self) -> Result<Vec<RequestResult>, StoreError> {
        let mut answered = Vec::new();
        for id in self.ids("taken")? {
            if self.result_path(&id).exists() {
                continue;
            }
            let message = "the process that took this request ended before it answered (killed or crashed), perhaps \
                           after Azure got it: a cutover recorded as sent (CuttingOver) is completed by the next \
                           `lrs migrate run`; a stop may have dropped the database. It is not carried out again: \
                           check `lrs migrate status` before you act or ask again";
            answered.push(self.answer(&id, RequestOutcome::Interrupted { message: message.into() })?);
        }
        Ok(answered)
    }

    /// The ids of the requests in one of the folders, oldest first (temporary files skipped).
    fn ids(&self, folder: &str) -> Result<Vec<String>, StoreError> {
        let dir = self.dir.join(folder);
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => return Err(io("cannot read", &dir, source)),
        };
        let mut ids: Vec<String> = entries
            .filter_map(Result::ok)
            .filter_map(|e| e.file_name().to_str().map(str::to_string))
            .filter(|name| !name.starts_with('.'))
            .filter_map(|name| name.strip_suffix(".json").map(str::to_string))
            .collect();
        ids.sort();
        Ok(ids)
    }
}

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

fn io(what: &'static str, path: &Path, source: std::io::Error) -> StoreError {
    StoreError::Io { what, path: path.to_path_buf(), source }
}

/// Carries out a taken request through the gated [`Migration::cutover`] or [`Migration::stop`],
/// audits who asked and what came of it, and writes the answer. Only a broken store or audit
/// log is an error (the run cannot keep its state); anything else is the request's answer.
pub(super) async fn carry_out(
    migration: &Migration,
    services: &Services,
    inbox: &RequestInbox,
    request: &Request,
) -> Result<RequestOutcome, MigrationError> {
    let what = format!("{} of {}", request.action.as_str(), request.database);
    let target = format!("request {}", request.id);
    let asked = AuditEntry::new(&request.requested_by, Action::Requested, target.clone())
        .database(&request.database)
        .detail(format!(
            "{what} asked by another process, carried out by the process driving the plan (process {})",
            std::process::id()
        ));
    migration.audit().append(asked)?;
    let deadline = Some(request.expires_at);
    let done = if request.expired(OffsetDateTime::now_utc()) {
        Err(MigrationError::Gate(format!(
            "expired: asked at {}, its asker stopped waiting at {}; not carried out. Ask again if it is still needed",
            rfc3339(request.requested_at),
            rfc3339(request.expires_at)
        )))
    } else {
        match request.action {
            RequestAction::Cutover => {
                let last = request.last_backup.as_deref();
                migration.cutover_before(services, &request.database, last, &request.typed_name, deadline).await
            }
            RequestAction::Stop => {
                migration.stop_before(services, &request.database, &request.typed_name, deadline).await
            }
        }
    };
    let outcome = match &done {
        Ok(status) => RequestOutcome::Done { status: *status },
        Err(e @ (MigrationError::Gate(_) | MigrationError::UnknownDatabase(_))) => {
            RequestOutcome::Refused { message: e.to_string() }
        }
        Err(e) => RequestOutcome::Failed { message: e.to_string() },
    };
    if let Some(message) = outcome.message() {
        let refused = AuditEntry::new(&request.requested_by, Action::Requested, target)
            .database(&request.database)
            .outcome(outcome.audit_outcome())
            .detail(format!("{what}: {message}"));
        migration.audit().append(refused)?;
    }
    inbox.answer(&request.id, outcome.clone())?;
    match done {
        Err(e @ (MigrationError::Store(_) | MigrationError::Audit(_))) => Err(e),
        _ => Ok(outcome),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inbox() -> (tempfile::TempDir, RequestInbox) {
        let dir = tempfile::tempdir().unwrap();
        let store = PlanStore::for_plan(Some(dir.path()), "plan").unwrap();
        (dir, RequestInbox::of(&store))
    }

    #[test]
    fn a_request_is_taken_once_oldest_first_and_answered() {
        let (_dir, inbox) = inbox();
        let first = Request::new(RequestAction::Cutover, "Sales", "Sales", "local user ann").last_backup(Some("l.trn"));
        std::thread::sleep(Duration::from_millis(2));
        let second = Request::new(RequestAction::Stop, "Hr", "Hr", "local user ann");
        inbox.post(&second).unwrap();
        inbox.post(&first).unwrap();
        assert!(inbox.is_waiting(&first.id));

        assert_eq!(inbox.take_next().unwrap(), Some(first.clone()));
        assert!(!inbox.is_waiting(&first.id));
        assert!(!inbox.withdraw(&first.id).unwrap(), "a taken request cannot be withdrawn");
        assert_eq!(inbox.take_next().unwrap(), Some(second.clone()));
        assert_eq!(inbox.take_next().unwrap(), None, "each request is taken once");

        assert_eq!(inbox.result(&first.id).unwrap(), None);
        inbox.answer(&first.id, RequestOutcome::Done { status: DbStatus::CuttingOver }).unwrap();
        let result = inbox.result(&first.id).unwrap().unwrap();
        assert_eq!(result.outcome, RequestOutcome::Done { status: DbStatus::CuttingOver });
        assert_eq!(result.answered_by, format!("process {}", std::process::id()));
        let text = std::fs::read_to_string(inbox.result_path(&first.id)).unwrap();
        assert!(text.contains("\"outcome\": \"done\"") && text.contains("\"status\": \"CuttingOver\""), "{text}");
        inbox.forget(&first.id);
        assert_eq!(inbox.result(&first.id).unwrap(), None);
    }

    #[test]
    fn a_withdrawn_request_is_never_taken() {
        let (_dir, inbox) = inbox();
        let request = Request::new(RequestAction::Stop, "Hr", "Hr", "local user ann");
        let path = inbox.post(&request).unwrap();
        assert!(path.ends_with(format!("requests/inbox/{}.json", request.id)), "{}", path.display());
        assert!(inbox.withdraw(&request.id).unwrap());
        assert_eq!(inbox.take_next().unwrap(), None);
    }

    #[test]
    fn a_request_taken_and_not_answered_is_answered_interrupted_not_taken_again() {
        let (_dir, inbox) = inbox();
        let stop = Request::new(RequestAction::Stop, "Hr", "Hr", "local user ann");
        let answered = Request::new(RequestAction::Cutover, "Sales", "Sales", "local user ann");
        inbox.post(&stop).unwrap();
        inbox.post(&answered).unwrap();
        let _ = inbox.take_next().unwrap();
        let _ = inbox.take_next().unwrap();
        inbox.answer(&answered.id, RequestOutcome::Refused { message: "not ready".into() }).unwrap();
        // The process that took them was killed: the next one to open the plan answers the first.
        let interrupted = inbox.answer_interrupted().unwrap();
        assert_eq!(interrupted.len(), 1);
        assert_eq!(interrupted[0].id, stop.id);
        let result = inbox.result(&stop.id).unwrap().unwrap();
        assert!(
            matches!(&result.outcome, RequestOutcome::Interrupted { message } if message.contains("not carried out again"))
        );
        assert_eq!(inbox.take_next().unwrap(), None, "an interrupted request is not carried out again");
        assert!(inbox.answer_interrupted().unwrap().is_empty(), "answered once");
        let refused = inbox.result(&answered.id).unwrap().unwrap();
        assert_eq!(refused.outcome.message(), Some("not ready"));
    }

    #[test]
    fn an_unreadable_request_is_answered_failed_and_skipped() {
        let (_dir, inbox) = inbox();
        let good = Request::new(RequestAction::Stop, "Hr", "Hr", "local user ann");
        inbox.post(&good).unwrap();
        std::fs::write(inbox.posted_path("0000000000000-broken"), "{ half").unwrap();
        assert_eq!(inbox.take_next().unwrap(), Some(good));
        let broken = inbox.result("0000000000000-broken").unwrap().unwrap();
        assert!(matches!(broken.outcome, RequestOutcome::Failed { .. }), "{broken:?}");
    }

    #[test]
    fn answers_nobody_read_are_removed_once_old() {
        let (_dir, inbox) = inbox();
        let old = Request::new(RequestAction::Stop, "Hr", "Hr", "local user ann");
        let fresh = Request::new(RequestAction::Stop, "Sales", "Sales", "local user ann");
        for request in [&old, &fresh] {
            inbox.post(request).unwrap();
            let _ = inbox.take_next().unwrap();
            inbox.answer(&request.id, RequestOutcome::Done { status: DbStatus::Stopped }).unwrap();
        }
        let two_days_ago = std::time::SystemTime::now() - Duration::from_secs(48 * 3600);
        let file = std::fs::File::options().write(true).open(inbox.result_path(&old.id)).unwrap();
        file.set_modified(two_days_ago).unwrap();

        assert_eq!(inbox.forget_unread(UNREAD_ANSWER_LIFETIME).unwrap(), 1);
        assert_eq!(inbox.result(&old.id).unwrap(), None);
        assert!(!inbox.taken_path(&old.id).exists());
        assert!(inbox.result(&fresh.id).unwrap().is_some(), "a recent answer stays for its asker");
    }

    #[test]
    fn a_request_expires_when_its_asker_stops_waiting() {
        let request =
            Request::new(RequestAction::Stop, "Hr", "Hr", "local user ann").valid_for(Duration::from_secs(30));
        assert!(!request.expired(request.requested_at + Duration::from_secs(30)));
        assert!(request.expired(request.requested_at + Duration::from_secs(31)));
        let default = Request::new(RequestAction::Stop, "Hr", "Hr", "local user ann");
        assert_eq!(default.expires_at - default.requested_at, DEFAULT_REQUEST_VALIDITY);
    }

    #[test]
    fn the_files_hold_no_secret_field() {
        let request = Request::new(RequestAction::Cutover, "Sales", "Sales", "local user ann");
        let json = serde_json::to_value(&request).unwrap();
        let mut keys: Vec<&str> = json.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            ["action", "database", "expires_at", "id", "last_backup", "requested_at", "requested_by", "typed_name"]
        );
    }
}
