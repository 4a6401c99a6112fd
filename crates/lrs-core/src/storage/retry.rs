//! What a failed storage request means and whether to try it again: HTTP statuses are mapped to a
//! meaning here and nowhere else; 408, 429, 500, 502, 503, 504, timeouts and network errors are
//! retried with exponential backoff and jitter (the jitter source is passed in, so tests are
//! deterministic) and `Retry-After` is honoured; every other status (400 `Crc64Mismatch`, 403, 404,
//! 409...) is final and carries the service's error code. Messages are scrubbed of SAS signatures.

use std::collections::hash_map::RandomState;
use std::fmt;
use std::future::Future;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// A storage request that failed, with what it was doing and to which blob.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{operation} '{blob}': {failure}")]
pub struct RequestError {
    /// The operation: `put block`, `put block list`, `get block list`, `get properties`.
    pub operation: &'static str,
    /// The blob name within the container (never a URL, so never a SAS).
    pub blob: String,
    pub failure: Failure,
}

/// How a request failed.
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    /// The service answered with an unexpected status.
    Status {
        status: u16,
        /// `x-ms-error-code`, such as `AuthorizationPermissionMismatch` or `Crc64Mismatch`.
        code: Option<String>,
        /// The service's message (scrubbed of SAS signatures).
        message: String,
        /// From `Retry-After` or `x-ms-retry-after-ms`.
        retry_after: Option<Duration>,
    },
    /// The connection could not be made, was dropped or reset.
    Network(String),
    /// No complete answer within the attempt's time limit (a stalled connection).
    Timeout(Duration),
    /// Anything else (a malformed answer).
    Other(String),
}

/// What a failure means to the user; the one place statuses are interpreted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Meaning {
    BadRequest,
    Unauthenticated,
    PermissionDenied,
    NotFound,
    Conflict,
    Throttled,
    ServerBusy,
    Network,
    Timeout,
    Other,
}

impl Meaning {
    /// The meaning of an HTTP error status: the one table of statuses, for Blob Storage and ARM.
    pub fn of_status(status: u16) -> Meaning {
        match status {
            400 => Meaning::BadRequest,
            401 => Meaning::Unauthenticated,
            403 => Meaning::PermissionDenied,
            404 => Meaning::NotFound,
            409 | 412 => Meaning::Conflict,
            408 | 429 => Meaning::Throttled,
            500 | 502 | 503 | 504 => Meaning::ServerBusy,
            _ => Meaning::Other,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Status { status, code, message, .. } => {
                write!(f, "the service answered {status}")?;
                if let Some(code) = code {
                    write!(f, " {code}")?;
                }
                if !message.is_empty() {
                    write!(f, ": {message}")?;
                }
                if let Some(hint) = hint_for(*status, code.as_deref()) {
                    write!(f, ". {hint}")?;
                }
                Ok(())
            }
            Failure::Network(message) => write!(f, "network error: {message}"),
            Failure::Timeout(limit) => write!(f, "no answer within {} s (stalled connection)", limit.as_secs()),
            Failure::Other(message) => f.write_str(message),
        }
    }
}

fn hint_for(status: u16, code: Option<&str>) -> Option<&'static str> {
    match (status, code) {
        (403, Some("AuthorizationPermissionMismatch")) => {
            Some("The SAS lacks a permission: uploads need Read, Add, Create and Write (sp=racw)")
        }
        (403, _) => Some("Check the SAS or key: it may be expired, for another container, or mistyped"),
        (400, Some("Crc64Mismatch" | "Md5Mismatch")) => Some(
            "The block's checksum did not match what the service received: the data changed on the way. Check the \
             network path (proxy, antivirus) and run the upload again; it resumes",
        ),
        _ => None,
    }
}

impl RequestError {
    pub fn new(operation: &'static str, blob: &str, failure: Failure) -> Self {
        RequestError { operation, blob: blob.to_string(), failure }
    }

    /// The HTTP status, when the service answered.
    pub fn status(&self) -> Option<u16> {
        match self.failure {
            Failure::Status { status, .. } => Some(status),
            _ => None,
        }
    }

    /// The service's error code (`x-ms-error-code`), when it sent one.
    pub fn code(&self) -> Option<&str> {
        match &self.failure {
            Failure::Status { code, .. } => code.as_deref(),
            _ => None,
        }
    }

    pub fn meaning(&self) -> Meaning {
        match &self.failure {
            Failure::Status { status, .. } => Meaning::of_status(*status),
            Failure::Network(_) => Meaning::Network,
            Failure::Timeout(_) => Meaning::Timeout,
            Failure::Other(_) => Meaning::Other,
        }
    }

    /// True for the failures worth another attempt. Every request the engine makes is idempotent
    /// (Put Block with the same ID, Put Block List with the same list, reads), so a network error
    /// after the request was sent is safe to retry too.
    pub fn is_retryable(&self) -> bool {
        matches!(self.meaning(), Meaning::Throttled | Meaning::ServerBusy | Meaning::Network | Meaning::Timeout)
    }

    fn retry_after(&self) -> Option<Duration> {
        match &self.failure {
            Failure::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// A source of jitter in `[0, 1)`, passed in so that tests can fix it.
pub trait Jitter: Send + Sync {
    fn next(&self) -> f64;
}

/// Jitter from a xorshift generator seeded by the standard library's random hasher keys.
#[derive(Debug)]
pub struct RandomJitter(AtomicU64);

impl RandomJitter {
    pub fn new() -> Self {
        let seed = RandomState::new().build_hasher().finish() | 1;
        RandomJitter(AtomicU64::new(seed))
    }
}

impl Default for RandomJitter {
    fn default() -> Self {
        Self::new()
    }
}

impl Jitter for RandomJitter {
    fn next(&self) -> f64 {
        let mut x = self.0.load(Ordering::Relaxed);
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0.store(x, Ordering::Relaxed);
        (x >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A fixed jitter, for tests.
#[derive(Debug, Clone, Copy)]
pub struct FixedJitter(pub f64);

impl Jitter for FixedJitter {
    fn next(&self) -> f64 {
        self.0
    }
}

/// How often and how patiently a request is retried (defaults in `defaults.rs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    pub max_retries: u32,
    /// The first backoff; each retry doubles it up to `max_delay`.
    pub initial_delay: Duration,
    pub max_delay: Duration,
    /// The longest `Retry-After` honoured; a longer one is cut to this.
    pub max_retry_after: Duration,
    /// Time limit of one attempt, plus `attempt_timeout_per_mib` for each MiB sent.
    pub attempt_timeout: Duration,
    pub attempt_timeout_per_mib: Duration,
}

impl RetryPolicy {
    /// The backoff before retry number `retry` (0-based): half of the exponential delay fixed and
    /// half jittered ("equal jitter"), so clients that failed together do not retry together.
    pub fn backoff(&self, retry: u32, jitter: f64) -> Duration {
        let exp = self.initial_delay.saturating_mul(1u32.checked_shl(retry.min(31)).unwrap_or(u32::MAX));
        let capped = exp.min(self.max_delay);
        capped / 2 + capped.mul_f64(jitter.clamp(0.0, 1.0) / 2.0)
    }

    /// The wait before retry number `retry` after `error`, or `None` when it must not be retried.
    pub fn delay_for(&self, error: &RequestError, retry: u32, jitter: f64) -> Option<Duration> {
        if !error.is_retryable() || retry >= self.max_retries {
            return None;
        }
        let backoff = self.backoff(retry, jitter);
        Some(match error.retry_after() {
            Some(after) => backoff.max(after.min(self.max_retry_after)),
            None => backoff,
        })
    }

    /// The time limit of one attempt that sends `bytes`.
    pub fn attempt_timeout(&self, bytes: u64) -> Duration {
        let mib = bytes.div_ceil(1024 * 1024);
        self.attempt_timeout + self.attempt_timeout_per_mib.saturating_mul(u32::try_from(mib).unwrap_or(u32::MAX))
    }

    /// Runs `attempt` until it succeeds, fails for good, or the retries run out. Each attempt is
    /// limited to `timeout`; `on_retry` hears of each retry (for progress events).
    pub async fn run<T, F, Fut>(
        &self,
        jitter: &dyn Jitter,
        timeout: Duration,
        what: (&'static str, &str),
        mut attempt: F,
        mut on_retry: impl FnMut(u32, &RequestError, Duration),
    ) -> Result<T, RequestError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, RequestError>>,
    {
        let mut retry = 0;
        loop {
            let result = match tokio::time::timeout(timeout, attempt()).await {
                Ok(result) => result,
                Err(_) => Err(RequestError::new(what.0, what.1, Failure::Timeout(timeout))),
            };
            let error = match result {
                Ok(value) => return Ok(value),
                Err(error) => error,
            };
            let Some(delay) = self.delay_for(&error, retry, jitter.next()) else {
                return Err(error);
            };
            retry += 1;
            on_retry(retry, &error, delay);
            tokio::time::sleep(delay).await;
        }
    }
}

/// Parses `Retry-After` (seconds; an HTTP date is not worth honouring) or `x-ms-retry-after-ms`.
pub fn parse_retry_after(retry_after: Option<&str>, retry_after_ms: Option<&str>) -> Option<Duration> {
    if let Some(ms) = retry_after_ms.and_then(|v| v.trim().parse::<u64>().ok()) {
        return Some(Duration::from_millis(ms));
    }
    retry_after.and_then(|v| v.trim().parse::<u64>().ok()).map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(status: u16, code: &str, retry_after: Option<Duration>) -> RequestError {
        let failure = Failure::Status { status, code: Some(code.into()), message: String::new(), retry_after };
        RequestError::new("put block", "db/a.bak", failure)
    }

    #[test]
    fn retries_exactly_the_transient_failures() {
        for s in [408, 429, 500, 502, 503, 504] {
            assert!(status(s, "X", None).is_retryable(), "{s}");
        }
        for s in [400, 401, 403, 404, 409, 412, 501] {
            assert!(!status(s, "X", None).is_retryable(), "{s}");
        }
        assert!(RequestError::new("put block", "b", Failure::Network("reset".into())).is_retryable());
        assert!(RequestError::new("put block", "b", Failure::Timeout(Duration::from_secs(1))).is_retryable());
        assert!(!RequestError::new("put block", "b", Failure::Other("bad xml".into())).is_retryable());
    }

    #[test]
    fn backoff_doubles_with_equal_jitter_and_a_cap() {
        let p = RetryPolicy { initial_delay: Duration::from_millis(100), ..RetryPolicy::default() };
        assert_eq!(p.backoff(0, 0.0), Duration::from_millis(50));
        assert_eq!(p.backoff(0, 1.0), Duration::from_millis(100));
        assert_eq!(p.backoff(3, 0.5), Duration::from_millis(600));
        assert_eq!(p.backoff(40, 1.0), p.max_delay);
    }

    #[test]
    fn retry_after_is_honoured_within_a_cap_and_403_never_retried() {
        let p = RetryPolicy { initial_delay: Duration::from_millis(100), ..RetryPolicy::default() };
        let busy = status(503, "ServerBusy", Some(Duration::from_secs(7)));
        assert_eq!(p.delay_for(&busy, 0, 0.0), Some(Duration::from_secs(7)));
        let long = status(429, "TooManyRequests", Some(Duration::from_secs(3600)));
        assert_eq!(p.delay_for(&long, 0, 0.0), Some(p.max_retry_after));
        assert_eq!(p.delay_for(&status(403, "AuthenticationFailed", None), 0, 0.0), None);
        assert_eq!(p.delay_for(&status(400, "Md5Mismatch", None), 0, 0.0), None);
        assert_eq!(p.delay_for(&status(400, "Crc64Mismatch", None), 0, 0.0), None);
        assert_eq!(p.delay_for(&busy, p.max_retries, 0.0), None);
        assert_eq!(parse_retry_after(Some("5"), None), Some(Duration::from_secs(5)));
        assert_eq!(parse_retry_after(Some("5"), Some("250")), Some(Duration::from_millis(250)));
        assert_eq!(parse_retry_after(Some("Fri, 31 Dec 1999 23:59:59 GMT"), None), None);
    }

    #[test]
    fn messages_name_the_code_and_a_fix() {
        let e = status(403, "AuthorizationPermissionMismatch", None);
        let text = e.to_string();
        assert!(text.starts_with("put block 'db/a.bak': the service answered 403 AuthorizationPermissionMismatch"));
        assert!(text.contains("sp=racw"));
        assert_eq!(e.code(), Some("AuthorizationPermissionMismatch"));
        assert_eq!(e.meaning(), Meaning::PermissionDenied);
    }

    #[test]
    fn random_jitter_stays_in_range() {
        let j = RandomJitter::new();
        for _ in 0..1000 {
            let x = j.next();
            assert!((0.0..1.0).contains(&x));
        }
    }

    #[tokio::test]
    async fn run_retries_until_success_and_reports_each_retry() {
        let p = RetryPolicy { initial_delay: Duration::from_millis(1), ..RetryPolicy::default() };
        let mut calls = 0;
        let mut seen = Vec::new();
        let result = p
            .run(
                &FixedJitter(0.0),
                Duration::from_secs(5),
                ("put block", "b"),
                || {
                    calls += 1;
                    let fail = calls < 3;
                    async move {
                        if fail {
                            Err(status(503, "ServerBusy", None))
                        } else {
                            Ok(calls)
                        }
                    }
                },
                |n, e, _| seen.push((n, e.status())),
            )
            .await;
        assert_eq!(result, Ok(3));
        assert_eq!(seen, [(1, Some(503)), (2, Some(503))]);
    }

    #[tokio::test]
    async fn a_stalled_attempt_times_out_and_is_retried() {
        let p = RetryPolicy { initial_delay: Duration::from_millis(1), max_retries: 1, ..RetryPolicy::default() };
        let mut calls = 0;
        let result: Result<(), _> = p
            .run(
                &FixedJitter(0.0),
                Duration::from_millis(20),
                ("put block", "b"),
                || {
                    calls += 1;
                    std::future::pending()
                },
                |_, _, _| {},
            )
            .await;
        assert_eq!(calls, 2);
        assert!(matches!(result.unwrap_err().failure, Failure::Timeout(_)));
    }
}
