//! Managed databases: PUT (`createMode: RestoreExternalBackup` starts LRS and answers 202 with an
//! operation that stays InProgress for the whole migration; `Default` creates a plain database),
//! GET, list, DELETE (202 + operation; 204 when absent), `restoreDetails/Default` and
//! `completeRestore`, with the service's validation codes (reference §1.3, §3.1, §7).

use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::Response;
use serde_json::{json, Value};
use time::Duration;

use super::Req;
use crate::http::{json_response, timestamp, ArmError};
use crate::lrs::{self, details, tick::tick, CompleteRequest, Job, Phase};
use crate::state::{Database, DbKey, Operation, OperationKind, OperationStatus};

const DATABASES: &str = "subscriptions/*/resourcegroups/*/providers/microsoft.sql/managedinstances/*/databases";
const RESERVED_NAMES: [&str; 4] = ["master", "model", "msdb", "tempdb"];

pub async fn route(req: &Req) -> Result<Option<Response>, ArmError> {
    let one = format!("{DATABASES}/*");
    if let Some(c) = req.matches(Method::GET, DATABASES) {
        let mi = req.instance(&c[0], &c[1], &c[2])?;
        req.require_sql_version(&mi.location, "managedInstances/databases")?;
        let items =
            req.app.read(|s| s.databases.iter().filter(|d| d.key.on_instance(&c[0], &c[1], &c[2])).map(body).collect());
        return Ok(Some(json_response(StatusCode::OK, &req.page(items))));
    }
    let key = |c: &[String]| DbKey {
        subscription: c[0].clone(),
        group: c[1].clone(),
        instance: c[2].clone(),
        name: c[3].clone(),
    };
    if let Some(c) = req.matches(Method::GET, &one) {
        let (key, _) = checked(req, key(&c))?;
        tick(&req.app).await;
        let db = req.app.read(|s| s.database(&key).cloned()).ok_or_else(|| not_found(&key))?;
        return Ok(Some(json_response(StatusCode::OK, &body(&db))));
    }
    if let Some(c) = req.matches(Method::PUT, &one) {
        return put(req, key(&c)).map(Some);
    }
    if let Some(c) = req.matches(Method::DELETE, &one) {
        return delete(req, key(&c)).map(Some);
    }
    if let Some(c) = req.matches(Method::GET, &format!("{one}/restoredetails/*")) {
        let (key, _) = checked(req, key(&c))?;
        if !c[4].eq_ignore_ascii_case("Default") {
            return Err(ArmError::resource_not_found(&format!("restoreDetails/{}", c[4]), &key.group));
        }
        tick(&req.app).await;
        let db = req.app.read(|s| s.database(&key).cloned()).ok_or_else(|| not_found(&key))?;
        let job = db.restore.as_ref().ok_or_else(|| {
            ArmError::bad_request(
                "RestoreDetailsNotAvailableOrExpired",
                "Requested restore details are not available, or have expired.",
            )
        })?;
        return Ok(Some(json_response(StatusCode::OK, &details::resource(&db.key.id(), job, &req.api_version))));
    }
    if let Some(c) = req.matches(Method::POST, &format!("{one}/completerestore")) {
        tick(&req.app).await;
        return complete(req, key(&c)).map(Some);
    }
    Ok(None)
}

/// Checks the instance exists and the api-version; returns the key with the instance's location.
fn checked(req: &Req, key: DbKey) -> Result<(DbKey, String), ArmError> {
    let mi = req.instance(&key.subscription, &key.group, &key.instance)?;
    req.require_sql_version(&mi.location, "managedInstances/databases")?;
    Ok((key, mi.location))
}

fn not_found(key: &DbKey) -> ArmError {
    ArmError::resource_not_found(
        &format!("Microsoft.Sql/managedInstances/{}/databases/{}", key.instance, key.name),
        &key.group,
    )
}

/// The database resource, as `ManagedDatabaseGet.json` shows it.
pub fn body(db: &Database) -> Value {
    let status = match db.restore.as_ref().map(|j| j.phase) {
        None | Some(Phase::Completed) => "Online",
        Some(_) => "Restoring",
    };
    json!({
        "properties": {
            "collation": db.collation,
            "status": status,
            "creationDate": timestamp(db.created),
            "defaultSecondaryLocation": paired_region(&db.location),
        },
        "location": db.location,
        "id": db.key.id(),
        "name": db.key.name,
        "type": "Microsoft.Sql/managedInstances/databases",
    })
}

fn paired_region(location: &str) -> &str {
    match location.to_ascii_lowercase().as_str() {
        "westeurope" => "northeurope",
        "northeurope" => "westeurope",
        "eastus" => "westus",
        "westus" => "eastus",
        "southeastasia" => "eastasia",
        _ => location,
    }
}

fn put(req: &Req, key: DbKey) -> Result<Response, ArmError> {
    let (key, location) = checked(req, key)?;
    let body: Value = serde_json::from_slice(&req.body).map_err(|e| {
        ArmError::bad_request(
            "InvalidRequestContent",
            format!("The request content was invalid and could not be deserialized: '{e}'."),
        )
    })?;
    if body.get("location").and_then(Value::as_str).is_none_or(str::is_empty) {
        return Err(ArmError::bad_request(
            "LocationRequired",
            "The location property is required for this definition.",
        ));
    }
    if RESERVED_NAMES.iter().any(|r| r.eq_ignore_ascii_case(&key.name)) {
        return Err(ArmError::bad_request(
            "CannotUseReservedDatabaseName",
            "Cannot use reserved database name in this operation.",
        ));
    }
    if key.name.ends_with(char::is_whitespace) {
        return Err(ArmError::bad_request(
            "CannotUseTrailingWhitespacesInDatabaseName",
            "The database name validation failed.",
        ));
    }
    let props = body.get("properties").cloned().unwrap_or(Value::Null);
    let text = |k: &str| props.get(k).and_then(Value::as_str).map(str::to_string).filter(|v| !v.is_empty());
    let mode = text("createMode").unwrap_or_else(|| "Default".into());
    let existing = req.app.read(|s| s.database(&key).cloned());
    if mode.eq_ignore_ascii_case("Default") {
        return plain_database(req, key, location, text("collation"), existing);
    }
    if !mode.eq_ignore_ascii_case("RestoreExternalBackup") {
        return Err(ArmError::bad_request(
            "InvalidParameterValue",
            format!(
                "createMode '{mode}' is not supported by the LRS emulator (Default and RestoreExternalBackup are)."
            ),
        ));
    }
    let collation =
        text("collation").ok_or_else(|| ArmError::bad_request("MissingCollation", "Collation is required."))?;
    if !valid_collation(&collation) {
        return Err(ArmError::bad_request("InvalidCollation", "Collation is not recognized by the server."));
    }
    let uri = text("storageContainerUri")
        .ok_or_else(|| ArmError::bad_request("MissingStorageContainerUri", "Missing storage container URI"))?;
    let managed_identity = text("storageContainerIdentity").is_some_and(|i| i.eq_ignore_ascii_case("ManagedIdentity"));
    let sas = text("storageContainerSasToken");
    if sas.is_none() && !managed_identity {
        return Err(ArmError::bad_request("MissingStorageContainerSasToken", "Missing storage container SAS token"));
    }
    let auto_complete = props.get("autoCompleteRestore").and_then(Value::as_bool).unwrap_or(false);
    let last = text("lastBackupName");
    check_last_backup_name(last.as_deref(), auto_complete)?;
    if existing.is_some() {
        return Err(name_in_use(&key.name));
    }
    check_limits(req, &key)?;
    let op_id = uuid::Uuid::new_v4().to_string();
    let job = Job {
        storage_uri: uri,
        sas,
        managed_identity,
        auto_complete,
        last_backup_name: last,
        started: req.now,
        phase: Phase::Initializing,
        error: None,
        files: Vec::new(),
        sets: Vec::new(),
        skipped: Vec::new(),
        pending_failure: None,
        complete: None,
        restore_operation: op_id.clone(),
        completed: None,
        canceled: false,
    };
    let db = Database { key: key.clone(), location: location.clone(), collation, created: req.now, restore: Some(job) };
    let op = operation(req, op_id, OperationKind::Restore, &key, &location);
    req.app.write(|s| {
        s.databases.push(db);
        s.operations.insert(op.id.clone(), op.clone());
    });
    Ok(accepted(req, &op))
}

fn plain_database(
    req: &Req,
    key: DbKey,
    location: String,
    collation: Option<String>,
    existing: Option<Database>,
) -> Result<Response, ArmError> {
    if let Some(db) = existing {
        return Ok(json_response(StatusCode::OK, &body(&db)));
    }
    check_limits(req, &key)?;
    let collation = collation.unwrap_or_else(|| crate::seed::DEFAULT_COLLATION.to_string());
    let db = Database { key, location, collation, created: req.now, restore: None };
    req.app.write(|s| s.databases.push(db.clone()));
    Ok(json_response(StatusCode::CREATED, &body(&db)))
}

fn valid_collation(collation: &str) -> bool {
    collation.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && ["_CI", "_CS", "_BIN"].iter().any(|part| collation.to_ascii_uppercase().contains(part))
}

fn check_last_backup_name(last: Option<&str>, auto_complete: bool) -> Result<(), ArmError> {
    match last {
        None if auto_complete => Err(ArmError::bad_request(
            "AutoCompleteMissingLastBackupName",
            "Auto complete restore request must have lastBackupName parameter provided.",
        )),
        Some(name) if name.contains(['\n', '\r']) => Err(ArmError::bad_request(
            "LastBackupNameHasNewline",
            "Please do not use forbidden characters ('\\n', '\\r') in lastBackupName.",
        )),
        Some(name) if !name.is_ascii() => Err(ArmError::bad_request(
            "LastBackupNameHasNonAsciiCharacter",
            "The operation was aborted because the 'LastBackupName' parameter contains invalid characters. Only ASCII \
             characters are allowed.",
        )),
        _ => Ok(()),
    }
}

fn name_in_use(name: &str) -> ArmError {
    ArmError::bad_request(
        "ManagedDatabaseNameInUse",
        format!("Database '{name}' already exists. Choose a different database name."),
    )
}

/// Databases per instance (General Purpose: 100, LRS restores included) and parallel restores per
/// subscription (150).
fn check_limits(req: &Req, key: &DbKey) -> Result<(), ArmError> {
    let mi = req.instance(&key.subscription, &key.group, &key.instance)?;
    let (on_instance, restoring_in_sub) = req.app.read(|s| {
        let on_instance =
            s.databases.iter().filter(|d| d.key.on_instance(&key.subscription, &key.group, &key.instance)).count();
        let restoring = s
            .databases
            .iter()
            .filter(|d| d.key.subscription.eq_ignore_ascii_case(&key.subscription))
            .filter(|d| d.restore.as_ref().is_some_and(|j| !j.is_over()))
            .count();
        (on_instance, restoring)
    });
    if on_instance >= mi.max_databases || restoring_in_sub >= req.app.max_restores_per_subscription {
        return Err(ArmError::bad_request(
            "DatabaseNumberLimitReached",
            "Maximum number of databases for SQL Database Managed Instance reached.",
        ));
    }
    Ok(())
}

fn operation(req: &Req, id: String, kind: OperationKind, key: &DbKey, location: &str) -> Operation {
    Operation {
        id,
        kind,
        subscription: key.subscription.clone(),
        location: location.to_string(),
        database: key.clone(),
        started: req.now,
        ends: None,
        status: OperationStatus::InProgress,
        error: None,
        api_version: req.api_version.clone(),
    }
}

/// `202 Accepted` with the Location, Azure-AsyncOperation and Retry-After headers and the
/// `{"operation", "startTime"}` body.
fn accepted(req: &Req, op: &Operation) -> Response {
    let body = json!({ "operation": op.kind.operation_name(), "startTime": timestamp(op.started) });
    let mut response = json_response(StatusCode::ACCEPTED, &body);
    let (async_type, results_type) = op.kind.resource_types();
    let headers = response.headers_mut();
    let url = |t: &str| super::operations::url(&req.app.base_url, op, t);
    for (name, value) in [("Location", url(results_type)), ("Azure-AsyncOperation", url(async_type))] {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(name, v);
        }
    }
    if let Ok(v) = HeaderValue::from_str(&req.app.timing.retry_after_seconds.to_string()) {
        headers.insert("Retry-After", v);
    }
    response
}

fn delete(req: &Req, key: DbKey) -> Result<Response, ArmError> {
    let (key, location) = checked(req, key)?;
    let Some(db) = req.app.write(|s| {
        let index = s.databases.iter().position(|d| d.key.same(&key))?;
        Some(s.databases.remove(index))
    }) else {
        return Ok(crate::http::empty(StatusCode::NO_CONTENT));
    };
    if let Some(job) = &db.restore {
        let _ = std::fs::remove_dir_all(req.app.mirrors.join(&job.restore_operation));
    }
    let mut op = operation(req, uuid::Uuid::new_v4().to_string(), OperationKind::Drop, &db.key, &location);
    op.ends = Some(req.now + Duration::seconds(req.app.timing.drop_seconds));
    req.app.write(|s| {
        s.operations.insert(op.id.clone(), op.clone());
        lrs::tick::refresh_operations(s, req.now);
    });
    Ok(accepted(req, &op))
}

fn complete(req: &Req, key: DbKey) -> Result<Response, ArmError> {
    let (key, location) = checked(req, key)?;
    let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
    let last = body.get("lastBackupName").and_then(Value::as_str).map(str::to_string).filter(|n| !n.is_empty());
    let Some(last) = last else {
        return Err(ArmError::bad_request(
            "InvalidDatabaseCompleteRestoreRequest",
            "The complete database restore request is invalid",
        ));
    };
    check_last_backup_name(Some(&last), false)?;
    let op_id = uuid::Uuid::new_v4().to_string();
    let outcome = req.app.write(|s| {
        let Some(db) = s.database_mut(&key) else {
            return Err(ArmError::new(
                StatusCode::NOT_FOUND,
                "ResourceDoesNotExist",
                format!(
                    "Resource with the name '{}' does not exist. To continue, specify a valid resource name.",
                    key.name
                ),
            ));
        };
        let Some(job) = db.restore.as_mut() else {
            return Err(ArmError::bad_request(
                "LRSCutoverDatabaseNotInRestoringState",
                "The operation was aborted because the specified database is not in restoring state.",
            ));
        };
        complete_checks(job, &last)?;
        job.complete =
            Some(CompleteRequest { requested: req.now, last_backup_name: last.clone(), operation: op_id.clone() });
        let op = operation(req, op_id.clone(), OperationKind::CompleteRestore, &key, &location);
        s.operations.insert(op.id.clone(), op.clone());
        Ok(op)
    })?;
    Ok(accepted(req, &outcome))
}

fn complete_checks(job: &Job, last: &str) -> Result<(), ArmError> {
    let bad = |code: &str, message: &str| Err(ArmError::bad_request(code, message));
    if job.complete.is_some() {
        return bad(
            "ExternalBackupAlreadySignaledToComplete",
            "The restore request has already been signaled to complete.",
        );
    }
    match job.phase {
        Phase::Completed => {
            return bad(
                "LRSCutoverDatabaseAlreadyRestored",
                "The operation was aborted because the specified database was already restored.",
            )
        }
        Phase::Failed => {
            return bad("ManagedDatabaseNotInRestoringState", "Managed database is not in Restoring state.")
        }
        Phase::Initializing => {
            return bad(
                "ExternalBackupRestoreHasNotBeenStarted",
                "The restore request can only be completed once the restore has started.",
            )
        }
        Phase::Restoring => {}
    }
    if job.last_restored().is_none() {
        return bad(
            "ExternalBackupRestoreHasNotBeenStarted",
            "The restore request can only be completed once the restore has started.",
        );
    }
    if !job.is_last_restored(last) {
        return bad(
            "RequiredBackupIsNotLastRestored",
            "Migration cannot be completed because provided backup file name is not the name of the last backup file \
             that is restored.",
        );
    }
    Ok(())
}
