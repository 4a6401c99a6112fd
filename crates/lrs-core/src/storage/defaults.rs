//! Every tunable of the storage engine in one place, with the reason for its value: block sizes
//! and the service's limits, how many blocks are in flight, retry and timeout budgets, the SAS
//! lifetime for uploads, and how long a file must stay still before it counts as written.

use std::time::Duration;

use super::retry::RetryPolicy;

/// One mebibyte.
pub const MIB: u64 = 1024 * 1024;
/// Smallest block the engine sends: large enough that the per-request cost (about 1 ms on
/// loopback, 10–50 ms to Azure) is small next to the transfer, small enough that a retry is cheap.
pub const MIN_BLOCK_SIZE: u64 = 8 * MIB;
/// The service's largest block (service version 2019-12-12 and later).
pub const MAX_BLOCK_SIZE: u64 = 4000 * MIB;
/// The service's most blocks in one block blob.
pub const MAX_BLOCKS: u64 = 50_000;
/// The largest file a block blob can hold with the largest blocks.
pub const MAX_FILE_SIZE: u64 = MAX_BLOCK_SIZE * MAX_BLOCKS;

/// Blocks in flight across the whole job. Chosen by the benchmark's sweep (`benches/upload.rs
/// --concurrency 2|4|8|16`, README "Performance"): on loopback Azurite (single-threaded Node,
/// hashing each block's MD5) gains from 2 to 4 in flight and is flat beyond, and the discard sink
/// (the whole-file MD5 is its limit) changes with the machine's load more than with the setting,
/// while memory grows by one block each. A real region is 20–50 ms away, where one block in flight
/// waits a round trip per 8 MiB, so the default keeps 8 in flight (64 MiB of buffers).
pub const DEFAULT_CONCURRENCY: usize = 8;
/// Upper bound on `--concurrency`: each block in flight holds a whole block in memory.
pub const MAX_CONCURRENCY: usize = 64;

/// A file whose size or modification time changed less than this long ago is still being
/// written: the engine waits until it has stayed the same for this long.
pub const SETTLE_WINDOW: Duration = Duration::from_secs(5);
/// How many times a file that changes during its upload is started over before giving up.
pub const MAX_SOURCE_RESTARTS: u32 = 3;

/// Lifetime of the write SAS minted from an account key: short, renewed before it runs out.
pub const WRITE_SAS_LIFETIME: Duration = Duration::from_secs(2 * 3600);
/// A write SAS is renewed when less than this remains.
pub const WRITE_SAS_RENEW_BEFORE: Duration = Duration::from_secs(15 * 60);

/// Connection set-up limit (TCP + TLS).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// Idle connections are kept this long for reuse.
pub const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

impl Default for RetryPolicy {
    /// Longer than the Azure SDKs' defaults (8 retries, 60 s total): a multi-hour upload must ride
    /// out a few minutes of throttling or a network blip rather than fail a block.
    fn default() -> Self {
        RetryPolicy {
            max_retries: 12,
            initial_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(120),
            attempt_timeout: Duration::from_secs(30),
            // 4 s per MiB is 256 KiB/s: an 8 MiB block gets 30 + 32 s before it counts as stalled.
            attempt_timeout_per_mib: Duration::from_secs(4),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_and_defaults_are_consistent() {
        assert_eq!(MIN_BLOCK_SIZE, 8 * 1024 * 1024);
        assert_eq!(MAX_FILE_SIZE, 4000 * MIB * 50_000);
        // The smallest block covers files up to ~390 GiB within the block limit.
        assert_eq!(MIN_BLOCK_SIZE * MAX_BLOCKS / (1024 * MIB), 390);
        assert!((1..=MAX_CONCURRENCY).contains(&DEFAULT_CONCURRENCY));
        // Memory bound at the defaults: 8 blocks of 8 MiB.
        assert_eq!(DEFAULT_CONCURRENCY as u64 * MIN_BLOCK_SIZE, 64 * MIB);
        assert!(WRITE_SAS_RENEW_BEFORE < WRITE_SAS_LIFETIME);
        let retry = RetryPolicy::default();
        assert!(retry.initial_delay < retry.max_delay);
        assert!(retry.max_retries >= 8, "at least the Azure SDKs' 8 retries");
    }
}
