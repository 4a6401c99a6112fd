//! The LRS Wizard engine. It has no GUI dependency: the `lrs` CLI and the desktop app both drive it.
//!
//! - [`backup`]: reads SQL Server backup headers from disk, plans each database's restore chain and
//!   checks the Log Replay Service rules before anything is uploaded.
//! - [`storage`]: Blob Storage endpoints and clients, the upload engine, SAS tokens and their checks.
//! - [`arm`]: Azure Resource Manager: clouds, sign-in, the ARM client, pickers and the LRS operations.
//! - [`migration`]: plans of many databases driven to cutover, resumable after a crash, with
//!   continuous log shipping, cutover gates and an audit log; [`local`]: the app's data folder.
//! - [`secrets`]: the OS keychain and the self-redacting type every credential travels in.

pub mod arm;
pub mod backup;
pub mod local;
pub mod migration;
pub mod secrets;
pub mod session;
pub mod storage;
pub mod tsql;
