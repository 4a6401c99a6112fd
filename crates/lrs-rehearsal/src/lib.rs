//! The rehearsal world of LRS Wizard: everything a user needs to walk the whole migration on their
//! own machine, without an Azure account.
//!
//! - [`azurite`]: starts a real Azurite (the Azure Storage emulator, installed in `tools/azurite`)
//!   on loopback, in strict mode, with its own data folder, and stops it when dropped. The tests'
//!   `lrs-testkit` reuses this launcher.
//! - [`Rehearsal`] (feature `world`, on by default): Azurite plus the LRS emulator in-process
//!   (ARM, Entra ID and Log Replay Service, on the system clock with short timings), the container
//!   the backups go to, and sample synthetic backups for a few databases. It hands the wizard's
//!   [`lrs_core::session::Session`] what it needs (cloud, sign-in, container, account key, sample
//!   folders) and stops everything when dropped.

pub mod azurite;
#[cfg(feature = "world")]
mod world;

pub use azurite::{Azurite, AzuriteError, AzuriteOptions, AZURITE_ACCOUNT, AZURITE_KEY};
#[cfg(feature = "world")]
pub use world::{Rehearsal, RehearsalError, RehearsalSlot, CONTAINER, SAMPLE_DATABASES};
