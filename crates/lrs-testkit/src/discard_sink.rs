//! [`DiscardSink`]: a minimal Blob endpoint on a free loopback port that accepts Put Block and Put
//! Block List and drops the bytes, so that an upload benchmark measures the client alone. It
//! answers Get Block List with an empty list and Get Blob Properties with the size and Content-MD5
//! of the last commit (the size is the sum of the blocks' lengths, as the service would report),
//! so the engine's resume and verification paths run unchanged. Connections are kept alive.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use crate::loopback::LoopbackServer;

#[derive(Debug, Default)]
struct Blobs {
    /// Staged block lengths per blob, by block ID.
    staged: HashMap<String, HashMap<String, u64>>,
    /// Committed size and Content-MD5 header value per blob.
    committed: HashMap<String, (u64, Option<String>)>,
    bytes: u64,
}

/// A running sink; stops when dropped.
#[derive(Debug)]
pub struct DiscardSink {
    server: LoopbackServer,
    blobs: Arc<Mutex<Blobs>>,
}

impl DiscardSink {
    pub fn start() -> std::io::Result<DiscardSink> {
        let blobs = Arc::new(Mutex::new(Blobs::default()));
        let state = blobs.clone();
        let server = LoopbackServer::start(1, move |conn| {
            let state = state.clone();
            async move {
                let _ = serve(conn, &state).await;
            }
        })?;
        Ok(DiscardSink { server, blobs })
    }

    pub fn port(&self) -> u16 {
        self.server.port()
    }

    /// `http://127.0.0.1:PORT/devstoreaccount1/<container>`.
    pub fn container_url(&self, container: &str) -> String {
        self.server.container_url(container)
    }

    /// Bytes of block bodies received.
    pub fn bytes_received(&self) -> u64 {
        self.blobs.lock().map(|b| b.bytes).unwrap_or(0)
    }
}

async fn serve(conn: TcpStream, blobs: &Mutex<Blobs>) -> std::io::Result<()> {
    conn.set_nodelay(true)?;
    let mut conn = BufReader::with_capacity(1 << 16, conn);
    let mut sink = vec![0u8; 1 << 16];
    loop {
        let mut head = String::new();
        loop {
            let mut line = String::new();
            if conn.read_line(&mut line).await? == 0 {
                return Ok(());
            }
            if line == "\r\n" {
                break;
            }
            head.push_str(&line);
        }
        let header = |name: &str| {
            head.lines().find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.trim().eq_ignore_ascii_case(name).then(|| v.trim().to_string())
            })
        };
        let mut left: u64 = header("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
        let length = left;
        while left > 0 {
            let n = conn.read(&mut sink[..(left.min(1 << 16) as usize)]).await?;
            if n == 0 {
                return Ok(());
            }
            left -= n as u64;
        }
        let mut words = head.split_whitespace();
        let (method, target) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let param =
            |name: &str| query.split('&').find_map(|kv| kv.strip_prefix(name)?.strip_prefix('=').map(str::to_string));
        let answer = {
            let mut b = blobs.lock().map_err(|_| std::io::Error::other("poisoned"))?;
            respond(
                &mut b,
                method,
                path,
                param("comp").as_deref(),
                param("blockid"),
                length,
                header("x-ms-blob-content-md5"),
            )
        };
        conn.get_mut().write_all(answer.as_bytes()).await?;
    }
}

fn respond(
    b: &mut Blobs,
    method: &str,
    path: &str,
    comp: Option<&str>,
    block_id: Option<String>,
    length: u64,
    content_md5: Option<String>,
) -> String {
    let empty = |status: &str| format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\nx-ms-request-id: sink\r\n\r\n");
    match (method, comp) {
        ("PUT", Some("block")) => {
            b.bytes += length;
            b.staged.entry(path.to_string()).or_default().insert(block_id.unwrap_or_default(), length);
            empty("201 Created")
        }
        ("PUT", Some("blocklist")) => {
            // The list's IDs are not parsed: the sink assumes every staged block was committed.
            let size = b.staged.remove(path).map_or(0, |s| s.values().sum());
            b.committed.insert(path.to_string(), (size, content_md5));
            empty("201 Created")
        }
        ("GET", Some("blocklist")) => {
            let xml = "<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList><CommittedBlocks /><UncommittedBlocks /></BlockList>";
            format!("HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nContent-Length: {}\r\n\r\n{xml}", xml.len())
        }
        ("HEAD", _) => match b.committed.get(path) {
            Some((size, md5)) => {
                let md5 = md5.as_ref().map(|m| format!("Content-MD5: {m}\r\n")).unwrap_or_default();
                format!("HTTP/1.1 200 OK\r\nContent-Length: {size}\r\n{md5}x-ms-blob-type: BlockBlob\r\n\r\n")
            }
            None => "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nx-ms-error-code: BlobNotFound\r\n\r\n".to_string(),
        },
        _ => empty("400 Bad Request"),
    }
}
