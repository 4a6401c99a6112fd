//! Fuzz target: `read_backup` told a file length that disagrees with the bytes it can read, as when
//! a backup grows or shrinks between `metadata()` and the read. The first 8 bytes of the input are
//! the declared length (little-endian), the rest is the file.
#![no_main]

use std::io::Cursor;
use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((declared, file)) = data.split_first_chunk::<8>() else { return };
    let declared = u64::from_le_bytes(*declared);
    if let Ok(read) = lrs_core::backup::read_backup(Cursor::new(file), declared, Path::new("fuzz.bak")) {
        // Whatever the declared length, only bytes that exist can be read.
        assert!(read.bytes_read <= file.len() as u64);
    }
});
