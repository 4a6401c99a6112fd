//! Fuzz target: `read_backup` over arbitrary bytes must return a result or an error, never panic,
//! hang, or allocate more than the input justifies (run with `-malloc_limit_mb`).
#![no_main]

use std::io::Cursor;
use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = lrs_core::backup::read_backup(Cursor::new(data), data.len() as u64, Path::new("fuzz.bak"));
});
