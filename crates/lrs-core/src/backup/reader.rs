//! Reads one backup file into the headers of its backup sets, as `RESTORE HEADERONLY` shows them.
//!
//! Only the head and the tail of the file are read: the head up to the first data block (TAPE,
//! SSET, MSCI), then the trailer found by scanning back from the end on 512-byte boundaries (MSLS,
//! ESET). The trailer copy of the SQL header is authoritative; the head copy is used only when the
//! trailer is missing (a truncated file). A 2 TB backup costs a few 16 KiB reads. Only a file that
//! holds several backup sets is walked block by block, skipping the data streams by their lengths.
//!
//! Every length read from the file is checked against the file's size before it is used, so
//! hostile input cannot make the reader allocate or seek beyond what the file justifies.

#![deny(clippy::indexing_slicing)]

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use super::finding::FindingCode;
use super::header::{BackupHeader, ContainerKind, Guid, HeaderSource};
use super::mtf::{
    self, le_u16, parse_block_header, parse_stream_header, BlockHeader, BlockKind, BLOCK_ALIGN, DBLK_HEADER_LEN,
    STREAM_HEADER_LEN,
};
use super::scin::{parse_scin, Scin};

/// Bytes fetched per read; reads are aligned to it and cached.
const PAGE_LEN: u64 = 16 * 1024;
/// Pages kept in the cache of one file.
const MAX_CACHED_PAGES: usize = 64;
/// How far back from the end the trailer is searched for.
const TAIL_SCAN_LIMIT: u64 = 1024 * 1024;
/// At most this much of an MQCI stream is read: the SCIN chunk is at its start.
const MQCI_READ_LIMIT: u64 = 64 * 1024;
/// Streams in one block before the block is declared malformed.
const MAX_STREAMS_PER_BLOCK: usize = 4096;
/// Blocks visited when a multi-set file is walked end to end.
const MAX_WALK_BLOCKS: usize = 100_000;
/// Backup sets read from one file at most: more than one is already an error for LRS.
const MAX_SETS: usize = 64;
/// Magic of compressed or encrypted backups.
const MSSQLBAK_MAGIC: &[u8; 8] = b"MSSQLBAK";

/// What one read produced, and what it cost.
#[derive(Clone, Debug, PartialEq)]
pub struct FileRead {
    /// One header per backup set in the file (usually one), in file order.
    pub sets: Vec<BackupHeader>,
    /// Set when the end of the file is missing: what was expected and not found.
    pub truncation: Option<String>,
    /// Bytes read from the source to get them.
    pub bytes_read: u64,
}

/// Why a file could not be read as a backup.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("cannot read '{}': {source}. Check that the file exists and that you may read it.", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("'{}' is not a SQL Server backup file: {detail}. Remove it from the backup folder.", path.display())]
    NotABackup { path: PathBuf, detail: String },
    #[error(
        "'{}' is a compressed or encrypted SQL Server backup (it starts with MSSQLBAK); its headers cannot be read \
         here yet. LRS can restore it, but it cannot be checked before upload: take an uncompressed backup to have it \
         checked, or upload it knowing the chain was not verified.",
        path.display()
    )]
    CompressedOrEncrypted { path: PathBuf },
    #[error(
        "'{}' is truncated: {detail}. The backup or the copy was interrupted; copy the file again from the server \
         that took it.",
        path.display()
    )]
    Truncated { path: PathBuf, detail: String },
}

impl ReadError {
    /// The finding code this error is reported under.
    pub fn finding_code(&self) -> FindingCode {
        match self {
            ReadError::Io { .. } => FindingCode::CannotReadFile,
            ReadError::NotABackup { .. } => FindingCode::NotABackupFile,
            ReadError::CompressedOrEncrypted { .. } => FindingCode::CompressedOrEncryptedUnreadable,
            ReadError::Truncated { .. } => FindingCode::TruncatedFile,
        }
    }
}

/// Opens and reads a backup file.
pub fn read_backup_file(path: &Path) -> Result<FileRead, ReadError> {
    let io_err = |source| ReadError::Io { path: path.to_path_buf(), source };
    let file = std::fs::File::open(path).map_err(io_err)?;
    let len = file.metadata().map_err(io_err)?.len();
    read_backup(file, len, path)
}

/// Reads a backup from any seekable source of `file_len` bytes; `path` names it in the results.
pub fn read_backup<R: Read + Seek>(source: R, file_len: u64, path: &Path) -> Result<FileRead, ReadError> {
    let mut reader = Reader { src: PagedSource::new(source, file_len), path };
    let result = reader.read();
    result.map(|(sets, truncation)| FileRead { sets, truncation, bytes_read: reader.src.bytes_read })
}

/// A block as visited: where it is, where the next one starts, and what it carried.
#[derive(Debug)]
struct Visited {
    pos: u64,
    header: BlockHeader,
    next: u64,
    /// Fixed part of the block: bytes from the block start up to the first stream.
    fixed: Vec<u8>,
    /// The RAID stream of a TAPE block, or the MQCI stream of an MSCI/MSLS block (capped).
    payload: Option<Vec<u8>>,
}

/// Why there is no valid block where one was expected.
#[derive(Debug)]
struct Broken {
    detail: String,
    /// The file ends before the block does: a truncated file rather than a foreign one.
    at_end_of_file: bool,
}

impl Broken {
    fn ends(detail: String) -> Self {
        Broken { detail, at_end_of_file: true }
    }

    fn invalid(detail: String) -> Self {
        Broken { detail, at_end_of_file: false }
    }
}

/// The media header (TAPE) fields a backup header needs.
#[derive(Clone, Copy, Debug, Default)]
struct Media {
    password_protected: bool,
    media_set_id: Guid,
    family_count: u16,
    family_sequence: u16,
}

/// The start-of-set (SSET) fields a backup header needs.
#[derive(Clone, Debug, Default)]
struct SetStart {
    backup_set_guid: Guid,
    position: u16,
    time_zone_minutes: i16,
    backup_name: String,
}

/// One backup set as found: its SSET and the copies of its SQL header.
#[derive(Debug, Default)]
struct SetParts {
    start: SetStart,
    head: Option<Scin>,
    trailer: Option<Scin>,
}

struct Reader<'p, R> {
    src: PagedSource<R>,
    path: &'p Path,
}

impl<R: Read + Seek> Reader<'_, R> {
    fn read(&mut self) -> Result<(Vec<BackupHeader>, Option<String>), ReadError> {
        let magic = self.bytes(0, 8)?;
        if magic.as_slice() == MSSQLBAK_MAGIC {
            return Err(ReadError::CompressedOrEncrypted { path: self.path.to_path_buf() });
        }
        let tape = match self.visit(0)? {
            Ok(block) if block.header.kind == BlockKind::Tape => block,
            _ => return Err(self.not_a_backup("it does not start with a Microsoft Tape Format media header (TAPE)")),
        };
        let media = parse_media(&tape);
        let (first_set, data_pos) = self.read_head(tape.next)?;
        let tail = self.read_tail(data_pos)?;
        // The trailer found from the end belongs to the first set only when the file is complete,
        // its last ESET names the first set, and the trailer agrees with the head copy. Otherwise
        // (several sets, or a cut that may fall in any set) the chain is walked set by set.
        let first_position = first_set.start.position;
        let single_set = tail.truncation.is_none()
            && !tail.more_sets_after_trailer
            && tail.last_set_number.is_some_and(|last| last <= first_position)
            && matches!((&tail.trailer, &first_set.head), (Some(t), Some(h)) if same_backup(t, h));
        let (sets, truncation) = if single_set {
            (vec![SetParts { trailer: tail.trailer, ..first_set }], None)
        } else {
            let (sets, damage) = self.walk_all_sets(tape.next, first_set)?;
            (sets, tail.truncation.or(damage))
        };
        let headers = sets.iter().filter_map(|parts| self.to_header(&media, parts)).collect::<Vec<_>>();
        if headers.is_empty() {
            return Err(self.truncated("the file ends before its SQL Server header (MSCI)"));
        }
        Ok((headers, truncation))
    }

    /// Walks from the block after TAPE to the first data block: SFMB, SSET, VOLB, MSCI.
    fn read_head(&mut self, mut pos: u64) -> Result<(SetParts, u64), ReadError> {
        let mut parts = SetParts::default();
        let mut seen_sset = false;
        for _ in 0..64 {
            let block = match self.visit(pos)? {
                Ok(block) => block,
                Err(broken) if broken.at_end_of_file || seen_sset => return Err(self.truncated(&broken.detail)),
                Err(broken) => return Err(self.not_a_backup(&broken.detail)),
            };
            match block.header.kind {
                BlockKind::Sset => {
                    parts.start = parse_set_start(&block);
                    seen_sset = true;
                }
                BlockKind::Msci => {
                    let scin = self.scin_of(&block)?;
                    parts.head = Some(scin);
                    return Ok((parts, block.next));
                }
                BlockKind::Msda | BlockKind::Mstl | BlockKind::Msls | BlockKind::Eset => break,
                _ => {}
            }
            pos = block.next;
        }
        Err(self.not_a_backup("no SQL Server header (MSCI block) follows the media header"))
    }

    /// Finds the last trailer (MSLS) near the end and walks from it to the end of the file.
    fn read_tail(&mut self, head_end: u64) -> Result<Tail, ReadError> {
        let mut tail = Tail::default();
        let Some(msls) = self.find_last_trailer(head_end)? else {
            tail.truncation =
                Some("the trailer (MSLS block) that SQL Server writes when the backup ends is missing".into());
            return Ok(tail);
        };
        tail.trailer = Some(self.scin_of(&msls)?);
        let mut pos = msls.next;
        let mut esets = 0;
        let mut last_kind = BlockKind::Msls;
        for _ in 0..MAX_WALK_BLOCKS {
            if pos == self.src.len {
                break;
            }
            match self.visit(pos)? {
                Ok(block) => {
                    last_kind = block.header.kind;
                    match block.header.kind {
                        BlockKind::Eset => {
                            esets += 1;
                            tail.last_set_number = parse_eset_set_number(&block).or(tail.last_set_number);
                        }
                        BlockKind::Sset => {
                            tail.more_sets_after_trailer = true;
                        }
                        _ => {}
                    }
                    pos = block.next;
                }
                // Bytes after a complete end of set (ESET, ESET, SFMB) are padding, not damage.
                Err(_) if esets >= 2 && last_kind == BlockKind::Sfmb => break,
                Err(broken) => {
                    tail.truncation = Some(broken.detail);
                    return Ok(tail);
                }
            }
        }
        // SQL Server ends every set with ESET, ESET and a soft filemark (SFMB).
        if esets < 2 || last_kind != BlockKind::Sfmb {
            tail.truncation = Some("the end-of-set blocks (ESET, ESET, SFMB) after the trailer are missing".into());
        }
        Ok(tail)
    }

    /// Scans back from the end of the file, on block boundaries, for the last valid MSLS block.
    fn find_last_trailer(&mut self, not_before: u64) -> Result<Option<Visited>, ReadError> {
        let len = self.src.len;
        let Some(last_start) = len.checked_sub(DBLK_HEADER_LEN as u64) else { return Ok(None) };
        let floor = not_before.max(len.saturating_sub(TAIL_SCAN_LIMIT));
        let mut pos = last_start - last_start % BLOCK_ALIGN;
        while pos >= floor {
            let bytes = self.bytes(pos, DBLK_HEADER_LEN)?;
            if bytes.get(..4) == Some(b"MSLS".as_slice()) && parse_block_header(&bytes).is_some() {
                if let Ok(block) = self.visit(pos)? {
                    if block.payload.as_deref().is_some_and(|p| parse_scin(p).is_ok()) {
                        return Ok(Some(block));
                    }
                }
            }
            match pos.checked_sub(BLOCK_ALIGN) {
                Some(p) => pos = p,
                None => break,
            }
        }
        Ok(None)
    }

    /// Walks the whole chain set by set, skipping data streams by their lengths. Also returns why
    /// the walk stopped before the end of the file, if it did.
    fn walk_all_sets(&mut self, mut pos: u64, first: SetParts) -> Result<(Vec<SetParts>, Option<String>), ReadError> {
        let mut sets: Vec<SetParts> = Vec::new();
        let mut current: Option<SetParts> = None;
        let mut damage = None;
        for _ in 0..MAX_WALK_BLOCKS {
            if pos >= self.src.len {
                break;
            }
            let block = match self.visit(pos)? {
                Ok(block) => block,
                Err(broken) => {
                    damage = Some(broken.detail);
                    break;
                }
            };
            match block.header.kind {
                BlockKind::Sset if sets.len() + 1 >= MAX_SETS => {
                    damage = Some(format!("the file holds more than {MAX_SETS} backup sets; the rest were not read"));
                    break;
                }
                BlockKind::Sset => {
                    sets.extend(current.take());
                    current = Some(SetParts { start: parse_set_start(&block), ..SetParts::default() });
                }
                BlockKind::Msci => {
                    if let Some(set) = current.as_mut() {
                        set.head = self.scin_of(&block).ok();
                    }
                }
                BlockKind::Msls => {
                    if let Some(set) = current.as_mut() {
                        set.trailer = self.scin_of(&block).ok();
                    }
                }
                _ => {}
            }
            pos = block.next;
        }
        sets.extend(current.take());
        if sets.is_empty() {
            sets.push(first);
        }
        Ok((sets, damage))
    }

    fn scin_of(&self, block: &Visited) -> Result<Scin, ReadError> {
        let Some(payload) = block.payload.as_deref() else {
            return Err(
                self.not_a_backup(&format!("the SQL Server header block at offset {} has no MQCI stream", block.pos))
            );
        };
        parse_scin(payload).map_err(|e| self.not_a_backup(&format!("{e} (block at offset {})", block.pos)))
    }

    fn to_header(&self, media: &Media, parts: &SetParts) -> Option<BackupHeader> {
        let (scin, source) = match (&parts.trailer, &parts.head) {
            (Some(t), _) => (t, HeaderSource::Trailer),
            (None, Some(h)) => (h, HeaderSource::Head),
            (None, None) => return None,
        };
        Some(BackupHeader {
            path: self.path.to_path_buf(),
            database_name: scin.database_name.clone(),
            server: scin.server.clone(),
            kind: scin.kind,
            first_lsn: scin.first_lsn,
            last_lsn: scin.last_lsn,
            checkpoint_lsn: scin.checkpoint_lsn,
            database_backup_lsn: scin.database_backup_lsn,
            backup_start: scin.backup_start,
            backup_finish: scin.backup_finish,
            database_creation: scin.database_creation,
            time_zone_minutes: parts.start.time_zone_minutes,
            has_checksum: scin.has_checksum(),
            software_version: scin.software_version,
            database_version: scin.database_version,
            compatibility_level: scin.compatibility_level,
            backup_size: scin.backup_size,
            backup_set_guid: parts.start.backup_set_guid,
            differential_base_guid: scin.base_guid,
            media_set_id: media.media_set_id,
            family_guid: scin.family_guid,
            family_count: media.family_count,
            family_sequence: media.family_sequence,
            password_protected: media.password_protected,
            container_kind: ContainerKind::Mtf,
            header_source: source,
            position: parts.start.position,
            backup_name: parts.start.backup_name.clone(),
            file_size: self.src.len,
        })
    }

    /// Visits the block at `pos`. The outer error is I/O; the inner one says why there is no valid
    /// block there (which the caller turns into "not a backup" or "truncated").
    fn visit(&mut self, pos: u64) -> Result<Result<Visited, Broken>, ReadError> {
        let len = self.src.len;
        let header_bytes = self.bytes(pos, DBLK_HEADER_LEN)?;
        if header_bytes.len() < DBLK_HEADER_LEN {
            return Ok(Err(Broken::ends(format!(
                "the file ends at offset {len}, inside the block expected at offset {pos}"
            ))));
        }
        let Some(header) = parse_block_header(&header_bytes) else {
            return Ok(Err(Broken::invalid(format!(
                "no valid block header at offset {pos} (unknown type or checksum mismatch)"
            ))));
        };
        let first_event = u64::from(header.first_event);
        if first_event < DBLK_HEADER_LEN as u64 {
            return Ok(Err(Broken::invalid(format!("the block at offset {pos} declares an impossible size"))));
        }
        let fixed_len = usize::from(header.first_event);
        let fixed = self.bytes(pos, fixed_len)?;
        if fixed.len() < fixed_len {
            return Ok(Err(Broken::ends(format!("the file ends inside the block at offset {pos}"))));
        }
        let Some(streams_at) = pos.checked_add(first_event) else {
            return Ok(Err(Broken::invalid(format!("the block at offset {pos} points beyond any file"))));
        };
        if header.kind == BlockKind::Sfmb {
            return Ok(Ok(Visited { pos, header, next: streams_at, fixed, payload: None }));
        }
        let mut stream_pos = streams_at;
        let mut payload = None;
        for _ in 0..MAX_STREAMS_PER_BLOCK {
            let raw = self.bytes(stream_pos, STREAM_HEADER_LEN)?;
            let Some(stream) = parse_stream_header(&raw) else {
                return Ok(Err(if raw.len() < STREAM_HEADER_LEN {
                    Broken::ends(format!("the file ends at offset {len}, inside the block at offset {pos}"))
                } else {
                    Broken::invalid(format!("bad stream header at offset {stream_pos} in the block at offset {pos}"))
                }));
            };
            let body = stream_pos + STREAM_HEADER_LEN as u64;
            let Some(end) = body.checked_add(stream.length).filter(|end| *end <= len) else {
                return Ok(Err(Broken::ends(format!(
                    "the file ends at offset {len}, inside a {} stream of the block at offset {pos}",
                    String::from_utf8_lossy(&stream.id)
                ))));
            };
            let wanted = matches!(
                (header.kind, &stream.id),
                (BlockKind::Tape, b"RAID") | (BlockKind::Msci | BlockKind::Msls, b"MQCI")
            );
            if wanted && payload.is_none() {
                let take = usize::try_from(stream.length.min(MQCI_READ_LIMIT)).unwrap_or(0);
                payload = Some(self.bytes(body, take)?);
            }
            if &stream.id == b"SPAD" {
                return Ok(Ok(Visited { pos, header, next: end, fixed, payload }));
            }
            match mtf::next_stream_pos(stream_pos, stream.length) {
                Some(next) if next > stream_pos => stream_pos = next,
                _ => return Ok(Err(Broken::invalid(format!("stream chain loops in the block at offset {pos}")))),
            }
        }
        Ok(Err(Broken::invalid(format!("the block at offset {pos} has too many streams"))))
    }

    fn bytes(&mut self, offset: u64, len: usize) -> Result<Vec<u8>, ReadError> {
        self.src.read_at(offset, len).map_err(|source| ReadError::Io { path: self.path.to_path_buf(), source })
    }

    fn not_a_backup(&self, detail: &str) -> ReadError {
        ReadError::NotABackup { path: self.path.to_path_buf(), detail: detail.to_string() }
    }

    fn truncated(&self, detail: &str) -> ReadError {
        ReadError::Truncated { path: self.path.to_path_buf(), detail: detail.to_string() }
    }
}

/// True when two copies of the SQL header describe the same backup. The head copy's LSNs may be
/// provisional, so they are not compared.
fn same_backup(trailer: &Scin, head: &Scin) -> bool {
    trailer.kind == head.kind
        && trailer.backup_start == head.backup_start
        && trailer.database_name == head.database_name
}

/// What the walk from the trailer to the end found.
#[derive(Debug, Default)]
struct Tail {
    trailer: Option<Scin>,
    last_set_number: Option<u16>,
    more_sets_after_trailer: bool,
    truncation: Option<String>,
}

fn parse_media(tape: &Visited) -> Media {
    let raid = tape.payload.as_deref().unwrap_or(&[]);
    Media {
        password_protected: le_u16(&tape.fixed, 62).unwrap_or(0) != 0,
        media_set_id: Guid(mtf::array::<16>(raid, 0).unwrap_or_default()),
        family_count: le_u16(raid, 20).unwrap_or(1).max(1),
        family_sequence: le_u16(raid, 24).unwrap_or(1).max(1),
    }
}

fn parse_set_start(sset: &Visited) -> SetStart {
    let fixed = &sset.fixed;
    let (os_size, os_offset) = sset.header.os_data;
    let guid_at = if os_size >= 16 { usize::from(os_offset) } else { 0x64 };
    let time_zone = fixed.get(95).map(|b| i8::from_le_bytes([*b])).unwrap_or(0);
    SetStart {
        backup_set_guid: Guid(mtf::array::<16>(fixed, guid_at).unwrap_or_default()),
        position: le_u16(fixed, 62).unwrap_or(1),
        // 127 (0x7F) is MTF's "local time zone not known".
        time_zone_minutes: if time_zone == 127 { 0 } else { i16::from(time_zone) * 15 },
        backup_name: descriptor_string(fixed, 64, fixed.get(48).copied().unwrap_or(2)),
    }
}

fn parse_eset_set_number(eset: &Visited) -> Option<u16> {
    le_u16(&eset.fixed, 78)
}

/// Resolves an MTF string descriptor `{u16 size, u16 offset}` at `at` within a block's fixed part.
fn descriptor_string(fixed: &[u8], at: usize, string_type: u8) -> String {
    let (Some(size), Some(offset)) = (le_u16(fixed, at), le_u16(fixed, at + 2)) else {
        return String::new();
    };
    let (offset, size) = (usize::from(offset), usize::from(size));
    if string_type == 1 {
        let bytes = fixed.get(offset..offset + size).unwrap_or(&[]);
        return String::from_utf8_lossy(bytes).trim_end_matches('\0').to_string();
    }
    mtf::utf16_at(fixed, offset, size).unwrap_or_default()
}

/// A seekable source read in aligned, cached pages, counting the bytes it reads.
struct PagedSource<R> {
    inner: R,
    len: u64,
    pages: Vec<(u64, Vec<u8>)>,
    bytes_read: u64,
}

impl<R: Read + Seek> PagedSource<R> {
    fn new(inner: R, len: u64) -> Self {
        PagedSource { inner, len, pages: Vec::new(), bytes_read: 0 }
    }

    /// Up to `len` bytes at `offset`; fewer at the end of the file, none past it.
    fn read_at(&mut self, offset: u64, len: usize) -> std::io::Result<Vec<u8>> {
        let end = offset.saturating_add(len as u64).min(self.len);
        let mut out = Vec::with_capacity(usize::try_from(end.saturating_sub(offset)).unwrap_or(0));
        let mut pos = offset;
        while pos < end {
            let page_index = pos / PAGE_LEN;
            let page = self.page(page_index)?;
            let in_page = usize::try_from(pos - page_index * PAGE_LEN).unwrap_or(usize::MAX);
            let want = usize::try_from(end - pos).unwrap_or(usize::MAX);
            let Some(available) = page.get(in_page..) else { break };
            if available.is_empty() {
                break;
            }
            let take = available.len().min(want);
            out.extend_from_slice(available.get(..take).unwrap_or(&[]));
            pos += take as u64;
        }
        Ok(out)
    }

    fn page(&mut self, index: u64) -> std::io::Result<&[u8]> {
        if let Some(i) = self.pages.iter().position(|(idx, _)| *idx == index) {
            return Ok(self.pages.get(i).map(|(_, p)| p.as_slice()).unwrap_or(&[]));
        }
        let start = index * PAGE_LEN;
        let len = usize::try_from(PAGE_LEN.min(self.len.saturating_sub(start))).unwrap_or(0);
        let mut buf = vec![0u8; len];
        self.inner.seek(SeekFrom::Start(start))?;
        let mut filled = 0;
        while filled < len {
            let Some(rest) = buf.get_mut(filled..) else { break };
            match self.inner.read(rest)? {
                0 => break,
                n => filled += n,
            }
        }
        buf.truncate(filled);
        self.bytes_read += filled as u64;
        if self.pages.len() >= MAX_CACHED_PAGES {
            self.pages.remove(0);
        }
        self.pages.push((index, buf));
        Ok(self.pages.last().map(|(_, p)| p.as_slice()).unwrap_or(&[]))
    }
}
