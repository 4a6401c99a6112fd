//! Test support shared by the crates' tests: [`Azurite`], the real Azure Storage emulator started on a
//! free loopback port for one test run.

mod azurite;
pub mod secret_scan;

pub use azurite::{Azurite, AZURITE_ACCOUNT, AZURITE_KEY};
