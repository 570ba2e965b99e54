//! A real S3-compatible server for the storage tests: moto (PyPI), started on loopback by
//! `support/s3_server.py`. `scripts/test` installs it into `target/mail-venv` beside
//! aiosmtpd and names that Python in `JEMBATAN_TEST_PYTHON`. The server accepts any
//! credentials; the tests still send some, signed, as against a real bucket.
//!
//! The helpers below look at the bucket directly (plain HTTP: moto checks no signature,
//! though it wants an `Authorization` header to delete): what objects it holds, which
//! multipart uploads are still open.

use std::io::BufRead;
use std::process::{Child, ChildStdin, Command, Stdio};

pub struct S3Server {
    pub port: u16,
    child: Child,
    /// Closing it ends the server (see the script).
    _stdin: ChildStdin,
    http: reqwest::Client,
}

/// An object as the bucket lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    pub key: String,
    pub size: u64,
    pub etag: String,
}

impl S3Server {
    pub fn start() -> S3Server {
        let python = std::env::var("JEMBATAN_TEST_PYTHON").expect(
            "JEMBATAN_TEST_PYTHON must name a Python with moto installed: run the tests with scripts/test, which \
             installs it",
        );
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/support/s3_server.py");
        let mut child = Command::new(python)
            .arg(script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python starts");
        let stdin = child.stdin.take().expect("stdin");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("read the port");
        let port = line.trim().parse().unwrap_or_else(|_| {
            let _ = child.kill();
            panic!("moto did not start (is moto installed for JEMBATAN_TEST_PYTHON?); it said {line:?}")
        });
        jembatan::signer::install_tls_provider();
        let auth = "AWS4-HMAC-SHA256 Credential=jembatan-test/20260101/us-east-1/s3/aws4_request, \
                    SignedHeaders=host, Signature=0";
        let http = reqwest::Client::builder()
            .default_headers(reqwest::header::HeaderMap::from_iter([(
                reqwest::header::AUTHORIZATION,
                reqwest::header::HeaderValue::from_static(auth),
            )]))
            .build()
            .expect("client");
        S3Server { port, child, _stdin: stdin, http }
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The object store settings that point the service at this server.
    pub fn options(&self) -> Vec<(String, String)> {
        [
            ("aws_endpoint", self.endpoint()),
            ("aws_access_key_id", "jembatan-test".into()),
            ("aws_secret_access_key", "jembatan-test-secret".into()),
            ("aws_region", "us-east-1".into()),
            ("aws_allow_http", "true".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }

    /// A new bucket with a name of its own.
    pub async fn bucket(&self) -> String {
        let name = format!("jembatan-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
        let r = self.http.put(format!("{}/{name}", self.endpoint())).send().await.expect("moto answers");
        assert!(r.status().is_success(), "create bucket: {}", r.status());
        name
    }

    /// Every object in the bucket, by key.
    pub async fn objects(&self, bucket: &str) -> Vec<Object> {
        let xml = self.get_text(&format!("{}/{bucket}?list-type=2", self.endpoint())).await;
        elements(&xml, "Contents")
            .into_iter()
            .map(|c| Object {
                key: text(c, "Key"),
                size: text(c, "Size").parse().expect("a size"),
                etag: text(c, "ETag").replace("&#34;", "").replace("&quot;", "").replace('"', ""),
            })
            .collect()
    }

    /// The keys of multipart uploads begun and neither completed nor aborted.
    pub async fn open_multipart_uploads(&self, bucket: &str) -> Vec<String> {
        let xml = self.get_text(&format!("{}/{bucket}?uploads", self.endpoint())).await;
        elements(&xml, "Upload").into_iter().map(|u| text(u, "Key")).collect()
    }

    pub async fn put(&self, bucket: &str, key: &str, bytes: &[u8]) {
        let r = self
            .http
            .put(format!("{}/{bucket}/{key}", self.endpoint()))
            .header("content-type", "application/octet-stream")
            .body(bytes.to_vec())
            .send()
            .await
            .expect("moto answers");
        assert!(r.status().is_success(), "put {key}: {}", r.status());
    }

    pub async fn delete(&self, bucket: &str, key: &str) {
        let r = self.http.delete(format!("{}/{bucket}/{key}", self.endpoint())).send().await.expect("moto answers");
        assert!(r.status().is_success(), "delete {key}: {}", r.status());
    }

    async fn get_text(&self, url: &str) -> String {
        let r = self.http.get(url).send().await.expect("moto answers");
        assert!(r.status().is_success(), "GET {url}: {}", r.status());
        r.text().await.expect("a body")
    }
}

/// The contents of each `<name>…</name>` in `xml` (flat documents only).
fn elements<'a>(xml: &'a str, name: &str) -> Vec<&'a str> {
    let (open, close) = (format!("<{name}>"), format!("</{name}>"));
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(start) = rest.find(&open) {
        let after = &rest[start + open.len()..];
        let Some(end) = after.find(&close) else { break };
        out.push(&after[..end]);
        rest = &after[end + close.len()..];
    }
    out
}

fn text(xml: &str, name: &str) -> String {
    elements(xml, name).first().map(|s| (*s).to_owned()).unwrap_or_default()
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
