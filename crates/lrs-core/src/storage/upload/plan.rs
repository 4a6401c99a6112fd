//! The shape of one file's upload: its blob name in the database's flat folder, the block size
//! (so that the file fits in the service's 50,000 blocks), and deterministic fixed-width block IDs
//! derived from the file's size, modification time and block size, so that a later run finds the
//! blocks an earlier run staged for the same file, and never those of another version of it.

use std::path::Path;

use sha2::{Digest, Sha256};

use crate::backup::upload_name;
use crate::storage::defaults::{MAX_BLOCKS, MAX_BLOCK_SIZE, MAX_FILE_SIZE, MIB, MIN_BLOCK_SIZE};

/// Why a file cannot be planned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("the file is {size} bytes: a block blob holds at most {MAX_FILE_SIZE} bytes (50,000 blocks of 4,000 MiB)")]
    TooLarge { size: u64 },
    #[error("a block size of {mib} MiB is outside 1..=4000 MiB")]
    BlockSize { mib: u64 },
}

/// The blob name of `path` in `folder`: `<folder>/<upload name>` (`.trn` becomes `.log` unless
/// `keep_trn`).
pub fn blob_name(folder: &str, path: &Path, keep_trn: bool) -> String {
    let name = if keep_trn {
        path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
    } else {
        upload_name(path)
    };
    format!("{}/{name}", folder.trim_matches('/'))
}

/// The block size for a file of `size` bytes: the requested size (or 8 MiB), raised in whole MiB
/// when the file would otherwise need more than 50,000 blocks.
pub fn block_size_for(size: u64, requested: Option<u64>) -> Result<u64, PlanError> {
    if size > MAX_FILE_SIZE {
        return Err(PlanError::TooLarge { size });
    }
    let wanted = match requested {
        Some(bytes) if bytes == 0 || bytes > MAX_BLOCK_SIZE => return Err(PlanError::BlockSize { mib: bytes / MIB }),
        Some(bytes) => bytes,
        None => MIN_BLOCK_SIZE,
    };
    if size.div_ceil(wanted) <= MAX_BLOCKS {
        return Ok(wanted);
    }
    Ok((size.div_ceil(MAX_BLOCKS).div_ceil(MIB) * MIB).min(MAX_BLOCK_SIZE))
}

/// One file's block layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockPlan {
    pub size: u64,
    pub block_size: u64,
    /// Distinguishes this version of the file (size, mtime) and layout in block IDs.
    pub fingerprint: u64,
}

impl BlockPlan {
    pub fn new(size: u64, mtime_ns: i128, block_size: u64) -> Self {
        let mut hash = Sha256::new();
        hash.update(size.to_le_bytes());
        hash.update(mtime_ns.to_le_bytes());
        hash.update(block_size.to_le_bytes());
        let digest = hash.finalize();
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        BlockPlan { size, block_size, fingerprint: u64::from_le_bytes(first) }
    }

    pub fn block_count(&self) -> u64 {
        self.size.div_ceil(self.block_size)
    }

    /// Offset and length of block `index`.
    pub fn block_range(&self, index: u64) -> (u64, u64) {
        let offset = index * self.block_size;
        (offset, self.block_size.min(self.size - offset))
    }

    /// The ID of block `index`: `lrs1-<fingerprint:16 hex>-<index:06>`, 28 bytes for every block
    /// (the service wants equal lengths; 50,000 blocks need 5 digits).
    pub fn block_id(&self, index: u64) -> Vec<u8> {
        format!("lrs1-{:016x}-{index:06}", self.fingerprint).into_bytes()
    }

    /// The index of a block ID of this plan, or `None` for any other ID.
    pub fn index_of(&self, id: &[u8]) -> Option<u64> {
        let text = std::str::from_utf8(id).ok()?;
        let rest = text.strip_prefix(&format!("lrs1-{:016x}-", self.fingerprint))?;
        let index: u64 = rest.parse().ok().filter(|_| rest.len() == 6)?;
        (index < self.block_count()).then_some(index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_flat_and_trn_becomes_log() {
        assert_eq!(blob_name("Sales", Path::new("/b/x/Sales_1.trn"), false), "Sales/Sales_1.log");
        assert_eq!(blob_name("Sales/", Path::new("/b/x/Sales_1.trn"), true), "Sales/Sales_1.trn");
        assert_eq!(blob_name("Sales", Path::new("full.bak"), false), "Sales/full.bak");
    }

    #[test]
    fn block_size_keeps_every_file_within_50000_blocks() {
        assert_eq!(block_size_for(0, None), Ok(8 * MIB));
        assert_eq!(block_size_for(1, None), Ok(8 * MIB));
        assert_eq!(block_size_for(8 * MIB * 50_000, None), Ok(8 * MIB));
        assert_eq!(block_size_for(8 * MIB * 50_000 + 1, None), Ok(9 * MIB));
        assert_eq!(block_size_for(1 << 40, None), Ok(21 * MIB));
        assert_eq!(block_size_for(MAX_FILE_SIZE, None), Ok(MAX_BLOCK_SIZE));
        assert_eq!(block_size_for(MAX_FILE_SIZE + 1, None), Err(PlanError::TooLarge { size: MAX_FILE_SIZE + 1 }));
        assert_eq!(block_size_for(10 * MIB, Some(MIB)), Ok(MIB));
        assert_eq!(block_size_for(1 << 40, Some(MIB)), Ok(21 * MIB));
        assert!(block_size_for(1, Some(4001 * MIB)).is_err());
        assert_eq!(block_size_for(640 * 1024, Some(64 * 1024)), Ok(64 * 1024));
        for size in [1u64 << 30, 1 << 39, 1 << 42, 1 << 45, MAX_FILE_SIZE] {
            let plan = BlockPlan::new(size, 0, block_size_for(size, None).unwrap());
            assert!(plan.block_count() <= MAX_BLOCKS, "{size}");
        }
    }

    #[test]
    fn block_ids_are_fixed_width_deterministic_and_per_version() {
        let plan = BlockPlan::new(100 * MIB, 42, 8 * MIB);
        assert_eq!(plan.block_count(), 13);
        assert_eq!(plan.block_range(12), (96 * MIB, 4 * MIB));
        let ids: Vec<Vec<u8>> = (0..13).map(|i| plan.block_id(i)).collect();
        assert!(ids.iter().all(|id| id.len() == 28));
        assert_eq!(plan.block_id(3), BlockPlan::new(100 * MIB, 42, 8 * MIB).block_id(3));
        assert_ne!(plan.block_id(3), BlockPlan::new(100 * MIB, 43, 8 * MIB).block_id(3));
        assert_eq!(plan.index_of(&plan.block_id(7)), Some(7));
        assert_eq!(plan.index_of(&BlockPlan::new(100 * MIB, 43, 8 * MIB).block_id(7)), None);
        assert_eq!(plan.index_of(b"lrs1-0000000000000000-000001"), None);
        let huge = BlockPlan::new(MAX_FILE_SIZE, 0, MAX_BLOCK_SIZE);
        assert_eq!(huge.block_id(49_999).len(), 28);
    }
}
