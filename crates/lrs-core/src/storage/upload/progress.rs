//! Progress as domain events over a channel: a file started (and how many of its blocks a
//! previous run already staged), bytes done per file and overall with throughput and ETA,
//! retries, waits for a file still being written, restarts, skips and completions. The CLI prints
//! them as bars or JSON lines; the desktop app maps them to its own payloads.

use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::mpsc::UnboundedSender;

/// Something that happened during an upload.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum UploadEvent {
    /// The job starts: how many files and bytes.
    JobStarted { files: usize, total_bytes: u64 },
    /// A file's upload starts; `blocks_reused` were staged by an earlier run.
    FileStarted { blob: String, size: u64, block_size: u64, blocks: u64, blocks_reused: u64 },
    /// The file is still being written: the upload waits.
    Waiting { blob: String, size: u64 },
    /// Bytes done, per file and overall (done includes blocks reused and files skipped).
    Progress {
        blob: String,
        file_done: u64,
        file_total: u64,
        done: u64,
        total: u64,
        /// Bytes per second sent by this run.
        bytes_per_second: f64,
        eta_seconds: Option<f64>,
    },
    /// A request failed and will be tried again after `delay_ms`.
    Retry { blob: String, operation: String, attempt: u32, delay_ms: u64, reason: String },
    /// The source file changed during the upload: it starts over.
    Restarted { blob: String, reason: String },
    /// Already in the container with the same size and Content-MD5.
    Skipped { blob: String, size: u64 },
    /// Committed and verified (size and Content-MD5 read back).
    Completed { blob: String, size: u64, content_md5: String, blocks_sent: u64, blocks_reused: u64 },
}

/// Counts bytes and turns them into progress events with throughput and ETA.
#[derive(Debug)]
pub struct Tracker {
    events: Option<UnboundedSender<UploadEvent>>,
    started: Instant,
    total: u64,
    done: u64,
    sent: u64,
}

impl Tracker {
    pub fn new(events: Option<UnboundedSender<UploadEvent>>, total: u64) -> Self {
        Tracker { events, started: Instant::now(), total, done: 0, sent: 0 }
    }

    pub fn emit(&self, event: UploadEvent) {
        if let Some(events) = &self.events {
            // A receiver that went away only stops the reporting, not the upload.
            let _ = events.send(event);
        }
    }

    /// Counts `bytes` as done; `sent` says whether they crossed the network in this run.
    pub fn add(&mut self, blob: &str, file_done: u64, file_total: u64, bytes: u64, sent: bool) {
        self.done += bytes;
        if sent {
            self.sent += bytes;
        }
        let rate = throughput(self.sent, self.started.elapsed());
        self.emit(UploadEvent::Progress {
            blob: blob.to_string(),
            file_done,
            file_total,
            done: self.done,
            total: self.total,
            bytes_per_second: rate,
            eta_seconds: eta(self.total.saturating_sub(self.done), rate),
        });
    }

    pub fn bytes_sent(&self) -> u64 {
        self.sent
    }
}

/// Bytes per second.
pub fn throughput(bytes: u64, elapsed: Duration) -> f64 {
    let secs = elapsed.as_secs_f64();
    if secs > 0.0 {
        bytes as f64 / secs
    } else {
        0.0
    }
}

/// Seconds left at `rate` bytes per second, unknown until something was sent.
pub fn eta(remaining: u64, rate: f64) -> Option<f64> {
    if remaining == 0 {
        Some(0.0)
    } else if rate > 0.0 {
        Some(remaining as f64 / rate)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throughput_and_eta() {
        assert_eq!(throughput(100, Duration::from_secs(4)), 25.0);
        assert_eq!(throughput(100, Duration::ZERO), 0.0);
        assert_eq!(eta(100, 25.0), Some(4.0));
        assert_eq!(eta(100, 0.0), None);
        assert_eq!(eta(0, 0.0), Some(0.0));
    }

    #[test]
    fn events_serialize_as_tagged_json_lines() {
        let e = UploadEvent::Skipped { blob: "db/a.bak".into(), size: 3 };
        assert_eq!(serde_json::to_string(&e).unwrap(), r#"{"event":"skipped","blob":"db/a.bak","size":3}"#);
    }

    #[test]
    fn tracker_counts_sent_and_reused_bytes_apart() {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let mut t = Tracker::new(Some(tx), 30);
        t.add("b", 10, 20, 10, false);
        t.add("b", 20, 20, 10, true);
        assert_eq!(t.bytes_sent(), 10);
        let mut last = None;
        while let Ok(e) = rx.try_recv() {
            last = Some(e);
        }
        let Some(UploadEvent::Progress { done, total, file_done, .. }) = last else { panic!() };
        assert_eq!((done, total, file_done), (20, 30, 20));
    }
}
