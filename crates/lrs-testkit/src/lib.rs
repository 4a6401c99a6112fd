//! Test support shared by the crates' tests: [`Azurite`], the real Azure Storage emulator started on a
//! free loopback port for one test run; [`FaultProxy`], which injects faults between a client and it;
//! and [`DiscardSink`], a Blob endpoint that drops what it is sent (for client-bound benchmarks).

mod discard_sink;
mod fault_proxy;
mod loopback;
pub mod secret_scan;

pub use discard_sink::DiscardSink;
pub use fault_proxy::{Fault, FaultProxy, Logged, Op, Scheduled};
/// Azurite on a free loopback port: the launcher lives in `lrs-rehearsal`, which the app shares.
pub use lrs_rehearsal::azurite::{Azurite, AZURITE_ACCOUNT, AZURITE_KEY};
