//! Every tunable of the ARM client in one place: the api-version of each resource provider, the
//! retry budget, the long-running-operation polling bounds and the token refresh margin.

use std::time::Duration;

use crate::storage::retry::RetryPolicy;

/// Microsoft.Sql: newest stable, with the extended `restoreDetails` schema and `storageContainerIdentity`.
pub const SQL_API_VERSION: &str = "2025-01-01";
/// Microsoft.Resources subscriptions.
pub const SUBSCRIPTIONS_API_VERSION: &str = "2022-12-01";
/// Microsoft.Resources resource groups.
pub const RESOURCE_GROUPS_API_VERSION: &str = "2021-04-01";
/// Microsoft.Storage (accounts, containers, `listKeys`, `ListServiceSas`).
pub const STORAGE_API_VERSION: &str = "2024-01-01";

/// ARM-RPC: "wait for the Retry-After interval, if it was specified, or the default of 60 seconds".
pub const LRO_DEFAULT_INTERVAL: Duration = Duration::from_secs(60);
/// The longest `Retry-After` an LRO poll honours (LRS answers 15 s).
pub const LRO_MAX_INTERVAL: Duration = Duration::from_secs(120);
/// The shortest interval between two polls, whatever `Retry-After` says.
pub const LRO_MIN_INTERVAL: Duration = Duration::from_secs(1);
/// A completeRestore or drop can run for long minutes (>10 min observed for a drop); this bounds a wait.
pub const LRO_MAX_WAIT: Duration = Duration::from_secs(6 * 3600);

/// A cached token is renewed when less than this remains.
pub const TOKEN_REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);
/// Pages followed at most by one listing (a loop in `nextLink` cannot run forever).
pub const MAX_PAGES: usize = 1000;

/// The retry policy of ARM calls: the storage engine's policy (408/429/5xx and network errors,
/// exponential backoff with equal jitter, `Retry-After` honoured, never 400/403) with a budget for
/// interactive calls: about a minute and a half in all, not the upload's many minutes.
pub fn retry_policy() -> RetryPolicy {
    RetryPolicy {
        max_retries: 6,
        initial_delay: Duration::from_millis(500),
        max_delay: Duration::from_secs(20),
        max_retry_after: Duration::from_secs(60),
        attempt_timeout: Duration::from_secs(60),
        attempt_timeout_per_mib: Duration::ZERO,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_consistent() {
        let p = retry_policy();
        assert!(p.initial_delay < p.max_delay && p.max_delay <= p.max_retry_after);
        assert!(LRO_MAX_INTERVAL >= Duration::from_secs(15), "LRS asks for 15 s");
        assert!(LRO_DEFAULT_INTERVAL <= LRO_MAX_INTERVAL && LRO_MAX_INTERVAL < LRO_MAX_WAIT);
        assert!(LRO_MIN_INTERVAL > Duration::ZERO && LRO_MIN_INTERVAL <= LRO_DEFAULT_INTERVAL);
        for v in [SQL_API_VERSION, SUBSCRIPTIONS_API_VERSION, RESOURCE_GROUPS_API_VERSION, STORAGE_API_VERSION] {
            assert!(time::Date::parse(v, time::macros::format_description!("[year]-[month]-[day]")).is_ok(), "{v}");
        }
    }
}
