//! The reader reads back exactly what the synthetic writer wrote: every block size, every kind,
//! with and without CHECKSUM, stripes, MEDIAPASSWORD, provisional head LSNs, several sets in one
//! file; truncated files never panic; a 20 GiB file costs less than 1 MiB of reads.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::io::Cursor;
use std::path::{Path, PathBuf};

use lrs_core::backup::reader::{read_backup, read_backup_file, FileRead};
use lrs_core::backup::writer::{striped, write_sets, SyntheticBackup};
use lrs_core::backup::{BackupHeader, BackupKind, BackupTime, ContainerKind, HeaderSource, Lsn};

const BLOCK_SIZES: [u32; 8] = [512, 1024, 2048, 4096, 8192, 16384, 32768, 65536];

/// The header `RESTORE HEADERONLY` would show for `set` at `position` in a file of `file_size`.
fn expected(set: &SyntheticBackup, path: &Path, position: u16, file_size: u64) -> BackupHeader {
    BackupHeader {
        path: path.to_path_buf(),
        database_name: set.database_name.clone(),
        server: set.server.clone(),
        kind: set.kind,
        first_lsn: set.first_lsn,
        last_lsn: set.last_lsn,
        checkpoint_lsn: set.checkpoint_lsn,
        database_backup_lsn: set.database_backup_lsn,
        backup_start: set.backup_start,
        backup_finish: set.backup_finish,
        database_creation: set.database_creation,
        time_zone_minutes: set.time_zone_minutes / 15 * 15,
        has_checksum: set.has_checksum,
        software_version: set.software_version,
        database_version: set.database_version,
        compatibility_level: set.compatibility_level,
        backup_size: set.backup_size(),
        backup_set_guid: set.backup_set_guid,
        differential_base_guid: set.differential_base_guid,
        media_set_id: set.media_set_id,
        family_guid: set.family_guid,
        family_count: set.family_count,
        family_sequence: set.family_sequence,
        password_protected: set.password_protected,
        container_kind: ContainerKind::Mtf,
        header_source: HeaderSource::Trailer,
        position,
        backup_name: set.backup_name.clone(),
        file_size,
    }
}

fn read_bytes(bytes: &[u8], path: &Path) -> FileRead {
    read_backup(Cursor::new(bytes), bytes.len() as u64, path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn small(kind: BackupKind) -> SyntheticBackup {
    let full = SyntheticBackup { data_len: 100_000, ..SyntheticBackup::full("Sales") };
    let mut set = match kind {
        BackupKind::Full => full,
        BackupKind::Diff => SyntheticBackup::diff_of(&full),
        BackupKind::Log => SyntheticBackup::log_after(&full),
        BackupKind::Other => SyntheticBackup { kind: BackupKind::Other, ..full },
    };
    set.data_len = 100_000;
    set
}

fn assert_round_trip(set: &SyntheticBackup, what: &str) {
    let path = PathBuf::from(format!("{what}.bak"));
    let bytes = set.to_bytes();
    let read = read_bytes(&bytes, &path);
    assert_eq!(read.truncation, None, "{what}");
    assert_eq!(read.sets, vec![expected(set, &path, 1, bytes.len() as u64)], "{what}");
}

#[test]
fn every_block_size_kind_and_checksum_choice_reads_back_exactly() {
    for block_size in BLOCK_SIZES {
        for kind in [BackupKind::Full, BackupKind::Diff, BackupKind::Log, BackupKind::Other] {
            for has_checksum in [false, true] {
                let set = SyntheticBackup { block_size, has_checksum, ..small(kind) };
                assert_round_trip(&set, &format!("{kind}-{block_size}-checksum-{has_checksum}"));
            }
        }
    }
}

#[test]
fn empty_log_unnamed_set_and_odd_values_read_back() {
    let empty_log = SyntheticBackup { data_len: 0, ..small(BackupKind::Log) };
    assert_round_trip(&SyntheticBackup { last_lsn: empty_log.first_lsn, ..empty_log }, "empty-log");
    assert_round_trip(&SyntheticBackup { backup_name: String::new(), ..small(BackupKind::Full) }, "unnamed");
    let odd = SyntheticBackup {
        database_name: "Ventes été / 売上".to_owned(),
        server: "SRV\\INST".to_owned(),
        time_zone_minutes: -570,
        software_version: lrs_core::backup::SoftwareVersion { major: 10, minor: 50, build: 1600 },
        database_version: 661,
        compatibility_level: 100,
        first_lsn: Lsn::new(u32::MAX, u32::MAX - 10, u16::MAX),
        last_lsn: Lsn::new(u32::MAX, u32::MAX, u16::MAX),
        database_creation: BackupTime { year: 1999, month: 12, day: 31, hour: 23, minute: 59, second: 59 },
        ..small(BackupKind::Log)
    };
    assert_round_trip(&odd, "odd-values");
}

#[test]
fn stripes_and_password_read_back() {
    let full = small(BackupKind::Full);
    for block_size in [512, 4096, 65536] {
        for stripe in striped(&SyntheticBackup { block_size, password_protected: true, ..full.clone() }, 3) {
            let what = format!("stripe-{}-of-3-{block_size}", stripe.family_sequence);
            assert_round_trip(&stripe, &what);
        }
    }
}

#[test]
fn trailer_wins_over_differing_head_lsns() {
    for block_size in BLOCK_SIZES {
        let mut set = SyntheticBackup { block_size, ..small(BackupKind::Full) };
        set.head_lsns = Some((Lsn::new(42, 900, 5), Lsn::new(42, 950, 1), Lsn::new(42, 900, 5)));
        assert_round_trip(&set, &format!("head-lsns-{block_size}"));
    }
}

#[test]
fn three_sets_in_one_file_read_back_with_their_positions() {
    let dir = tempfile::tempdir().unwrap();
    for block_size in [512, 1024, 65536] {
        let full = SyntheticBackup { block_size, ..small(BackupKind::Full) };
        let on_media = |set: SyntheticBackup| SyntheticBackup { media_set_id: full.media_set_id, block_size, ..set };
        let diff = on_media(SyntheticBackup::diff_of(&full));
        let log = on_media(SyntheticBackup::log_after(&diff));
        let sets = [full.clone(), diff, log];
        let path = dir.path().join(format!("appended-{block_size}.bak"));
        write_sets(&path, &sets).unwrap();
        let len = std::fs::metadata(&path).unwrap().len();
        let read = read_backup_file(&path).unwrap();
        let want: Vec<BackupHeader> =
            sets.iter().enumerate().map(|(i, s)| expected(s, &path, i as u16 + 1, len)).collect();
        assert_eq!(read.truncation, None);
        assert_eq!(read.sets, want, "block size {block_size}");
    }
}

/// Offsets at which to cut: every 512-byte boundary and a few bytes either side, from the end of
/// the head (MSCI) to the end of the file, plus a few cuts inside the head.
fn cut_points(len: usize, block_size: usize) -> Vec<usize> {
    let mut cuts: Vec<usize> =
        (0..len).step_by(512).flat_map(|b| [b.saturating_sub(1), b, b + 1, b + 52, b + 75]).collect();
    cuts.extend((0..len).step_by(block_size.max(4096) / 8));
    cuts.retain(|c| *c < len);
    cuts.sort_unstable();
    cuts.dedup();
    cuts
}

#[test]
fn truncated_files_give_the_head_copy_or_an_error_never_a_panic() {
    for (block_size, kind) in
        [(512, BackupKind::Log), (1024, BackupKind::Full), (4096, BackupKind::Diff), (65536, BackupKind::Log)]
    {
        let mut set = SyntheticBackup { block_size, data_len: 20_000, ..small(kind) };
        let head_lsns = (Lsn::new(42, 1, 1), Lsn::new(42, 2, 1), Lsn::new(42, 1, 1));
        set.head_lsns = Some(head_lsns);
        let bytes = set.to_bytes();
        let path = PathBuf::from("cut.bak");
        let full_read = expected(&set, &path, 1, bytes.len() as u64);
        let (mut heads, mut trailers, mut errors) = (0, 0, 0);
        let mut undetected = Vec::new();
        for cut in cut_points(bytes.len(), block_size as usize) {
            let part = &bytes[..cut];
            match read_backup(Cursor::new(part), cut as u64, &path) {
                Err(_) => errors += 1,
                Ok(read) => {
                    assert_eq!(read.sets.len(), 1, "cut at {cut}");
                    let got = &read.sets[0];
                    if read.truncation.is_none() {
                        undetected.push(bytes.len() - cut);
                    }
                    match got.header_source {
                        HeaderSource::Trailer => {
                            trailers += 1;
                            assert_eq!(
                                got,
                                &BackupHeader { file_size: cut as u64, ..full_read.clone() },
                                "cut at {cut}"
                            );
                        }
                        HeaderSource::Head => {
                            heads += 1;
                            assert_eq!((got.first_lsn, got.last_lsn, got.checkpoint_lsn), head_lsns, "cut at {cut}");
                            assert!(got.backup_finish.is_unset(), "cut at {cut}: the head copy has no finish date");
                            assert_eq!(got.database_name, set.database_name);
                        }
                    }
                }
            }
        }
        println!("block size {block_size}, {kind}: {heads} head reads, {trailers} trailer reads, {errors} errors");
        println!("  cuts not reported as truncated (bytes missing at the end): {undetected:?}");
        // Every cut, even one that loses only the closing ESET or SFMB, is reported.
        assert!(undetected.is_empty(), "undetected cuts {undetected:?}");
        assert!(heads > 0 && trailers > 0 && errors > 0, "{heads} {trailers} {errors}");
    }
}

#[test]
fn a_20_gib_sparse_full_costs_less_than_1_mib_of_reads() {
    let dir = tempfile::tempdir().unwrap();
    for block_size in [1024, 65536] {
        let set = SyntheticBackup { block_size, data_len: 20 << 30, ..SyntheticBackup::full("Big") };
        let path = dir.path().join(format!("big-{block_size}.bak"));
        set.write_to(&path).unwrap();
        let file = std::fs::File::open(&path).unwrap();
        let len = file.metadata().unwrap().len();
        let read = read_backup(file, len, &path).unwrap();
        assert_eq!(read.sets, vec![expected(&set, &path, 1, len)]);
        println!("20 GiB full, {block_size}-byte blocks: {} bytes read", read.bytes_read);
        assert!(read.bytes_read <= 1 << 20, "{} bytes read", read.bytes_read);
    }
}

/// A 3-set file (full, diff, log on one medium) with distinct head LSNs, and the sets.
fn three_sets(data_len: u64) -> (Vec<u8>, [SyntheticBackup; 3]) {
    let full = SyntheticBackup { data_len, ..small(BackupKind::Full) };
    let on_media = |set: SyntheticBackup| SyntheticBackup { media_set_id: full.media_set_id, data_len, ..set };
    let diff = on_media(SyntheticBackup::diff_of(&full));
    let log = on_media(SyntheticBackup::log_after(&diff));
    let mut sets = [full, diff, log];
    for (i, set) in sets.iter_mut().enumerate() {
        let n = i as u32;
        set.head_lsns = Some((Lsn::new(7, n, 1), Lsn::new(7, n, 2), Lsn::new(7, n, 3)));
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("appended.bak");
    write_sets(&path, &sets).unwrap();
    (std::fs::read(&path).unwrap(), sets)
}

/// Every header read from a cut multi-set file must describe the set at its position: the SSET
/// fields and the SQL header fields of one and the same set, never a mix.
fn check_cuts_of_three_sets(data_len: u64, step: usize) -> Vec<String> {
    let (bytes, sets) = three_sets(data_len);
    let path = PathBuf::from("appended.bak");
    let mut problems = Vec::new();
    for cut in (0..bytes.len()).step_by(step) {
        let Ok(read) = read_backup(Cursor::new(&bytes[..cut]), cut as u64, &path) else { continue };
        let positions: Vec<u16> = read.sets.iter().map(|h| h.position).collect();
        for h in &read.sets {
            let Some(set) = usize::from(h.position).checked_sub(1).and_then(|i| sets.get(i)) else {
                problems.push(format!("cut {cut}: position {}", h.position));
                continue;
            };
            let lsns = (h.first_lsn, h.last_lsn, h.checkpoint_lsn);
            let want = match h.header_source {
                HeaderSource::Trailer => (set.first_lsn, set.last_lsn, set.checkpoint_lsn),
                HeaderSource::Head => set.head_lsns.unwrap(),
            };
            if (h.kind, h.backup_set_guid, &h.backup_name, lsns)
                != (set.kind, set.backup_set_guid, &set.backup_name, want)
            {
                problems.push(format!(
                    "cut {cut} of {}: position {} ({}, {:?}) has kind {} and LSNs {lsns:?}; positions read {positions:?}",
                    bytes.len(),
                    h.position,
                    set.kind,
                    h.header_source,
                    h.kind
                ));
            }
        }
    }
    problems
}

#[test]
fn cut_multi_set_files_never_mix_the_fields_of_two_sets() {
    let mut problems = check_cuts_of_three_sets(20_000, 512);
    problems.extend(check_cuts_of_three_sets(3 << 20, 8192));
    for p in problems.iter().take(20) {
        println!("{p}");
    }
    assert!(problems.is_empty(), "{} cuts give mixed headers", problems.len());
}

#[test]
fn a_cut_large_multi_set_file_keeps_the_complete_sets_before_the_cut() {
    let (bytes, _) = three_sets(3 << 20);
    let ssets: Vec<usize> = bytes.windows(4).enumerate().filter(|(_, w)| *w == b"SSET").map(|(i, _)| i).collect();
    let path = PathBuf::from("appended.bak");
    let mut problems = Vec::new();
    for cut in (ssets[1] + 4096..bytes.len()).step_by(4096) {
        let Ok(read) = read_backup(Cursor::new(&bytes[..cut]), cut as u64, &path) else { continue };
        let complete_before = ssets.iter().filter(|s| **s < cut).count() - 1;
        let trailers = read.sets.iter().filter(|h| h.header_source == HeaderSource::Trailer).count();
        if trailers < complete_before {
            let got: Vec<_> = read.sets.iter().map(|h| (h.position, h.header_source)).collect();
            problems.push(format!("cut {cut}: {complete_before} complete sets before the cut, read {got:?}"));
        }
    }
    println!("{}", problems.iter().take(5).cloned().collect::<Vec<_>>().join("\n"));
    assert!(problems.is_empty(), "{} cuts lose complete sets", problems.len());
}
