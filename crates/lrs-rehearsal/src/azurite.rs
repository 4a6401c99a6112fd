//! Starts a real Azurite (npm `azurite` 3.37 on Node 22, installed in `tools/azurite` by
//! `scripts/setup.sh`) on a free port of 127.0.0.1 (or a chosen one) with its own storage folder,
//! in strict mode (no `--loose`), and stops it when dropped. Tests use [`Azurite::start`] (a
//! temporary folder, `None` when Azurite is not installed); the rehearsal uses
//! [`Azurite::launch`] with the app's data folder.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Azurite's well-known development account.
pub const AZURITE_ACCOUNT: &str = "devstoreaccount1";
/// Azurite's well-known development key (public, documented by Microsoft; not a secret).
pub const AZURITE_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

/// Environment variable naming the folder Azurite is installed in (holding `node_modules/.bin`);
/// by default `tools/azurite` of the source tree this crate was built from.
pub const AZURITE_DIR_ENV: &str = "LRS_AZURITE_DIR";

/// Why Azurite could not be started.
#[derive(Debug)]
pub enum AzuriteError {
    NotInstalled { dir: PathBuf },
    Folder { path: PathBuf, source: std::io::Error },
    NoFreePort(std::io::Error),
    Spawn(std::io::Error),
    NotListening { port: u16, timeout: Duration },
}

impl std::fmt::Display for AzuriteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AzuriteError::NotInstalled { dir } => write!(
                f,
                "Azurite (the Azure Storage emulator) is not installed in {}: run scripts/setup.sh (or set {AZURITE_DIR_ENV} to a folder where `npm install azurite` was run)",
                dir.display()
            ),
            AzuriteError::Folder { path, source } => {
                write!(f, "cannot create Azurite's data folder {}: {source}", path.display())
            }
            AzuriteError::NoFreePort(e) => write!(f, "no free port on 127.0.0.1 for Azurite: {e}"),
            AzuriteError::Spawn(e) => write!(f, "cannot start Azurite: {e}"),
            AzuriteError::NotListening { port, timeout } => {
                write!(f, "Azurite did not listen on 127.0.0.1:{port} within {} s", timeout.as_secs())
            }
        }
    }
}

impl std::error::Error for AzuriteError {}

/// How to start Azurite.
#[derive(Debug, Clone)]
pub struct AzuriteOptions {
    /// Where Azurite keeps its data (created if missing).
    pub location: PathBuf,
    /// The port to listen on; a free one when `None`.
    pub port: Option<u16>,
    /// The folder Azurite is installed in.
    pub tools_dir: PathBuf,
    /// Extra arguments (for example `--oauth basic` with `--cert`/`--key`).
    pub extra: Vec<String>,
    pub start_timeout: Duration,
}

impl AzuriteOptions {
    pub fn new(location: impl Into<PathBuf>) -> AzuriteOptions {
        AzuriteOptions {
            location: location.into(),
            port: None,
            tools_dir: tools_dir(),
            extra: Vec::new(),
            start_timeout: Duration::from_secs(30),
        }
    }
}

/// A running Azurite blob service.
#[derive(Debug)]
pub struct Azurite {
    child: Child,
    port: u16,
    _temp: Option<tempfile::TempDir>,
}

impl Azurite {
    /// Starts Azurite in a temporary folder, or returns `None` with a printed reason when it is
    /// not installed (run `scripts/setup.sh`). CI installs it, so a test that needs it may
    /// `expect` in CI.
    pub fn start() -> Option<Azurite> {
        Self::start_with(&[])
    }

    /// As [`Azurite::start`], with extra arguments.
    pub fn start_with(extra: &[&str]) -> Option<Azurite> {
        let temp = tempfile::tempdir().ok()?;
        let mut options = AzuriteOptions::new(temp.path());
        options.extra = extra.iter().map(|a| (*a).to_string()).collect();
        match Azurite::launch(&options) {
            Ok(mut azurite) => {
                azurite._temp = Some(temp);
                Some(azurite)
            }
            Err(err @ AzuriteError::NotInstalled { .. }) => {
                eprintln!("SKIPPED: {err}");
                None
            }
            Err(err) => {
                eprintln!("{err}");
                None
            }
        }
    }

    /// Starts Azurite as `options` say and waits until it listens.
    pub fn launch(options: &AzuriteOptions) -> Result<Azurite, AzuriteError> {
        let bin = options.tools_dir.join("node_modules/.bin");
        if !bin.join("azurite-blob").exists() || !bin.join("node").exists() {
            return Err(AzuriteError::NotInstalled { dir: options.tools_dir.clone() });
        }
        std::fs::create_dir_all(&options.location)
            .map_err(|source| AzuriteError::Folder { path: options.location.clone(), source })?;
        let port = match options.port {
            Some(port) => port,
            None => free_port().map_err(AzuriteError::NoFreePort)?,
        };
        // Azurite's scripts start with `#!/usr/bin/env node`: the Node 22 installed beside it first.
        let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
        let mut args = vec![
            "--disableTelemetry".to_string(),
            "--silent".to_string(),
            "--location".to_string(),
            options.location.display().to_string(),
            "--blobHost".to_string(),
            "127.0.0.1".to_string(),
            "--blobPort".to_string(),
            port.to_string(),
        ];
        args.extend(options.extra.iter().cloned());
        let child = azurite_command(&bin.join("azurite-blob"), &args)
            .env("PATH", path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(AzuriteError::Spawn)?;
        let azurite = Azurite { child, port, _temp: None };
        if azurite.wait_until_listening(options.start_timeout) {
            Ok(azurite)
        } else {
            Err(AzuriteError::NotListening { port, timeout: options.start_timeout })
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:PORT/devstoreaccount1` (no trailing slash: the SDK would double it).
    pub fn blob_endpoint(&self) -> String {
        format!("http://127.0.0.1:{}/{AZURITE_ACCOUNT}", self.port)
    }

    /// The URL of a container on this Azurite.
    pub fn container_url(&self, container: &str) -> String {
        format!("{}/{container}", self.blob_endpoint())
    }

    fn wait_until_listening(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    }
}

impl Drop for Azurite {
    fn drop(&mut self) {
        // Azurite keeps blob metadata in memory and saves it when asked to stop: a kill would lose
        // the last seconds of it.
        if terminate(self.child.id()) {
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if matches!(self.child.try_wait(), Ok(Some(_))) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Asks process `pid` to stop (SIGTERM through `kill`, as the crate forbids `unsafe`).
#[cfg(unix)]
fn terminate(pid: u32) -> bool {
    Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[cfg(not(unix))]
fn terminate(_pid: u32) -> bool {
    false
}

/// Azurite under a watchdog: a shell that stops it (SIGTERM, so it saves its metadata) when this
/// process goes away without dropping it (a crash, a `kill -9`, a test runner's timeout), and
/// passes a SIGTERM of its own on to it.
#[cfg(unix)]
fn azurite_command(program: &Path, args: &[String]) -> Command {
    const WATCHDOG: &str = r#"parent=$1; shift
"$@" & child=$!
trap 'kill -TERM $child 2>/dev/null; wait $child; exit 0' TERM INT
while kill -0 "$parent" 2>/dev/null && kill -0 "$child" 2>/dev/null; do sleep 1; done
kill -TERM $child 2>/dev/null; wait $child"#;
    let mut command = Command::new("sh");
    command.arg("-c").arg(WATCHDOG).arg("azurite-watchdog").arg(std::process::id().to_string()).arg(program).args(args);
    command
}

#[cfg(not(unix))]
fn azurite_command(program: &Path, args: &[String]) -> Command {
    let mut command = Command::new(program);
    command.args(args);
    command
}

/// The folder Azurite is installed in: `$LRS_AZURITE_DIR`, else `tools/azurite` of the source tree.
pub fn tools_dir() -> PathBuf {
    match std::env::var_os(AZURITE_DIR_ENV).filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tools/azurite"),
    }
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind(("127.0.0.1", 0))?.local_addr()?.port())
}

/// True when `port` on 127.0.0.1 can be bound now.
pub fn port_is_free(port: u16) -> bool {
    TcpListener::bind(("127.0.0.1", port)).is_ok()
}
