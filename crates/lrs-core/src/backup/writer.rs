//! Synthetic SQL Server backup files: byte-valid Microsoft Tape Format media as SQL Server writes
//! them (reference `sql-backup-format.md` §3.1–3.7), for tests, benchmarks, fuzz seeds and the
//! app's rehearsal mode.
//!
//! This module owns the file layout: `TAPE [RAID, SPAD]`, `SFMB`, then per backup set `SSET`,
//! `VOLB`, `MSCI [MQCI]` (head copy of the SQL header), `MSDA [APAD, MQDA, (CSUM), MQDA end]` for
//! full and differential backups, `MSTL [APAD, MQTL, (CSUM)]` and an empty `MSTL`, `MSLS [MQCI]`
//! (trailer copy), `SFMB`, `ESET [OTCP, TSMP]`, `ESET`, `SFMB`. Every descriptor block ends with an
//! `SPAD` stream that pads it to a multiple of the physical block size. Page and log data are
//! zeros; [`SyntheticBackup::write_to`] leaves them as sparse holes, so a 20 GiB full backup costs
//! a few KiB of disk. Output depends only on the input: no clock, no randomness.

#![deny(clippy::indexing_slicing)]

mod blocks;
mod sql_header;
#[cfg(test)]
mod tests;

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use self::blocks::{
    soft_filemark, BlockOut, Body, Dblk, DblkBuf, Image, MEDIA_CHECKSUMMED, MEDIA_VARIABLE, MEDIA_VAR_END,
};
use self::sql_header::{derive_guid, mqci, mtf_date, HeaderCopy};
use super::header::{BackupKind, BackupTime, Guid, SoftwareVersion};
use super::lsn::Lsn;

/// Physical block size SQL Server uses on 512-byte-sector disks.
pub const DEFAULT_BLOCK_SIZE: u32 = 1024;
/// Smallest and largest `BACKUP ... WITH BLOCKSIZE`.
pub const MIN_BLOCK_SIZE: u32 = 512;
pub const MAX_BLOCK_SIZE: u32 = 65536;
/// Log bytes a full or differential backup carries after its pages (the MQTL of its MSTL block);
/// smaller backups carry at most their page size, which keeps fuzz seeds small.
const LOG_TAIL_LEN: u64 = 64 * 1024;
/// MTF software vendor id of SQL Server (`SoftwareVendorId` 4608).
const VENDOR_SQL_SERVER: u16 = 0x1200;
/// TAPE password encryption algorithm SQL Server records for MEDIAPASSWORD.
const MEDIA_PASSWORD_ALGORITHM: u16 = 5;

/// One synthetic backup set (one stripe of one media set) and the file it becomes.
///
/// The fields are what `RESTORE HEADERONLY` shows; [`super::reader`] must read them back exactly.
/// Build one with [`SyntheticBackup::full`], [`SyntheticBackup::diff_of`] and
/// [`SyntheticBackup::log_after`], which produce a coherent restore chain, then change fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntheticBackup {
    pub database_name: String,
    /// `MACHINE` or `MACHINE\INSTANCE`; the part before `\` is also the VOLB machine name.
    pub server: String,
    pub kind: BackupKind,
    pub first_lsn: Lsn,
    pub last_lsn: Lsn,
    pub checkpoint_lsn: Lsn,
    pub database_backup_lsn: Lsn,
    /// First, last and checkpoint LSN of the head (MSCI) copy when they differ from the trailer's,
    /// as SQL Server 2019 and later write them. `None`: the head copy has the final LSNs.
    pub head_lsns: Option<(Lsn, Lsn, Lsn)>,
    pub database_creation: BackupTime,
    pub backup_start: BackupTime,
    /// Written only in the trailer copy; the head copy has a zero finish date.
    pub backup_finish: BackupTime,
    /// Offset from UTC in minutes; stored in 15-minute units (truncated).
    pub time_zone_minutes: i16,
    /// WITH CHECKSUM: SCIN flag 0x10, media attribute 0x100 and `CSUM` streams.
    pub has_checksum: bool,
    pub software_version: SoftwareVersion,
    pub database_version: u16,
    pub compatibility_level: u8,
    pub backup_set_guid: Guid,
    pub differential_base_guid: Guid,
    pub media_set_id: Guid,
    /// Constant per database (SCIN+0x7C); a database created again gets a new one.
    pub family_guid: Guid,
    pub family_count: u16,
    pub family_sequence: u16,
    /// MEDIAPASSWORD: TAPE password algorithm 5.
    pub password_protected: bool,
    /// Physical block size; rounded up to a power of two within 512..=65536.
    pub block_size: u32,
    /// Bytes of page data (full, diff) or log data (log) in this stripe. Zero for a log writes an
    /// empty log backup (no MQTL stream).
    pub data_len: u64,
    /// `BackupName`; empty writes no name, as `BACKUP` without `NAME =` from some tools.
    pub backup_name: String,
}

impl SyntheticBackup {
    /// A full backup of `database` (the first ever: DatabaseBackupLSN 0), taken with CHECKSUM by
    /// SQL Server 2019, with 1 MiB of pages.
    pub fn full(database: &str) -> Self {
        let backup_set_guid = derive_guid(database.as_bytes(), 1);
        let first = Lsn::new(42, 1000, 37);
        let start = BackupTime { year: 2024, month: 5, day: 1, hour: 1, minute: 0, second: 0 };
        SyntheticBackup {
            database_name: database.to_owned(),
            server: "REHEARSAL01\\SQL2019".to_owned(),
            kind: BackupKind::Full,
            first_lsn: first,
            last_lsn: advance(first, 400),
            checkpoint_lsn: first,
            database_backup_lsn: Lsn::ZERO,
            head_lsns: None,
            database_creation: BackupTime { year: 2023, month: 11, day: 20, hour: 9, minute: 30, second: 0 },
            backup_start: start,
            backup_finish: add_minutes(start, 5),
            time_zone_minutes: 60,
            has_checksum: true,
            software_version: SoftwareVersion { major: 15, minor: 0, build: 2000 },
            database_version: 904,
            compatibility_level: 150,
            backup_set_guid,
            differential_base_guid: Guid::default(),
            media_set_id: derive_guid(&backup_set_guid.0, 2),
            family_guid: derive_guid(database.as_bytes(), 0xB1D),
            family_count: 1,
            family_sequence: 1,
            password_protected: false,
            block_size: DEFAULT_BLOCK_SIZE,
            data_len: 1024 * 1024,
            backup_name: format!("{database}-Full Database Backup"),
        }
    }

    /// A differential backup based on `full`, six hours later: DatabaseBackupLSN is the full's
    /// CheckpointLSN and the base GUID its BackupSetGUID. Not striped.
    pub fn diff_of(full: &Self) -> Self {
        let first = advance(full.last_lsn, 500);
        let start = add_minutes(full.backup_finish, 6 * 60);
        let backup_set_guid = derive_guid(&full.backup_set_guid.0, 3);
        SyntheticBackup {
            kind: BackupKind::Diff,
            first_lsn: first,
            last_lsn: advance(first, 150),
            checkpoint_lsn: first,
            database_backup_lsn: full.checkpoint_lsn,
            head_lsns: None,
            backup_start: start,
            backup_finish: add_minutes(start, 2),
            backup_set_guid,
            differential_base_guid: full.backup_set_guid,
            media_set_id: derive_guid(&backup_set_guid.0, 2),
            family_count: 1,
            family_sequence: 1,
            data_len: 256 * 1024,
            backup_name: format!("{}-Differential Database Backup", full.database_name),
            ..full.clone()
        }
    }

    /// The log backup that follows `prev` 15 minutes later: FirstLSN is the previous log's LastLSN,
    /// or for a full or diff base its FirstLSN (≤ its LastLSN); LastLSN is later than both.
    pub fn log_after(prev: &Self) -> Self {
        let first = if prev.kind == BackupKind::Log { prev.last_lsn } else { prev.first_lsn };
        let (database_backup_lsn, differential_base_guid) = match prev.kind {
            BackupKind::Full => (prev.checkpoint_lsn, prev.backup_set_guid),
            _ => (prev.database_backup_lsn, prev.differential_base_guid),
        };
        let start = add_minutes(prev.backup_finish, 15);
        let backup_set_guid = derive_guid(&prev.backup_set_guid.0, 4);
        SyntheticBackup {
            kind: BackupKind::Log,
            first_lsn: first,
            last_lsn: advance(first.max(prev.last_lsn), 200),
            checkpoint_lsn: first,
            database_backup_lsn,
            head_lsns: None,
            backup_start: start,
            backup_finish: add_minutes(start, 1),
            backup_set_guid,
            differential_base_guid,
            media_set_id: derive_guid(&backup_set_guid.0, 2),
            family_count: 1,
            family_sequence: 1,
            data_len: 64 * 1024,
            backup_name: format!("{}-Transaction Log Backup", prev.database_name),
            ..prev.clone()
        }
    }

    /// The physical block size actually used (see [`SyntheticBackup::block_size`]).
    pub fn effective_block_size(&self) -> u32 {
        self.block_size.clamp(MIN_BLOCK_SIZE, MAX_BLOCK_SIZE).next_power_of_two()
    }

    /// The file as bytes (one backup set). Materializes the data: for large `data_len` prefer
    /// [`SyntheticBackup::write_to`].
    pub fn to_bytes(&self) -> Vec<u8> {
        media_image(std::slice::from_ref(self)).into_vec()
    }

    /// Length of the file [`SyntheticBackup::to_bytes`] and [`SyntheticBackup::write_to`] produce.
    pub fn file_len(&self) -> u64 {
        media_image(std::slice::from_ref(self)).len()
    }

    /// `BackupSize` as the trailer records it: the bytes of the whole media set (all stripes).
    pub fn backup_size(&self) -> u64 {
        let mut image = Image::default();
        emit_set(&mut image, self, 1).trailer_size
    }

    /// Writes the file at `path` (replacing it). Page and log data become sparse holes.
    pub fn write_to(&self, path: &Path) -> io::Result<()> {
        write_sets(path, std::slice::from_ref(self))
    }
}

/// Writes several backup sets to one file, as `BACKUP ... WITH NOINIT` appends them: set `n` has
/// `Position` n. The media header (TAPE) comes from the first set, so every set must agree with it
/// on the media fields (media set, family, password, block size).
pub fn write_sets(path: &Path, sets: &[SyntheticBackup]) -> io::Result<()> {
    let Some(first) = sets.first() else {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "no backup set to write"));
    };
    if let Some(other) = sets.iter().find(|set| !same_media(first, set)) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("backup set '{}' is on other media than the first set", other.backup_name),
        ));
    }
    media_image(sets).write_to(File::create(path)?)
}

/// The files of a media set striped over `count` families: the same BackupSetGUID and MediaSetId,
/// FamilySequenceNumber 1..=count, the data shared out between them.
pub fn striped(full: &SyntheticBackup, count: u16) -> Vec<SyntheticBackup> {
    let count = count.max(1);
    (1..=count)
        .map(|sequence| SyntheticBackup {
            family_count: count,
            family_sequence: sequence,
            data_len: full.data_len.div_ceil(u64::from(count)),
            ..full.clone()
        })
        .collect()
}

/// Writes a restorable chain for rehearsal into `dir`: a full and a differential backup (`.bak`)
/// and `logs` log backups (`.trn`, as most shops name them), all WITH CHECKSUM, named the way Ola
/// Hallengren's jobs name them. Returns the paths in restore order.
pub fn write_sample_chain(dir: &Path, database: &str, logs: usize) -> io::Result<Vec<PathBuf>> {
    let full = SyntheticBackup::full(database);
    let diff = SyntheticBackup::diff_of(&full);
    let mut chain = vec![full, diff.clone()];
    let mut prev = diff;
    for _ in 0..logs {
        let log = SyntheticBackup::log_after(&prev);
        chain.push(log.clone());
        prev = log;
    }
    let stem: String = database.chars().map(|c| if c.is_alphanumeric() || c == '-' { c } else { '_' }).collect();
    let mut paths = Vec::with_capacity(chain.len());
    for set in &chain {
        let (label, extension) = match set.kind {
            BackupKind::Full => ("FULL", "bak"),
            BackupKind::Diff => ("DIFF", "bak"),
            BackupKind::Log => ("LOG", "trn"),
            BackupKind::Other => ("FILE", "bak"),
        };
        let t = set.backup_start;
        let name = format!(
            "{stem}_{label}_{:04}{:02}{:02}_{:02}{:02}{:02}.{extension}",
            t.year, t.month, t.day, t.hour, t.minute, t.second
        );
        let path = dir.join(name);
        set.write_to(&path)?;
        paths.push(path);
    }
    Ok(paths)
}

fn same_media(a: &SyntheticBackup, b: &SyntheticBackup) -> bool {
    a.media_set_id == b.media_set_id
        && a.family_count == b.family_count
        && a.family_sequence == b.family_sequence
        && a.password_protected == b.password_protected
        && a.effective_block_size() == b.effective_block_size()
}

/// A later LSN: `blocks` log blocks on, slot 1.
fn advance(lsn: Lsn, blocks: u32) -> Lsn {
    match lsn.block.checked_add(blocks) {
        Some(block) => Lsn::new(lsn.vlf, block, 1),
        None => Lsn::new(lsn.vlf.saturating_add(1), blocks, 1),
    }
}

/// Adds minutes to a calendar time (proleptic Gregorian, no time zone).
fn add_minutes(time: BackupTime, minutes: u32) -> BackupTime {
    let day_minutes = u64::from(time.hour) * 60 + u64::from(time.minute) + u64::from(minutes);
    let days = days_from_civil(time.year, time.month, time.day) + i64::try_from(day_minutes / 1440).unwrap_or(0);
    let minute_of_day = day_minutes % 1440;
    let (year, month, day) = civil_from_days(days);
    BackupTime {
        year,
        month,
        day,
        hour: (minute_of_day / 60) as u8,
        minute: (minute_of_day % 60) as u8,
        second: time.second,
    }
}

// Howard Hinnant's days-from-civil and its inverse.
fn days_from_civil(year: u16, month: u8, day: u8) -> i64 {
    let y = i64::from(year) - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(days: i64) -> (u16, u8, u8) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (u16::try_from(year).unwrap_or(u16::MAX), month, day)
}

/// TAPE, SFMB, then every set.
fn media_image(sets: &[SyntheticBackup]) -> Image {
    let mut image = Image::default();
    if let Some(first) = sets.first() {
        emit_media_header(&mut image, first);
        for (index, set) in sets.iter().enumerate() {
            emit_set(&mut image, set, u16::try_from(index + 1).unwrap_or(u16::MAX));
        }
    }
    image
}

/// Format logical block size: 1 KiB, or 512 B on 512-byte media.
fn logical_block_size(block_size: u64) -> u64 {
    block_size.min(1024)
}

fn emit_media_header(image: &mut Image, media: &SyntheticBackup) {
    let block_size = u64::from(media.effective_block_size());
    let mut head = DblkBuf::new(94);
    head.u32(52, u32::from_le_bytes(first4(&media.media_set_id))); // media family id
    head.u32(56, 5); // TAPE attributes
    head.u16(60, 1); // media sequence number
    head.u16(62, if media.password_protected { MEDIA_PASSWORD_ALGORITHM } else { 0 });
    head.u16(64, u16::try_from(blocks::soft_filemark_len(block_size) / 512).unwrap_or(1));
    head.u16(66, 3); // media-based catalog type
    head.u16(84, u16::try_from(logical_block_size(block_size)).unwrap_or(1024));
    head.u16(86, VENDOR_SQL_SERVER);
    head.put(88, &mtf_date(media.backup_start));
    head.put(93, &[1]); // MTF major version
    head.string(80, "Microsoft SQL Server");
    let mut dblk = Dblk::new(b"TAPE");
    dblk.attributes = 0x30000;
    dblk.string_type = 2;
    let mut block = BlockOut::begin(image, block_size, head.seal(&dblk));
    block.stream(b"RAID", 0, Body::Bytes(&raid(media)));
    block.finish();
    soft_filemark(image, block_size);
}

/// The `RAID` stream: MediaSetId, a constant, FamilyCount, 1, FamilySequenceNumber, 1 at +30.
fn raid(media: &SyntheticBackup) -> [u8; 32] {
    let mut raid = [0u8; 32];
    let fields: [(usize, &[u8]); 6] = [
        (0, &media.media_set_id.0),
        (16, &0xF000_00ADu32.to_le_bytes()),
        (20, &media.family_count.to_le_bytes()),
        (22, &1u16.to_le_bytes()),
        (24, &media.family_sequence.to_le_bytes()),
        (30, &1u16.to_le_bytes()),
    ];
    for (offset, bytes) in fields {
        if let Some(slot) = raid.get_mut(offset..offset + bytes.len()) {
            slot.copy_from_slice(bytes);
        }
    }
    raid
}

fn first4(guid: &Guid) -> [u8; 4] {
    let [a, b, c, d, ..] = guid.0;
    [a, b, c, d]
}

/// What emitting a set decided that callers need.
struct SetSizes {
    trailer_size: u64,
}

/// Positions within one set, for the format logical addresses and control block ids.
struct SetCursor {
    sset_pos: u64,
    logical_block: u64,
    next_id: u32,
}

impl SetCursor {
    fn dblk(&mut self, image: &Image, kind: &[u8; 4], string_type: u8) -> Dblk {
        let mut dblk = Dblk::new(kind);
        dblk.logical_address = (image.len() - self.sset_pos) / self.logical_block;
        dblk.control_block_id = self.next_id;
        dblk.string_type = string_type;
        self.next_id += 1;
        dblk
    }
}

fn emit_set(image: &mut Image, set: &SyntheticBackup, position: u16) -> SetSizes {
    let block_size = u64::from(set.effective_block_size());
    let mut cursor = SetCursor { sset_pos: image.len(), logical_block: logical_block_size(block_size), next_id: 0 };
    // BackupSize counts the media set up to the header copy, as if each stripe began at offset 0.
    let media_header_len = block_size + blocks::soft_filemark_len(block_size);
    let sset_pos = cursor.sset_pos;
    let size_at = |pos: u64| (pos - sset_pos + media_header_len) * u64::from(set.family_count.max(1));

    emit_sset(image, set, position, &mut cursor, block_size);
    emit_volb(image, set, &mut cursor, block_size);
    let head_size = size_at(image.len());
    emit_config(image, set, b"MSCI", HeaderCopy::Head, head_size, &mut cursor, block_size);
    emit_data(image, set, &mut cursor, block_size);
    let trailer_size = size_at(image.len());
    emit_config(image, set, b"MSLS", HeaderCopy::Trailer, trailer_size, &mut cursor, block_size);
    soft_filemark(image, block_size);
    emit_end_of_set(image, set, position, block_size);
    soft_filemark(image, block_size);
    SetSizes { trailer_size }
}

fn emit_sset(image: &mut Image, set: &SyntheticBackup, position: u16, cursor: &mut SetCursor, block_size: u64) {
    let mut head = DblkBuf::new(0x79);
    head.u32(52, if set.kind == BackupKind::Diff { 0x8 } else { 0x4 });
    head.u16(58, 0); // software compression algorithm
    head.u16(60, VENDOR_SQL_SERVER);
    head.u16(62, position);
    head.u64(80, cursor.sset_pos); // physical block address, in bytes as SQL Server writes it
    head.put(88, &mtf_date(set.backup_start));
    let tz_units = i8::try_from(set.time_zone_minutes / 15).unwrap_or(0);
    head.put(93, &[set.software_version.major, set.software_version.minor, tz_units.to_le_bytes()[0], 0, 2]);
    head.put(0x64, &set.backup_set_guid.0);
    head.string(64, &set.backup_name);
    head.string(76, "LRSWIZARD\\rehearsal");
    let mut dblk = cursor.dblk(image, b"SSET", 2);
    dblk.os_data = (21, 0x64);
    BlockOut::begin(image, block_size, head.seal(&dblk)).finish();
}

fn emit_volb(image: &mut Image, set: &SyntheticBackup, cursor: &mut SetCursor, block_size: u64) {
    let machine = set.server.split('\\').next().unwrap_or_default();
    let mut head = DblkBuf::new(0x49);
    head.u32(52, 2);
    head.put(68, &mtf_date(set.backup_start));
    head.string(56, "D:");
    head.string(64, machine);
    let dblk = cursor.dblk(image, b"VOLB", 2);
    BlockOut::begin(image, block_size, head.seal(&dblk)).finish();
}

fn emit_config(
    image: &mut Image,
    set: &SyntheticBackup,
    kind: &[u8; 4],
    copy: HeaderCopy,
    backup_size: u64,
    cursor: &mut SetCursor,
    block_size: u64,
) {
    let dblk = cursor.dblk(image, kind, 2);
    let mut block = BlockOut::begin(image, block_size, DblkBuf::new(56).seal(&dblk));
    block.stream(b"MQCI", 0, Body::Bytes(&mqci(set, copy, backup_size)));
    block.finish();
}

/// MSDA (pages, full and diff only), then MSTL with the log, then an empty MSTL.
fn emit_data(image: &mut Image, set: &SyntheticBackup, cursor: &mut SetCursor, block_size: u64) {
    let checksum_attr = if set.has_checksum { MEDIA_CHECKSUMMED } else { 0 };
    let csum = checksum_word(set);
    let log_len = if set.kind == BackupKind::Log {
        set.data_len
    } else {
        let mut head = DblkBuf::new(60);
        head.u16(58, 1);
        let dblk = cursor.dblk(image, b"MSDA", 0);
        let mut block = BlockOut::begin(image, block_size, head.seal(&dblk));
        block.align_next_payload();
        block.stream(b"MQDA", MEDIA_VARIABLE | checksum_attr, Body::Zeros(2 + set.data_len));
        if set.has_checksum {
            block.stream(b"CSUM", 0, Body::Bytes(&csum));
        }
        block.stream(b"MQDA", MEDIA_VARIABLE | MEDIA_VAR_END, Body::Zeros(0));
        block.finish();
        LOG_TAIL_LEN.min(set.data_len)
    };
    let mut head = DblkBuf::new(592);
    head.u16(58, 1);
    let dblk = cursor.dblk(image, b"MSTL", 0);
    let mut block = BlockOut::begin(image, block_size, head.seal(&dblk));
    if log_len > 0 {
        block.align_next_payload();
        block.stream(b"MQTL", checksum_attr, Body::Zeros(2 + log_len));
        if set.has_checksum {
            block.stream(b"CSUM", 0, Body::Bytes(&csum));
        }
    }
    block.finish();
    // SQL Server closes the log portion with one or more MSTL blocks holding only padding.
    let mut head = DblkBuf::new(592);
    head.u16(58, 1);
    let dblk = cursor.dblk(image, b"MSTL", 0);
    BlockOut::begin(image, block_size, head.seal(&dblk)).finish();
}

/// A stand-in for the page checksum SQL Server stores in CSUM: fixed per backup set.
fn checksum_word(set: &SyntheticBackup) -> [u8; 4] {
    first4(&derive_guid(&set.backup_set_guid.0, 5))
}

/// The two ESET blocks: the first with OTCP (padding to the next physical block) and TSMP, the
/// second pointing back at the first.
fn emit_end_of_set(image: &mut Image, set: &SyntheticBackup, position: u16, block_size: u64) {
    let first_eset = image.len();
    for copy in 0..2 {
        let mut head = DblkBuf::new(85);
        head.u32(52, 4);
        head.u64(60, if copy == 0 { 0 } else { first_eset });
        head.u16(78, position);
        head.put(80, &mtf_date(set.backup_finish));
        let head = head.seal(&Dblk::new(b"ESET"));
        let first_event = head.len() as u64;
        let mut block = BlockOut::begin(image, block_size, head);
        if copy == 0 {
            let otcp_len = (first_event + blocks::STREAM_HEADER_LEN).div_ceil(block_size) * block_size
                - first_event
                - blocks::STREAM_HEADER_LEN;
            block.stream(b"OTCP", 0, Body::Zeros(otcp_len));
            block.stream(b"TSMP", 0, Body::Zeros(202));
        }
        block.finish();
    }
}
