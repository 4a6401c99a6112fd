//! A run's upload step: scan a database's folder and upload its restore sequence, in chain
//! order, recording each file as shipped once committed and verified.

use super::drive::{Next, RunCtx};
use super::{shipped_names, MigrationEvent};
use crate::migration::audit::{Action, AuditEntry};
use crate::migration::plan::{DatabasePlan, Mode};
use crate::migration::shipping::{self, LocalFile};
use crate::migration::state::{DbRecord, ShippedFile};
use crate::migration::status::Event;
use crate::migration::MigrationError;
use crate::storage::client::UploadCredential;
use crate::storage::upload::{blob_name, UploadFile, UploadJob};

impl RunCtx<'_> {
    pub(super) async fn upload_sequence(&self, db: &DatabasePlan, record: &DbRecord) -> Result<Next, MigrationError> {
        let m = self.migration;
        let container = self.services.container.container().to_string();
        let scan = match shipping::scan(db, &container, &shipped_names(record)) {
            Ok(s) => s,
            Err(e) => return self.fail(db, Action::Inspected, &e.to_string()),
        };
        if !scan.errors.is_empty() && !self.options.force {
            let reason = format!(
                "the inspection of '{}' found errors; nothing was uploaded (fix them, or run with --force): {}",
                db.source.display(),
                scan.errors.join("; ")
            );
            return self.fail(db, Action::Inspected, &reason);
        }
        if let Some(halt) = &scan.halt {
            return self.fail(db, Action::Inspected, halt);
        }
        if scan.waiting.is_some() && scan.to_ship.is_empty() {
            m.note(&db.name, scan.waiting.clone().unwrap_or_default());
            return Ok(Next::Wait(self.options.scan_interval));
        }
        if self.plan_mode() == Mode::Autocomplete && scan.waiting.is_some() {
            // Autocomplete names the last backup at the start: wait until the folder is complete.
            m.note(&db.name, scan.waiting.clone().unwrap_or_default());
            return Ok(Next::Wait(self.options.scan_interval));
        }
        m.update(&db.name, |r| {
            r.last_local = scan.last_local().map(str::to_string);
            r.pending = scan.to_ship.iter().map(|f| f.name.clone()).collect();
        })?;
        m.transition(&db.name, Event::UploadBegan, "the inspection passed")?;
        let stopped = m.stopped_signal(&db.name);
        let permit = tokio::select! {
            () = self.cancel.cancelled() => return Ok(Next::Done),
            () = stopped.cancelled() => return Ok(Next::Done),
            permit = self.uploads.acquire() => permit,
        };
        let _permit = permit.map_err(|_| MigrationError::Cancelled)?;
        match self.ship(db, &scan.to_ship).await? {
            Shipped::All => {
                m.transition(&db.name, Event::UploadFinished, "every file of the sequence is committed and verified")?;
                Ok(Next::Continue)
            }
            Shipped::Cancelled => Ok(Next::Done),
            Shipped::Failed(reason) => self.fail(db, Action::Uploaded, &reason),
        }
    }

    /// Uploads `files` in order, one after the other (LRS must never see a log before the one it
    /// follows), recording each as shipped once committed and verified. Ends at once, sending
    /// nothing more, when the run is cancelled or the database is stopped.
    pub(super) async fn ship(&self, db: &DatabasePlan, files: &[LocalFile]) -> Result<Shipped, MigrationError> {
        let m = self.migration;
        let stopped = m.stopped_signal(&db.name);
        for file in files {
            let blob = blob_name(&db.folder, &file.path, false);
            let upload = UploadFile { source: file.path.clone(), blob: blob.clone() };
            let credential = UploadCredential::AccountKey(self.services.account_key.clone());
            let store = self.services.http.container(self.services.container.clone(), credential);
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
            let job = UploadJob::new(
                store,
                self.services.container.url().to_string(),
                vec![upload],
                self.options.upload.clone(),
            )
            .with_events(tx);
            let cancel = job.cancel_token();
            let forward = async {
                while let Some(event) = rx.recv().await {
                    m.emit(MigrationEvent::Upload { database: db.name.clone(), upload: event });
                }
            };
            let run = async {
                tokio::select! {
                    () = self.cancel.cancelled() => { cancel.cancel(); Err(None) }
                    () = stopped.cancelled() => { cancel.cancel(); Err(None) }
                    result = job.run() => result.map_err(Some),
                }
            };
            let (result, ()) = tokio::join!(run, forward);
            let summary = match result {
                Ok(s) => s,
                Err(None) => return Ok(Shipped::Cancelled),
                Err(Some(e)) if e.is_cancelled() => return Ok(Shipped::Cancelled),
                Err(Some(e)) => return Ok(Shipped::Failed(format!("upload of '{}' failed: {e}", file.path.display()))),
            };
            for done in summary.files {
                let shipped =
                    ShippedFile { name: file.name.clone(), size: done.size, content_md5: done.content_md5.clone() };
                m.update(&db.name, |r| {
                    if !r.is_shipped(&shipped.name) {
                        r.shipped.push(shipped.clone());
                    }
                    r.pending.retain(|p| p != &shipped.name);
                })?;
                m.log(
                    AuditEntry::new(
                        &self.services.identity,
                        Action::Uploaded,
                        format!("{}/{}", self.services.container.url(), blob),
                    )
                    .database(&db.name)
                    .detail(format!("{} bytes, Content-MD5 {}, {:?}", done.size, done.content_md5, done.outcome)),
                )?;
            }
        }
        Ok(Shipped::All)
    }
}

pub(super) enum Shipped {
    All,
    Cancelled,
    Failed(String),
}
