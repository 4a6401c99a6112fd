//! The per-block CRC-64 (`x-ms-content-crc64`) against a real Azurite in strict mode: a block
//! staged with its CRC-64 is accepted and an upload with CRC-64 blocks (chosen explicitly: "auto"
//! picks MD5 on loopback) reads back identical with the whole-file Content-MD5; a block sent with a
//! wrong CRC-64 is refused by the service (proof that it checks the header), and the engine reports
//! it at once with the service's code instead of retrying it. `upload_md5.rs` is the same for MD5.
//! Skips with a note when Azurite is not installed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod upload_support;

use lrs_core::storage::upload::checksum::crc64;
use lrs_core::storage::upload::{BlockChecksum, BlockSum};
use lrs_testkit::Azurite;
use upload_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn azurite_accepts_the_right_crc64_and_refuses_a_wrong_one() {
    let Some(azurite) = Azurite::start() else { return };
    // The wire value is the catalogue CRC-64/NVME, little-endian.
    assert_eq!(BlockSum::of(BlockChecksum::Crc64, b"123456789"), BlockSum::Crc64(crc64(b"123456789")));
    right_and_wrong_block_checksum(&azurite, "crc", BlockChecksum::Crc64).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_block_with_a_wrong_crc64_is_reported_not_retried() {
    let Some(azurite) = Azurite::start() else { return };
    a_wrong_block_checksum_is_reported_not_retried(&azurite, "crcjob", BlockChecksum::Crc64).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_with_crc64_blocks_reads_back_identical() {
    let Some(azurite) = Azurite::start() else { return };
    an_upload_reads_back_identical(&azurite, "crcup", Some(BlockChecksum::Crc64), BlockChecksum::Crc64).await;
}
