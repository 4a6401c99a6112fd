//! How an emulator is set up: where it listens (plain HTTP, or HTTPS with given PEM files) and keeps
//! its state, what it seeds, the clock, and the timings of the restore it simulates. The `--config` file is JSON:
//! `{"seed": {...}, "timing": {...}}`, both optional (see the crate README).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::clock::{Clock, SystemClock};
use crate::seed::{Seed, DEFAULT_BLOB_ENDPOINT};

/// Timings of the simulated service, in seconds of the emulator's clock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Timing {
    /// From the start request to the first listing of the folder (real LRS: about 30 s).
    pub initializing_seconds: i64,
    /// Fixed cost of restoring one backup set.
    pub seconds_per_backup_set: i64,
    /// Restore throughput; a set takes `seconds_per_backup_set + size / rate`.
    pub megabytes_per_second: f64,
    /// From the last restore (autocomplete) or the complete request to `Completed`.
    pub cutover_seconds: i64,
    /// How long a DELETE's operation stays InProgress.
    pub drop_seconds: i64,
    /// `Retry-After` on every long-running operation (the service sends 15).
    pub retry_after_seconds: u64,
    /// Lifetime of issued access tokens.
    pub token_lifetime_seconds: i64,
    /// An LRS job is canceled after this long (the service: 30 days).
    pub job_limit_seconds: i64,
    /// Real-time interval of the background tick that lists folders and moves restores on.
    pub tick_millis: u64,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            initializing_seconds: 30,
            seconds_per_backup_set: 20,
            megabytes_per_second: 200.0,
            cutover_seconds: 30,
            drop_seconds: 30,
            retry_after_seconds: 15,
            token_lifetime_seconds: 3599,
            job_limit_seconds: 30 * 24 * 3600,
            tick_millis: 500,
        }
    }
}

/// The PEM files of an HTTPS emulator: the certificate chain (leaf first) and its private key
/// (PKCS#8, PKCS#1 or SEC1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Everything [`crate::Emulator::start`] needs.
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// Where to listen; port 0 picks a free one.
    pub listen: SocketAddr,
    /// Serve HTTPS with this certificate and key instead of plain HTTP.
    pub tls: Option<TlsFiles>,
    /// Where the state is kept (created if missing); `None` keeps it in a temporary folder that
    /// disappears with the emulator.
    pub state_dir: Option<PathBuf>,
    /// The world seeded when the state folder holds no state yet (existing state wins).
    pub seed: Seed,
    pub timing: Timing,
    pub clock: Arc<dyn Clock>,
    /// Subscriptions in parallel LRS restores at most (the service: 150).
    pub max_restores_per_subscription: usize,
    /// Items per page of every list before a `nextLink` is given.
    pub page_size: usize,
}

impl EmulatorConfig {
    /// The default world on 127.0.0.1 (a free port), Azurite on its default port, the system clock.
    pub fn rehearsal() -> EmulatorConfig {
        EmulatorConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            tls: None,
            state_dir: None,
            seed: Seed::rehearsal(DEFAULT_BLOB_ENDPOINT),
            timing: Timing::default(),
            clock: Arc::new(SystemClock),
            max_restores_per_subscription: 150,
            page_size: 100,
        }
    }

    /// The default world with its storage account at `blob_endpoint`.
    pub fn with_blob_endpoint(mut self, blob_endpoint: &str) -> EmulatorConfig {
        self.seed = Seed::rehearsal(blob_endpoint);
        self
    }

    /// Applies a `--config` file: its seed replaces the default one, its timing the default timing.
    pub fn apply_file(mut self, path: &Path) -> Result<EmulatorConfig, ConfigError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.to_path_buf(), source })?;
        let file: ConfigFile =
            serde_json::from_str(&text).map_err(|source| ConfigError::Parse { path: path.to_path_buf(), source })?;
        if let Some(seed) = file.seed {
            self.seed = seed;
        }
        if let Some(timing) = file.timing {
            self.timing = timing;
        }
        Ok(self)
    }
}

/// The `--config` file.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ConfigFile {
    seed: Option<Seed>,
    timing: Option<Timing>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the configuration file '{}': {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the configuration file '{}' is not valid: {source}", path.display())]
    Parse {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
}
