//! The world of the end-to-end CLI tests: a real Azurite, the LRS emulator in this process on a
//! manual clock (its storage account pointing at that Azurite), and the real `lrs` binary signed in
//! as the emulator's seed service principal through the AZURE_* variables. Every output of every
//! command is scanned for secrets (the account key, the client secret, each SAS used).

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lrs_core::secrets::Secret;
use lrs_core::storage::sas::AccountSas;
use lrs_emulator::seed::{DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_TENANT};
use lrs_emulator::{Emulator, EmulatorConfig, ManualClock, RunningEmulator, Timing};
use lrs_testkit::secret_scan::{assert_no_secret, assert_no_secret_like};
use lrs_testkit::{Azurite, AZURITE_ACCOUNT, AZURITE_KEY};
use serde_json::Value;
use tokio::io::AsyncWriteExt;

pub const SUB: &str = "22222222-2222-2222-2222-222222222222";

/// What one `lrs` run left behind.
#[derive(Debug)]
pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Out {
    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(self.stdout.trim()).unwrap_or_else(|e| panic!("not JSON ({e}): {self:?}"))
    }

    #[track_caller]
    pub fn expect(self, code: i32) -> Out {
        assert_eq!(self.code, code, "exit code\nstdout: {}\nstderr: {}", self.stdout, self.stderr);
        self
    }
}

/// Timings that keep a manual-clock test short; `Retry-After: 1` so that `complete` and `stop`
/// poll their operation every second of real time.
fn timing() -> Timing {
    Timing {
        initializing_seconds: 30,
        seconds_per_backup_set: 60,
        megabytes_per_second: 100.0,
        cutover_seconds: 30,
        drop_seconds: 30,
        retry_after_seconds: 1,
        token_lifetime_seconds: 3599,
        job_limit_seconds: 30 * 24 * 3600,
        tick_millis: 3_600_000,
    }
}

#[derive(Debug)]
pub struct World {
    pub azurite: Azurite,
    pub emulator: RunningEmulator,
    pub clock: ManualClock,
    pub work: tempfile::TempDir,
    /// `http://127.0.0.1:PORT/devstoreaccount1/CONTAINER`.
    pub container_url: String,
    pub keychain_service: String,
    secrets: Mutex<Vec<String>>,
}

impl World {
    /// Azurite, a container on it, and an emulator; `None` (skip) when Azurite is not installed.
    pub async fn start(container: &str) -> Option<World> {
        let azurite = Azurite::start()?;
        let clock = ManualClock::starting_now();
        let mut config = EmulatorConfig::rehearsal().with_blob_endpoint(&azurite.blob_endpoint());
        config.clock = Arc::new(clock.clone());
        config.timing = timing();
        let emulator = Emulator::start(config).await.unwrap();
        let container_url = azurite.container_url(container);
        let keychain_service = format!("lrs-wizard-cli-flow-{container}-{}", std::process::id());
        let world = World {
            azurite,
            emulator,
            clock,
            work: tempfile::tempdir().unwrap(),
            container_url,
            keychain_service,
            secrets: Mutex::new(vec![AZURITE_KEY.to_string(), DEFAULT_CLIENT_SECRET.to_string()]),
        };
        world.curl("PUT", &format!("{}?restype=container", world.container_url), "201");
        Some(world)
    }

    /// A secret that must never appear in an output from now on.
    pub fn secret(&self, value: &str) {
        self.secrets.lock().unwrap().push(value.to_string());
    }

    pub fn dir(&self, name: &str) -> PathBuf {
        let dir = self.work.path().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// `--arm-endpoint` and the database's place.
    pub fn target(&self, database: &str) -> Vec<String> {
        let mut args = vec!["--arm-endpoint".to_string(), self.emulator.base_url().to_string()];
        for (flag, value) in
            [("--resource-group", "rehearsal-rg"), ("--instance", "rehearsal-mi"), ("--database", database)]
        {
            args.push(flag.into());
            args.push(value.into());
        }
        args
    }

    /// `lrs ARGS`, signed in as the seed service principal unless `env` names `AZURE_CLIENT_SECRET`
    /// with an empty value, which signs out (removes every AZURE_* variable).
    pub fn command(&self, args: &[String], env: &[(&str, &str)]) -> tokio::process::Command {
        let mut cmd = tokio::process::Command::new(assert_cmd::cargo::cargo_bin("lrs"));
        cmd.args(args);
        if env.contains(&("AZURE_CLIENT_SECRET", "")) {
            for var in ["AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_AUTHORITY_HOST"] {
                cmd.env_remove(var);
            }
        } else {
            cmd.env("AZURE_TENANT_ID", DEFAULT_TENANT)
                .env("AZURE_CLIENT_ID", DEFAULT_CLIENT_ID)
                .env("AZURE_CLIENT_SECRET", DEFAULT_CLIENT_SECRET)
                .env("AZURE_AUTHORITY_HOST", self.emulator.base_url());
        }
        cmd.env("LRS_KEYCHAIN_SERVICE", &self.keychain_service)
            .env("XDG_DATA_HOME", self.work.path().join("data"))
            .env("LRS_TEST_KEY", AZURITE_KEY)
            .env_remove("LRS_TENANT_ID")
            .env_remove("LRS_CLIENT_ID")
            .env_remove("BROWSER")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        for (k, v) in env.iter().filter(|(_, v)| !v.is_empty()) {
            cmd.env(k, v);
        }
        cmd
    }

    /// Runs `lrs ARGS` (stdin given or empty) and scans both outputs.
    pub async fn lrs(&self, args: &[String], env: &[(&str, &str)], stdin: Option<&str>) -> Out {
        let out = self.run(args, env, stdin, false).await;
        self.scan(&out.all());
        out
    }

    /// As [`lrs`](Self::lrs) while the emulator's time passes (10 s every 200 ms of real time), for
    /// the commands that follow an operation to its end.
    pub async fn lrs_while_time_passes(&self, args: &[String], stdin: Option<&str>) -> Out {
        let out = self.run(args, &[], stdin, true).await;
        self.scan(&out.all());
        out
    }

    /// `lrs sas create`: its stdout is the token, the one output allowed to hold it.
    pub async fn sas_create(&self) -> String {
        let args =
            strings(&["sas", "create", "--container-url", &self.container_url, "--account-key-env", "LRS_TEST_KEY"]);
        let out = self.run(&args, &[], None, false).await.expect(0);
        let token = out.stdout.trim().to_string();
        self.secret(&token);
        self.scan(&out.stderr);
        token
    }

    async fn run(&self, args: &[String], env: &[(&str, &str)], stdin: Option<&str>, advance: bool) -> Out {
        let mut child = self.command(args, env).spawn().unwrap();
        let mut input = child.stdin.take().unwrap();
        input.write_all(stdin.unwrap_or("").as_bytes()).await.unwrap();
        drop(input);
        let output = child.wait_with_output();
        tokio::pin!(output);
        let output = loop {
            tokio::select! {
                out = &mut output => break out.unwrap(),
                () = tokio::time::sleep(Duration::from_millis(200)), if advance => self.advance(10).await,
            }
        };
        Out {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8(output.stdout).unwrap(),
            stderr: String::from_utf8(output.stderr).unwrap(),
        }
    }

    pub fn scan(&self, text: &str) {
        let secrets = self.secrets.lock().unwrap().clone();
        let refs: Vec<&str> = secrets.iter().map(String::as_str).collect();
        assert_no_secret(text, &refs);
        assert_no_secret_like("lrs output", text);
    }

    /// Moves the emulator's clock and lets it work.
    pub async fn advance(&self, seconds: i64) {
        self.clock.advance(time::Duration::seconds(seconds));
        self.emulator.tick().await;
    }

    /// `lrs status --json` (the restoreDetails properties).
    pub async fn status(&self, database: &str) -> Value {
        let mut args = strings(&["status", "--json"]);
        args.extend(self.target(database));
        let out = self.lrs(&args, &[], None).await;
        assert!(out.code == 0 || out.code == 1, "{out:?}");
        out.json()
    }

    /// Advances the clock a minute at a time, reading the status with `lrs status --json` after
    /// each step, until `done` holds (at most `steps` steps).
    pub async fn status_until(&self, database: &str, steps: usize, done: impl Fn(&Value) -> bool) -> Value {
        let mut last = Value::Null;
        for _ in 0..steps {
            self.advance(60).await;
            last = self.status(database).await;
            if done(&last) {
                return last;
            }
        }
        panic!("the restore of {database} did not get there in {steps} steps: {last}");
    }

    /// A blob request with an account SAS that may do anything (the test's own setup).
    pub fn curl(&self, method: &str, url: &str, expected: &str) {
        let sep = if url.contains('?') { '&' } else { '?' };
        let url = format!("{url}{sep}{}", admin_sas());
        let out = std::process::Command::new("curl")
            .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", method, "-H", "Content-Length: 0"])
            .args(["-H", "x-ms-version: 2022-11-02", &url])
            .output()
            .expect("curl is needed to set up the test container");
        assert_eq!(String::from_utf8_lossy(&out.stdout), expected, "{method} blob request");
    }
}

pub fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

/// The name a file is uploaded under (`.trn` becomes `.log`).
pub fn upload_name(path: &Path) -> String {
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    match name.strip_suffix(".trn") {
        Some(stem) => format!("{stem}.log"),
        None => name,
    }
}

pub fn admin_sas() -> String {
    let now = time::OffsetDateTime::now_utc();
    let sas = AccountSas::full_blob_access(now, time::Duration::hours(2));
    sas.sign(AZURITE_ACCOUNT, &Secret::new(AZURITE_KEY)).unwrap().expose().to_string()
}
