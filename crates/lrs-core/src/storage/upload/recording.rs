//! [`RecordingStore`]: an in-memory [`BlobStore`] for tests. It keeps staged and committed blocks
//! like the service (checking each block's CRC-64 or MD5, whichever is sent, and the block list), records every call, counts the
//! most blocks in flight at once, and fails calls on demand (a status, a dropped connection or a
//! stall) so that the scheduler's retries, resume and "first error aborts" can be tested without a
//! network.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use super::checksum::{BlockChecksum, BlockSum};
use super::store::{BlobProperties, BlobStore, BlockListing, StoredBlock};
use crate::storage::retry::{Failure, RequestError};
use azure_core::Bytes;

/// One call the store received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    Stage { blob: String, id: Vec<u8>, len: u64, checksum: BlockChecksum },
    Commit { blob: String, blocks: usize },
    BlockList { blob: String },
    Properties { blob: String },
}

/// A fault to inject into the next call of an operation.
#[derive(Debug, Clone)]
pub enum Fault {
    Fail(Failure),
    /// Never answer (the scheduler's attempt timeout must fire).
    Stall,
}

#[derive(Debug, Default)]
struct Blob {
    staged: HashMap<Vec<u8>, Bytes>,
    committed: Option<(Vec<u8>, Option<[u8; 16]>)>,
}

#[derive(Debug, Default)]
struct State {
    blobs: HashMap<String, Blob>,
    calls: Vec<Call>,
    faults: HashMap<&'static str, VecDeque<Fault>>,
}

/// An in-memory block blob service that records what it was asked.
#[derive(Debug, Clone, Default)]
pub struct RecordingStore {
    state: Arc<Mutex<State>>,
    in_flight: Arc<AtomicUsize>,
    max_in_flight: Arc<AtomicUsize>,
    /// Each Put Block takes this long (so that blocks overlap).
    stage_delay: Duration,
}

impl RecordingStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// A store where each Put Block takes `delay` (so that blocks overlap).
    pub fn with_stage_delay(delay: Duration) -> Self {
        RecordingStore { stage_delay: delay, ..Self::default() }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Makes the next call(s) of `operation` (`put block`, `put block list`, `get block list`,
    /// `get properties`) fail with `fault`, once per queued fault.
    pub fn inject(&self, operation: &'static str, fault: Fault) {
        self.state().faults.entry(operation).or_default().push_back(fault);
    }

    /// A status failure, for [`inject`](Self::inject).
    pub fn status(status: u16, code: &str) -> Fault {
        Fault::Fail(Failure::Status { status, code: Some(code.into()), message: String::new(), retry_after: None })
    }

    pub fn calls(&self) -> Vec<Call> {
        self.state().calls.clone()
    }

    /// The Put Block calls made, in order.
    pub fn staged_ids(&self, blob: &str) -> Vec<Vec<u8>> {
        self.calls()
            .into_iter()
            .filter_map(|c| match c {
                Call::Stage { blob: b, id, .. } if b == blob => Some(id),
                _ => None,
            })
            .collect()
    }

    /// The committed content of a blob.
    pub fn content(&self, blob: &str) -> Option<Vec<u8>> {
        self.state().blobs.get(blob).and_then(|b| b.committed.as_ref().map(|(c, _)| c.clone()))
    }

    /// Stages a block directly, as an earlier (killed) run would have.
    pub fn preload_block(&self, blob: &str, id: Vec<u8>, data: &[u8]) {
        self.state().blobs.entry(blob.to_string()).or_default().staged.insert(id, Bytes::copy_from_slice(data));
    }

    /// Commits content directly, as an earlier run would have.
    pub fn preload_blob(&self, blob: &str, data: &[u8], md5: Option<[u8; 16]>) {
        self.state().blobs.entry(blob.to_string()).or_default().committed = Some((data.to_vec(), md5));
    }

    pub fn max_in_flight(&self) -> usize {
        self.max_in_flight.load(Ordering::SeqCst)
    }

    async fn enter(&self, operation: &'static str, blob: &str, call: Call) -> Result<(), RequestError> {
        let fault = {
            let mut state = self.state();
            state.calls.push(call);
            state.faults.get_mut(operation).and_then(VecDeque::pop_front)
        };
        match fault {
            None => Ok(()),
            Some(Fault::Fail(failure)) => Err(RequestError::new(operation, blob, failure)),
            Some(Fault::Stall) => std::future::pending().await,
        }
    }
}

impl BlobStore for RecordingStore {
    async fn stage_block(&self, blob: &str, block_id: &[u8], data: Bytes, sum: BlockSum) -> Result<(), RequestError> {
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_in_flight.fetch_max(now, Ordering::SeqCst);
        let call =
            Call::Stage { blob: blob.into(), id: block_id.to_vec(), len: data.len() as u64, checksum: sum.kind() };
        let result = async {
            self.enter("put block", blob, call).await?;
            tokio::time::sleep(self.stage_delay).await;
            // The service checks whichever checksum came with the block.
            if BlockSum::of(sum.kind(), &data) != sum {
                let code = match sum {
                    BlockSum::Crc64(_) => "Crc64Mismatch",
                    BlockSum::Md5(_) => "Md5Mismatch",
                };
                let failure =
                    Failure::Status { status: 400, code: Some(code.into()), message: String::new(), retry_after: None };
                return Err(RequestError::new("put block", blob, failure));
            }
            // A copy: the engine's block buffer goes back to its pool once the call is over.
            let data = Bytes::copy_from_slice(&data);
            self.state().blobs.entry(blob.to_string()).or_default().staged.insert(block_id.to_vec(), data);
            Ok(())
        }
        .await;
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        result
    }

    async fn commit(&self, blob: &str, block_ids: &[Vec<u8>], content_md5: [u8; 16]) -> Result<(), RequestError> {
        self.enter("put block list", blob, Call::Commit { blob: blob.into(), blocks: block_ids.len() }).await?;
        let mut state = self.state();
        let entry = state.blobs.entry(blob.to_string()).or_default();
        let mut content = Vec::new();
        for id in block_ids {
            let Some(data) = entry.staged.get(id) else {
                let failure = Failure::Status {
                    status: 400,
                    code: Some("InvalidBlockList".into()),
                    message: String::new(),
                    retry_after: None,
                };
                return Err(RequestError::new("put block list", blob, failure));
            };
            content.extend_from_slice(data);
        }
        entry.staged.clear();
        entry.committed = Some((content, Some(content_md5)));
        Ok(())
    }

    /// An in-memory store is no emulator on loopback: "auto" picks CRC-64 here.
    fn is_loopback(&self) -> bool {
        false
    }

    async fn block_list(&self, blob: &str) -> Result<BlockListing, RequestError> {
        self.enter("get block list", blob, Call::BlockList { blob: blob.into() }).await?;
        let state = self.state();
        let Some(entry) = state.blobs.get(blob) else { return Ok(BlockListing::default()) };
        let uncommitted =
            entry.staged.iter().map(|(id, d)| StoredBlock { id: id.clone(), size: d.len() as u64 }).collect();
        Ok(BlockListing { committed: Vec::new(), uncommitted })
    }

    async fn properties(&self, blob: &str) -> Result<Option<BlobProperties>, RequestError> {
        self.enter("get properties", blob, Call::Properties { blob: blob.into() }).await?;
        let state = self.state();
        Ok(state
            .blobs
            .get(blob)
            .and_then(|b| b.committed.as_ref())
            .map(|(content, md5)| BlobProperties { size: content.len() as u64, content_md5: *md5 }))
    }
}
