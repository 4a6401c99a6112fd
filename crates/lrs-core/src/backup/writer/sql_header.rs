//! The SQL Server header the writer puts in the MQCI stream: the `SCIN` backup-set chunk (offsets
//! of reference §3.4), one `SFGI` filegroup and two `SFIN` files; plus the MTF packed date.

use super::super::header::{BackupKind, BackupTime, Guid};
use super::super::lsn::Lsn;
use super::SyntheticBackup;

/// Length of the fixed part of SCIN on SQL Server 2012 and later; the strings follow it.
const SCIN_FIXED_LEN: usize = 0x190;
/// Length of the fixed part of SFIN; the logical and physical names follow it.
const SFIN_FIXED_LEN: usize = 0x400;
/// Fixed part of SFGI; the filegroup name follows it.
const SFGI_FIXED_LEN: usize = 0x30;

/// Which copy of the header a chunk list is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum HeaderCopy {
    /// MSCI, written when the backup starts: no finish date, provisional LSNs and size.
    Head,
    /// MSLS, written at the end: the final values.
    Trailer,
}

/// MTF_DATE_TIME: 5 bytes, big-endian, year:14 month:4 day:5 hour:5 minute:6 second:6.
pub(super) fn mtf_date(time: BackupTime) -> [u8; 5] {
    let packed = (u64::from(time.year) & 0x3fff) << 26
        | (u64::from(time.month) & 0xf) << 22
        | (u64::from(time.day) & 0x1f) << 17
        | (u64::from(time.hour) & 0x1f) << 12
        | (u64::from(time.minute) & 0x3f) << 6
        | (u64::from(time.second) & 0x3f);
    let [_, _, _, a, b, c, d, e] = packed.to_be_bytes();
    [a, b, c, d, e]
}

/// A chunk being built: `tag + u32 length (tag included) + payload`, strings after the fixed part.
#[derive(Debug)]
struct Chunk {
    buf: Vec<u8>,
}

impl Chunk {
    fn new(tag: &[u8; 4], fixed_len: usize) -> Self {
        let mut buf = vec![0u8; fixed_len];
        if let Some(slot) = buf.get_mut(..4) {
            slot.copy_from_slice(tag);
        }
        Chunk { buf }
    }

    fn put(&mut self, offset: usize, bytes: &[u8]) {
        match self.buf.get_mut(offset..offset + bytes.len()) {
            Some(slot) => slot.copy_from_slice(bytes),
            None => debug_assert!(false, "chunk field at {offset} outside the fixed part"),
        }
    }

    fn u16(&mut self, offset: usize, value: u16) {
        self.put(offset, &value.to_le_bytes());
    }

    fn u32(&mut self, offset: usize, value: u32) {
        self.put(offset, &value.to_le_bytes());
    }

    fn lsn(&mut self, offset: usize, lsn: Lsn) {
        self.put(offset, &lsn.to_le_bytes());
    }

    fn date(&mut self, offset: usize, time: BackupTime) {
        self.put(offset, &mtf_date(time));
    }

    /// Appends UTF-16LE `text` and stores `{u16 byte length, u16 offset from the tag}` at `descriptor`.
    fn string(&mut self, descriptor: usize, text: &str) {
        let offset = self.buf.len();
        self.buf.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        self.u16(descriptor, u16::try_from(self.buf.len() - offset).unwrap_or(u16::MAX));
        self.u16(descriptor + 2, u16::try_from(offset).unwrap_or(u16::MAX));
    }

    fn finish(mut self) -> Vec<u8> {
        let len = u32::try_from(self.buf.len()).unwrap_or(u32::MAX);
        self.u32(4, len);
        self.buf
    }
}

/// The MQCI stream body: SCIN, SFGI, SFIN (data file), SFIN (log file).
pub(super) fn mqci(set: &SyntheticBackup, copy: HeaderCopy, backup_size: u64) -> Vec<u8> {
    let mut out = scin(set, copy, backup_size);
    out.extend(sfgi("PRIMARY"));
    let data_path = format!("D:\\SQLData\\{}.mdf", set.database_name);
    out.extend(sfin(&set.database_name, &data_path, 1));
    let log_path = format!("L:\\SQLLogs\\{}_log.ldf", set.database_name);
    out.extend(sfin(&format!("{}_log", set.database_name), &log_path, 2));
    out
}

fn scin(set: &SyntheticBackup, copy: HeaderCopy, backup_size: u64) -> Vec<u8> {
    let (first, last, checkpoint) = match (copy, set.head_lsns) {
        (HeaderCopy::Head, Some(head)) => head,
        _ => (set.first_lsn, set.last_lsn, set.checkpoint_lsn),
    };
    let finish = match copy {
        HeaderCopy::Head => BackupTime::default(),
        HeaderCopy::Trailer => set.backup_finish,
    };
    let mut flags = 0x200u32;
    if set.kind == BackupKind::Diff {
        flags |= 0x800;
    }
    if set.has_checksum {
        flags |= 0x10;
    }
    let fork_guid = derive_guid(set.database_name.as_bytes(), 0xF0);
    let version = set.software_version;

    let mut chunk = Chunk::new(b"SCIN", SCIN_FIXED_LEN);
    chunk.u32(0x08, flags);
    chunk.u32(0x0C, 1); // data files
    chunk.u32(0x10, 1);
    chunk.u32(0x14, u32::from_le_bytes(first4(&derive_guid(set.server.as_bytes(), 0x5E))));
    chunk.u16(0x18, version.build);
    chunk.put(0x1A, &[version.minor, version.major]);
    chunk.u32(0x1C, 9);
    chunk.lsn(0x20, first);
    chunk.lsn(0x2A, last);
    chunk.lsn(0x34, checkpoint);
    chunk.lsn(0x3E, set.database_backup_lsn);
    chunk.date(0x48, set.database_creation);
    chunk.date(0x4D, set.backup_start);
    chunk.date(0x52, finish);
    chunk.put(0x57, &[set.kind.type_letter(), 52]); // type letter, sort order
    chunk.put(0x5B, &[set.compatibility_level, 5]); // compatibility level, database id
    chunk.u16(0x5E, set.database_version);
    chunk.put(0x60, &backup_size.to_le_bytes());
    chunk.u32(0x74, 1033); // Unicode locale id
    chunk.u32(0x78, 196_609); // Unicode comparison style
    chunk.put(0x7C, &set.family_guid.0);
    chunk.lsn(0x90, last);
    chunk.put(0x9C, &fork_guid.0);
    chunk.put(0xC8, &set.differential_base_guid.0);
    chunk.put(0xD8, &[0x09, 0x04, 0xD0, 0x00, 0x34, 0x00, 0x00, 0x00]); // collation
    chunk.put(0xE0, &fork_guid.0);
    chunk.string(0x68, &set.database_name);
    chunk.string(0x6C, &set.server);
    chunk.finish()
}

fn sfgi(name: &str) -> Vec<u8> {
    let mut chunk = Chunk::new(b"SFGI", SFGI_FIXED_LEN);
    chunk.u32(0x08, 0x10);
    chunk.u32(0x0C, 1); // filegroup id
    chunk.string(0x10, name);
    chunk.finish()
}

fn sfin(logical: &str, physical: &str, file_id: u32) -> Vec<u8> {
    let mut chunk = Chunk::new(b"SFIN", SFIN_FIXED_LEN);
    chunk.u32(0x10, file_id);
    chunk.string(0x30, logical);
    chunk.string(0x34, physical);
    chunk.finish()
}

fn first4(guid: &Guid) -> [u8; 4] {
    let [a, b, c, d, ..] = guid.0;
    [a, b, c, d]
}

/// A deterministic version-4-shaped GUID from a seed and a salt (FNV-1a, then splitmix64).
pub(super) fn derive_guid(seed: &[u8], salt: u64) -> Guid {
    let mut state =
        seed.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3));
    state ^= salt.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let mut next = || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    let mut raw = [0u8; 16];
    let (low, high) = raw.split_at_mut(8);
    low.copy_from_slice(&next().to_le_bytes());
    high.copy_from_slice(&next().to_le_bytes());
    let [.., b7, b8, _, _, _, _, _, _, _] = &mut raw;
    *b7 = (*b7 & 0x0f) | 0x40;
    *b8 = (*b8 & 0x3f) | 0x80;
    Guid(raw)
}
