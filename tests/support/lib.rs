//! Black-box test support: `TestApp::spawn()` starts the real service on port 0 with a
//! fresh database — a SQLite temp file, or a fresh PostgreSQL database when
//! `JEMBATAN_TEST_POSTGRES_URL` names a server — and talks to it over HTTP.

use std::sync::Arc;

pub mod proxy;
pub mod replica;
pub mod s3;
pub mod smtp;
pub mod webhooks;

use jembatan::clock::ShiftedClock;
use jembatan::config::Settings;
use jembatan::startup::Application;
use reqwest::{Method, StatusCode, header::HeaderMap};
use serde_json::{Value, json};

pub const ADMIN_USERNAME: &str = "root.admin";
pub const ADMIN_PASSWORD: &str = "test admin passphrase 2026";
pub const PASSWORD: &str = "correct horse battery staple";

pub struct TestApp {
    pub base: String,
    /// Other replicas' bases: when there are any, calls go round-robin over all of them.
    replicas: std::sync::Mutex<Vec<String>>,
    turn: std::sync::atomic::AtomicUsize,
    pub jwt_secret: String,
    pub http: reqwest::Client,
    pub clock: ShiftedClock,
    pub database_url: String,
    pub storage_dir: std::path::PathBuf,
    _tmp: tempdir::TempDir,
}

/// A response, read whole: status, headers, and the body as JSON (Null if not JSON).
#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts an RFC 9457 problem document with this status.
    #[track_caller]
    pub fn assert_problem(&self, status: u16) -> &Value {
        assert_eq!(self.status.as_u16(), status, "unexpected status; body: {}", self.text);
        assert_eq!(self.header("content-type"), Some("application/problem+json"), "body: {}", self.text);
        assert_eq!(self.body["status"], status, "problem status field: {}", self.text);
        assert!(self.body["type"].as_str().is_some_and(|t| t.starts_with("urn:jembatan:problem:")), "{}", self.text);
        assert!(self.body["title"].is_string() && self.body["detail"].is_string(), "{}", self.text);
        // Its text is in a language it names, and caches keep one per Accept-Language.
        assert!(matches!(self.header("content-language"), Some("id" | "en")), "Content-Language: {:?}", self.headers);
        let vary = self.headers.get_all("vary").iter().filter_map(|v| v.to_str().ok()).collect::<Vec<_>>().join(",");
        assert!(vary.contains("Accept-Language"), "Vary: {vary}");
        &self.body
    }

    #[track_caller]
    pub fn assert_status(&self, status: u16) -> &Value {
        assert_eq!(self.status.as_u16(), status, "unexpected status; body: {}", self.text);
        &self.body
    }
}

pub mod tempdir {
    /// A temporary folder removed on drop (no extra crate for four lines).
    pub struct TempDir(pub std::path::PathBuf);
    impl TempDir {
        pub fn new() -> Self {
            let p = std::env::temp_dir().join(format!("jembatan-test-{}", uuid::Uuid::new_v4()));
            std::fs::create_dir_all(&p).expect("create temp dir");
            TempDir(p)
        }
    }
    impl Default for TempDir {
        fn default() -> Self {
            Self::new()
        }
    }
    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// A new, empty database: a SQLite file in `tmp`, or a PostgreSQL database on the test server.
pub async fn fresh_database(tmp: &std::path::Path) -> String {
    match std::env::var("JEMBATAN_TEST_POSTGRES_URL") {
        Ok(server) if !server.is_empty() => {
            use sea_orm::{ConnectionTrait, Database};
            let name = format!("jembatan_test_{}", uuid::Uuid::new_v4().simple());
            let admin = Database::connect(format!("{}/postgres", server.trim_end_matches('/')))
                .await
                .expect("JEMBATAN_TEST_POSTGRES_URL must reach a PostgreSQL server");
            admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await.expect("create test database");
            admin.close().await.ok();
            format!("{}/{name}", server.trim_end_matches('/'))
        }
        _ => format!("sqlite://{}?mode=rwc", tmp.join("jembatan.db").display()),
    }
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(|_| {}).await
    }

    pub async fn spawn_with(tweak: impl FnOnce(&mut Settings)) -> TestApp {
        Self::spawn_checked(false, tweak).await
    }

    /// `serve --demo`'s settings (no JWT secret of our own) when `demo`, else a normal server's.
    pub async fn spawn_checked(demo: bool, tweak: impl FnOnce(&mut Settings)) -> TestApp {
        jembatan::signer::install_tls_provider();
        // The pool-wait histogram is fed by the tracing subscriber, as in `jembatan serve`.
        jembatan::telemetry::init_metrics_only();
        let tmp = tempdir::TempDir::new();
        let database_url = fresh_database(&tmp.0).await;
        let storage_dir = tmp.0.join("documents");
        let jwt_secret = format!("test-secret-{}", uuid::Uuid::new_v4());
        let mut settings = Settings {
            database_url: database_url.clone(),
            listen: "127.0.0.1:0".into(),
            jwt_secret: Some(jwt_secret.clone()),
            storage_dir: storage_dir.clone(),
            admin_username: Some(ADMIN_USERNAME.into()),
            admin_password: Some(ADMIN_PASSWORD.into()),
            db_max_connections: 5,
            workers: Some(2),
            ..Settings::default()
        };
        if demo {
            settings.jwt_secret = None;
        }
        tweak(&mut settings);
        let settings = settings.check(demo).expect("test settings are valid");
        let jwt_secret = settings.jwt_secret.clone().unwrap_or(jwt_secret);
        let clock = ShiftedClock::default();
        let app = Application::build(settings, Arc::new(clock.clone())).await.expect("app builds");
        let base = format!("http://127.0.0.1:{}", app.port());
        tokio::spawn(app.run_until_stopped());
        TestApp {
            base,
            replicas: std::sync::Mutex::new(Vec::new()),
            turn: std::sync::atomic::AtomicUsize::new(0),
            jwt_secret,
            // English by default: the tests read details in the language they were written
            // in; `tests/blackbox/languages.rs` checks Indonesian (the service's default).
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .default_headers(HeaderMap::from_iter([(
                    reqwest::header::ACCEPT_LANGUAGE,
                    reqwest::header::HeaderValue::from_static("en"),
                )]))
                .build()
                .expect("client"),
            clock,
            database_url,
            storage_dir,
            _tmp: tmp,
        }
    }

    /// `/api/v1` + path.
    pub fn url(&self, path: &str) -> String {
        let replicas = self.replicas.lock().unwrap_or_else(|p| p.into_inner());
        if replicas.is_empty() {
            return format!("{}/api/v1{path}", self.base);
        }
        let turn = self.turn.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % (replicas.len() + 1);
        let base = if turn == 0 { &self.base } else { &replicas[turn - 1] };
        format!("{base}/api/v1{path}")
    }

    /// From now on, calls go round-robin over this app and the replica at `base`.
    pub fn round_robin(&self, base: &str) {
        self.replicas.lock().unwrap_or_else(|p| p.into_inner()).push(base.to_owned());
    }

    /// Calls stop going to the replica at `base` (it was stopped).
    pub fn forget(&self, base: &str) {
        self.replicas.lock().unwrap_or_else(|p| p.into_inner()).retain(|b| b != base);
    }

    pub async fn send(&self, req: reqwest::RequestBuilder) -> Resp {
        let res = req.send().await.expect("request reaches the server");
        let status = res.status();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Resp { status, headers, body, text }
    }

    pub async fn call(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> Resp {
        let mut req = self.http.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        self.send(req).await
    }

    pub async fn get(&self, path: &str, token: &str) -> Resp {
        self.call(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Resp {
        self.call(Method::POST, path, Some(token), Some(body)).await
    }

    pub async fn patch(&self, path: &str, token: &str, body: Value) -> Resp {
        self.call(Method::PATCH, path, Some(token), Some(body)).await
    }

    pub async fn login(&self, username: &str, password: &str) -> Resp {
        self.call(Method::POST, "/auth/login", None, Some(json!({"username": username, "password": password}))).await
    }

    /// Logs in and returns the access token, panicking with the body if it fails.
    pub async fn token(&self, username: &str, password: &str) -> String {
        let r = self.login(username, password).await;
        r.assert_status(200);
        r.body["access_token"].as_str().expect("access_token").to_owned()
    }

    pub async fn admin_token(&self) -> String {
        self.token(ADMIN_USERNAME, ADMIN_PASSWORD).await
    }

    pub async fn create_org(&self, admin: &str, code: &str, kind: &str) -> Value {
        let r = self
            .post("/organizations", admin, json!({"code": code, "name": format!("Org {code}"), "kind": kind}))
            .await;
        r.assert_status(201).clone()
    }

    /// Creates a user (password `PASSWORD`) and returns (user, access token).
    pub async fn user(&self, admin: &str, username: &str, org_id: &Value, roles: &[&str]) -> (Value, String) {
        let r = self
            .post(
                "/users",
                admin,
                json!({"username": username, "full_name": username, "password": PASSWORD, "organization_id": org_id, "roles": roles}),
            )
            .await;
        let user = r.assert_status(201).clone();
        let token = self.token(username, PASSWORD).await;
        (user, token)
    }
}
