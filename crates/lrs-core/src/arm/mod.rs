//! Azure Resource Manager: clouds and sign-in, the one ARM client (retries, pagers, long-running
//! operations, typed errors), the pickers the wizard fills its lists from, and the Log Replay
//! Service operations (start, status, complete, stop) with a plain-language explanation of every
//! documented LRS error code.
//!
//! - [`cloud`]: AzureCloud, AzureUSGovernment, AzureChinaCloud and custom clouds (the emulator).
//! - [`credential`]: service principal (keychain or environment) and Azure CLI credentials;
//!   [`interactive`]: browser (PKCE, loopback redirect) and device code sign-in.
//! - [`client`], [`pager`], [`lro`], [`error`]: the ARM client and what it returns.
//! - [`explain`]: what each LRS error code means and how to fix it.
//! - [`pickers`]: subscriptions, resource groups, managed instances, storage accounts, keys, SAS.
//! - [`lrs`], [`restore_status`]: the LRS operations and the typed restore status.

pub mod client;
pub mod cloud;
pub mod credential;
pub mod defaults;
pub mod error;
pub mod explain;
pub mod interactive;
pub mod lro;
pub mod lrs;
pub mod pager;
pub mod pickers;
pub mod restore_status;

pub use client::{ArmClient, ArmClientOptions, ArmResponse};
pub use cloud::{AzureCloud, CloudError};
pub use credential::{ArmCredential, CredentialError, ServicePrincipal};
pub use error::{ArmError, ErrorKind};
pub use lro::{LroOutcome, Operation, PollOptions, Wait};
pub use lrs::{DatabaseRef, LrsDatabase, LrsError, StartRequest, Started, StorageAuth};
pub use restore_status::{RestoreState, RestoreStatus};
