//! `lrs-emulator`: runs the local ARM + Entra ID + LRS emulator until interrupted.
//!
//! `lrs-emulator --listen 127.0.0.1:PORT --state-dir DIR [--config FILE] [--blob-endpoint URL]`

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use lrs_emulator::{Emulator, EmulatorConfig};

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
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let mut config = EmulatorConfig::rehearsal().with_blob_endpoint(&args.blob_endpoint);
    config.listen = args.listen;
    config.state_dir = Some(args.state_dir);
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
            return ExitCode::FAILURE;
        }
    };
    println!("lrs-emulator listening on {}", running.base_url());
    let _ = tokio::signal::ctrl_c().await;
    running.shutdown().await;
    ExitCode::SUCCESS
}
