//! Benchmark of `lrs migrate` with 100 databases on one emulated managed instance (a bench
//! target, not a timed test): a real Azurite and the LRS emulator on the system clock, the release
//! `lrs` binary. It measures
//! 1. the time to plan (`lrs migrate plan`, which inspects every folder) and to start all
//!    databases (`lrs migrate run` until every one is past Starting);
//! 2. while `run` ships a new log backup to every database each minute: its CPU seconds per
//!    minute, its resident memory (current and peak), and the ARM requests it sends per minute
//!    (counted by the emulator), against ARM's read limit.
//!
//! `cargo bench -p lrs-cli --bench migrate -- [--databases 100] [--ship-minutes 3]`

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use lrs_core::backup::writer::SyntheticBackup;
use lrs_core::secrets::Secret;
use lrs_core::storage::sas::AccountSas;
use lrs_emulator::seed::{DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_TENANT};
use lrs_emulator::{Emulator, EmulatorConfig, SystemClock, Timing};
use lrs_testkit::{Azurite, AZURITE_ACCOUNT, AZURITE_KEY};
use serde_json::Value;

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn lrs(work: &Path, emulator: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_lrs"));
    cmd.env("AZURE_TENANT_ID", DEFAULT_TENANT)
        .env("AZURE_CLIENT_ID", DEFAULT_CLIENT_ID)
        .env("AZURE_CLIENT_SECRET", DEFAULT_CLIENT_SECRET)
        .env("AZURE_AUTHORITY_HOST", emulator)
        .env("XDG_DATA_HOME", work.join("data"))
        .env("LRS_BENCH_KEY", AZURITE_KEY)
        .stdin(Stdio::null());
    cmd
}

/// CPU seconds (user + system) and RSS / peak RSS in MiB of a live process, from /proc.
fn usage(pid: u32) -> (f64, f64, f64) {
    let ticks: f64 = String::from_utf8(Command::new("getconf").arg("CLK_TCK").output().unwrap().stdout)
        .unwrap()
        .trim()
        .parse()
        .unwrap_or(100.0);
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat.rsplit_once(')').unwrap().1.split_whitespace().collect();
    let cpu = (fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap()) / ticks;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kib = |key: &str| {
        status
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (cpu, kib("VmRSS:") / 1024.0, kib("VmHWM:") / 1024.0)
}

fn statuses(work: &Path, emulator: &str, plan: &Path) -> Vec<(String, String)> {
    let out = lrs(work, emulator).args(["migrate", "status", &plan.display().to_string(), "--json"]).output().unwrap();
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    json["databases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["name"].as_str().unwrap().to_string(), d["status"].as_str().unwrap().to_string()))
        .collect()
}

fn main() {
    let databases = arg("--databases", 100) as usize;
    let ship_minutes = arg("--ship-minutes", 3);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let Some(azurite) = Azurite::start() else {
        eprintln!("Azurite is not installed (scripts/setup.sh installs it): nothing measured");
        return;
    };
    let mut config = EmulatorConfig::rehearsal().with_blob_endpoint(&azurite.blob_endpoint());
    config.clock = Arc::new(SystemClock);
    config.timing = Timing {
        initializing_seconds: 2,
        seconds_per_backup_set: 2,
        megabytes_per_second: 1000.0,
        cutover_seconds: 2,
        drop_seconds: 2,
        retry_after_seconds: 1,
        token_lifetime_seconds: 3599,
        job_limit_seconds: 30 * 24 * 3600,
        tick_millis: 1000,
    };
    let emulator = runtime.block_on(Emulator::start(config)).unwrap();
    let base = emulator.base_url().to_string();
    let container_url = azurite.container_url("bench");
    let admin = AccountSas::full_blob_access(time::OffsetDateTime::now_utc(), time::Duration::hours(4))
        .sign(AZURITE_ACCOUNT, &Secret::new(AZURITE_KEY))
        .unwrap();
    let created = Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "PUT", "-H", "Content-Length: 0"])
        .args(["-H", "x-ms-version: 2022-11-02", &format!("{container_url}?restype=container&{}", admin.expose())])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&created.stdout), "201");

    let work = tempfile::tempdir().unwrap();
    let sources = work.path().join("sources");
    let mut last: Vec<(PathBuf, SyntheticBackup)> = Vec::new();
    for i in 0..databases {
        let name = format!("Db{i:03}");
        let dir = sources.join(&name);
        std::fs::create_dir_all(&dir).unwrap();
        let full = SyntheticBackup::full(&name);
        full.write_to(&dir.join(format!("{name}_FULL.bak"))).unwrap();
        let log = SyntheticBackup::log_after(&full);
        log.write_to(&dir.join(format!("{name}_LOG_0000.trn"))).unwrap();
        last.push((dir, log));
    }

    let plan = work.path().join("plan.toml");
    let planned = Instant::now();
    let out = lrs(work.path(), &base)
        .args(["migrate", "plan", "--out", &plan.display().to_string(), "--sources", &sources.display().to_string()])
        .args(["--container-url", &container_url, "--account-key-env", "LRS_BENCH_KEY", "--arm-endpoint", &base])
        .args(["--resource-group", "rehearsal-rg", "--instance", "rehearsal-mi"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let plan_seconds = planned.elapsed().as_secs_f64();

    let started = Instant::now();
    let mut run: Child = lrs(work.path(), &base)
        .args(["migrate", "run", &plan.display().to_string(), "--json"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = run.id();
    let past_starting = |s: &str| !matches!(s, "Planned" | "Uploading" | "Uploaded" | "Starting");
    loop {
        std::thread::sleep(Duration::from_millis(500));
        let st = statuses(work.path(), &base, &plan);
        if st.iter().all(|(_, s)| past_starting(s)) {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(1800), "not all started: {st:?}");
    }
    let start_seconds = started.elapsed().as_secs_f64();
    let (cpu_start, _, peak_start) = usage(pid);

    // Shipping: a new log for every database each minute.
    let (reads0, writes0) = emulator.arm_requests();
    let (cpu0, _, _) = usage(pid);
    let shipping = Instant::now();
    for minute in 0..ship_minutes {
        for (dir, prev) in &mut last {
            let log = SyntheticBackup::log_after(prev);
            let name = dir.file_name().unwrap().to_string_lossy().into_owned();
            log.write_to(&dir.join(format!("{name}_LOG_{:04}.trn", minute + 1))).unwrap();
            *prev = log;
        }
        std::thread::sleep(Duration::from_secs(60));
    }
    let minutes = shipping.elapsed().as_secs_f64() / 60.0;
    let (reads1, writes1) = emulator.arm_requests();
    let (cpu1, rss, peak) = usage(pid);
    let st = statuses(work.path(), &base, &plan);
    let _ = Command::new("kill").args(["-INT", &pid.to_string()]).status();
    let _ = run.wait();
    let counts = |s: &str| st.iter().filter(|(_, x)| x == s).count();

    let reads_per_minute = (reads1 - reads0) as f64 / minutes;
    println!("lrs migrate, {databases} databases on one emulated instance (release build)");
    println!("| measure | value |");
    println!("|---|---|");
    println!("| `lrs migrate plan` (inspects {databases} folders) | {plan_seconds:.2} s |");
    println!("| `lrs migrate run` until every database is started | {start_seconds:.1} s ({:.2} CPU s, peak RSS {peak_start:.0} MiB) |", cpu_start);
    println!(
        "| shipping: CPU of `run` | {:.2} CPU s per minute ({:.1} % of one core) |",
        (cpu1 - cpu0) / minutes,
        (cpu1 - cpu0) / (minutes * 60.0) * 100.0
    );
    println!("| shipping: memory of `run` | RSS {rss:.0} MiB, peak {peak:.0} MiB |");
    println!(
        "| shipping: ARM reads per minute | {reads_per_minute:.0} ({:.0} per hour; budget {} per minute) |",
        reads_per_minute * 60.0,
        lrs_core::migration::DEFAULT_ARM_READS_PER_MINUTE
    );
    println!("| shipping: ARM writes per minute | {:.1} |", (writes1 - writes0) as f64 / minutes);
    println!(
        "| after {minutes:.1} min of shipping | {} ReadyForCutover, {} Restoring, {} other |",
        counts("ReadyForCutover"),
        counts("Restoring"),
        st.len() - counts("ReadyForCutover") - counts("Restoring")
    );
    runtime.block_on(emulator.shutdown());
}
