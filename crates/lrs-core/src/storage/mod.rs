//! Azure Blob Storage: container endpoints and the shared HTTP client, the upload engine with its
//! journal, and SAS tokens (signing and checking).

pub mod client;
pub mod defaults;
pub mod endpoint;
pub mod retry;
pub mod sas;
pub mod upload;

pub use endpoint::{ContainerUrl, EndpointError};
