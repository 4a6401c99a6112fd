//! The SQL Server backup-set header (`SCIN` chunk of the `MQCI` stream in the MSCI head block and
//! the MSLS trailer block): offsets from `reference/sql-backup-format.md` §3.4.

#![deny(clippy::indexing_slicing)]

use super::header::{BackupKind, BackupTime, Guid, SoftwareVersion};
use super::lsn::{Lsn, LSN_LEN};
use super::mtf::{array, array4, decode_date, le_u16, le_u32, le_u64, utf16_at};

/// Longest name kept, in bytes of UTF-16 (SQL Server names are at most 128 characters; a server
/// name with its instance at most 256).
const MAX_NAME_BYTES: usize = 512;
/// Flag bit: the backup was taken WITH CHECKSUM.
pub(crate) const FLAG_CHECKSUM: u32 = 0x10;

/// Field offsets from the `SCIN` tag.
pub(crate) mod offsets {
    pub const LENGTH: usize = 0x04;
    pub const FLAGS: usize = 0x08;
    pub const VERSION_BUILD: usize = 0x18;
    pub const VERSION_MINOR: usize = 0x1A;
    pub const VERSION_MAJOR: usize = 0x1B;
    pub const FIRST_LSN: usize = 0x20;
    pub const LAST_LSN: usize = 0x2A;
    pub const CHECKPOINT_LSN: usize = 0x34;
    pub const DATABASE_BACKUP_LSN: usize = 0x3E;
    pub const CREATION_DATE: usize = 0x48;
    pub const START_DATE: usize = 0x4D;
    pub const FINISH_DATE: usize = 0x52;
    pub const TYPE_LETTER: usize = 0x57;
    pub const COMPATIBILITY_LEVEL: usize = 0x5B;
    pub const DATABASE_VERSION: usize = 0x5E;
    pub const BACKUP_SIZE: usize = 0x60;
    pub const DATABASE_NAME: usize = 0x68;
    pub const SERVER_NAME: usize = 0x6C;
    pub const FAMILY_GUID: usize = 0x7C;
    pub const BASE_GUID: usize = 0xC8;
    /// The smallest fixed part seen (SQL Server 2005); every field above lies inside it.
    pub const MIN_FIXED_LEN: usize = 0x158;
}

/// The decoded SCIN fields.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Scin {
    pub flags: u32,
    pub software_version: SoftwareVersion,
    pub first_lsn: Lsn,
    pub last_lsn: Lsn,
    pub checkpoint_lsn: Lsn,
    pub database_backup_lsn: Lsn,
    pub database_creation: BackupTime,
    pub backup_start: BackupTime,
    pub backup_finish: BackupTime,
    pub kind: BackupKind,
    pub compatibility_level: u8,
    pub database_version: u16,
    pub backup_size: u64,
    pub database_name: String,
    pub server: String,
    pub base_guid: Guid,
    pub family_guid: Guid,
}

/// Why the SCIN chunk could not be decoded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ScinError {
    #[error("the SQL Server header does not start with 'SCIN'")]
    MissingTag,
    #[error("the SQL Server header is {0} bytes, shorter than any SQL Server version writes")]
    TooShort(usize),
    #[error("the SQL Server header's {0} string points outside the header")]
    BadString(&'static str),
}

/// Decodes a SCIN chunk. `mqci` is the MQCI stream's content, starting at the `SCIN` tag.
pub(crate) fn parse_scin(mqci: &[u8]) -> Result<Scin, ScinError> {
    if array4(mqci, 0) != Some(*b"SCIN") {
        return Err(ScinError::MissingTag);
    }
    // The chunk's declared length bounds its fields; when it is missing or runs past what was read,
    // the bytes at hand are the bound.
    let declared = le_u32(mqci, offsets::LENGTH).and_then(|n| usize::try_from(n).ok());
    let chunk = declared.and_then(|n| mqci.get(..n)).unwrap_or(mqci);
    if chunk.len() < offsets::MIN_FIXED_LEN {
        return Err(ScinError::TooShort(chunk.len()));
    }
    let short = || ScinError::TooShort(chunk.len());
    let lsn = |at: usize| array::<LSN_LEN>(chunk, at).map(Lsn::from_le_bytes).ok_or_else(short);
    let date = |at: usize| array::<5>(chunk, at).map(decode_date).ok_or_else(short);
    let byte = |at: usize| chunk.get(at).copied().ok_or_else(short);
    let string = |at: usize, name: &'static str| -> Result<String, ScinError> {
        let len = le_u16(chunk, at).ok_or_else(short)?;
        let offset = le_u16(chunk, at + 2).ok_or_else(short)?;
        if len == 0 {
            return Ok(String::new());
        }
        // Names are sysname (128 characters) or MACHINE\INSTANCE: a longer one is damage, and is cut.
        let len = usize::from(len).min(MAX_NAME_BYTES);
        utf16_at(chunk, usize::from(offset), len).ok_or(ScinError::BadString(name))
    };
    Ok(Scin {
        flags: le_u32(chunk, offsets::FLAGS).ok_or_else(short)?,
        software_version: SoftwareVersion {
            major: byte(offsets::VERSION_MAJOR)?,
            minor: byte(offsets::VERSION_MINOR)?,
            build: le_u16(chunk, offsets::VERSION_BUILD).ok_or_else(short)?,
        },
        first_lsn: lsn(offsets::FIRST_LSN)?,
        last_lsn: lsn(offsets::LAST_LSN)?,
        checkpoint_lsn: lsn(offsets::CHECKPOINT_LSN)?,
        database_backup_lsn: lsn(offsets::DATABASE_BACKUP_LSN)?,
        database_creation: date(offsets::CREATION_DATE)?,
        backup_start: date(offsets::START_DATE)?,
        backup_finish: date(offsets::FINISH_DATE)?,
        kind: BackupKind::from_type_letter(byte(offsets::TYPE_LETTER)?),
        compatibility_level: byte(offsets::COMPATIBILITY_LEVEL)?,
        database_version: le_u16(chunk, offsets::DATABASE_VERSION).ok_or_else(short)?,
        backup_size: le_u64(chunk, offsets::BACKUP_SIZE).ok_or_else(short)?,
        database_name: string(offsets::DATABASE_NAME, "database name")?,
        server: string(offsets::SERVER_NAME, "server name")?,
        base_guid: Guid(array::<16>(chunk, offsets::BASE_GUID).ok_or_else(short)?),
        family_guid: Guid(array::<16>(chunk, offsets::FAMILY_GUID).ok_or_else(short)?),
    })
}

impl Scin {
    pub(crate) fn has_checksum(&self) -> bool {
        self.flags & FLAG_CHECKSUM != 0
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;

    /// The SCIN bytes the reference quotes for RestoreTimeClean_1.trn (trailer copy), padded with the
    /// names it points to.
    fn reference_example() -> Vec<u8> {
        let mut scin = vec![0u8; 0x19a];
        let head: [u8; 0x60] = [
            0x53, 0x43, 0x49, 0x4e, 0x9a, 0x01, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, //
            0x01, 0x00, 0x00, 0x00, 0x59, 0xed, 0x60, 0x7f, 0x40, 0x06, 0x32, 0x0a, 0x09, 0x00, 0x00, 0x00, //
            0x19, 0x00, 0x00, 0x00, 0x3e, 0x00, 0x00, 0x00, 0xaa, 0x00, 0x19, 0x00, 0x00, 0x00, 0x99, 0x00, //
            0x00, 0x00, 0x01, 0x00, 0x19, 0x00, 0x00, 0x00, 0x3e, 0x00, 0x00, 0x00, 0xaa, 0x00, 0x19, 0x00, //
            0x00, 0x00, 0x3e, 0x00, 0x00, 0x00, 0xaa, 0x00, 0x1f, 0x85, 0x82, 0xce, 0xcc, 0x1f, 0x85, 0x82, //
            0xd1, 0x0d, 0x1f, 0x85, 0x82, 0xd1, 0x0d, 0x4c, 0x00, 0x00, 0x00, 0x64, 0x00, 0x00, 0x95, 0x02, //
        ];
        scin[..0x60].copy_from_slice(&head);
        let name: Vec<u8> = "RestoreTimeClean".encode_utf16().flat_map(u16::to_le_bytes).collect();
        let server: Vec<u8> = "SQL2008".encode_utf16().flat_map(u16::to_le_bytes).collect();
        scin[0x68..0x6a].copy_from_slice(&(name.len() as u16).to_le_bytes());
        scin[0x6a..0x6c].copy_from_slice(&364u16.to_le_bytes());
        scin[0x6c..0x6e].copy_from_slice(&(server.len() as u16).to_le_bytes());
        scin[0x6e..0x70].copy_from_slice(&396u16.to_le_bytes());
        scin[364..364 + name.len()].copy_from_slice(&name);
        scin[396..396 + server.len()].copy_from_slice(&server);
        scin
    }

    #[test]
    fn decodes_the_reference_example() {
        let scin = parse_scin(&reference_example()).unwrap();
        assert_eq!(scin.kind, BackupKind::Log);
        assert_eq!(scin.software_version.to_string(), "10.50.1600");
        assert_eq!(scin.first_lsn.to_string(), "25000000006200170");
        assert_eq!(scin.last_lsn.to_string(), "25000000015300001");
        assert_eq!(scin.checkpoint_lsn, scin.first_lsn);
        assert_eq!(scin.database_backup_lsn.to_string(), "25000000006200170");
        assert_eq!(scin.backup_start.to_string(), "2017-06-01T13:04:13");
        assert_eq!(scin.compatibility_level, 100);
        assert_eq!(scin.database_version, 661);
        assert_eq!(scin.database_name, "RestoreTimeClean");
        assert_eq!(scin.server, "SQL2008");
        assert!(!scin.has_checksum());
    }

    #[test]
    fn refuses_short_or_untagged_input() {
        assert_eq!(parse_scin(b"SCIN"), Err(ScinError::TooShort(4)));
        assert_eq!(parse_scin(b"XXXX"), Err(ScinError::MissingTag));
        let mut bad = reference_example();
        bad[0x6a..0x6c].copy_from_slice(&0xfff0u16.to_le_bytes());
        assert_eq!(parse_scin(&bad), Err(ScinError::BadString("database name")));
    }
}
