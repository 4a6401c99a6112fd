//! The operation resources of LRS's long-running operations, at
//! `/subscriptions/{sub}/providers/Microsoft.Sql/locations/{location}/{type}/{id}`: the
//! Azure-AsyncOperation types answer 200 with `{"name", "status", "startTime", "error"?}`, the
//! OperationResults (Location) types 202 while running and the final result when done (ARM-RPC).
//! Both carry `Retry-After`.

use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::Req;
use crate::http::{empty, json_response, timestamp, ArmError};
use crate::lrs::tick::tick;
use crate::state::{Operation, OperationKind, OperationStatus};

/// The absolute URL of an operation resource of type `resource_type`.
pub fn url(base_url: &str, op: &Operation, resource_type: &str) -> String {
    format!(
        "{base_url}/subscriptions/{}/providers/Microsoft.Sql/locations/{}/{resource_type}/{}?api-version={}",
        op.subscription, op.location, op.id, op.api_version
    )
}

pub async fn route(req: &Req) -> Result<Option<Response>, ArmError> {
    let Some(c) = req.matches(Method::GET, "subscriptions/*/providers/microsoft.sql/locations/*/*/*") else {
        return Ok(None);
    };
    req.subscription(&c[0])?;
    let (resource_type, id) = (&c[2], &c[3]);
    tick(&req.app).await;
    let op = req.app.read(|s| s.operations.get(id.as_str()).cloned());
    let Some(op) = op.filter(|o| o.subscription.eq_ignore_ascii_case(&c[0])) else {
        return Err(ArmError::new(
            StatusCode::NOT_FOUND,
            "ResourceNotFound",
            format!("The operation '{id}' of type '{resource_type}' could not be found."),
        ));
    };
    let (async_type, results_type) = op.kind.resource_types();
    let mut response = if resource_type.eq_ignore_ascii_case(async_type) {
        status_body(&op)
    } else if resource_type.eq_ignore_ascii_case(results_type) {
        result(req, &op)
    } else {
        return Err(ArmError::no_route("GET", req.uri.path()));
    };
    if let Ok(v) = HeaderValue::from_str(&req.app.timing.retry_after_seconds.to_string()) {
        response.headers_mut().insert("Retry-After", v);
    }
    Ok(Some(response))
}

fn status_body(op: &Operation) -> Response {
    let mut body = json!({ "name": op.id, "status": op.status.as_str(), "startTime": timestamp(op.started) });
    if let Some(error) = &op.error {
        body["error"] = json!({ "code": error.code, "message": error.message });
    }
    json_response(StatusCode::OK, &body)
}

/// The Location URL: 202 (and itself as Location) while running; then what the request would have
/// answered synchronously: the database for a restore, an empty 200 for a cutover or a drop, the
/// error for a failure.
fn result(req: &Req, op: &Operation) -> Response {
    match op.status {
        OperationStatus::InProgress => {
            let mut response = empty(StatusCode::ACCEPTED);
            let (_, results_type) = op.kind.resource_types();
            if let Ok(v) = HeaderValue::from_str(&url(&req.app.base_url, op, results_type)) {
                response.headers_mut().insert("Location", v);
            }
            response
        }
        OperationStatus::Succeeded => match op.kind {
            OperationKind::Restore => {
                let db = req.app.read(|s| s.database(&op.database).cloned());
                match db {
                    Some(db) => json_response(StatusCode::OK, &super::databases::body(&db)),
                    None => empty(StatusCode::NO_CONTENT),
                }
            }
            OperationKind::CompleteRestore | OperationKind::Drop => empty(StatusCode::OK),
        },
        OperationStatus::Failed | OperationStatus::Canceled => {
            let error = op.error.clone().unwrap_or(crate::state::ErrorInfo {
                code: "OperationCanceled".into(),
                message: "The operation was canceled.".into(),
            });
            ArmError::bad_request(&error.code, error.message).into_response()
        }
    }
}
