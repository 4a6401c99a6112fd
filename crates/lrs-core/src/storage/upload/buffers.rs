//! The job's block buffers: at most `concurrency` of them, allocated once and reused for every
//! block of every file. This is what keeps memory at `concurrency × block size`: a block's buffer
//! (and the permit that accounts for it) comes back only when the last [`Bytes`] over it is
//! dropped, wherever that happens (a retried attempt, the HTTP connection), so a
//! new block is never read while an old one is still held. Allocating and freeing a fresh
//! block-sized buffer per block instead lets glibc keep the freed ones (once a large block is
//! freed its mmap threshold rises above the block size, and later blocks come from per-thread
//! arenas that are not returned to the system), which measured 1.5–2× the bound.
//!
//! A [`BlobStore`](super::store::BlobStore) therefore must not keep the block's `Bytes` once its
//! call has returned or been dropped (copy it if it must).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use azure_core::Bytes;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// A fixed set of reusable block buffers; cheap to clone (shared).
#[derive(Debug, Clone)]
pub(super) struct BufferPool {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// One permit per buffer in use: the memory bound.
    permits: Arc<Semaphore>,
    /// Buffers not in use.
    free: Mutex<Vec<Vec<u8>>>,
    /// Buffers ever allocated (a buffer grown for a larger block counts once).
    created: AtomicUsize,
    live: AtomicUsize,
    most_live: AtomicUsize,
}

impl BufferPool {
    pub fn new(concurrency: usize) -> Self {
        BufferPool {
            inner: Arc::new(Inner {
                permits: Arc::new(Semaphore::new(concurrency)),
                free: Mutex::new(Vec::with_capacity(concurrency)),
                created: AtomicUsize::new(0),
                live: AtomicUsize::new(0),
                most_live: AtomicUsize::new(0),
            }),
        }
    }

    /// Waits for a free buffer and returns it holding `len` bytes (their content is whatever the
    /// last block left: the caller overwrites them). `capacity` is the file's block size, so that
    /// the buffer is not grown again for the next full block after a short last one.
    pub async fn take(&self, len: usize, capacity: usize) -> Result<BlockBuffer, tokio::sync::AcquireError> {
        let permit = self.inner.permits.clone().acquire_owned().await?;
        let reused = super::lock(&self.inner.free).pop();
        let mut data = reused.unwrap_or_else(|| {
            self.inner.created.fetch_add(1, Ordering::SeqCst);
            Vec::new()
        });
        let want = capacity.max(len);
        if data.capacity() < want {
            data.reserve_exact(want - data.len());
        }
        data.resize(len, 0);
        let live = self.inner.live.fetch_add(1, Ordering::SeqCst) + 1;
        self.inner.most_live.fetch_max(live, Ordering::SeqCst);
        Ok(BlockBuffer { data, pool: Arc::clone(&self.inner), _permit: permit })
    }

    /// How many buffers were allocated.
    #[cfg(test)]
    pub fn created(&self) -> usize {
        self.inner.created.load(Ordering::SeqCst)
    }

    /// The most buffers in use at once.
    #[cfg(test)]
    pub fn most_live(&self) -> usize {
        self.inner.most_live.load(Ordering::SeqCst)
    }
}

/// One block's buffer, with the permit that accounts for it. Freeze it into [`Bytes`] (no copy)
/// to send it; it goes back to the pool when the last `Bytes` over it is dropped.
#[derive(Debug)]
pub(super) struct BlockBuffer {
    data: Vec<u8>,
    pool: Arc<Inner>,
    /// Released after `drop` has put the buffer back, so that a waiter finds it free.
    _permit: OwnedSemaphorePermit,
}

impl BlockBuffer {
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        &mut self.data
    }

    pub fn freeze(self) -> Bytes {
        Bytes::from_owner(self)
    }
}

impl AsRef<[u8]> for BlockBuffer {
    fn as_ref(&self) -> &[u8] {
        &self.data
    }
}

impl Drop for BlockBuffer {
    fn drop(&mut self) {
        self.pool.live.fetch_sub(1, Ordering::SeqCst);
        super::lock(&self.pool.free).push(std::mem::take(&mut self.data));
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn buffers_are_reused_and_never_more_than_the_permits() {
        let pool = BufferPool::new(3);
        let mut tasks = Vec::new();
        for i in 0..40u64 {
            let pool = pool.clone();
            tasks.push(tokio::spawn(async move {
                let len = if i % 7 == 6 { 100 } else { 4096 };
                let mut buf = pool.take(len, 4096).await.unwrap();
                buf.as_mut_slice().fill(i as u8);
                let bytes = buf.freeze();
                // A clone outlives the "request": the buffer comes back only when both are gone.
                let held = bytes.clone();
                drop(bytes);
                tokio::time::sleep(Duration::from_millis(i % 3)).await;
                assert!(held.len() == len && held.iter().all(|&b| b == i as u8));
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(pool.most_live(), 3);
        assert_eq!(pool.created(), 3);
        assert_eq!(super::super::lock(&pool.inner.free).len(), 3);
        assert!(super::super::lock(&pool.inner.free).iter().all(|b| b.capacity() >= 4096));
    }
}
