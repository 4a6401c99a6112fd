//! One file's block pipeline. A reader reads the file in order on a blocking thread and hands
//! each block to be staged; blocks the service already has are read for the whole-file MD5 only.
//! A block is read only after taking a buffer of the job's pool, and the buffer travels with the
//! block until the service has it, so at most `concurrency` blocks are in memory across all files.
//! The reader feeds each piece it reads (1 MiB) to both the whole-file MD5 and the block's checksum
//! (CRC-64 or MD5, [`super::checksum`]) while the piece is still in the CPU cache: one pass over the
//! data. Each Put Block carries that checksum (the service checks it) and runs under the retry policy with a timeout that grows with
//! its size. Everything in flight is a future owned by the caller: dropping it stops them.

use std::collections::HashSet;
use std::io::Read;
use std::sync::atomic::{AtomicU64, Ordering};

use azure_core::Bytes;
use futures::stream::FuturesUnordered;
use futures::StreamExt;
use md5::{Digest, Md5};
use tokio::sync::mpsc;

use super::buffers::BlockBuffer;
use super::checksum::{BlockChecksum, BlockHasher, BlockSum};
use super::plan::BlockPlan;
use super::scheduler::Ctx;
use super::store::BlobStore;
use super::{lock, UploadError, UploadFile};

/// How staging ended.
pub(super) enum Staged {
    /// Every block is on the service; the whole-file MD5 and how many blocks were sent.
    Complete { md5: [u8; 16], sent: u64 },
    /// The file was shorter than planned: it changed.
    Changed,
}

/// A block read from the file. Its bytes are a pooled buffer that holds the permit accounting
/// for its memory until the last clone of `data` is dropped.
struct Block {
    index: u64,
    data: Bytes,
    /// The block's checksum, for the service to check.
    sum: BlockSum,
}

/// Sends every block of `plan` not in `reused` and returns the whole-file MD5.
pub(super) async fn stage_all<S: BlobStore>(
    ctx: &Ctx<'_, S>,
    file: &UploadFile,
    plan: &BlockPlan,
    reused: &HashSet<u64>,
) -> Result<Staged, UploadError> {
    let file_done = AtomicU64::new(0);
    let (tx, rx) = mpsc::channel::<Block>(1);
    let producer = read_blocks(ctx, file, plan, reused, &file_done, tx);
    let consumer = send_blocks(ctx, file, plan, &file_done, rx);
    let (read, sent) = tokio::try_join!(producer, consumer)?;
    Ok(match read {
        Some(md5) => Staged::Complete { md5, sent },
        None => Staged::Changed,
    })
}

/// Reads the blocks in order; `None` when the file ended early.
async fn read_blocks<S: BlobStore>(
    ctx: &Ctx<'_, S>,
    file: &UploadFile,
    plan: &BlockPlan,
    reused: &HashSet<u64>,
    file_done: &AtomicU64,
    tx: mpsc::Sender<Block>,
) -> Result<Option<[u8; 16]>, UploadError> {
    let source_err = |source| UploadError::Source { path: file.source.clone(), source };
    let kind = ctx.block_checksum;
    let mut reader = Some((std::fs::File::open(&file.source).map_err(source_err)?, Md5::new()));
    for index in 0..plan.block_count() {
        let (_, len) = plan.block_range(index);
        let buffer = match reused.contains(&index) {
            false => {
                let len = usize::try_from(len).map_err(|e| source_err(std::io::Error::other(e)))?;
                let capacity = usize::try_from(plan.block_size).unwrap_or(len);
                Some(ctx.buffers.take(len, capacity).await.map_err(|_| UploadError::Cancelled)?)
            }
            true => None,
        };
        let (handle, hasher) = reader.take().ok_or(UploadError::Cancelled)?;
        let joined = tokio::task::spawn_blocking(move || read_block(handle, hasher, len, buffer, kind)).await;
        let (handle, hasher, data) = joined.map_err(|e| source_err(std::io::Error::other(e.to_string())))?;
        let data = match data {
            Ok(data) => data,
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
            Err(e) => return Err(source_err(e)),
        };
        reader = Some((handle, hasher));
        match data {
            Some((data, sum)) => {
                // The receiver is gone only when sending failed; its error is the one reported.
                if tx.send(Block { index, data, sum }).await.is_err() {
                    return Err(UploadError::Cancelled);
                }
            }
            None => {
                let done = file_done.fetch_add(len, Ordering::SeqCst) + len;
                lock(ctx.tracker).add(&file.blob, done, plan.size, len, false);
            }
        }
    }
    Ok(reader.map(|(_, hasher)| hasher.finalize().into()))
}

/// The piece the reader reads and hashes at once: small enough to stay in the CPU cache between
/// the read and the two hashes, large enough that system calls cost nothing.
const PIECE: usize = 1 << 20;

/// Reads `len` bytes and feeds them to the whole-file hash; keeps them (in `buffer`, which holds
/// `len` bytes), with their checksum of kind `kind`, only when they must be sent. A file shorter than planned is
/// `UnexpectedEof`.
#[allow(clippy::type_complexity)]
fn read_block(
    mut file: std::fs::File,
    mut hasher: Md5,
    len: u64,
    buffer: Option<BlockBuffer>,
    kind: BlockChecksum,
) -> (std::fs::File, Md5, std::io::Result<Option<(Bytes, BlockSum)>>) {
    let result = (|| {
        if let Some(mut buffer) = buffer {
            let mut sum = BlockHasher::new(kind);
            for piece in buffer.as_mut_slice().chunks_mut(PIECE) {
                file.read_exact(piece)?;
                hasher.update(&*piece);
                sum.update(piece);
            }
            return Ok(Some((buffer.freeze(), sum.finish())));
        }
        let mut buf = vec![0u8; PIECE.min(len as usize)];
        let mut left = len;
        while left > 0 {
            let n = (left as usize).min(buf.len());
            file.read_exact(&mut buf[..n])?;
            hasher.update(&buf[..n]);
            left -= n as u64;
        }
        Ok(None)
    })();
    (file, hasher, result)
}

/// Stages the blocks as they come, at most as many at once as the permits allow; the first
/// error stops the file.
async fn send_blocks<S: BlobStore>(
    ctx: &Ctx<'_, S>,
    file: &UploadFile,
    plan: &BlockPlan,
    file_done: &AtomicU64,
    mut rx: mpsc::Receiver<Block>,
) -> Result<u64, UploadError> {
    let mut in_flight = FuturesUnordered::new();
    let mut open = true;
    let mut sent = 0;
    loop {
        tokio::select! {
            block = rx.recv(), if open => match block {
                Some(block) => in_flight.push(stage_one(ctx, &file.blob, plan, block)),
                None => open = false,
            },
            Some(done) = in_flight.next(), if !in_flight.is_empty() => {
                let len = done?;
                sent += 1;
                let now = file_done.fetch_add(len, Ordering::SeqCst) + len;
                lock(ctx.tracker).add(&file.blob, now, plan.size, len, true);
            }
            else => return Ok(sent),
        }
    }
}

/// One Put Block, with the checksum the reader computed, under the retry policy.
async fn stage_one<S: BlobStore>(
    ctx: &Ctx<'_, S>,
    blob: &str,
    plan: &BlockPlan,
    block: Block,
) -> Result<u64, UploadError> {
    let id = plan.block_id(block.index);
    let len = block.data.len() as u64;
    let policy = &ctx.options.retry;
    policy
        .run(
            ctx.jitter,
            policy.attempt_timeout(len),
            ("put block", blob),
            || ctx.store.stage_block(blob, &id, block.data.clone(), block.sum),
            |n, e, d| ctx.retried(blob, n, e, d),
        )
        .await?;
    Ok(len)
}
