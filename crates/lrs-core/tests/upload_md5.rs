//! The per-block MD5 (`Content-MD5` on Put Block) against a real Azurite in strict mode: what
//! "auto" sends to an emulator on loopback (Azurite checks MD5 natively and CRC-64 in slow
//! JavaScript). A block staged with its MD5 is accepted; an upload with "auto" sends MD5 with every
//! block and reads back identical with the whole-file Content-MD5; a block sent with a wrong MD5 is
//! refused by the service with `Md5Mismatch`, and the engine reports it at once instead of retrying
//! it. `upload_crc64.rs` is the same for CRC-64. Skips with a note when Azurite is not installed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod upload_support;

use lrs_core::storage::upload::BlockChecksum;
use lrs_testkit::Azurite;
use upload_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn azurite_accepts_the_right_md5_and_refuses_a_wrong_one() {
    let Some(azurite) = Azurite::start() else { return };
    right_and_wrong_block_checksum(&azurite, "md5", BlockChecksum::Md5).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_block_with_a_wrong_md5_is_reported_not_retried() {
    let Some(azurite) = Azurite::start() else { return };
    a_wrong_block_checksum_is_reported_not_retried(&azurite, "md5job", BlockChecksum::Md5).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_sends_md5_blocks_to_azurite_and_the_upload_reads_back_identical() {
    let Some(azurite) = Azurite::start() else { return };
    an_upload_reads_back_identical(&azurite, "md5auto", None, BlockChecksum::Md5).await;
}
