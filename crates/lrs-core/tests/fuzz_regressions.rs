//! Hostile inputs for `read_backup`: crash inputs found by the fuzz target (`fuzz/`, files under
//! `tests/data/fuzz/`) and hand-made ones that point lengths and descriptors far outside the file,
//! with valid checksums so the reader cannot reject them early. None may panic, and a read must
//! stay small whatever the lengths claim.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::io::Cursor;
use std::path::{Path, PathBuf};

use lrs_core::backup::reader::read_backup;
use lrs_core::backup::writer::SyntheticBackup;
use lrs_core::backup::BackupKind;

/// At most this much may be read for any input, whatever it claims.
const READ_BUDGET: u64 = 2 << 20;

fn read(bytes: &[u8], declared_len: u64, what: &str) {
    if let Ok(read) = read_backup(Cursor::new(bytes), declared_len, Path::new(what)) {
        assert!(read.bytes_read <= READ_BUDGET, "{what}: {} bytes read", read.bytes_read);
    }
}

fn xor_words(bytes: &[u8]) -> u16 {
    bytes.chunks_exact(2).fold(0, |acc, w| acc ^ u16::from_le_bytes([w[0], w[1]]))
}

/// Offsets of every occurrence of `tag`.
fn find_all(bytes: &[u8], tag: &[u8; 4]) -> Vec<usize> {
    bytes.windows(4).enumerate().filter(|(_, w)| w == tag).map(|(i, _)| i).collect()
}

fn put(bytes: &mut [u8], at: usize, value: &[u8]) {
    bytes[at..at + value.len()].copy_from_slice(value);
}

/// Recomputes the checksum of the stream header at `at` after a change.
fn reseal_stream(bytes: &mut [u8], at: usize) {
    let sum = xor_words(&bytes[at..at + 20]);
    put(bytes, at + 20, &sum.to_le_bytes());
}

/// Recomputes the checksum of the block header at `at` after a change.
fn reseal_block(bytes: &mut [u8], at: usize) {
    let sum = xor_words(&bytes[at..at + 50]);
    put(bytes, at + 50, &sum.to_le_bytes());
}

fn log() -> Vec<u8> {
    SyntheticBackup { block_size: 512, data_len: 4000, ..SyntheticBackup::log_after(&SyntheticBackup::full("Fz")) }
        .to_bytes()
}

fn full() -> Vec<u8> {
    SyntheticBackup { block_size: 512, data_len: 4000, kind: BackupKind::Full, ..SyntheticBackup::full("Fz") }
        .to_bytes()
}

#[test]
fn crash_inputs_found_by_the_fuzzer_do_not_panic() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/fuzz");
    let Ok(entries) = std::fs::read_dir(&dir) else { return };
    for entry in entries {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        read(&bytes, bytes.len() as u64, &path.display().to_string());
    }
}

#[test]
fn stream_lengths_far_beyond_the_file() {
    for tag in [b"MQDA", b"MQTL", b"MQCI", b"SPAD", b"RAID", b"APAD", b"OTCP"] {
        for length in [u64::MAX, u64::MAX - 21, 1 << 40, 0x7fff_ffff] {
            let source = if tag == b"MQDA" { full() } else { log() };
            for at in find_all(&source, tag) {
                let mut bytes = source.clone();
                put(&mut bytes, at + 8, &length.to_le_bytes());
                reseal_stream(&mut bytes, at);
                read(
                    &bytes,
                    bytes.len() as u64,
                    &format!("{} length {length:#x} at {at}", String::from_utf8_lossy(tag)),
                );
            }
        }
    }
}

#[test]
fn scin_lengths_and_string_descriptors_outside_the_chunk() {
    let source = log();
    for at in find_all(&source, b"SCIN") {
        for (field, value) in [
            (0x04, u32::MAX.to_le_bytes().to_vec()),
            (0x04, 0u32.to_le_bytes().to_vec()),
            (0x04, 7u32.to_le_bytes().to_vec()),
            (0x68, [0xff, 0xff, 0xff, 0xff].to_vec()),
            (0x68, [0x01, 0x00, 0x90, 0x01].to_vec()), // odd UTF-16 length
            (0x6C, [0x00, 0x10, 0xf0, 0xff].to_vec()),
        ] {
            let mut bytes = source.clone();
            put(&mut bytes, at + field, &value);
            read(&bytes, bytes.len() as u64, &format!("SCIN at {at}, field {field:#x}"));
        }
    }
    for tag in [b"SFGI", b"SFIN"] {
        for at in find_all(&source, tag) {
            let mut bytes = source.clone();
            put(&mut bytes, at + 4, &u32::MAX.to_le_bytes());
            read(&bytes, bytes.len() as u64, &format!("{} length", String::from_utf8_lossy(tag)));
        }
    }
}

#[test]
fn block_fields_pointing_outside_the_block() {
    let source = log();
    let blocks = [b"TAPE", b"SSET", b"VOLB", b"MSCI", b"MSTL", b"MSLS", b"ESET", b"SFMB"];
    for tag in blocks {
        for at in find_all(&source, tag).into_iter().filter(|at| at % 512 == 0) {
            for (field, value) in [
                (8usize, vec![0xff, 0xff]), // offset to first event
                (8, vec![0x00, 0x00]),
                (8, vec![0x35, 0x00]),              // inside the common header
                (44, vec![0x10, 0x00, 0xf0, 0xff]), // OS data far away
                (64, vec![0xff, 0xff, 0xf0, 0xff]), // SSET backup name descriptor
                (80, vec![0xff, 0xff, 0x00, 0x00]), // TAPE software name descriptor
                (62, vec![0xff, 0xff]),             // TAPE password / SSET data set number
            ] {
                let mut bytes = source.clone();
                put(&mut bytes, at + field, &value);
                reseal_block(&mut bytes, at);
                read(&bytes, bytes.len() as u64, &format!("{} at {at}, field {field}", String::from_utf8_lossy(tag)));
            }
        }
    }
}

#[test]
fn declared_length_that_disagrees_with_the_data() {
    let bytes = log();
    let len = bytes.len() as u64;
    for declared in [0, 1, 51, 52, len / 2, len - 1, len + 1, len + 4096, 1 << 40, u64::MAX / 2, u64::MAX] {
        read(&bytes, declared, &format!("declared {declared}"));
    }
}

#[test]
fn degenerate_files() {
    let mut tape_only = log();
    tape_only.truncate(512);
    for bytes in [
        Vec::new(),
        b"TAPE".to_vec(),
        b"MSSQLBAK".to_vec(),
        vec![0u8; 65536],
        vec![0xffu8; 4096],
        tape_only,
        b"MSLS".repeat(4096),
    ] {
        read(&bytes, bytes.len() as u64, "degenerate");
    }
}
