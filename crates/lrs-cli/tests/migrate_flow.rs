//! `lrs migrate` end to end with the real binary, a real Azurite and the LRS emulator (in this
//! process, on a clock the tests move while the binary runs):
//! - a plan of 20 databases runs to ReadyForCutover and is cut over, one start each;
//! - the run is killed (SIGKILL) at random points 20 times (uploads, starts, polls, cutovers) and
//!   restarted: the end state is the same, every blob is byte-identical to its file, and no
//!   database was started twice;
//! - continuous shipping: a log written slowly into a watched folder is shipped once, complete; a
//!   gap halts that database and not the others, and the halt lifts when the missing log appears;
//!   the cutover gates refuse what they must; a second process cannot drive the plan;
//! - while `run` drives a plan, `cutover` and `stop` from another process are handed to it through
//!   the plan's request inbox: one database is cut over while another keeps shipping, one is
//!   stopped, and a gate's refusal reaches the asking process with the gate's message.
//!
//! Skipped with a note when Azurite is not installed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use lrs_core::backup::writer::{write_sample_chain, SyntheticBackup};
use lrs_core::migration::{PlanStore, Request, RequestAction, RequestInbox, RequestOutcome};
use lrs_emulator::state::OperationKind;
use serde_json::Value;
use support::{strings, upload_name, Out, World};
use tokio::io::AsyncWriteExt;

const CONTAINER: &str = "migration";

/// Emulated seconds added every 50 ms of real time while a command runs.
const SECONDS_PER_STEP: i64 = 20;

/// Flags that keep a run quick against the emulator (its time is moved by the test).
fn quick() -> Vec<String> {
    strings(&[
        "--poll-seconds",
        "0.1",
        "--scan-seconds",
        "0.1",
        "--settle-seconds",
        "0.3",
        "--reads-per-minute",
        "60000",
    ])
}

/// `lrs migrate plan` over `sources` (one subfolder per database).
async fn write_plan(world: &World, sources: &Path, mode: &str) -> PathBuf {
    let out = world.work.path().join(format!("plan-{mode}.toml"));
    let mut args = strings(&["migrate", "plan", "--out", &out.display().to_string()]);
    args.extend(strings(&["--sources", &sources.display().to_string(), "--mode", mode]));
    args.extend(strings(&["--container-url", &world.container_url, "--account-key-env", "LRS_TEST_KEY"]));
    args.extend(strings(&["--arm-endpoint", world.emulator.base_url()]));
    args.extend(strings(&["--resource-group", "rehearsal-rg", "--instance", "rehearsal-mi"]));
    world.lrs(&args, &[], None).await.expect(0);
    out
}

/// Runs `lrs ARGS` while the emulator's time passes; kills it (SIGKILL) after `kill_after`.
/// `None` when it was killed.
async fn drive(world: &World, args: &[String], stdin: Option<&str>, kill_after: Option<Duration>) -> Option<Out> {
    let mut child = world.command(args, &[]).stdin(Stdio::piped()).spawn().unwrap();
    let pid = child.id().unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or("").as_bytes()).await.unwrap();
    drop(input);
    let started = Instant::now();
    let output = child.wait_with_output();
    tokio::pin!(output);
    loop {
        tokio::select! {
            out = &mut output => {
                let out = out.unwrap();
                let out = Out {
                    code: out.status.code().unwrap_or(-1),
                    stdout: String::from_utf8(out.stdout).unwrap(),
                    stderr: String::from_utf8(out.stderr).unwrap(),
                };
                world.scan(&out.all());
                // Killed processes have no exit code.
                return if out.code == -1 && kill_after.is_some() { None } else { Some(out) };
            }
            () = tokio::time::sleep(Duration::from_millis(50)) => {
                world.advance(SECONDS_PER_STEP).await;
                if kill_after.is_some_and(|k| started.elapsed() >= k) {
                    let _ = std::process::Command::new("kill").args(["-9", &pid.to_string()]).status();
                }
            }
        }
    }
}

fn run_args(plan: &Path, until_ready: bool) -> Vec<String> {
    let mut args = strings(&["migrate", "run", &plan.display().to_string(), "--json"]);
    if until_ready {
        args.push("--until-ready".into());
    }
    args.extend(quick());
    args
}

fn cutover_args(plan: &Path, which: &[&str]) -> Vec<String> {
    let mut args = strings(&["migrate", "cutover", &plan.display().to_string(), "--json", "--poll-seconds", "0.1"]);
    args.extend(strings(which));
    args
}

/// `lrs migrate status --json`: database name → record.
async fn status(world: &World, plan: &Path) -> BTreeMap<String, Value> {
    let out = world.lrs(&strings(&["migrate", "status", &plan.display().to_string(), "--json"]), &[], None).await;
    assert!(out.code == 0 || out.code == 1, "{out:?}");
    let json = out.json();
    json["databases"].as_array().unwrap().iter().map(|d| (d["name"].as_str().unwrap().to_string(), d.clone())).collect()
}

fn statuses(state: &BTreeMap<String, Value>) -> BTreeMap<String, String> {
    state.iter().map(|(k, v)| (k.clone(), v["status"].as_str().unwrap().to_string())).collect()
}

/// How many times the emulator was asked to start a restore of `database`.
fn starts(world: &World, database: &str) -> usize {
    let state = world.emulator.state();
    state.operations.values().filter(|o| o.kind == OperationKind::Restore && o.database.name == database).count()
}

/// A blob's bytes, read with the test's own full-access SAS.
fn blob_bytes(world: &World, blob: &str) -> Option<Vec<u8>> {
    let url = format!("{}/{blob}?{}", world.container_url, support::admin_sas());
    let out = std::process::Command::new("curl")
        .args(["-s", "-w", "\n%{http_code}", "-H", "x-ms-version: 2022-11-02", &url])
        .output()
        .unwrap();
    let mut body = out.stdout;
    let status_at = body.iter().rposition(|b| *b == b'\n').unwrap();
    let status = String::from_utf8_lossy(&body[status_at + 1..]).to_string();
    body.truncate(status_at);
    (status == "200").then_some(body)
}

/// Every file of `dir` is in the folder, byte for byte.
fn assert_blobs_identical(world: &World, dir: &Path, folder: &str) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let blob = format!("{folder}/{}", upload_name(&path));
        let remote = blob_bytes(world, &blob).unwrap_or_else(|| panic!("{blob} is missing"));
        assert!(remote == std::fs::read(&path).unwrap(), "{blob} differs from {}", path.display());
    }
}

/// A seed from the environment (LRS_KILL_SEED, to replay a run) or the clock, and a small PRNG.
struct Rng(u64);

impl Rng {
    fn new() -> Rng {
        let seed = std::env::var("LRS_KILL_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64
        });
        eprintln!("kill schedule seed: LRS_KILL_SEED={seed}");
        Rng(seed | 1)
    }

    fn below(&mut self, n: u64) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }
}

#[tokio::test]
async fn twenty_databases_reach_cutover_and_complete_with_one_start_each() {
    let Some(world) = World::start(CONTAINER).await else { return };
    let sources = world.dir("sources20");
    let names: Vec<String> = (1..=20).map(|i| format!("Db{i:02}")).collect();
    for name in &names {
        write_sample_chain(&sources.join(name).tap_mkdir(), name, 2).unwrap();
    }
    let plan = write_plan(&world, &sources, "continuous").await;
    let text = std::fs::read_to_string(&plan).unwrap();
    assert!(!text.contains(lrs_testkit::AZURITE_KEY), "the plan holds no secret");
    assert_eq!(text.matches("[[databases]]").count(), 20);

    let out = drive(&world, &run_args(&plan, true), None, None).await.unwrap();
    eprintln!("{}", out.stderr);
    let out = out.expect(0);
    assert!(out.stdout.lines().any(|l| l.contains("\"to\":\"ReadyForCutover\"")), "{}", out.stdout);
    let state = status(&world, &plan).await;
    assert!(statuses(&state).values().all(|s| s == "ReadyForCutover"), "{:?}", statuses(&state));

    // A wrong name typed refuses the cutover of that database and changes nothing.
    let refused = drive(&world, &cutover_args(&plan, &["--database", "Db01"]), Some("Db1\n"), None).await.unwrap();
    assert_eq!(refused.code, 1, "{refused:?}");
    assert!(refused.stderr.contains("nothing was done"), "{}", refused.stderr);
    assert_eq!(status(&world, &plan).await["Db01"]["status"], "ReadyForCutover");

    let answers: String = names.iter().map(|n| format!("{n}\n")).collect();
    let done = drive(&world, &cutover_args(&plan, &["--all"]), Some(&answers), None).await.unwrap().expect(0);
    assert!(done.stderr.matches("Type the database name").count() == 20, "{}", done.stderr);
    let state = status(&world, &plan).await;
    assert!(statuses(&state).values().all(|s| s == "Completed"), "{:?}", statuses(&state));
    for name in &names {
        assert_eq!(starts(&world, name), 1, "{name} started once");
        assert_blobs_identical(&world, &sources.join(name), name);
    }

    // The audit log names every start with its request id; after the cutover, no upload is accepted.
    let audit =
        world.lrs(&strings(&["migrate", "audit", &plan.display().to_string(), "--format", "csv"]), &[], None).await;
    let audit = audit.expect(0).stdout;
    assert!(audit.starts_with("at,identity,action,database,target,outcome,request_id,detail"));
    let start_rows: Vec<&str> = audit.lines().filter(|l| l.contains(",start,")).collect();
    assert_eq!(start_rows.len(), 20, "{audit}");
    assert!(start_rows.iter().all(|r| r.contains("service principal")), "{audit}");
    let again = drive(&world, &run_args(&plan, true), None, None).await.unwrap().expect(0);
    assert!(!again.stdout.contains("\"event\":\"upload\""), "nothing is uploaded after the cutover: {}", again.stdout);
}

trait TapMkdir {
    fn tap_mkdir(self) -> Self;
}

impl TapMkdir for PathBuf {
    fn tap_mkdir(self) -> Self {
        std::fs::create_dir_all(&self).unwrap();
        self
    }
}

/// A chain with a larger full backup (so that kills land during its upload) and `logs` logs.
fn write_chain(dir: &Path, database: &str, full_mib: u64, logs: usize) {
    let mut full = SyntheticBackup::full(database);
    full.data_len = full_mib * 1024 * 1024;
    let mut prev = full.clone();
    full.write_to(&dir.join(format!("{database}_FULL.bak"))).unwrap();
    for i in 0..logs {
        let log = SyntheticBackup::log_after(&prev);
        log.write_to(&dir.join(format!("{database}_LOG_{i:03}.trn"))).unwrap();
        prev = log;
    }
}

#[tokio::test]
async fn killed_twenty_times_it_ends_as_if_never_killed() {
    let Some(world) = World::start(CONTAINER).await else { return };
    let sources = world.dir("sources-kill");
    let names = ["Kill0", "Kill1", "Kill2", "Kill3"];
    for (i, name) in names.iter().enumerate() {
        write_chain(&sources.join(name).tap_mkdir(), name, [48, 24, 8, 1][i], 6);
    }
    let plan = write_plan(&world, &sources, "continuous").await;
    let mut rng = Rng::new();
    let mut seen = Vec::new();
    // 14 kills while running (uploads, starts, first polls), 6 during the cutover.
    for round in 0..20 {
        let cutting = round >= 14;
        let args = if cutting { cutover_args(&plan, &["--all", "--yes"]) } else { run_args(&plan, true) };
        let kill_after = Duration::from_millis(30 + rng.below(if cutting { 400 } else { 800 }));
        let out = drive(&world, &args, None, Some(kill_after)).await;
        let state = statuses(&status(&world, &plan).await);
        seen.push(format!(
            "round {round} ({}, {kill_after:?}): {state:?}",
            if out.is_none() { "killed" } else { "finished" }
        ));
        if let Some(out) = out {
            // A run that finished before its kill must have succeeded (a cutover may be refused
            // only while a database is not ready yet).
            assert!(out.code == 0 || (cutting && out.code == 1), "round {round}: {out:?}");
        }
    }
    eprintln!("{}", seen.join("\n"));
    // Then without kills: to the end.
    drive(&world, &run_args(&plan, true), None, None).await.unwrap().expect(0);
    drive(&world, &cutover_args(&plan, &["--all", "--yes"]), None, None).await.unwrap().expect(0);
    let state = statuses(&status(&world, &plan).await);
    assert!(state.values().all(|s| s == "Completed"), "{state:?}\n{}", seen.join("\n"));
    for name in names {
        assert_eq!(starts(&world, name), 1, "{name} was started {} times\n{}", starts(&world, name), seen.join("\n"));
        assert_blobs_identical(&world, &sources.join(name), name);
    }
}

/// Waits (moving the emulator's time) until `check` holds for the saved state.
async fn wait_for(world: &World, plan: &Path, what: &str, check: impl Fn(&BTreeMap<String, Value>) -> bool) {
    let started = Instant::now();
    loop {
        let state = status(world, plan).await;
        if check(&state) {
            return;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "timed out waiting for {what}: {state:#?}");
        world.advance(SECONDS_PER_STEP).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn continuous_shipping_waits_for_complete_logs_and_a_gap_halts_only_its_database() {
    let Some(world) = World::start(CONTAINER).await else { return };
    let sources = world.dir("sources-ship");
    let chains = chains_held_back(&world, "staging", &sources, &["Alpha", "Beta"]);
    let plan = write_plan(&world, &sources, "continuous").await;

    // The long-running `run`, driven in the background while this test moves the clock.
    let mut run = world.command(&run_args(&plan, false), &[]).spawn().unwrap();
    wait_for(&world, &plan, "both ready", |s| statuses(s).values().all(|v| v == "ReadyForCutover")).await;

    // A second process cannot drive the same plan.
    let second = drive(&world, &run_args(&plan, true), None, None).await.unwrap();
    assert_eq!(second.code, 2, "{second:?}");
    assert!(second.all().contains("another lrs process is driving this plan"), "{second:?}");

    // A log written slowly into Alpha's folder: not shipped while incomplete, shipped once complete.
    let alpha_log = &chains["Alpha"][3];
    let bytes = std::fs::read(alpha_log).unwrap();
    let target = sources.join("Alpha").join(alpha_log.file_name().unwrap());
    let blob = format!("Alpha/{}", upload_name(alpha_log));
    std::fs::write(&target, &bytes[..bytes.len() / 3]).unwrap();
    for _ in 0..10 {
        world.advance(SECONDS_PER_STEP).await;
        tokio::time::sleep(Duration::from_millis(150)).await;
        assert!(blob_bytes(&world, &blob).is_none(), "{blob} was uploaded before it was complete");
    }
    let mut file = std::fs::OpenOptions::new().append(true).open(&target).unwrap();
    std::io::Write::write_all(&mut file, &bytes[bytes.len() / 3..]).unwrap();
    drop(file);
    let last = upload_name(alpha_log);
    wait_for(&world, &plan, "Alpha's new log restored", |s| {
        s["Alpha"]["status"] == "ReadyForCutover" && s["Alpha"]["restore"]["last_restored_file"] == last.as_str()
    })
    .await;
    assert_eq!(blob_bytes(&world, &blob).unwrap(), bytes, "the shipped log is the complete file");

    // A gap in Beta: its fifth file arrives without the fourth. Beta halts; Alpha goes on.
    let beta_skipped = &chains["Beta"][3];
    let beta_after = &chains["Beta"][4];
    std::fs::copy(beta_after, sources.join("Beta").join(beta_after.file_name().unwrap())).unwrap();
    let alpha_next = &chains["Alpha"][4];
    std::fs::copy(alpha_next, sources.join("Alpha").join(alpha_next.file_name().unwrap())).unwrap();
    let alpha_last = upload_name(alpha_next);
    wait_for(&world, &plan, "Beta halted and Alpha's next log restored", |s| {
        s["Beta"]["halted"].is_string() && s["Alpha"]["restore"]["last_restored_file"] == alpha_last.as_str()
    })
    .await;
    let state = status(&world, &plan).await;
    assert!(state["Beta"]["halted"].as_str().unwrap().contains("LSN"), "{}", state["Beta"]["halted"]);
    assert!(blob_bytes(&world, &format!("Beta/{}", upload_name(beta_after))).is_none(), "never shipped out of order");

    // Stopped as a service manager stops it (SIGTERM): it ends as after Ctrl-C, exit 130.
    let pid = run.id().unwrap().to_string();
    assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let ended = tokio::time::timeout(Duration::from_secs(30), run.wait()).await.expect("run ends on SIGTERM");
    assert_eq!(ended.unwrap().code(), Some(130), "interrupted, not killed");
    // The cutover gate refuses the halted database.
    let refused = drive(&world, &cutover_args(&plan, &["--database", "Beta", "--yes"]), None, None).await.unwrap();
    assert_eq!(refused.code, 1, "{refused:?}");
    assert!(refused.stderr.contains("halted"), "{}", refused.stderr);
    let status_out = world.lrs(&strings(&["migrate", "status", &plan.display().to_string()]), &[], None).await;
    assert_eq!(status_out.code, 1, "a halted database makes status exit 1: {status_out:?}");
    assert!(status_out.stdout.contains("Beta") && status_out.stdout.contains("(halted)"), "{}", status_out.stdout);

    // The missing log appears: Beta ships both in order and is ready; both cut over.
    std::fs::copy(beta_skipped, sources.join("Beta").join(beta_skipped.file_name().unwrap())).unwrap();
    drive(&world, &run_args(&plan, true), None, None).await.unwrap().expect(0);
    let state = status(&world, &plan).await;
    assert_eq!(state["Beta"]["status"], "ReadyForCutover");
    assert!(state["Beta"]["halted"].is_null());
    let shipped: Vec<&str> =
        state["Beta"]["shipped"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap()).collect();
    let expected: Vec<String> = chains["Beta"][..5].iter().map(|p| upload_name(p)).collect();
    assert_eq!(shipped, expected, "shipped in chain order");
    drive(&world, &cutover_args(&plan, &["--all", "--yes"]), None, None).await.unwrap().expect(0);
    let state = statuses(&status(&world, &plan).await);
    assert_eq!(state.values().filter(|s| *s == "Completed").count(), 2, "{state:?}");

    // No secret in anything the runs left on disk: state, audit log, upload journals, the plan.
    for entry in walk(&world.work.path().join("data")).into_iter().chain([plan.clone()]) {
        if let Ok(text) = std::fs::read_to_string(&entry) {
            world.scan(&text);
        }
    }

    // Every upload of Alpha's slow log happened once.
    let audit = world.lrs(&strings(&["migrate", "audit", &plan.display().to_string()]), &[], None).await.expect(0);
    let uploads = audit.stdout.lines().filter(|l| l.contains("\"action\":\"uploaded\"") && l.contains(&blob)).count();
    assert_eq!(uploads, 1, "{}", audit.stdout);
}

#[tokio::test]
async fn cutover_and_stop_while_run_drives_the_plan_go_through_its_inbox() {
    let Some(world) = World::start(CONTAINER).await else { return };
    let sources = world.dir("sources-inbox");
    let chains = chains_held_back(&world, "staging-inbox", &sources, &["Cut", "Keep", "Drop"]);
    let plan = write_plan(&world, &sources, "continuous").await;
    let mut run = world.command(&run_args(&plan, false), &[]).stdout(Stdio::null()).spawn().unwrap();
    wait_for(&world, &plan, "all ready", |s| statuses(s).values().all(|v| v == "ReadyForCutover")).await;

    // A gate's refusal, carried out by the running `run`, reaches this process with its message.
    let wrong = ["--database", "Cut", "--last-backup", "not-the-last.trn", "--yes"];
    let refused = drive(&world, &cutover_args(&plan, &wrong), None, None).await.unwrap();
    assert_eq!(refused.code, 1, "{refused:?}");
    assert!(refused.stderr.contains("is not the last backup"), "{}", refused.stderr);
    assert!(refused.stderr.contains("answered by the running `lrs migrate run`"), "{}", refused.stderr);
    let message = refused.json()["refused"][0]["message"].as_str().unwrap().to_string();
    assert!(message.contains("'not-the-last.trn' is not the last backup"), "{message}");
    assert_eq!(status(&world, &plan).await["Cut"]["status"], "ReadyForCutover");

    // The cutover of one database, from a second process, while `run` goes on.
    let done = drive(&world, &cutover_args(&plan, &["--database", "Cut", "--yes"]), None, None).await.unwrap();
    let done = done.expect(0);
    assert!(done.stderr.contains("handed to it"), "{}", done.stderr);
    assert!(done.stderr.contains("carried out by the running `lrs migrate run`"), "{}", done.stderr);
    assert_eq!(done.json()["databases"][0]["status"], "Completed", "{}", done.stdout);
    assert_eq!(status(&world, &plan).await["Cut"]["status"], "Completed");

    // After it, a new log of another database is still shipped and restored by the same run.
    let keep_log = &chains["Keep"][3];
    std::fs::copy(keep_log, sources.join("Keep").join(keep_log.file_name().unwrap())).unwrap();
    let keep_last = upload_name(keep_log);
    wait_for(&world, &plan, "Keep's new log restored", |s| {
        s["Keep"]["status"] == "ReadyForCutover" && s["Keep"]["restore"]["last_restored_file"] == keep_last.as_str()
    })
    .await;

    // A stop whose asker stopped waiting before it was taken (killed before it could withdraw it)
    // is refused when taken, never carried out with nobody watching.
    let state_file = walk(&world.work.path().join("data")).into_iter().find(|p| p.ends_with("state.json")).unwrap();
    let plan_dir = state_file.parent().unwrap();
    let store = PlanStore::for_plan(plan_dir.parent(), plan_dir.file_name().unwrap().to_str().unwrap()).unwrap();
    let inbox = RequestInbox::of(&store);
    let stale = Request::new(RequestAction::Stop, "Keep", "Keep", "local user test").valid_for(Duration::ZERO);
    tokio::time::sleep(Duration::from_millis(5)).await;
    inbox.post(&stale).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let answer = loop {
        if let Some(answer) = inbox.result(&stale.id).unwrap() {
            break answer;
        }
        assert!(Instant::now() < deadline, "the expired request was never answered");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(
        matches!(&answer.outcome, RequestOutcome::Refused { message } if message.contains("expired")),
        "{answer:?}"
    );
    inbox.forget(&stale.id);
    assert_eq!(status(&world, &plan).await["Keep"]["status"], "ReadyForCutover");

    // A stop through the inbox.
    let stop = strings(&["migrate", "stop", &plan.display().to_string(), "--database", "Drop", "--yes", "--json"]);
    let stopped = drive(&world, &stop, None, None).await.unwrap().expect(0);
    assert_eq!(stopped.json()["status"], "Stopped", "{}", stopped.stdout);
    assert!(stopped.stderr.contains("carried out by the running `lrs migrate run`"), "{}", stopped.stderr);
    let state = statuses(&status(&world, &plan).await);
    assert_eq!(state["Drop"], "Stopped", "{state:?}");
    assert_eq!(state["Keep"], "ReadyForCutover", "{state:?}");
    assert!(run.try_wait().unwrap().is_none(), "`run` kept running through all of it");
    for name in ["Cut", "Keep", "Drop"] {
        assert_eq!(starts(&world, name), 1, "{name} started once");
    }

    // The audit log says who asked, and the answered requests left no file behind.
    let audit = world.lrs(&strings(&["migrate", "audit", &plan.display().to_string()]), &[], None).await.expect(0);
    let asked: Vec<&str> = audit.stdout.lines().filter(|l| l.contains("\"action\":\"requested\"")).collect();
    assert!(asked.iter().any(|l| l.contains("cutover of Cut") && l.contains("local user")), "{}", audit.stdout);
    assert!(asked.iter().any(|l| l.contains("\"outcome\":\"refused\"")), "{}", audit.stdout);
    assert!(asked.iter().any(|l| l.contains("stop of Drop")), "{}", audit.stdout);
    assert!(audit.stdout.contains("\"action\":\"complete\""), "{}", audit.stdout);
    let requests: Vec<PathBuf> = walk(&world.work.path().join("data"))
        .into_iter()
        .filter(|p| p.components().any(|c| c.as_os_str() == "requests") && p.extension().is_some_and(|e| e == "json"))
        .collect();
    assert!(requests.iter().all(|p| !p.to_string_lossy().contains("inbox")), "{requests:?}");
    run.kill().await.unwrap();
    run.wait().await.unwrap();

    // A driver that does not serve the inbox (here this test, holding the plan's lock): the stop is
    // not taken in time, so it is withdrawn and nothing is done.
    let held = store.lock().unwrap();
    let stop =
        strings(&["migrate", "stop", &plan.display().to_string(), "--database", "Keep", "--yes", "--timeout", "1"]);
    let withdrawn = drive(&world, &stop, None, None).await.unwrap();
    assert_eq!(withdrawn.code, 130, "{withdrawn:?}");
    assert!(withdrawn.stderr.contains("it was withdrawn and nothing was done"), "{}", withdrawn.stderr);
    assert!(inbox.take_next().unwrap().is_none(), "no request is left behind");

    // A driver that takes the stop and dies before it answers (here: this test dropping the lock):
    // the asker cannot know whether Azure got it, and says so (exit 130), never "refused".
    let stop =
        strings(&["migrate", "stop", &plan.display().to_string(), "--database", "Keep", "--yes", "--timeout", "60"]);
    let die_after_taking = async {
        let deadline = Instant::now() + Duration::from_secs(30);
        while inbox.take_next().unwrap().is_none() {
            assert!(Instant::now() < deadline, "the stop was never posted");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        drop(held);
    };
    let (interrupted, ()) = tokio::join!(drive(&world, &stop, None, None), die_after_taking);
    let interrupted = interrupted.unwrap();
    assert_eq!(interrupted.code, 130, "{interrupted:?}");
    assert!(interrupted.stderr.contains("perhaps after Azure got it"), "{}", interrupted.stderr);
    assert!(interrupted.stderr.contains("check `lrs migrate status`"), "{}", interrupted.stderr);
    assert_eq!(status(&world, &plan).await["Keep"]["status"], "ReadyForCutover");
}

/// A chain of four backups per name (full, diff, two logs) written under `staging`, with all but the
/// last log copied into `sources/<name>`: the test adds that log when it wants it shipped.
fn chains_held_back<'a>(
    world: &World,
    staging: &str,
    sources: &Path,
    names: &[&'a str],
) -> BTreeMap<&'a str, Vec<PathBuf>> {
    let staging = world.dir(staging);
    let mut chains = BTreeMap::new();
    for &name in names {
        let chain = write_sample_chain(&staging.join(name).tap_mkdir(), name, 4).unwrap();
        let dir = sources.join(name).tap_mkdir();
        for file in &chain[..3] {
            std::fs::copy(file, dir.join(file.file_name().unwrap())).unwrap();
        }
        chains.insert(name, chain);
    }
    chains
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}
