//! Upload benchmark (not a timed test): the same files (one 4 GiB file and 200 small ones, real
//! data, kept in `target/bench-upload/`, or `$LRS_BENCH_DATA` when set) uploaded by the engine to
//! Azurite on loopback and to the [`DiscardSink`] (client-bound), against reading and MD5-hashing
//! the same files (the physical limit of a verified upload). Scenarios, each with the per-block
//! checksum it sends:
//!
//! - `read-md5`: read + whole-file MD5 only;
//! - `discard-sink`: CRC-64 blocks, what "auto" sends to a real endpoint (the sink, on loopback,
//!   stands in for one); `discard-sink-md5`: MD5 blocks, to show their client cost;
//! - `azurite`: "auto", which is MD5 blocks on loopback; `azurite-crc64`: CRC-64 blocks.
//!
//! Each run is a child process of this binary so that its CPU seconds and peak RSS are its own.
//! `scripts/bench-upload.sh` runs the Python SDK on the same files and Azurite. Each Azurite run gets a fresh Azurite whose storage folder is deleted after
//! the run (a 4 GiB upload leaves 4 GiB on disk), so no run pays for the previous ones.
//!
//! `cargo bench -p lrs-core --bench upload [-- --runs N --concurrency N --big-mib N --block-mib N
//! --only read-md5,discard-sink,discard-sink-md5,azurite,azurite-crc64]` (default: all but
//! `discard-sink-md5`). Each Azurite's storage folder is under `$TMPDIR` (a tmpfs such as `/dev/shm`
//! keeps a multi-GiB run off a full disk).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use lrs_core::storage::client::{HttpOptions, StorageClient, UploadCredential};
use lrs_core::storage::defaults::DEFAULT_CONCURRENCY;
use lrs_core::storage::upload::{BlockChecksum, UploadFile, UploadJob, UploadOptions};
use lrs_core::storage::ContainerUrl;
use lrs_testkit::{Azurite, DiscardSink, AZURITE_KEY};
use md5::{Digest, Md5};

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1).cloned())
}

fn data_dir() -> PathBuf {
    match std::env::var_os("LRS_BENCH_DATA") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/bench-upload"),
    }
}

/// The scenarios, in order, with the per-block checksum each sends (`None`: "auto").
const SCENARIOS: [(&str, Option<BlockChecksum>); 5] = [
    ("read-md5", None),
    ("discard-sink", Some(BlockChecksum::Crc64)),
    ("discard-sink-md5", Some(BlockChecksum::Md5)),
    ("azurite", None),
    ("azurite-crc64", Some(BlockChecksum::Crc64)),
];

fn checksum_of(scenario: &str) -> Option<BlockChecksum> {
    SCENARIOS.iter().find(|(name, _)| *name == scenario).and_then(|(_, c)| *c)
}

/// Writes the files once: pseudo-random data, so that nothing compresses or is sparse.
fn ensure_files(big_mib: u64) -> Vec<PathBuf> {
    let dir = data_dir();
    std::fs::create_dir_all(dir.join("small")).unwrap();
    let big = dir.join(format!("big-{big_mib}.bak"));
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut fill = |buf: &mut [u8]| {
        for chunk in buf.chunks_mut(8) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            chunk.copy_from_slice(&state.to_le_bytes()[..chunk.len()]);
        }
    };
    if std::fs::metadata(&big).map(|m| m.len()).unwrap_or(0) != big_mib << 20 {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&big).unwrap());
        let mut buf = vec![0u8; 1 << 20];
        for _ in 0..big_mib {
            fill(&mut buf);
            f.write_all(&buf).unwrap();
        }
    }
    let mut files = vec![big];
    for i in 0..200 {
        let path = dir.join("small").join(format!("log_{i:03}.trn"));
        let len = 64 * 1024 + i * 4099;
        if std::fs::metadata(&path).map(|m| m.len() as usize).unwrap_or(0) != len {
            let mut buf = vec![0u8; len];
            fill(&mut buf);
            std::fs::write(&path, buf).unwrap();
        }
        files.push(path);
    }
    files
}

/// CPU seconds (user + system) and peak RSS (MiB) of this process, from /proc.
fn usage() -> (f64, f64) {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or("").split_whitespace().collect();
    let ticks: f64 = fields.get(11).and_then(|u| u.parse::<f64>().ok()).unwrap_or(0.0)
        + fields.get(12).and_then(|s| s.parse::<f64>().ok()).unwrap_or(0.0);
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let hwm = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok());
    (ticks / 100.0, hwm.unwrap_or(0.0) / 1024.0)
}

fn child(scenario: &str, url: &str, files: &[PathBuf], concurrency: usize, block_size: Option<u64>) {
    let bytes: u64 = files.iter().map(|f| std::fs::metadata(f).unwrap().len()).sum();
    let started = Instant::now();
    if scenario == "read-md5" {
        for f in files {
            let mut h = Md5::new();
            let mut r = std::fs::File::open(f).unwrap();
            let mut buf = vec![0u8; 8 << 20];
            loop {
                let n = r.read(&mut buf).unwrap();
                if n == 0 {
                    break;
                }
                h.update(&buf[..n]);
            }
            std::hint::black_box(h.finalize());
        }
    } else {
        let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let http = StorageClient::new(&HttpOptions::default()).unwrap();
            let container = ContainerUrl::parse(url).unwrap();
            let store =
                http.container(container, UploadCredential::AccountKey(lrs_core::secrets::Secret::new(AZURITE_KEY)));
            let run = format!("run{}", std::process::id());
            let upload: Vec<UploadFile> = files
                .iter()
                .map(|f| UploadFile {
                    source: f.clone(),
                    blob: format!("{run}/{}", f.file_name().unwrap().to_string_lossy()),
                })
                .collect();
            let journal = tempfile::tempdir().unwrap();
            let options = UploadOptions {
                concurrency,
                block_size,
                settle_window: Duration::ZERO,
                journal_dir: Some(journal.path().to_path_buf()),
                block_checksum: checksum_of(scenario),
                ..UploadOptions::default()
            };
            let summary = UploadJob::new(store, url, upload, options).run().await.unwrap();
            eprintln!("{scenario}: per-block checksum {}", summary.block_checksum);
        });
    }
    let secs = started.elapsed().as_secs_f64();
    let (cpu, rss) = usage();
    println!("RESULT {scenario} {:.1} {cpu:.2} {rss:.0} {secs:.2}", bytes as f64 / 1e6 / secs);
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn main() {
    let big_mib: u64 = arg("--big-mib").and_then(|v| v.parse().ok()).unwrap_or(4096);
    let runs: usize = arg("--runs").and_then(|v| v.parse().ok()).unwrap_or(3);
    let concurrency: usize = arg("--concurrency").and_then(|v| v.parse().ok()).unwrap_or(DEFAULT_CONCURRENCY);
    let block_mib: Option<u64> = arg("--block-mib").and_then(|v| v.parse().ok());
    let files = ensure_files(big_mib);
    if let Some(scenario) = arg("--child") {
        return child(&scenario, &arg("--url").unwrap_or_default(), &files, concurrency, block_mib.map(|m| m << 20));
    }
    let sink = DiscardSink::start().unwrap();
    let only = arg("--only");
    let wanted = |name: &str| match only.as_deref() {
        Some(o) => o.split(',').any(|w| w == name),
        None => name != "discard-sink-md5",
    };
    let scenarios: Vec<&str> = SCENARIOS.iter().map(|(name, _)| *name).filter(|name| wanted(name)).collect();
    let total: u64 = files.iter().map(|f| std::fs::metadata(f).unwrap().len()).sum();
    println!(
        "files: 1 x {big_mib} MiB + 200 small, {:.1} MB; concurrency {concurrency}; block {}; {runs} runs each",
        total as f64 / 1e6,
        block_mib.map_or_else(|| "default".to_string(), |m| format!("{m} MiB"))
    );
    println!(
        "{:<17} {:>9} {:>9} {:>12} {:>9}  peak MiB of each run",
        "scenario", "MB/s", "CPU s", "CPU s/GiB", "peak MiB"
    );
    for name in &scenarios {
        let mut rates = Vec::new();
        let mut cpus = Vec::new();
        let mut rsss = Vec::new();
        for _ in 0..runs {
            // A fresh Azurite per run (dropped, with its storage folder, after it).
            let azurite = if name.starts_with("azurite") {
                match Azurite::start() {
                    Some(a) => Some(a),
                    None => break,
                }
            } else {
                None
            };
            let url = match (&azurite, name.starts_with("discard-sink")) {
                (Some(a), _) => {
                    create_container(a);
                    a.container_url("bench")
                }
                (None, true) => sink.container_url("bench"),
                (None, false) => String::new(),
            };
            let exe = std::env::current_exe().unwrap();
            let mut command = Command::new(exe);
            if let Some(m) = block_mib {
                command.args(["--block-mib", &m.to_string()]);
            }
            let out = command
                .args([
                    "--child",
                    name,
                    "--url",
                    &url,
                    "--big-mib",
                    &big_mib.to_string(),
                    "--concurrency",
                    &concurrency.to_string(),
                ])
                .output()
                .unwrap();
            drop(azurite);
            let text = String::from_utf8_lossy(&out.stdout);
            let Some(line) = text.lines().find(|l| l.starts_with("RESULT")) else {
                eprintln!("{name} failed: {}", String::from_utf8_lossy(&out.stderr));
                break;
            };
            let f: Vec<f64> = line.split_whitespace().skip(2).filter_map(|v| v.parse().ok()).collect();
            rates.push(f[0]);
            cpus.push(f[1]);
            rsss.push(f[2]);
        }
        if rates.is_empty() {
            continue;
        }
        let cpu = median(cpus);
        let peaks: Vec<String> = rsss.iter().map(|r| format!("{r:.0}")).collect();
        println!(
            "{name:<17} {:>9.1} {cpu:>9.2} {:>12.2} {:>9.0}  {}",
            median(rates),
            cpu / (total as f64 / (1u64 << 30) as f64),
            rsss.iter().cloned().fold(0.0, f64::max),
            peaks.join(" ")
        );
    }
}

fn create_container(azurite: &Azurite) {
    let url = format!("{}?restype=container&{}", azurite.container_url("bench"), admin_sas());
    let status = Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "PUT", "-H", "Content-Length: 0", &url])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&status.stdout), "201", "curl creates the container");
}

fn admin_sas() -> String {
    use lrs_core::storage::sas::AccountSas;
    let now = time::OffsetDateTime::now_utc();
    let sas = AccountSas::full_blob_access(now, time::Duration::hours(4));
    sas.sign("devstoreaccount1", &lrs_core::secrets::Secret::new(AZURITE_KEY)).unwrap().expose().to_string()
}
