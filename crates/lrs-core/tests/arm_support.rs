//! A scripted ARM stand-in for the ARM tests until the emulator is ready: a tiny HTTP/1.1 server
//! on loopback that answers each route with the next of its recorded replies (the reference's
//! verbatim bodies and headers, with `https://management.azure.com` rewritten to this server),
//! serves an Entra ID client-credentials token endpoint, and records every request.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lrs_core::arm::{ArmClient, ArmClientOptions, AzureCloud, ServicePrincipal};
use lrs_core::secrets::Secret;
use lrs_core::storage::retry::{FixedJitter, RetryPolicy};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

pub const TENANT: &str = "11111111-1111-1111-1111-111111111111";
pub const CLIENT_ID: &str = "33333333-3333-3333-3333-333333333333";
pub const CLIENT_SECRET: &str = "rehearsal-secret";
pub const ACCESS_TOKEN: &str = "stub-access-token-0123456789";

/// One request the server received.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    /// Path and query.
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or_default()
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap()
    }
}

/// A scripted answer.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub fn json(status: u16, body: &str) -> Reply {
        Reply {
            status,
            headers: vec![("Content-Type".into(), "application/json; charset=utf-8".into())],
            body: body.into(),
        }
    }
    pub fn empty(status: u16) -> Reply {
        Reply { status, headers: Vec::new(), body: String::new() }
    }
    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.into(), value.into()));
        self
    }
}

struct Route {
    method: String,
    path: String,
    replies: VecDeque<Reply>,
}

#[derive(Clone, Default)]
struct Shared {
    routes: Arc<Mutex<Vec<Route>>>,
    seen: Arc<Mutex<Vec<Seen>>>,
    tokens_issued: Arc<Mutex<u32>>,
}

/// The server; it stops with the test's runtime.
pub struct ArmStub {
    pub base: String,
    shared: Shared,
}

impl std::fmt::Debug for ArmStub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ArmStub").field("base", &self.base).finish_non_exhaustive()
    }
}

impl ArmStub {
    pub async fn start() -> ArmStub {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let shared = Shared::default();
        let s = shared.clone();
        let b = base.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                tokio::spawn(serve(socket, s.clone(), b.clone()));
            }
        });
        ArmStub { base, shared }
    }

    /// Adds replies for `method path` (path without query); the last reply repeats.
    /// `https://management.azure.com` in bodies and headers becomes this server.
    pub fn route(&self, method: &str, path: &str, replies: Vec<Reply>) {
        let fix = |t: &str| t.replace("https://management.azure.com", &self.base);
        let replies = replies
            .into_iter()
            .map(|r| Reply {
                status: r.status,
                headers: r.headers.iter().map(|(k, v)| (k.clone(), fix(v))).collect(),
                body: fix(&r.body),
            })
            .collect();
        self.shared.routes.lock().unwrap().push(Route { method: method.into(), path: path.into(), replies });
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.shared.seen.lock().unwrap().clone()
    }

    /// The requests other than token requests.
    pub fn arm_requests(&self) -> Vec<Seen> {
        self.seen().into_iter().filter(|s| !s.path().ends_with("/oauth2/v2.0/token")).collect()
    }

    pub fn tokens_issued(&self) -> u32 {
        *self.shared.tokens_issued.lock().unwrap()
    }

    pub fn cloud(&self) -> AzureCloud {
        AzureCloud::emulator(&self.base).unwrap()
    }

    /// A client signed in as the stub's service principal, with fast retries.
    pub fn client(&self) -> ArmClient {
        let sp = ServicePrincipal {
            tenant_id: TENANT.into(),
            client_id: CLIENT_ID.into(),
            secret: Secret::new(CLIENT_SECRET),
            authority_host: None,
        };
        let cloud = self.cloud();
        let credential = sp.credential(&cloud).unwrap();
        ArmClient::new(cloud, credential, fast_options()).unwrap()
    }
}

pub fn fast_options() -> ArmClientOptions {
    ArmClientOptions {
        retry: RetryPolicy {
            max_retries: 3,
            initial_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(20),
            max_retry_after: Duration::from_secs(2),
            attempt_timeout: Duration::from_secs(10),
            attempt_timeout_per_mib: Duration::ZERO,
        },
        jitter: Arc::new(FixedJitter(0.5)),
        http: None,
    }
}

async fn serve(socket: tokio::net::TcpStream, shared: Shared, base: String) {
    let (read, mut write) = socket.into_split();
    let mut reader = BufReader::new(read);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).await.unwrap_or(0) == 0 {
            return;
        }
        let mut parts = line.split_whitespace();
        let (method, target) = (parts.next().unwrap_or("").to_string(), parts.next().unwrap_or("").to_string());
        let mut headers = Vec::new();
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).await.unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.push((k.trim().to_string(), v.trim().to_string()));
            }
        }
        let len = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
            .and_then(|(_, v)| v.parse::<usize>().ok())
            .unwrap_or(0);
        let mut body = vec![0; len];
        if reader.read_exact(&mut body).await.is_err() {
            return;
        }
        let seen = Seen { method, target, headers, body: String::from_utf8_lossy(&body).into_owned() };
        shared.seen.lock().unwrap().push(seen.clone());
        let reply = answer(&shared, &seen, &base);
        let mut out = format!("HTTP/1.1 {} X\r\nContent-Length: {}\r\n", reply.status, reply.body.len());
        for (k, v) in &reply.headers {
            out.push_str(&format!("{k}: {v}\r\n"));
        }
        out.push_str("\r\n");
        out.push_str(&reply.body);
        if write.write_all(out.as_bytes()).await.is_err() {
            return;
        }
    }
}

fn answer(shared: &Shared, seen: &Seen, _base: &str) -> Reply {
    if seen.method == "POST" && seen.path() == format!("/{TENANT}/oauth2/v2.0/token") {
        let form: Vec<(String, String)> = url::form_urlencoded::parse(seen.body.as_bytes()).into_owned().collect();
        let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        if get("client_id") == Some(CLIENT_ID)
            && get("client_secret") == Some(CLIENT_SECRET)
            && get("grant_type") == Some("client_credentials")
            && get("scope") == Some("https://management.azure.com/.default")
        {
            *shared.tokens_issued.lock().unwrap() += 1;
            let body = format!(r#"{{"token_type":"Bearer","expires_in":3599,"access_token":"{ACCESS_TOKEN}"}}"#);
            return Reply::json(200, &body);
        }
        return Reply::json(
            401,
            r#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided."}"#,
        );
    }
    let authorized = seen.header("authorization") == Some(&format!("Bearer {ACCESS_TOKEN}"));
    if !authorized {
        return Reply::json(401, r#"{"error":{"code":"AuthenticationFailed","message":"Authentication failed."}}"#);
    }
    let mut routes = shared.routes.lock().unwrap();
    let Some(route) = routes.iter_mut().find(|r| r.method == seen.method && r.path.eq_ignore_ascii_case(seen.path()))
    else {
        return Reply::json(
            599,
            &format!(r#"{{"error":{{"code":"NoRoute","message":"no route for {} {}"}}}}"#, seen.method, seen.path()),
        );
    };
    if route.replies.len() > 1 {
        route.replies.pop_front().unwrap()
    } else {
        route.replies.front().cloned().unwrap()
    }
}
