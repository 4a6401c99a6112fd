//! A local emulator of what the LRS Wizard talks to in Azure, faithful to
//! `reference/lrs-arm-api.md`: Azure Resource Manager (subscriptions, resource groups, SQL
//! managed instances and databases, storage accounts), Microsoft Entra ID's token endpoints, and
//! the Log Replay Service itself, reading real backups from Azurite (or a real storage account)
//! through the SAS it is given. It serves the app's rehearsal mode and the tests.
//!
//! - [`Emulator::start`] starts one in-process; the `lrs-emulator` binary wraps it;
//! - [`config`] and [`seed`]: what it listens on, seeds and how fast restores go; [`tls`]: HTTPS;
//! - [`clock`]: the system clock, or a [`ManualClock`] the tests move;
//! - [`auth`]: token endpoints and bearer checks; [`arm`]: the ARM routes; [`lrs`]: the restores;
//! - [`state`]: the state and its atomic persistence in the state folder.

pub mod app;
pub mod arm;
pub mod auth;
pub mod clock;
pub mod config;
pub mod http;
pub mod lrs;
pub mod seed;
pub mod server;
pub mod state;
pub mod tls;

pub use clock::{Clock, ManualClock, SystemClock};
pub use config::{ConfigError, EmulatorConfig, Timing, TlsFiles};
pub use seed::Seed;
pub use server::{Emulator, RunningEmulator, StartError};
pub use tls::TlsError;
