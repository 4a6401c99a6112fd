//! The Log Replay Service operations on one database ([`LrsDatabase`]), with the checks the Azure
//! tools learned to make first:
//! - start: the name must be free (GET gives 404), the collation defaults to the instance's,
//!   autocomplete needs the last backup name; the PUT (`createMode: RestoreExternalBackup`) returns
//!   as soon as it is accepted: its operation stays `InProgress` for the whole migration;
//! - status: `restoreDetails/Default`, typed ([`RestoreStatus`]);
//! - complete: only when the named backup is the last restored file; then the cutover is followed;
//! - stop: only when `restoreDetails` says `LRSRestore` and the restore is not `Completed` (stop
//!   drops the database, and after the cutover that is the migrated one); then the drop is followed.
//!
//! The start body carries the SAS: it is built here, sent, and never logged or put in an error.

use reqwest::Method;
use serde_json::{json, Value};

use super::client::ArmClient;
use super::defaults::SQL_API_VERSION;
use super::error::{ArmError, ErrorKind};
use super::lro::{self, LroOutcome, Operation, Wait};
use super::pickers::instance_path;
use super::restore_status::{RestoreState, RestoreStatus};
use crate::secrets::Secret;

/// A managed database, by its place in ARM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseRef {
    pub subscription: String,
    pub resource_group: String,
    pub instance: String,
    pub database: String,
}

impl DatabaseRef {
    pub fn path(&self) -> String {
        let instance = instance_path(&self.subscription, &self.resource_group, &self.instance);
        format!("{instance}/databases/{}", super::pickers::seg(&self.database))
    }
}

/// How LRS reads the storage folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorageAuth {
    /// A Read+List SAS for the container (without the leading `?`).
    Sas(Secret),
    /// The managed instance's managed identity (Storage Blob Data Reader on the account).
    ManagedIdentity,
}

/// What to start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartRequest {
    /// The database's folder URL: `https://<account>.blob.core.windows.net/<container>/<folder>`.
    pub storage_container_uri: String,
    pub auth: StorageAuth,
    /// `None`: the managed instance's collation.
    pub collation: Option<String>,
    /// Complete by itself after `last_backup_name` is restored.
    pub auto_complete: bool,
    /// The bare file name of the last backup (required with `auto_complete`).
    pub last_backup_name: Option<String>,
}

/// A start the service accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Started {
    /// `201`/`202` (or `200`).
    pub status: u16,
    pub location: String,
    pub collation: String,
    pub request_id: Option<String>,
    /// The start operation: it stays `InProgress` until the migration ends, so it is not waited on.
    pub operation: Option<Operation>,
}

/// Why an LRS operation was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum LrsError {
    #[error(transparent)]
    Arm(#[from] ArmError),
    #[error("database '{0}' already exists on the managed instance: choose another name (a database LRS restores must not exist yet)")]
    DatabaseExists(String),
    #[error("autocomplete needs the name of the last backup file")]
    MissingLastBackupName,
    #[error("the last backup name is not valid: {0}")]
    InvalidLastBackupName(&'static str),
    #[error("the storage URI is not valid: {0}")]
    InvalidStorageUri(String),
    #[error("the instance reports no collation: give one")]
    NoCollation,
    #[error("'{requested}' is not the last restored backup (last restored: {}); wait until it is restored, then complete", .last_restored.as_deref().unwrap_or("none yet"))]
    NotLastRestored { requested: String, last_restored: Option<String> },
    #[error("the restore of '{database}' is {state:?}: there is nothing left to complete or stop")]
    NotRestoring { database: String, state: RestoreState },
    #[error("refusing to stop '{database}': {found}. Stop drops the database, so it is allowed only for a database LRS is restoring")]
    NotAnLrsRestore { database: String, found: String },
}

/// Checks a last backup name as the service does (bare file name, ASCII, no line breaks).
pub fn check_last_backup_name(name: &str) -> Result<(), LrsError> {
    if name.trim().is_empty() {
        return Err(LrsError::InvalidLastBackupName("it is empty"));
    }
    if name.contains(['\n', '\r']) {
        return Err(LrsError::InvalidLastBackupName("it contains a line break"));
    }
    if !name.is_ascii() {
        return Err(LrsError::InvalidLastBackupName("LRS accepts ASCII characters only"));
    }
    if name.contains('/') || name.contains('\\') {
        return Err(LrsError::InvalidLastBackupName("give the bare file name, without a folder"));
    }
    Ok(())
}

/// Checks the folder URL: https (http on loopback, for Azurite), and no SAS in it.
pub fn check_storage_uri(uri: &str) -> Result<(), LrsError> {
    let bad = |m: &str| Err(LrsError::InvalidStorageUri(m.to_string()));
    let Ok(url) = url::Url::parse(uri) else { return bad("it is not a URL") };
    if url.query().is_some() || uri.contains('?') {
        return bad("it must not contain '?': pass the SAS separately");
    }
    if url.scheme() != "https" && !(url.scheme() == "http" && super::cloud::is_loopback(&url)) {
        return bad("it must use https://");
    }
    if url.path().trim_matches('/').is_empty() {
        return bad("it must name the container and the database's folder");
    }
    Ok(())
}

/// LRS operations on one database.
#[derive(Debug, Clone)]
pub struct LrsDatabase<'a> {
    client: &'a ArmClient,
    db: DatabaseRef,
}

impl ArmClient {
    pub fn lrs(&self, db: DatabaseRef) -> LrsDatabase<'_> {
        LrsDatabase { client: self, db }
    }
}

impl LrsDatabase<'_> {
    pub fn database(&self) -> &DatabaseRef {
        &self.db
    }

    /// Starts the restore and returns as soon as the service accepts it.
    pub async fn start(&self, request: &StartRequest) -> Result<Started, LrsError> {
        let last = request.last_backup_name.as_deref().filter(|n| !n.trim().is_empty());
        if request.auto_complete && last.is_none() {
            return Err(LrsError::MissingLastBackupName);
        }
        if let Some(name) = last {
            check_last_backup_name(name)?;
        }
        check_storage_uri(&request.storage_container_uri)?;
        self.ensure_name_is_free().await?;
        let c = self.client;
        let instance = c.managed_instance(&self.db.subscription, &self.db.resource_group, &self.db.instance).await?;
        let collation = request
            .collation
            .clone()
            .or(instance.collation.clone())
            .filter(|c| !c.is_empty())
            .ok_or(LrsError::NoCollation)?;
        let body = start_body(request, &instance.location, &collation, last);
        let what = format!("start the restore of '{}'", self.db.database);
        let url = c.url(&self.db.path(), SQL_API_VERSION)?;
        let response = c.send(Method::PUT, url, Some(&body), &what).await?;
        // Azure accepted the start: whatever its headers say, report it as started (a second start
        // would only meet the database it created).
        let operation = Operation::from_response(&what, &response).ok().flatten();
        Ok(Started {
            status: response.status,
            location: instance.location,
            collation,
            request_id: response.request_id,
            operation,
        })
    }

    async fn ensure_name_is_free(&self) -> Result<(), LrsError> {
        let what = format!("check that database '{}' does not exist", self.db.database);
        match self.client.get_json::<Value>(&self.db.path(), SQL_API_VERSION, &what).await {
            Ok(_) => Err(LrsError::DatabaseExists(self.db.database.clone())),
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// The restore's progress (`restoreDetails/Default`).
    pub async fn status(&self) -> Result<RestoreStatus, ArmError> {
        let path = format!("{}/restoreDetails/Default", self.db.path());
        let what = format!("get the restore status of '{}'", self.db.database);
        let body: Value = self.client.get_json(&path, SQL_API_VERSION, &what).await?;
        Ok(RestoreStatus::from_resource(&body))
    }

    /// The cutover: refused unless `last_backup_name` is the last restored file; then
    /// `completeRestore`, followed according to `wait`.
    pub async fn complete(&self, last_backup_name: &str, wait: &Wait) -> Result<LroOutcome, LrsError> {
        check_last_backup_name(last_backup_name)?;
        let status = self.status().await?;
        if status.state.is_final() {
            return Err(LrsError::NotRestoring { database: self.db.database.clone(), state: status.state });
        }
        if status.last_restored_file.as_deref().map(str::trim) != Some(last_backup_name.trim()) {
            return Err(LrsError::NotLastRestored {
                requested: last_backup_name.to_string(),
                last_restored: status.last_restored_file,
            });
        }
        let what = format!("complete the restore of '{}'", self.db.database);
        let url = self.client.url(&format!("{}/completeRestore", self.db.path()), SQL_API_VERSION)?;
        let body = json!({ "lastBackupName": last_backup_name.trim() });
        let response = self.client.send(Method::POST, url, Some(&body), &what).await?;
        Ok(lro::follow(self.client, &what, &response, wait).await?)
    }

    /// Stops the restore by dropping the database: refused unless `restoreDetails` says
    /// `LRSRestore`; then the DELETE, followed according to `wait`.
    pub async fn stop(&self, wait: &Wait) -> Result<LroOutcome, LrsError> {
        let database = self.db.database.clone();
        let status = match self.status().await {
            Ok(status) => status,
            Err(e) if matches!(e.kind, ErrorKind::BadRequest | ErrorKind::NotFound) => {
                let code = e.code.clone().unwrap_or_else(|| e.kind_name().to_string());
                let found = format!("it has no Log Replay restore details ({code})");
                return Err(LrsError::NotAnLrsRestore { database, found });
            }
            Err(e) => return Err(e.into()),
        };
        if status.state == RestoreState::Completed {
            // After the cutover the database is online with the migrated data: dropping it is not a stop.
            return Err(LrsError::NotRestoring { database, state: status.state });
        }
        if !status.is_lrs_restore() {
            let found = match &status.restore_type {
                Some(t) => format!("its restore type is '{t}', not 'LRSRestore'"),
                None => "its restore details do not say 'LRSRestore'".to_string(),
            };
            return Err(LrsError::NotAnLrsRestore { database, found });
        }
        let what = format!("stop the restore of '{database}' (drop the database)");
        let url = self.client.url(&self.db.path(), SQL_API_VERSION)?;
        let response = self.client.send(Method::DELETE, url, None, &what).await?;
        Ok(lro::follow(self.client, &what, &response, wait).await?)
    }
}

/// The start body of the reference (`location` + `properties`); holds the SAS.
fn start_body(request: &StartRequest, location: &str, collation: &str, last: Option<&str>) -> Value {
    let mut properties = json!({
        "createMode": "RestoreExternalBackup",
        "storageContainerUri": request.storage_container_uri.trim_end_matches('/'),
        "collation": collation,
        "autoCompleteRestore": request.auto_complete,
    });
    match &request.auth {
        StorageAuth::Sas(sas) => properties["storageContainerSasToken"] = json!(sas.expose().trim_start_matches('?')),
        StorageAuth::ManagedIdentity => properties["storageContainerIdentity"] = json!("ManagedIdentity"),
    }
    if let Some(last) = last {
        properties["lastBackupName"] = json!(last.trim());
    }
    json!({ "location": location, "properties": properties })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_start_body_is_the_references() {
        let request = StartRequest {
            storage_container_uri: "https://myaccountname.blob.core.windows.net/backups/".into(),
            auth: StorageAuth::Sas(Secret::new("?sv=2015-12-11&sr=c&sp=rl&sig=1234")),
            collation: None,
            auto_complete: true,
            last_backup_name: Some("last_backup_name".into()),
        };
        let body = start_body(&request, "southeastasia", "SQL_Latin1_General_CP1_CI_AS", Some("last_backup_name"));
        let expected = json!({
          "properties": {
            "createMode": "RestoreExternalBackup",
            "storageContainerUri": "https://myaccountname.blob.core.windows.net/backups",
            "storageContainerSasToken": "sv=2015-12-11&sr=c&sp=rl&sig=1234",
            "collation": "SQL_Latin1_General_CP1_CI_AS",
            "autoCompleteRestore": true,
            "lastBackupName": "last_backup_name"
          },
          "location": "southeastasia"
        });
        assert_eq!(body, expected);
        let mi = StartRequest { auth: StorageAuth::ManagedIdentity, ..request };
        let body = start_body(&mi, "southeastasia", "C", None);
        assert_eq!(body["properties"]["storageContainerIdentity"], "ManagedIdentity");
        assert!(body["properties"].get("storageContainerSasToken").is_none());
        assert!(body["properties"].get("lastBackupName").is_none());
    }

    #[test]
    fn names_and_uris_are_checked_before_any_call() {
        assert!(check_last_backup_name("log_5.trn").is_ok());
        assert!(check_last_backup_name("log\n5.trn").is_err());
        assert!(check_last_backup_name("journal_é.trn").is_err());
        assert!(check_last_backup_name("db/log.trn").is_err());
        assert!(check_last_backup_name(" ").is_err());
        assert!(check_storage_uri("https://a.blob.core.windows.net/c/db1").is_ok());
        assert!(check_storage_uri("http://127.0.0.1:10000/devstoreaccount1/c/db1").is_ok());
        assert!(check_storage_uri("http://a.blob.core.windows.net/c/db1").is_err());
        assert!(check_storage_uri("https://a.blob.core.windows.net/c/db1?sv=1&sig=x").is_err());
        assert!(check_storage_uri("https://a.blob.core.windows.net/").is_err());
    }

    #[test]
    fn database_paths_are_escaped() {
        let db = DatabaseRef {
            subscription: "s".into(),
            resource_group: "rg".into(),
            instance: "mi".into(),
            database: "Sales DB".into(),
        };
        assert_eq!(
            db.path(),
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Sql/managedInstances/mi/databases/Sales%20DB"
        );
        // `..` must not resolve to the instance itself.
        let up = DatabaseRef { database: "..".into(), ..db };
        assert!(up.path().ends_with("/databases/%2E%2E"), "{}", up.path());
    }
}
