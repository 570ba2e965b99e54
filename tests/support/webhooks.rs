//! A webhook receiver for the tests: a real HTTP/1.1 listener on a loopback address that
//! records what arrives and answers with the statuses a test scripts. Signatures are
//! checked with the official Standard Webhooks library (PyPI `standardwebhooks`), which
//! `scripts/test` installs beside aiosmtpd (`JEMBATAN_TEST_PYTHON`).

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// One call received.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    /// Lower-cased names.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

/// A scripted answer: status and extra headers.
pub type Answer = (u16, Vec<(&'static str, String)>);

#[derive(Clone)]
pub struct Receiver {
    pub addr: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
    answers: Arc<Mutex<VecDeque<Answer>>>,
    connections: Arc<AtomicUsize>,
}

impl Receiver {
    /// Listens on `ip` (e.g. `127.0.0.1`, `127.0.0.2`, `::1`), port chosen by the system.
    /// Unscripted calls are answered 204.
    pub async fn start(ip: &str) -> Receiver {
        let listener = TcpListener::bind((ip, 0)).await.unwrap_or_else(|e| panic!("listen on {ip}: {e}"));
        let r = Receiver {
            addr: listener.local_addr().expect("address"),
            received: Arc::default(),
            answers: Arc::default(),
            connections: Arc::default(),
        };
        let me = r.clone();
        tokio::spawn(async move {
            while let Ok((mut conn, _)) = listener.accept().await {
                me.connections.fetch_add(1, Ordering::SeqCst);
                let me = me.clone();
                tokio::spawn(async move {
                    let Some(req) = read_request(&mut conn).await else { return };
                    let (status, headers) = me.answers.lock().unwrap().pop_front().unwrap_or((204, vec![]));
                    me.received.lock().unwrap().push(req);
                    let mut head = format!("HTTP/1.1 {status} X\r\ncontent-length: 2\r\nconnection: close\r\n");
                    for (n, v) in headers {
                        head.push_str(&format!("{n}: {v}\r\n"));
                    }
                    head.push_str("\r\nok");
                    let _ = conn.write_all(head.as_bytes()).await;
                    let _ = conn.shutdown().await;
                });
            }
        });
        r
    }

    /// `http://addr/path` (IPv6 in brackets).
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn answer(&self, status: u16, headers: Vec<(&'static str, String)>) {
        self.answers.lock().unwrap().push_back((status, headers));
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// TCP connections accepted, whether or not a request followed.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// Waits (up to 20 s) until `pred` holds for what was received, and returns it.
    pub async fn wait_for(&self, what: &str, pred: impl Fn(&[Received]) -> bool) -> Vec<Received> {
        let started = Instant::now();
        loop {
            let got = self.received();
            if pred(&got) {
                return got;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "webhook receiver: timed out waiting for {what}; got {:#?}",
                got.iter().map(|r| (&r.path, r.json()["type"].clone())).collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

async fn read_request(conn: &mut tokio::net::TcpStream) -> Option<Received> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let n = tokio::time::timeout(Duration::from_secs(5), conn.read(&mut chunk)).await.ok()?.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let path = lines.next()?.split(' ').nth(1)?.to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let len: usize = headers.iter().find(|(n, _)| n == "content-length").and_then(|(_, v)| v.parse().ok()).unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < len {
        let n = tokio::time::timeout(Duration::from_secs(5), conn.read(&mut chunk)).await.ok()?.ok()?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some(Received { path, headers, body: String::from_utf8_lossy(&body).into_owned() })
}

/// Verifies each message with the official `standardwebhooks` library and `secret`;
/// returns, per message, `None` when it verifies or the library's complaint.
pub fn verify_with_library(secret: &str, messages: &[Received]) -> Vec<Option<String>> {
    let python = std::env::var("JEMBATAN_TEST_PYTHON").expect(
        "JEMBATAN_TEST_PYTHON must name a Python with standardwebhooks installed: run the tests with scripts/test",
    );
    let input: Vec<Value> = messages
        .iter()
        .map(|m| {
            let headers: serde_json::Map<String, Value> =
                m.headers.iter().map(|(n, v)| (n.clone(), Value::String(v.clone()))).collect();
            serde_json::json!({"headers": headers, "body": m.body})
        })
        .collect();
    let file = std::env::temp_dir().join(format!("jembatan-webhooks-{}.json", uuid::Uuid::new_v4()));
    std::fs::write(&file, serde_json::to_vec(&input).expect("json")).expect("write messages");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/support/verify_webhooks.py");
    let out = std::process::Command::new(python).arg(script).arg(secret).arg(&file).output().expect("python runs");
    let _ = std::fs::remove_file(&file);
    assert!(out.status.success(), "verify_webhooks.py failed: {}", String::from_utf8_lossy(&out.stderr));
    let results: Vec<Value> = serde_json::from_slice(&out.stdout).expect("verify_webhooks.py prints JSON");
    results.into_iter().map(|r| r.as_str().map(str::to_owned)).collect()
}
