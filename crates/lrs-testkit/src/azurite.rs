//! Starts a real Azurite (npm `azurite` 3.37 on Node 22, installed in `tools/azurite` by
//! `scripts/setup.sh`) on a free port of 127.0.0.1 with its own storage folder, in strict mode (no
//! `--loose`), and stops it when dropped.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Azurite's well-known development account.
pub const AZURITE_ACCOUNT: &str = "devstoreaccount1";
/// Azurite's well-known development key (public, documented by Microsoft; not a secret).
pub const AZURITE_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

/// A running Azurite blob service.
#[derive(Debug)]
pub struct Azurite {
    child: Child,
    port: u16,
    _location: tempfile::TempDir,
}

impl Azurite {
    /// Starts Azurite, or returns `None` with a printed reason when it is not installed (run
    /// `scripts/setup.sh`). CI installs it, so a test that needs it may `expect` in CI.
    pub fn start() -> Option<Azurite> {
        Self::start_with(&[])
    }

    /// Starts Azurite with extra arguments (for example `--oauth basic` with `--cert`/`--key`).
    pub fn start_with(extra: &[&str]) -> Option<Azurite> {
        let tools = tools_dir();
        let bin = tools.join("node_modules/.bin");
        if !bin.join("azurite-blob").exists() || !bin.join("node").exists() {
            eprintln!("SKIPPED: Azurite is not installed in {} (run scripts/setup.sh)", tools.display());
            return None;
        }
        let location = tempfile::tempdir().ok()?;
        let port = free_port()?;
        let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
        let mut args = vec![
            "--disableTelemetry".to_string(),
            "--silent".to_string(),
            "--location".to_string(),
            location.path().display().to_string(),
            "--blobHost".to_string(),
            "127.0.0.1".to_string(),
            "--blobPort".to_string(),
            port.to_string(),
        ];
        args.extend(extra.iter().map(|a| (*a).to_string()));
        let child = Command::new(bin.join("azurite-blob"))
            .args(&args)
            .env("PATH", path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .ok()?;
        let azurite = Azurite { child, port, _location: location };
        azurite.wait_until_listening(Duration::from_secs(30)).then_some(azurite)
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
        eprintln!("Azurite did not listen on port {} within {timeout:?}", self.port);
        false
    }
}

impl Drop for Azurite {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `tools/azurite` at the repository root.
pub fn tools_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tools/azurite")
}

fn free_port() -> Option<u16> {
    TcpListener::bind(("127.0.0.1", 0)).ok()?.local_addr().ok().map(|a| a.port())
}
