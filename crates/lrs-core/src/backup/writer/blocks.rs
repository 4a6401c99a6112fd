//! MTF framing for the writer: the file image as byte runs and zero runs, descriptor blocks (52-byte
//! common header with its checksum, fixed fields, MTF strings) and 22-byte stream headers, with
//! the `APAD`/`SPAD` padding SQL Server uses.

use std::fs::File;
use std::io::{self, BufWriter, Seek, SeekFrom, Write};

/// Length of the MTF common block header (`MTF_DB_HDR`).
pub(super) const DBLK_HEADER_LEN: usize = 52;
/// Length of an MTF stream header.
pub(super) const STREAM_HEADER_LEN: u64 = 22;
/// Media attribute of an `APAD` stream.
pub(super) const MEDIA_APAD: u16 = 0x80;
/// Media attribute SQL Server sets on MQDA/MQTL streams followed by a `CSUM` stream.
pub(super) const MEDIA_CHECKSUMMED: u16 = 0x100;
/// MTF `VARIABLE` stream attribute (MQDA).
pub(super) const MEDIA_VARIABLE: u16 = 0x2;
/// MTF `VAR_END` stream attribute (the empty MQDA closing the data).
pub(super) const MEDIA_VAR_END: u16 = 0x4;
/// Zero runs at least this long become holes in [`Image::write_to`].
const HOLE_MIN: u64 = 64 * 1024;

/// One run of the file image.
#[derive(Debug)]
enum Run {
    Bytes(Vec<u8>),
    Zeros(u64),
}

/// The bytes of a file to write, with long zero runs kept as lengths so a 20 GiB backup costs
/// nothing until it is written (and then only a sparse hole).
#[derive(Debug, Default)]
pub(super) struct Image {
    runs: Vec<Run>,
    len: u64,
}

impl Image {
    pub(super) fn len(&self) -> u64 {
        self.len
    }

    pub(super) fn bytes(&mut self, bytes: &[u8]) {
        self.len += bytes.len() as u64;
        if let Some(Run::Bytes(last)) = self.runs.last_mut() {
            last.extend_from_slice(bytes);
        } else {
            self.runs.push(Run::Bytes(bytes.to_vec()));
        }
    }

    pub(super) fn zeros(&mut self, count: u64) {
        if count == 0 {
            return;
        }
        match usize::try_from(count) {
            Ok(small) if count < HOLE_MIN => self.bytes(&vec![0u8; small]),
            _ => {
                self.len += count;
                self.runs.push(Run::Zeros(count));
            }
        }
    }

    /// The whole image in memory (zero runs written out).
    pub(super) fn into_vec(self) -> Vec<u8> {
        let mut out = Vec::with_capacity(usize::try_from(self.len).unwrap_or(0));
        for run in self.runs {
            match run {
                Run::Bytes(bytes) => out.extend_from_slice(&bytes),
                Run::Zeros(count) => out.resize(out.len() + usize::try_from(count).unwrap_or(0), 0),
            }
        }
        out
    }

    /// Writes the image to `file`, seeking over long zero runs so they stay holes.
    pub(super) fn write_to(&self, file: File) -> io::Result<()> {
        let mut out = BufWriter::new(file);
        for run in &self.runs {
            match run {
                Run::Bytes(bytes) => out.write_all(bytes)?,
                Run::Zeros(count) => {
                    let step = i64::try_from(*count).map_err(|_| io::Error::other("zero run too long"))?;
                    out.seek(SeekFrom::Current(step))?;
                }
            }
        }
        let file = out.into_inner().map_err(|err| err.into_error())?;
        // A trailing hole is not materialized by seeking alone.
        file.set_len(self.len)
    }
}

/// The common-header fields that vary between blocks.
#[derive(Clone, Copy, Debug)]
pub(super) struct Dblk {
    pub kind: [u8; 4],
    pub attributes: u32,
    /// Format logical address: distance from the SSET in format logical blocks.
    pub logical_address: u64,
    pub control_block_id: u32,
    /// `{size, offset}` of the OS-specific data (SSET: the BackupSetGUID at +0x64).
    pub os_data: (u16, u16),
    /// 1 = ANSI, 2 = UTF-16LE; 0 for blocks without strings.
    pub string_type: u8,
}

impl Dblk {
    pub(super) fn new(kind: &[u8; 4]) -> Self {
        Dblk { kind: *kind, attributes: 0, logical_address: 0, control_block_id: 0, os_data: (0, 0), string_type: 0 }
    }
}

/// XOR of the little-endian u16 words of `bytes` (MTF header and stream checksums).
pub(super) fn xor_words(bytes: &[u8]) -> u16 {
    bytes.chunks_exact(2).fold(0, |acc, word| match word {
        [low, high] => acc ^ u16::from_le_bytes([*low, *high]),
        _ => acc,
    })
}

/// The part of a descriptor block before its first stream: common header, block fields, strings.
#[derive(Debug)]
pub(super) struct DblkBuf {
    buf: Vec<u8>,
}

impl DblkBuf {
    /// A zeroed block head whose fixed fields end at `fixed_len`; strings go after it.
    pub(super) fn new(fixed_len: usize) -> Self {
        DblkBuf { buf: vec![0; fixed_len.max(DBLK_HEADER_LEN)] }
    }

    pub(super) fn put(&mut self, offset: usize, bytes: &[u8]) {
        match self.buf.get_mut(offset..offset + bytes.len()) {
            Some(slot) => slot.copy_from_slice(bytes),
            None => debug_assert!(false, "field at {offset} outside the block head"),
        }
    }

    pub(super) fn u16(&mut self, offset: usize, value: u16) {
        self.put(offset, &value.to_le_bytes());
    }

    pub(super) fn u32(&mut self, offset: usize, value: u32) {
        self.put(offset, &value.to_le_bytes());
    }

    pub(super) fn u64(&mut self, offset: usize, value: u64) {
        self.put(offset, &value.to_le_bytes());
    }

    /// Appends `text` as UTF-16LE (2-aligned) and stores its `MTF_TAPE_ADDRESS` at `descriptor`.
    /// An empty string leaves the descriptor `{0, 0}`, as SQL Server does.
    pub(super) fn string(&mut self, descriptor: usize, text: &str) {
        if text.is_empty() {
            return;
        }
        if self.buf.len() % 2 == 1 {
            self.buf.push(0);
        }
        let offset = self.buf.len();
        self.buf.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        let size = u16::try_from(self.buf.len() - offset).unwrap_or(u16::MAX);
        self.u16(descriptor, size);
        self.u16(descriptor + 2, u16::try_from(offset).unwrap_or(u16::MAX));
    }

    /// Fills the common header, pads to 4 bytes (the first stream starts there) and checksums.
    pub(super) fn seal(mut self, dblk: &Dblk) -> Vec<u8> {
        self.buf.resize(align4(self.buf.len() as u64) as usize, 0);
        let first_event = u16::try_from(self.buf.len()).unwrap_or(u16::MAX);
        self.put(0, &dblk.kind);
        self.u32(4, dblk.attributes);
        self.u16(8, first_event);
        self.put(10, &[14, 1]); // OS id: Windows NT, OS version 1.
        self.u64(20, dblk.logical_address);
        self.u32(36, dblk.control_block_id);
        self.u16(44, dblk.os_data.0);
        self.u16(46, dblk.os_data.1);
        self.put(48, &[dblk.string_type]);
        let checksum = xor_words(self.buf.get(..50).unwrap_or_default());
        self.u16(50, checksum);
        self.buf
    }
}

/// The body of a stream.
#[derive(Clone, Copy, Debug)]
pub(super) enum Body<'a> {
    Bytes(&'a [u8]),
    Zeros(u64),
}

impl Body<'_> {
    fn len(&self) -> u64 {
        match self {
            Body::Bytes(bytes) => bytes.len() as u64,
            Body::Zeros(count) => *count,
        }
    }
}

pub(super) fn align4(pos: u64) -> u64 {
    pos.div_ceil(4) * 4
}

fn stream_header(id: &[u8; 4], media_attributes: u16, length: u64) -> [u8; 22] {
    let mut header = [0u8; 22];
    let fields = [&id[..], &0u16.to_le_bytes(), &media_attributes.to_le_bytes(), &length.to_le_bytes()];
    let mut at = 0;
    for field in fields {
        if let Some(slot) = header.get_mut(at..at + field.len()) {
            slot.copy_from_slice(field);
        }
        at += field.len();
    }
    // Encryption and compression algorithms (+16, +18) stay 0; the checksum covers words 0..10.
    let checksum = xor_words(header.get(..20).unwrap_or_default());
    if let Some(slot) = header.get_mut(20..22) {
        slot.copy_from_slice(&checksum.to_le_bytes());
    }
    header
}

/// A descriptor block being written: its head is in the image, streams follow, `finish` pads it
/// with `SPAD` to a multiple of the physical block size.
#[derive(Debug)]
pub(super) struct BlockOut<'a> {
    image: &'a mut Image,
    start: u64,
    block_size: u64,
}

impl<'a> BlockOut<'a> {
    pub(super) fn begin(image: &'a mut Image, block_size: u64, head: Vec<u8>) -> Self {
        let start = image.len();
        image.bytes(&head);
        BlockOut { image, start, block_size }
    }

    fn align(&mut self) {
        let pos = self.image.len();
        self.image.zeros(align4(pos) - pos);
    }

    pub(super) fn stream(&mut self, id: &[u8; 4], media_attributes: u16, body: Body<'_>) {
        self.align();
        self.image.bytes(&stream_header(id, media_attributes, body.len()));
        match body {
            Body::Bytes(bytes) => self.image.bytes(bytes),
            Body::Zeros(count) => self.image.zeros(count),
        }
    }

    /// An `APAD` stream sized so that the payload of the next stream, after its 22-byte header
    /// and 2-byte lead, starts on a physical block (as SQL Server aligns MQDA and MQTL pages).
    pub(super) fn align_next_payload(&mut self) {
        self.align();
        let after_apad = self.image.len() - self.start + STREAM_HEADER_LEN;
        let lead = STREAM_HEADER_LEN + 2;
        let target = self.round_up(after_apad + lead) - lead;
        self.stream(b"APAD", MEDIA_APAD, Body::Zeros(target - after_apad));
    }

    /// Closes the block with an `SPAD` stream that ends on a physical block boundary.
    pub(super) fn finish(mut self) {
        self.align();
        let at = self.image.len() - self.start;
        let end = self.round_up(at + STREAM_HEADER_LEN);
        self.stream(b"SPAD", 0, Body::Zeros(end - at - STREAM_HEADER_LEN));
    }

    /// Block-relative: the first physical block boundary at or after `offset`.
    fn round_up(&self, offset: u64) -> u64 {
        offset.div_ceil(self.block_size) * self.block_size
    }
}

/// Length of a soft filemark for a physical block size: one physical block, except that
/// `offset_to_first_event` (u16) cannot say 64 KiB, so 64 KiB media use 512-byte filemarks (the
/// real 1 KiB samples also have filemarks smaller than their physical block).
pub(super) fn soft_filemark_len(block_size: u64) -> u64 {
    if block_size <= u64::from(u16::MAX) {
        block_size
    } else {
        512
    }
}

/// A soft filemark: no streams; its first event is its end.
pub(super) fn soft_filemark(image: &mut Image, block_size: u64) {
    let len = usize::try_from(soft_filemark_len(block_size)).unwrap_or(512);
    let mut dblk = Dblk::new(b"SFMB");
    dblk.attributes = 0x8000_0000;
    image.bytes(&DblkBuf::new(len).seal(&dblk));
}
