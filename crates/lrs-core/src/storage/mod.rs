//! Azure Blob Storage: container endpoints and the shared HTTP client, the upload engine with its
//! journal, and SAS tokens (signing and checking).

pub mod endpoint;
pub mod sas;

pub use endpoint::{ContainerUrl, EndpointError};
