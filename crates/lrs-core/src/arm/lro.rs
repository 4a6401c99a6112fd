//! Long-running operations. ARM accepts one with `201`/`202` and two polling URLs:
//! `Azure-AsyncOperation` (always `200`, the state in the body: `InProgress`, then `Succeeded`,
//! `Failed` or `Canceled`) is followed first; `Location` (`202` while running, the final answer
//! once done) only when the first is absent. `Retry-After` sets the next poll, within bounds.
//!
//! The caller decides whether to wait ([`Wait`]): the LRS start operation stays `InProgress` for
//! the whole migration and must never be waited on; `completeRestore` and the drop are followed.

use std::time::Duration;

use reqwest::Method;
use serde::Deserialize;
use url::Url;

use super::client::{ArmClient, ArmResponse};
use super::defaults;
use super::error::{ArmError, ErrorKind};

/// How long and how often to poll.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollOptions {
    /// The interval when the service sends no `Retry-After`.
    pub default_interval: Duration,
    /// The longest interval honoured (a longer `Retry-After` is cut to this).
    pub max_interval: Duration,
    /// The shortest interval, whatever `Retry-After` says (`0` would poll ARM in a tight loop).
    pub min_interval: Duration,
    /// Give up (with a `Timeout` error; the operation goes on in Azure) after this long.
    pub max_wait: Duration,
}

impl Default for PollOptions {
    fn default() -> Self {
        PollOptions {
            default_interval: defaults::LRO_DEFAULT_INTERVAL,
            max_interval: defaults::LRO_MAX_INTERVAL,
            min_interval: defaults::LRO_MIN_INTERVAL,
            max_wait: defaults::LRO_MAX_WAIT,
        }
    }
}

/// Whether to follow an operation to its end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wait {
    /// Return as soon as the request is accepted, with the [`Operation`] to poll later.
    No,
    Yes(PollOptions),
}

/// An accepted operation, with where to poll it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    /// What it does, for messages (`complete the restore of 'db1'`).
    pub what: String,
    pub azure_async_operation: Option<Url>,
    pub location: Option<Url>,
    /// The `Retry-After` of the last answer.
    pub retry_after: Option<Duration>,
    /// `x-ms-request-id` of the request that started it.
    pub request_id: Option<String>,
}

/// The state of an operation after one poll.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PollState {
    /// Still running; the service's status word (`InProgress`, or a provider-defined one).
    Running(String),
    Succeeded,
}

/// How a request with a long-running operation ended for the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LroOutcome {
    /// Finished: synchronously (`200`/`204`) or after polling.
    Done,
    /// Accepted and not waited on.
    Accepted(Box<Operation>),
}

#[derive(Deserialize)]
struct OperationResource {
    status: Option<String>,
    error: Option<OperationError>,
}

#[derive(Deserialize)]
struct OperationError {
    code: Option<String>,
    message: Option<String>,
}

impl Operation {
    /// The operation a response started, or `None` when the response is already final.
    pub fn from_response(what: &str, response: &ArmResponse) -> Result<Option<Operation>, ArmError> {
        let parse = |header: &Option<String>| -> Result<Option<Url>, ArmError> {
            header
                .as_deref()
                .map(|v| Url::parse(v.trim()))
                .transpose()
                .map_err(|e| ArmError::local(ErrorKind::Unexpected, what, format!("bad polling URL: {e}")))
        };
        let azure_async_operation = parse(&response.azure_async_operation)?;
        let location = parse(&response.location)?;
        if response.status != 202 && azure_async_operation.is_none() {
            // 200/204 are final; a 201 with no Azure-AsyncOperation is the created resource.
            return Ok(None);
        }
        if azure_async_operation.is_none() && location.is_none() {
            if response.status == 202 {
                let message = "the operation was accepted without a polling URL";
                return Err(ArmError::local(ErrorKind::Unexpected, what, message));
            }
            return Ok(None);
        }
        Ok(Some(Operation {
            what: what.to_string(),
            azure_async_operation,
            location,
            retry_after: response.retry_after,
            request_id: response.request_id.clone(),
        }))
    }

    /// Polls once (the `Azure-AsyncOperation` URL if there is one, else `Location`).
    pub async fn poll(&mut self, client: &ArmClient) -> Result<PollState, ArmError> {
        let what = format!("poll '{}'", self.what);
        if let Some(url) = self.azure_async_operation.clone() {
            let response = client.send(Method::GET, url, None, &what).await?;
            self.retry_after = response.retry_after;
            let resource: OperationResource = response.json(&what)?;
            let status = resource.status.unwrap_or_default();
            return match status.to_ascii_lowercase().as_str() {
                "succeeded" => Ok(PollState::Succeeded),
                "failed" | "canceled" | "cancelled" => {
                    let (code, message) = resource.error.map(|e| (e.code, e.message)).unwrap_or((None, None));
                    let message = message.or_else(|| Some(format!("the operation ended {status}")));
                    let mut err = ArmError::operation_failed(&self.what, code, message);
                    err.request_id = response.request_id;
                    Err(err)
                }
                _ => Ok(PollState::Running(if status.is_empty() { "InProgress".into() } else { status })),
            };
        }
        let Some(url) = self.location.clone() else {
            return Ok(PollState::Succeeded);
        };
        let response = client.send(Method::GET, url, None, &what).await?;
        self.retry_after = response.retry_after;
        Ok(if response.status == 202 { PollState::Running("InProgress".into()) } else { PollState::Succeeded })
    }

    /// Polls until the operation ends, honouring `Retry-After` within `options`.
    pub async fn wait(mut self, client: &ArmClient, options: &PollOptions) -> Result<(), ArmError> {
        let started = tokio::time::Instant::now();
        loop {
            let interval = self
                .retry_after
                .unwrap_or(options.default_interval)
                .min(options.max_interval)
                .max(options.min_interval);
            if started.elapsed() + interval > options.max_wait {
                let message = format!("still running after {} s; it goes on in Azure", started.elapsed().as_secs());
                return Err(ArmError::local(ErrorKind::Timeout, &self.what, message));
            }
            tokio::time::sleep(interval).await;
            match self.poll(client).await? {
                PollState::Succeeded => return Ok(()),
                PollState::Running(status) => tracing::debug!(what = %self.what, %status, "operation running"),
            }
        }
    }
}

/// Follows (or not) the operation that `response` started.
pub async fn follow(
    client: &ArmClient,
    what: &str,
    response: &ArmResponse,
    wait: &Wait,
) -> Result<LroOutcome, ArmError> {
    let Some(operation) = Operation::from_response(what, response)? else {
        return Ok(LroOutcome::Done);
    };
    match wait {
        Wait::No => Ok(LroOutcome::Accepted(Box::new(operation))),
        Wait::Yes(options) => operation.wait(client, options).await.map(|()| LroOutcome::Done),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, aao: Option<&str>, location: Option<&str>) -> ArmResponse {
        ArmResponse {
            status,
            request_id: Some("r".into()),
            azure_async_operation: aao.map(str::to_string),
            location: location.map(str::to_string),
            retry_after: Some(Duration::from_secs(15)),
            body: Vec::new(),
        }
    }

    #[test]
    fn which_responses_start_an_operation() {
        assert_eq!(Operation::from_response("x", &response(200, None, None)).unwrap(), None);
        assert_eq!(Operation::from_response("x", &response(204, None, None)).unwrap(), None);
        assert_eq!(Operation::from_response("x", &response(201, None, Some("https://a/b"))).unwrap(), None);
        let op = Operation::from_response("x", &response(202, Some("https://a/op"), Some("https://a/res"))).unwrap();
        let op = op.unwrap();
        assert_eq!(op.azure_async_operation.unwrap().as_str(), "https://a/op");
        assert_eq!(op.retry_after, Some(Duration::from_secs(15)));
        assert!(Operation::from_response("x", &response(202, None, None)).is_err());
        assert!(Operation::from_response("x", &response(201, Some("https://a/op"), None)).unwrap().is_some());
    }
}
