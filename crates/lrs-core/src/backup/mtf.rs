//! Microsoft Tape Format (MTF 1.00a) framing as SQL Server writes it: the 52-byte descriptor block
//! (DBLK) header, the 22-byte stream header, their checksums, and MTF's packed date.
//!
//! Everything here is a pure function of a byte slice: no I/O, no panics on short or hostile input.

#![deny(clippy::indexing_slicing)]

use super::header::BackupTime;

/// Length of the common descriptor block header.
pub(crate) const DBLK_HEADER_LEN: usize = 52;
/// Length of a stream header.
pub(crate) const STREAM_HEADER_LEN: usize = 22;
/// Descriptor blocks start on multiples of this many bytes (the smallest physical block size).
pub(crate) const BLOCK_ALIGN: u64 = 512;

/// Descriptor block types a SQL Server backup contains (MTF standard and SQL Server specific).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BlockKind {
    Tape,
    Sfmb,
    Sset,
    Volb,
    Eset,
    Eotm,
    /// SQL Server configuration info: the head copy of the SQL header.
    Msci,
    /// SQL Server data.
    Msda,
    /// SQL Server log.
    Mstl,
    /// SQL Server trailer: the final copy of the SQL header.
    Msls,
    /// Other MTF blocks (DIRB, FILE, CFIL, ESPB): legal, not used by SQL Server backups.
    OtherMtf,
}

impl BlockKind {
    pub(crate) fn from_tag(tag: [u8; 4]) -> Option<Self> {
        Some(match &tag {
            b"TAPE" => BlockKind::Tape,
            b"SFMB" => BlockKind::Sfmb,
            b"SSET" => BlockKind::Sset,
            b"VOLB" => BlockKind::Volb,
            b"ESET" => BlockKind::Eset,
            b"EOTM" => BlockKind::Eotm,
            b"MSCI" => BlockKind::Msci,
            b"MSDA" => BlockKind::Msda,
            b"MSTL" => BlockKind::Mstl,
            b"MSLS" => BlockKind::Msls,
            b"DIRB" | b"FILE" | b"CFIL" | b"ESPB" => BlockKind::OtherMtf,
            _ => return None,
        })
    }
}

/// The common header of a descriptor block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct BlockHeader {
    pub kind: BlockKind,
    pub tag: [u8; 4],
    /// Offset from the block start to the first stream (for SFMB: the block's length).
    pub first_event: u16,
    /// OS-specific data: (size, offset from block start).
    pub os_data: (u16, u16),
}

/// Parses a descriptor block header, checking its tag and checksum. `None` when the bytes are not a
/// valid block header.
pub(crate) fn parse_block_header(bytes: &[u8]) -> Option<BlockHeader> {
    let header = bytes.get(..DBLK_HEADER_LEN)?;
    let tag = array4(header, 0)?;
    let kind = BlockKind::from_tag(tag)?;
    if !xor_checksum_ok(header) {
        return None;
    }
    Some(BlockHeader {
        kind,
        tag,
        first_event: le_u16(header, 8)?,
        os_data: (le_u16(header, 44)?, le_u16(header, 46)?),
    })
}

/// A stream header inside a block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct StreamHeader {
    pub id: [u8; 4],
    pub media_attributes: u16,
    pub length: u64,
    pub encryption: u16,
    pub compression: u16,
}

/// Parses a stream header, checking its checksum.
pub(crate) fn parse_stream_header(bytes: &[u8]) -> Option<StreamHeader> {
    let header = bytes.get(..STREAM_HEADER_LEN)?;
    if !xor_checksum_ok(header) {
        return None;
    }
    Some(StreamHeader {
        id: array4(header, 0)?,
        media_attributes: le_u16(header, 6)?,
        length: le_u64(header, 8)?,
        encryption: le_u16(header, 16)?,
        compression: le_u16(header, 18)?,
    })
}

/// MTF header checksum: the XOR of all little-endian u16 words before the last equals the last.
pub(crate) fn xor_checksum_ok(header: &[u8]) -> bool {
    let Some((body, sum)) = header.len().checked_sub(2).map(|n| header.split_at(n)) else {
        return false;
    };
    let expected = match sum {
        [a, b] => u16::from_le_bytes([*a, *b]),
        _ => return false,
    };
    xor_words(body) == expected
}

/// XOR of the little-endian u16 words of `bytes` (an odd trailing byte is ignored).
pub(crate) fn xor_words(bytes: &[u8]) -> u16 {
    bytes.chunks_exact(2).fold(0u16, |acc, w| match w {
        [a, b] => acc ^ u16::from_le_bytes([*a, *b]),
        _ => acc,
    })
}

/// Where the next stream starts after one of `length` bytes at `stream_pos` (streams are 4-byte
/// aligned). `None` on overflow.
pub(crate) fn next_stream_pos(stream_pos: u64, length: u64) -> Option<u64> {
    let end = stream_pos.checked_add(STREAM_HEADER_LEN as u64)?.checked_add(length)?;
    end.checked_add(3).map(|v| v & !3)
}

/// Decodes MTF's 5-byte packed date (big-endian year:14 month:4 day:5 hour:5 minute:6 second:6).
pub(crate) fn decode_date(bytes: [u8; 5]) -> BackupTime {
    let [a, b, c, d, e] = bytes;
    let v = u64::from_be_bytes([0, 0, 0, a, b, c, d, e]);
    // Each field is masked to its width before narrowing, so the casts cannot truncate.
    BackupTime {
        year: ((v >> 26) & 0x3FFF) as u16,
        month: ((v >> 22) & 0xF) as u8,
        day: ((v >> 17) & 0x1F) as u8,
        hour: ((v >> 12) & 0x1F) as u8,
        minute: ((v >> 6) & 0x3F) as u8,
        second: (v & 0x3F) as u8,
    }
}

/// Encodes a date in MTF's packed form (the inverse of [`decode_date`]). The writer packs dates on
/// its own, so that one mistaken encoder cannot make a round trip pass; this one checks the decoder.
#[cfg(test)]
pub(crate) fn encode_date(t: BackupTime) -> [u8; 5] {
    let v = (u64::from(t.year) & 0x3FFF) << 26
        | (u64::from(t.month) & 0xF) << 22
        | (u64::from(t.day) & 0x1F) << 17
        | (u64::from(t.hour) & 0x1F) << 12
        | (u64::from(t.minute) & 0x3F) << 6
        | (u64::from(t.second) & 0x3F);
    let [_, _, _, a, b, c, d, e] = v.to_be_bytes();
    [a, b, c, d, e]
}

pub(crate) fn le_u16(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(bytes.get(at..at.checked_add(2)?)?.try_into().ok()?))
}

pub(crate) fn le_u32(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(bytes.get(at..at.checked_add(4)?)?.try_into().ok()?))
}

pub(crate) fn le_u64(bytes: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(bytes.get(at..at.checked_add(8)?)?.try_into().ok()?))
}

pub(crate) fn array4(bytes: &[u8], at: usize) -> Option<[u8; 4]> {
    bytes.get(at..at.checked_add(4)?)?.try_into().ok()
}

pub(crate) fn array<const N: usize>(bytes: &[u8], at: usize) -> Option<[u8; N]> {
    bytes.get(at..at.checked_add(N)?)?.try_into().ok()
}

/// Decodes a UTF-16LE string of `len` bytes at `offset` within `bytes` (a descriptor's target).
pub(crate) fn utf16_at(bytes: &[u8], offset: usize, len: usize) -> Option<String> {
    let raw = bytes.get(offset..offset.checked_add(len)?)?;
    let units: Vec<u16> = raw
        .chunks_exact(2)
        .filter_map(|w| match w {
            [a, b] => Some(u16::from_le_bytes([*a, *b])),
            _ => None,
        })
        .collect();
    Some(String::from_utf16_lossy(&units).trim_end_matches('\0').to_string())
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn date_matches_the_reference_example() {
        // SCIN+0x4D of RestoreTimeClean_1.trn: 1f 85 82 d1 0d = 2017-06-01 13:04:13.
        let t = decode_date([0x1f, 0x85, 0x82, 0xd1, 0x0d]);
        assert_eq!(t.to_string(), "2017-06-01T13:04:13");
        assert_eq!(encode_date(t), [0x1f, 0x85, 0x82, 0xd1, 0x0d]);
    }

    #[test]
    fn checksum_detects_a_flipped_bit() {
        let mut header = [0u8; DBLK_HEADER_LEN];
        header[..4].copy_from_slice(b"SSET");
        header[8] = 144;
        let sum = xor_words(&header[..50]);
        header[50..].copy_from_slice(&sum.to_le_bytes());
        assert_eq!(parse_block_header(&header).map(|h| h.kind), Some(BlockKind::Sset));
        header[9] ^= 1;
        assert_eq!(parse_block_header(&header), None);
    }

    #[test]
    fn short_or_unknown_input_is_not_a_block() {
        assert_eq!(parse_block_header(b"TAPE"), None);
        let mut header = [0u8; DBLK_HEADER_LEN];
        header[..4].copy_from_slice(b"ABCD");
        let sum = xor_words(&header[..50]);
        header[50..].copy_from_slice(&sum.to_le_bytes());
        assert_eq!(parse_block_header(&header), None);
        assert_eq!(parse_stream_header(&[0u8; 10]), None);
    }

    #[test]
    fn stream_positions_are_aligned_and_never_overflow() {
        assert_eq!(next_stream_pos(0x38, 32), Some(0x38 + 22 + 32 + 2));
        assert_eq!(next_stream_pos(u64::MAX - 10, 100), None);
    }
}
