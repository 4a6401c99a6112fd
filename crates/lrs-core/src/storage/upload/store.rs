//! The four service calls the upload scheduler needs, as a small trait: stage a block, commit the
//! block list, get the block list, get the properties (and whether the endpoint is a local emulator). [`super::azure`] implements it over the
//! official SDK, [`super::recording`] in memory for unit tests. Retries are not the store's
//! business: the scheduler wraps every call in the retry policy.

use std::future::Future;

use azure_core::Bytes;

use super::checksum::BlockSum;
use crate::storage::retry::RequestError;

/// A block already on the service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBlock {
    /// The block ID as the engine made it (decoded from base64).
    pub id: Vec<u8>,
    pub size: u64,
}

/// The blocks of a blob: committed (its current content) and staged but uncommitted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BlockListing {
    pub committed: Vec<StoredBlock>,
    pub uncommitted: Vec<StoredBlock>,
}

/// What the service says about a committed blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobProperties {
    pub size: u64,
    /// The blob's Content-MD5, when it has one.
    pub content_md5: Option<[u8; 16]>,
}

/// The service calls of an upload. Every call is idempotent.
pub trait BlobStore: Send + Sync {
    /// Put Block with a transactional checksum that the service checks: a CRC-64/NVME
    /// (`x-ms-content-crc64`, little-endian bytes) or an MD5 (`Content-MD5`), whichever `sum` is
    /// (a mismatch is 400 `Crc64Mismatch` or `Md5Mismatch`). `data` is one of the
    /// job's block buffers: it must not be kept once the call has returned or been dropped (the
    /// buffer, and the permit to read the next block, come back when its last clone is dropped).
    fn stage_block(
        &self,
        blob: &str,
        block_id: &[u8],
        data: Bytes,
        sum: BlockSum,
    ) -> impl Future<Output = Result<(), RequestError>> + Send;

    /// Put Block List (all "latest"), setting the blob's Content-MD5 to the whole-file MD5.
    fn commit(
        &self,
        blob: &str,
        block_ids: &[Vec<u8>],
        content_md5: [u8; 16],
    ) -> impl Future<Output = Result<(), RequestError>> + Send;

    /// Get Block List (`blocklisttype=all`); an absent blob has no blocks.
    fn block_list(&self, blob: &str) -> impl Future<Output = Result<BlockListing, RequestError>> + Send;

    /// True when the endpoint is on this machine (an emulator such as Azurite): decides the
    /// automatic per-block checksum ([`BlockChecksum::for_loopback`](super::checksum::BlockChecksum)).
    fn is_loopback(&self) -> bool;

    /// Get Blob Properties, or `None` when the blob does not exist (or has only uncommitted blocks).
    fn properties(&self, blob: &str) -> impl Future<Output = Result<Option<BlobProperties>, RequestError>> + Send;
}
