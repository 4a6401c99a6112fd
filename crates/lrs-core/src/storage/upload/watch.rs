//! Is the source file still being written? A file whose size or modification time changed less
//! than the settle window ago is watched until it stays the same for a whole window. The same
//! stat is compared again before commit: a file that changed while it was uploaded starts over.

use std::path::Path;
use std::time::{Duration, SystemTime};

use tokio_util::sync::CancellationToken;

/// The size and modification time of a file: its version, as far as the upload is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileVersion {
    pub size: u64,
    /// Nanoseconds since the Unix epoch (negative before it).
    pub mtime_ns: i128,
}

impl FileVersion {
    pub fn of(path: &Path) -> std::io::Result<FileVersion> {
        let meta = std::fs::metadata(path)?;
        let mtime_ns = match meta.modified()?.duration_since(SystemTime::UNIX_EPOCH) {
            Ok(d) => d.as_nanos() as i128,
            Err(e) => -(e.duration().as_nanos() as i128),
        };
        Ok(FileVersion { size: meta.len(), mtime_ns })
    }

    /// How long ago the file was last modified (zero for a time in the future).
    fn age(&self) -> Duration {
        let now = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_nanos() as i128).unwrap_or(0);
        Duration::from_nanos(u64::try_from(now - self.mtime_ns).unwrap_or(0))
    }
}

/// Why waiting ended without a settled file.
#[derive(Debug)]
pub enum WatchError {
    Io(std::io::Error),
    Cancelled,
}

/// Returns the file's version once it has not changed for `window`. `on_wait` is called each
/// time the file is seen still changing (for a "waiting" event).
pub async fn wait_until_settled(
    path: &Path,
    window: Duration,
    cancel: &CancellationToken,
    mut on_wait: impl FnMut(FileVersion),
) -> Result<FileVersion, WatchError> {
    let mut seen = FileVersion::of(path).map_err(WatchError::Io)?;
    if seen.age() >= window {
        return Ok(seen);
    }
    loop {
        on_wait(seen);
        tokio::select! {
            () = cancel.cancelled() => return Err(WatchError::Cancelled),
            () = tokio::time::sleep(window) => {}
        }
        let now = FileVersion::of(path).map_err(WatchError::Io)?;
        if now == seen {
            return Ok(now);
        }
        seen = now;
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    #[tokio::test]
    async fn an_old_file_is_settled_at_once_and_a_growing_one_waits() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.trn");
        std::fs::write(&path, b"x").unwrap();
        let cancel = CancellationToken::new();
        // Settled at once: a zero window.
        let v = wait_until_settled(&path, Duration::ZERO, &cancel, |_| panic!("no wait")).await.unwrap();
        assert_eq!(v.size, 1);

        let writer_path = path.clone();
        let writer = std::thread::spawn(move || {
            let mut f = std::fs::OpenOptions::new().append(true).open(writer_path).unwrap();
            for _ in 0..4 {
                std::thread::sleep(Duration::from_millis(60));
                f.write_all(b"more").unwrap();
            }
        });
        let mut waits = 0;
        let v = wait_until_settled(&path, Duration::from_millis(150), &cancel, |_| waits += 1).await.unwrap();
        writer.join().unwrap();
        assert_eq!(v.size, 17, "waited until the writer was done");
        assert!(waits >= 2, "{waits}");
    }

    #[tokio::test]
    async fn waiting_can_be_cancelled() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.trn");
        std::fs::write(&path, b"x").unwrap();
        let cancel = CancellationToken::new();
        cancel.cancel();
        let r = wait_until_settled(&path, Duration::from_secs(60), &cancel, |_| {}).await;
        assert!(matches!(r, Err(WatchError::Cancelled)));
    }
}
