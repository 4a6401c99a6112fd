//! `lrs-emulator`: runs the local ARM + Entra ID + LRS emulator until interrupted.
//!
//! `lrs-emulator --listen 127.0.0.1:PORT --state-dir DIR [--config FILE] [--blob-endpoint URL]
//! [--tls-cert FILE --tls-key FILE]`

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use lrs_emulator::{Emulator, EmulatorConfig, StartError, TlsFiles};

#[derive(Debug, Parser)]
#[command(
    name = "lrs-emulator",
    version,
    about = "Local emulator of ARM, Entra ID token endpoints and Log Replay Service"
)]
struct Args {
    /// Address to listen on (loopback; port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:8443")]
    listen: SocketAddr,
    /// Folder where the state is kept across restarts.
    #[arg(long)]
    state_dir: PathBuf,
    /// JSON file with `seed` and/or `timing` (see the README); without it the default world is seeded.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Blob endpoint of the default storage account (Azurite).
    #[arg(long, default_value = lrs_emulator::seed::DEFAULT_BLOB_ENDPOINT)]
    blob_endpoint: String,
    /// Serve HTTPS with this PEM certificate (chain, leaf first) instead of plain HTTP; needs --tls-key.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert (PKCS#8, PKCS#1 or SEC1).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    // It hands out tokens and keeps SAS tokens in its state: plain HTTP stays on this machine.
    if !args.listen.ip().is_loopback() && args.tls_cert.is_none() {
        eprintln!(
            "lrs-emulator: refusing to serve plain HTTP on {}: listen on a loopback address (127.0.0.1) or give \
             --tls-cert and --tls-key",
            args.listen
        );
        return ExitCode::from(2);
    }
    let mut config = EmulatorConfig::rehearsal().with_blob_endpoint(&args.blob_endpoint);
    config.listen = args.listen;
    config.state_dir = Some(args.state_dir);
    if let (Some(cert), Some(key)) = (args.tls_cert, args.tls_key) {
        config.tls = Some(TlsFiles { cert, key });
    }
    if let Some(path) = &args.config {
        config = match config.apply_file(path) {
            Ok(config) => config,
            Err(err) => {
                eprintln!("lrs-emulator: {err}");
                return ExitCode::from(2);
            }
        };
    }
    let running = match Emulator::start(config).await {
        Ok(running) => running,
        Err(err) => {
            eprintln!("lrs-emulator: {err}");
            return match err {
                StartError::Tls(_) => ExitCode::from(2),
                _ => ExitCode::FAILURE,
            };
        }
    };
    println!("lrs-emulator listening on {}", running.base_url());
    let _ = tokio::signal::ctrl_c().await;
    running.shutdown().await;
    ExitCode::SUCCESS
}
