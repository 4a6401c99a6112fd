//! Inspection throughput and read cost, on synthetic backups written once outside the measurement.
//!
//! `cargo bench -p lrs-core --bench inspect` prints:
//! (a) `inspect()` over 10,000 files (100 databases x full + diff + 98 logs), warm cache: files per
//!     second (median of several runs), and the bytes `read_backup` reads per file;
//! (b) `read_backup` of a 20 GiB sparse full backup with 64 KiB and with 1 KiB blocks: bytes read
//!     and time (median).
//! Targets: at least 5,000 files/s; at most 1 MiB read per file. Takes well under 2 minutes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use lrs_core::backup::writer::SyntheticBackup;
use lrs_core::backup::{inspect, read_backup, InspectOptions};

const DATABASES: usize = 100;
const LOGS_PER_DATABASE: usize = 98;
const INSPECT_RUNS: usize = 5;
const READ_RUNS: usize = 21;
const FILES_PER_SECOND_TARGET: f64 = 5000.0;
const BYTES_PER_FILE_TARGET: u64 = 1 << 20;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// One folder per database: a full, a differential and the logs after it, sizes realistic
/// (sparse on disk).
fn write_estate(root: &Path) -> Vec<PathBuf> {
    let mut paths = Vec::new();
    for db in 0..DATABASES {
        let name = format!("Estate{db:03}");
        let folder = root.join(&name);
        std::fs::create_dir_all(&folder).unwrap();
        let full = SyntheticBackup { data_len: 256 << 20, ..SyntheticBackup::full(&name) };
        let diff = SyntheticBackup { data_len: 32 << 20, ..SyntheticBackup::diff_of(&full) };
        let mut chain = vec![full, diff.clone()];
        let mut prev = diff;
        for _ in 0..LOGS_PER_DATABASE {
            let log = SyntheticBackup { data_len: 1 << 20, ..SyntheticBackup::log_after(&prev) };
            chain.push(log.clone());
            prev = log;
        }
        for (i, set) in chain.iter().enumerate() {
            let extension = if i < 2 { "bak" } else { "trn" };
            let path = folder.join(format!("{name}_{i:03}.{extension}"));
            set.write_to(&path).unwrap();
            paths.push(path);
        }
    }
    paths
}

fn bench_inspect(root: &Path, paths: &[PathBuf]) -> bool {
    let roots = [root.to_path_buf()];
    let options = InspectOptions::default();
    let warm = inspect(&roots, &options).expect("inspect");
    let planned: usize = warm.databases.iter().map(|d| d.files.len()).sum();
    let times: Vec<Duration> = (0..INSPECT_RUNS)
        .map(|_| {
            let start = Instant::now();
            let result = inspect(&roots, &options).expect("inspect");
            std::hint::black_box(&result);
            start.elapsed()
        })
        .collect();
    let run = median(times);
    let files_per_second = paths.len() as f64 / run.as_secs_f64();

    let mut total_read = 0u64;
    let mut max_read = 0u64;
    for path in paths {
        let file = std::fs::File::open(path).unwrap();
        let len = file.metadata().unwrap().len();
        let read = read_backup(file, len, path).expect("read_backup").bytes_read;
        total_read += read;
        max_read = max_read.max(read);
    }
    println!(
        "(a) inspect() over {} files ({DATABASES} databases x full + diff + {LOGS_PER_DATABASE} logs), warm cache",
        paths.len()
    );
    println!(
        "    median of {INSPECT_RUNS} runs: {:.1} ms -> {files_per_second:.0} files/s (target >= {FILES_PER_SECOND_TARGET:.0})",
        run.as_secs_f64() * 1e3
    );
    println!("    planned {planned} files in {} databases, {} unreadable", warm.databases.len(), warm.unreadable.len());
    println!(
        "    read_backup bytes per file: mean {} B, max {} B (target <= {} B)",
        total_read / paths.len() as u64,
        max_read,
        BYTES_PER_FILE_TARGET
    );
    files_per_second >= FILES_PER_SECOND_TARGET && max_read <= BYTES_PER_FILE_TARGET
}

fn bench_big_file(root: &Path, block_size: u32) -> bool {
    let set = SyntheticBackup { data_len: 20 << 30, block_size, ..SyntheticBackup::full("Big") };
    let path = root.join(format!("big-{block_size}.bak"));
    set.write_to(&path).unwrap();
    let mut bytes_read = 0;
    let times: Vec<Duration> = (0..READ_RUNS)
        .map(|_| {
            let start = Instant::now();
            let file = std::fs::File::open(&path).unwrap();
            let len = file.metadata().unwrap().len();
            bytes_read = read_backup(file, len, &path).expect("read_backup").bytes_read;
            start.elapsed()
        })
        .collect();
    let size = std::fs::metadata(&path).unwrap().len();
    println!(
        "(b) 20 GiB sparse full ({size} bytes), {:>5}-byte blocks: {bytes_read} bytes read, median {:.0} us over {READ_RUNS} runs",
        block_size,
        median(times).as_secs_f64() * 1e6
    );
    bytes_read <= BYTES_PER_FILE_TARGET
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let estate = dir.path().join("estate");
    let start = Instant::now();
    let paths = write_estate(&estate);
    println!("wrote {} synthetic backups in {:.1} s (not measured)", paths.len(), start.elapsed().as_secs_f64());
    let mut ok = bench_inspect(&estate, &paths);
    for block_size in [65536, 1024] {
        ok &= bench_big_file(dir.path(), block_size);
    }
    println!("targets {}", if ok { "met" } else { "NOT met" });
    println!("reproduce: cargo bench -p lrs-core --bench inspect");
}
