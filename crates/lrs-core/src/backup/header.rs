//! What one backup file says about itself: the fields `RESTORE HEADERONLY` shows, decoded from the
//! file by [`super::reader`].

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::lsn::Lsn;

/// The kind of backup, from the SCIN type letter (msdb `backupset.type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum BackupKind {
    /// `D`: full database backup.
    Full,
    /// `I`: differential database backup.
    Diff,
    /// `L`: transaction log backup.
    Log,
    /// File, filegroup or partial backups (`F`, `G`, `P`, `Q`) and unknown letters: LRS does not use them.
    Other,
}

impl BackupKind {
    pub fn from_type_letter(letter: u8) -> Self {
        match letter {
            b'D' => BackupKind::Full,
            b'I' => BackupKind::Diff,
            b'L' => BackupKind::Log,
            _ => BackupKind::Other,
        }
    }

    pub fn type_letter(self) -> u8 {
        match self {
            BackupKind::Full => b'D',
            BackupKind::Diff => b'I',
            BackupKind::Log => b'L',
            BackupKind::Other => b'F',
        }
    }
}

impl fmt::Display for BackupKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BackupKind::Full => "full",
            BackupKind::Diff => "diff",
            BackupKind::Log => "log",
            BackupKind::Other => "other",
        })
    }
}

/// How the file is packaged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ContainerKind {
    /// Plain Microsoft Tape Format, starting with `TAPE`.
    Mtf,
    /// `MSSQLBAK`: a compressed or encrypted backup; its headers are inside compressed records.
    MssqlBak,
}

/// Which copy of the SQL Server header the values come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum HeaderSource {
    /// The MSLS trailer copy, written when the backup finished: authoritative.
    Trailer,
    /// The MSCI head copy: provisional (the LSNs can be earlier on SQL Server 2019 and later). Used
    /// only when the trailer is missing, which means the file is truncated.
    Head,
}

/// A local date and time as MTF stores it (no time zone; see [`BackupHeader::time_zone_minutes`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BackupTime {
    pub year: u16,
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
}

impl BackupTime {
    /// True for the all-zero value MTF uses for "not set".
    pub fn is_unset(&self) -> bool {
        *self == BackupTime::default()
    }
}

impl fmt::Display for BackupTime {
    /// ISO 8601 without an offset: `2017-06-01T13:04:13`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }
}

impl std::str::FromStr for BackupTime {
    type Err = ();

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        parse_backup_time(text).ok_or(())
    }
}

serde_as_text!(BackupTime, "a YYYY-MM-DDTHH:MM:SS time");

fn parse_backup_time(text: &str) -> Option<BackupTime> {
    let bytes = text.as_bytes();
    if bytes.len() != 19 || bytes.get(4) != Some(&b'-') || bytes.get(10) != Some(&b'T') {
        return None;
    }
    let num = |range: std::ops::Range<usize>| text.get(range)?.parse::<u16>().ok();
    Some(BackupTime {
        year: num(0..4)?,
        month: u8::try_from(num(5..7)?).ok()?,
        day: u8::try_from(num(8..10)?).ok()?,
        hour: u8::try_from(num(11..13)?).ok()?,
        minute: u8::try_from(num(14..16)?).ok()?,
        second: u8::try_from(num(17..19)?).ok()?,
    })
}

/// A 16-byte GUID as SQL Server prints it (`5AF3E50D-...`), mixed-endian like Windows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Guid(pub [u8; 16]);

impl Guid {
    pub fn is_nil(&self) -> bool {
        self.0 == [0u8; 16]
    }
}

impl fmt::Display for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = &self.0;
        let d1 = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        let d2 = u16::from_le_bytes([b[4], b[5]]);
        let d3 = u16::from_le_bytes([b[6], b[7]]);
        write!(f, "{d1:08X}-{d2:04X}-{d3:04X}-{:02X}{:02X}-", b[8], b[9])?;
        for byte in &b[10..] {
            write!(f, "{byte:02X}")?;
        }
        Ok(())
    }
}

impl std::str::FromStr for Guid {
    type Err = ();

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        parse_guid(text).ok_or(())
    }
}

serde_as_text!(Guid, "a GUID");

fn parse_guid(text: &str) -> Option<Guid> {
    let hex: String = text.chars().filter(|c| *c != '-').collect();
    if hex.len() != 32 || text.len() != 36 {
        return None;
    }
    let mut raw = [0u8; 16];
    for (i, slot) in raw.iter_mut().enumerate() {
        *slot = u8::from_str_radix(hex.get(i * 2..i * 2 + 2)?, 16).ok()?;
    }
    // Undo the little-endian first three groups.
    raw[0..4].reverse();
    raw[4..6].reverse();
    raw[6..8].reverse();
    Some(Guid(raw))
}

/// SQL Server's product version, `major.minor.build` (`10.50.1600`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SoftwareVersion {
    pub major: u8,
    pub minor: u8,
    pub build: u16,
}

impl fmt::Display for SoftwareVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.build)
    }
}

impl std::str::FromStr for SoftwareVersion {
    type Err = ();

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut parts = text.split('.');
        let version = SoftwareVersion {
            major: parts.next().and_then(|p| p.parse().ok()).ok_or(())?,
            minor: parts.next().and_then(|p| p.parse().ok()).ok_or(())?,
            build: parts.next().and_then(|p| p.parse().ok()).ok_or(())?,
        };
        parts.next().is_none().then_some(version).ok_or(())
    }
}

serde_as_text!(SoftwareVersion, "a major.minor.build version");

/// The header of one backup set in one file (one stripe of a media set), as `RESTORE HEADERONLY`
/// would show it, plus where it came from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct BackupHeader {
    pub path: PathBuf,
    pub database_name: String,
    /// `MACHINE` or `MACHINE\INSTANCE`.
    pub server: String,
    pub kind: BackupKind,
    pub first_lsn: Lsn,
    pub last_lsn: Lsn,
    pub checkpoint_lsn: Lsn,
    pub database_backup_lsn: Lsn,
    pub backup_start: BackupTime,
    /// Unset (all zero) only when the values come from the head copy.
    pub backup_finish: BackupTime,
    pub database_creation: BackupTime,
    /// Offset of the local times from UTC, in minutes (MTF stores 15-minute units).
    pub time_zone_minutes: i16,
    pub has_checksum: bool,
    pub software_version: SoftwareVersion,
    pub database_version: u16,
    pub compatibility_level: u8,
    /// Bytes of the whole media set (all stripes), as SQL Server records it.
    pub backup_size: u64,
    pub backup_set_guid: Guid,
    /// For a diff or log: the backup set GUID of the full backup it is based on; nil for the first full.
    pub differential_base_guid: Guid,
    pub media_set_id: Guid,
    /// Constant for one database across its backups, and new when a database is dropped and
    /// created again under the same name (SCIN+0x7C: BindingID or FamilyGUID, not told apart yet).
    pub family_guid: Guid,
    pub family_count: u16,
    pub family_sequence: u16,
    /// MEDIAPASSWORD was used (TAPE password algorithm is not zero).
    pub password_protected: bool,
    pub container_kind: ContainerKind,
    pub header_source: HeaderSource,
    /// `Position` (`FILE = n`) of this set in the file.
    pub position: u16,
    /// Backup name (`BackupName`), such as `RestoreTimeClean-Full Database Backup`.
    pub backup_name: String,
    /// Size of the file on disk, in bytes.
    pub file_size: u64,
}

impl BackupHeader {
    /// True for a log backup that holds no log records (`FirstLSN == LastLSN`).
    pub fn is_empty_log(&self) -> bool {
        self.kind == BackupKind::Log && self.first_lsn == self.last_lsn
    }

    /// Major version number of the source SQL Server.
    pub fn sql_major_version(&self) -> u8 {
        self.software_version.major
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guid_prints_like_sql_server_and_parses_back() {
        let guid =
            Guid([0x0d, 0xe5, 0xf3, 0x5a, 0x34, 0x12, 0x78, 0x56, 0x9a, 0xbc, 0xde, 0xf0, 0x01, 0x02, 0x03, 0x04]);
        let text = guid.to_string();
        assert_eq!(text, "5AF3E50D-1234-5678-9ABC-DEF001020304");
        assert_eq!(parse_guid(&text), Some(guid));
        assert_eq!(parse_guid("not-a-guid"), None);
    }

    #[test]
    fn time_prints_iso_and_parses_back() {
        let t = BackupTime { year: 2017, month: 6, day: 1, hour: 13, minute: 4, second: 13 };
        assert_eq!(t.to_string(), "2017-06-01T13:04:13");
        assert_eq!(parse_backup_time("2017-06-01T13:04:13"), Some(t));
        assert_eq!(parse_backup_time("2017-06-01 13:04:13"), None);
    }

    #[test]
    fn kind_letters() {
        for kind in [BackupKind::Full, BackupKind::Diff, BackupKind::Log] {
            assert_eq!(BackupKind::from_type_letter(kind.type_letter()), kind);
        }
        assert_eq!(BackupKind::from_type_letter(b'P'), BackupKind::Other);
    }
}
