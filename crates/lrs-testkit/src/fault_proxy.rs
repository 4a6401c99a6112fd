//! [`FaultProxy`]: an HTTP/1.1 proxy on a free loopback port between the client under test and
//! Azurite that injects faults into chosen requests (a status such as 503 or 500, a dropped
//! connection before or after the request reached Azurite, a stall) and logs every request with
//! its SAS signature removed. Each request travels on its own upstream connection (`Connection:
//! close`), so the proxy never parses a response.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use crate::loopback::LoopbackServer;

/// The storage operation of a request, as far as the proxy can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    PutBlock,
    PutBlockList,
    GetBlockList,
    GetProperties,
    Other,
}

/// What to do to a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this status (and `x-ms-error-code`) without forwarding.
    Status(u16, &'static str),
    /// Close the connection before forwarding (the request never reaches the service).
    DropBefore,
    /// Forward, then close the connection without the answer (the service did the work).
    DropAfter,
    /// Hold the connection without answering for this long, then close it.
    Stall(Duration),
}

/// The `nth` (1-based) request of `op` gets `fault`.
#[derive(Debug, Clone)]
pub struct Scheduled {
    pub op: Op,
    pub nth: usize,
    pub fault: Fault,
}

/// One request seen by the proxy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logged {
    pub op: Op,
    pub method: String,
    /// Path and query, with `sig=` removed.
    pub target: String,
    pub fault: Option<Fault>,
}

#[derive(Debug, Default)]
struct Shared {
    log: Vec<Logged>,
    counts: std::collections::HashMap<Op, usize>,
}

/// A running proxy; stops when dropped.
#[derive(Debug)]
pub struct FaultProxy {
    server: LoopbackServer,
    shared: Arc<Mutex<Shared>>,
}

impl FaultProxy {
    /// Starts a proxy to `127.0.0.1:upstream_port` with the faults of `schedule`.
    pub fn start(upstream_port: u16, schedule: Vec<Scheduled>) -> std::io::Result<FaultProxy> {
        let shared = Arc::new(Mutex::new(Shared::default()));
        let schedule = Arc::new(schedule);
        let upstream = SocketAddr::from(([127, 0, 0, 1], upstream_port));
        let state = shared.clone();
        let server = LoopbackServer::start(2, move |client| {
            let (state, schedule) = (state.clone(), schedule.clone());
            async move {
                let _ = serve(client, upstream, &state, &schedule).await;
            }
        })?;
        Ok(FaultProxy { server, shared })
    }

    pub fn port(&self) -> u16 {
        self.server.port()
    }

    /// `http://127.0.0.1:PORT/devstoreaccount1/<container>` through the proxy.
    pub fn container_url(&self, container: &str) -> String {
        self.server.container_url(container)
    }

    pub fn log(&self) -> Vec<Logged> {
        self.shared.lock().map(|s| s.log.clone()).unwrap_or_default()
    }

    /// How many requests of `op` reached the proxy (faulted or not).
    pub fn count(&self, op: Op) -> usize {
        self.log().iter().filter(|l| l.op == op).count()
    }
}

fn classify(method: &str, target: &str) -> Op {
    let query = target.split_once('?').map_or("", |(_, q)| q);
    let has = |p: &str| query.split('&').any(|kv| kv == p);
    match method {
        "PUT" if has("comp=block") => Op::PutBlock,
        "PUT" if has("comp=blocklist") => Op::PutBlockList,
        "GET" if has("comp=blocklist") => Op::GetBlockList,
        "HEAD" => Op::GetProperties,
        _ => Op::Other,
    }
}

fn without_sig(target: &str) -> String {
    let Some((path, query)) = target.split_once('?') else { return target.to_string() };
    let kept: Vec<&str> = query.split('&').filter(|kv| !kv.to_ascii_lowercase().starts_with("sig=")).collect();
    format!("{path}?{}", kept.join("&"))
}

async fn serve(
    client: TcpStream,
    upstream: SocketAddr,
    shared: &Mutex<Shared>,
    schedule: &[Scheduled],
) -> std::io::Result<()> {
    let mut client = BufReader::new(client);
    let mut head = Vec::new();
    loop {
        let mut line = String::new();
        if client.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let end = line == "\r\n";
        let lower = line.to_ascii_lowercase();
        // One request per upstream connection: the proxy does not parse responses.
        if !lower.starts_with("connection:") && !end {
            head.extend_from_slice(line.as_bytes());
        }
        if end {
            break;
        }
    }
    let text = String::from_utf8_lossy(&head).into_owned();
    let mut parts = text.split_whitespace();
    let (method, target) = (parts.next().unwrap_or("").to_string(), parts.next().unwrap_or("").to_string());
    let length: u64 = text
        .lines()
        .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap_or(0)))
        .unwrap_or(0);
    let op = classify(&method, &target);
    let fault = {
        let mut s = shared.lock().map_err(|_| std::io::Error::other("poisoned"))?;
        let n = {
            let c = s.counts.entry(op).or_default();
            *c += 1;
            *c
        };
        let fault = schedule.iter().find(|f| f.op == op && f.nth == n).map(|f| f.fault.clone());
        s.log.push(Logged { op, method: method.clone(), target: without_sig(&target), fault: fault.clone() });
        fault
    };
    if fault == Some(Fault::DropBefore) {
        return Ok(());
    }
    let mut body = Vec::with_capacity(usize::try_from(length).unwrap_or(0));
    (&mut client).take(length).read_to_end(&mut body).await?;
    match fault {
        Some(Fault::Status(status, code)) => {
            let xml = format!("<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>{code}</Code><Message>injected</Message></Error>");
            let answer = format!(
                "HTTP/1.1 {status} Injected\r\nContent-Type: application/xml\r\nx-ms-error-code: {code}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{xml}",
                xml.len()
            );
            client.get_mut().write_all(answer.as_bytes()).await?;
            return client.get_mut().shutdown().await;
        }
        Some(Fault::Stall(d)) => {
            tokio::time::sleep(d).await;
            return Ok(());
        }
        _ => {}
    }
    let mut up = TcpStream::connect(upstream).await?;
    up.write_all(&head).await?;
    up.write_all(b"Connection: close\r\n\r\n").await?;
    up.write_all(&body).await?;
    if fault == Some(Fault::DropAfter) {
        let mut sink = Vec::new();
        let _ = up.read_to_end(&mut sink).await;
        return Ok(());
    }
    tokio::io::copy(&mut up, client.get_mut()).await?;
    client.get_mut().shutdown().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_storage_operations_and_drops_signatures() {
        assert_eq!(classify("PUT", "/a/c/b?comp=block&blockid=x"), Op::PutBlock);
        assert_eq!(classify("PUT", "/a/c/b?sv=1&comp=blocklist"), Op::PutBlockList);
        assert_eq!(classify("GET", "/a/c/b?comp=blocklist&blocklisttype=all"), Op::GetBlockList);
        assert_eq!(classify("HEAD", "/a/c/b?sv=1"), Op::GetProperties);
        assert_eq!(classify("GET", "/a/c/b"), Op::Other);
        assert_eq!(without_sig("/a?sv=1&sig=abc%3D&comp=block"), "/a?sv=1&comp=block");
    }
}
