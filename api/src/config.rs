//! Layered configuration: built-in defaults → optional TOML file → `JEMBATAN_*` environment.
//! `Settings::check` turns the raw layers into a configuration the service can trust, or a
//! list of problems, one line each.

use std::path::PathBuf;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub database_url: String,
    pub listen: String,
    pub jwt_secret: Option<String>,
    pub jwt_issuer: String,
    pub jwt_audience: String,
    pub access_token_ttl_secs: u64,
    pub refresh_token_ttl_secs: u64,
    /// The local document folder (when `storage_url` is unset), and the folder whose parent
    /// holds the audit log's key and checkpoints by default.
    pub storage_dir: PathBuf,
    /// Where documents are kept: unset (the folder `storage_dir`), `file:///abs/path` (that
    /// folder) or `s3://bucket[/prefix]` (an S3-compatible bucket; endpoint, region and
    /// credentials from the standard `AWS_*` variables: `AWS_ENDPOINT_URL`,
    /// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`, `AWS_ALLOW_HTTP`).
    pub storage_url: Option<String>,
    pub admin_username: Option<String>,
    pub admin_password: Option<String>,
    pub db_max_connections: u32,
    pub db_acquire_timeout_secs: u64,
    /// `text` (default, for people) or `json` (for log collectors).
    pub log_format: String,
    pub json_limit_bytes: usize,
    pub upload_limit_bytes: u64,
    /// Failed logins allowed per account (and, ×4, per client address) before 429.
    pub login_failures_per_window: u32,
    pub login_window_secs: u64,
    /// Interval of the SLA sweeper.
    pub sweep_interval_secs: u64,
    /// How often this replica folds finished steps into the SLA report's histogram
    /// (PostgreSQL); 0: never (another replica does it).
    pub sla_fold_interval_secs: u64,
    pub workers: Option<usize>,
    /// Bearer token a Prometheus scraper sends to `GET /metrics` (admins may also use their
    /// own access token). Unset: only admins can read the metrics.
    pub metrics_token: Option<String>,
    /// Earlier signing secrets, comma-separated: tokens signed with them still verify, so
    /// a new `jwt_secret` can be rolled out without signing everyone out.
    pub jwt_previous_secrets: Option<String>,
    /// Reverse proxies whose `X-Forwarded-For` is believed (comma-separated CIDRs). Unset:
    /// the peer address is the client's address.
    pub trusted_proxies: Option<String>,
    /// Browser front-ends on other origins allowed to call the API (CORS): exact origins,
    /// comma-separated (`http://localhost:5173,https://portal.trenggalekkab.go.id`). Unset:
    /// no cross-origin calls from browsers.
    pub cors_origins: Option<String>,
    /// No login session lasts longer than this, however often it is refreshed.
    pub session_max_secs: u64,
    /// How often a replica re-reads who is active, their roles and revoked sessions.
    pub auth_refresh_secs: u64,
    /// Token requests (`/auth/token`) per second from one client address.
    pub client_token_rate_per_sec: u32,
    /// Documents one request may hold.
    pub max_documents_per_request: u32,
    /// Bytes of documents one request may hold.
    pub max_request_document_bytes: u64,
    /// Bytes one organization may upload per day (Asia/Jakarta).
    pub max_organization_bytes_per_day: u64,
    /// How often expired idempotency keys are deleted.
    pub housekeeping_interval_secs: u64,
    /// The address people reach this service at, for links in e-mail.
    pub public_url: String,
    /// `smtp://host:port` (plain, for a relay on the same network), `smtp://…?tls=required`
    /// (STARTTLS) or `smtps://host:port`, with `user:password@` if the server asks. Unset:
    /// in-app notifications only, no mail.
    pub smtp_url: Option<String>,
    /// The sender of e-mail.
    pub mail_from: String,
    /// How often the mailer looks for mail to send.
    pub mail_interval_secs: u64,
    /// The audit log's name: the origin line of its checkpoints and its key's name.
    pub audit_origin: String,
    /// The audit log's Ed25519 signing key: 32 bytes, base64 (`jembatan audit keygen`).
    /// Unset: read from `audit_signing_key_file`, created there on first start.
    pub audit_signing_key: Option<String>,
    /// Where the signing key is kept when not in the environment (default: beside the
    /// document store, `<storage_dir>/../audit-signing.key`).
    pub audit_signing_key_file: Option<PathBuf>,
    /// Verifier keys (`name+id+key`, comma-separated) of keys used before a rotation: old
    /// checkpoints stay verifiable.
    pub audit_previous_keys: Option<String>,
    /// The folder outside the database where every signed checkpoint is appended
    /// (default: `<storage_dir>/../checkpoints`).
    pub audit_checkpoint_dir: Option<PathBuf>,
    /// How often the sequencer takes new events into the log, in milliseconds.
    pub audit_sequence_interval_ms: u64,
    /// BSrE (BSSN's electronic signature service) for officials' PAdES signatures on
    /// printed records: the service's address (unset: not enabled) and the client
    /// credentials BSSN issues to the office.
    pub bsre_url: Option<String>,
    pub bsre_client_id: Option<String>,
    pub bsre_client_secret: Option<String>,
    /// The place a BSrE signature names.
    pub bsre_location: String,
    /// Addresses webhooks may be sent to although they are loopback, private or link-local
    /// (comma-separated CIDRs; an agency server on the office's network). Unset: public
    /// addresses only.
    pub webhook_allow_cidrs: Option<String>,
    /// How often webhooks are fanned out and delivered, in milliseconds.
    pub webhook_interval_ms: u64,
    /// Set by `serve --demo`, never from a file or the environment.
    #[serde(skip)]
    pub demo: bool,
    /// Set by `check_offline`: a command that does not serve.
    #[serde(skip)]
    pub offline: bool,
    /// `trusted_proxies`, parsed by `check`.
    #[serde(skip)]
    pub trusted_proxy_nets: Vec<ipnet::IpNet>,
    /// `webhook_allow_cidrs`, parsed by `check`.
    #[serde(skip)]
    pub webhook_allow_nets: Vec<ipnet::IpNet>,
    /// Object store settings applied over the `AWS_*` environment (`aws_endpoint`,
    /// `aws_access_key_id`, …), for the tests and embedding; never read from a file or the
    /// environment (they would be the same `AWS_*` variables).
    #[serde(skip)]
    pub storage_s3_options: Vec<(String, String)>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            database_url: "sqlite://jembatan.db?mode=rwc".into(),
            listen: "127.0.0.1:8080".into(),
            jwt_secret: None,
            jwt_issuer: "jembatan".into(),
            jwt_audience: "jembatan-api".into(),
            access_token_ttl_secs: 15 * 60,
            refresh_token_ttl_secs: 14 * 24 * 3600,
            storage_dir: PathBuf::from("./data/documents"),
            storage_url: None,
            admin_username: None,
            admin_password: None,
            db_max_connections: 10,
            db_acquire_timeout_secs: 3,
            log_format: "text".into(),
            json_limit_bytes: 64 * 1024,
            upload_limit_bytes: 20 * 1024 * 1024,
            login_failures_per_window: 5,
            login_window_secs: 300,
            sweep_interval_secs: 60,
            sla_fold_interval_secs: 1,
            workers: None,
            metrics_token: None,
            jwt_previous_secrets: None,
            trusted_proxies: None,
            cors_origins: None,
            session_max_secs: 30 * 24 * 3600,
            auth_refresh_secs: 2,
            client_token_rate_per_sec: 20,
            max_documents_per_request: 100,
            max_request_document_bytes: 200 * 1024 * 1024,
            max_organization_bytes_per_day: 1024 * 1024 * 1024,
            housekeeping_interval_secs: 600,
            public_url: "http://127.0.0.1:8080".into(),
            smtp_url: None,
            mail_from: "Jembatan Diskominfo Trenggalek <jembatan@trenggalekkab.go.id>".into(),
            mail_interval_secs: 5,
            audit_origin: "jembatan.trenggalekkab.go.id/audit".into(),
            audit_signing_key: None,
            audit_signing_key_file: None,
            audit_previous_keys: None,
            audit_checkpoint_dir: None,
            audit_sequence_interval_ms: 500,
            bsre_url: None,
            bsre_client_id: None,
            bsre_client_secret: None,
            bsre_location: "Trenggalek".into(),
            demo: false,
            offline: false,
            trusted_proxy_nets: Vec::new(),
            webhook_allow_cidrs: None,
            webhook_interval_ms: 1000,
            webhook_allow_nets: Vec::new(),
            storage_s3_options: Vec::new(),
        }
    }
}

impl Settings {
    /// Reads defaults, then the file (if given), then `JEMBATAN_*` variables.
    pub fn load(file: Option<&std::path::Path>) -> Result<Self, Vec<String>> {
        let mut fig = Figment::from(Serialized::defaults(Settings::default()));
        if let Some(path) = file {
            if !path.is_file() {
                return Err(vec![format!("config file {} does not exist", path.display())]);
            }
            fig = fig.merge(Toml::file(path));
        }
        fig = fig.merge(Env::prefixed("JEMBATAN_"));
        fig.extract().map_err(|e| e.into_iter().map(|e| format!("configuration: {e}")).collect())
    }

    /// `check` for the commands that do not serve (`migrate`, `create-admin`, `export`,
    /// `check`, …): they sign no token, so they need no secret (a throwaway one is filled
    /// in), and they are never a demo — an admin made by `create-admin` is a real account.
    pub fn check_offline(mut self) -> Result<Self, Vec<String>> {
        self.jwt_secret = Some(crate::auth::tokens::generate(""));
        self.jwt_previous_secrets = None;
        self.offline = true;
        self.check(false)
    }

    /// Checks what can be checked before anything starts. Every problem is one line.
    pub fn check(mut self, demo: bool) -> Result<Self, Vec<String>> {
        let mut problems = Vec::new();
        self.demo = demo;
        if demo {
            // A secret of this run only, printed nowhere: a published one would let anyone
            // sign an admin's token for any demo server.
            self.jwt_secret = Some(crate::auth::tokens::generate(""));
            self.jwt_previous_secrets = None;
        }
        match self.jwt_secret.as_deref() {
            None | Some("") => problems.push(
                "JEMBATAN_JWT_SECRET is not set (required unless `serve --demo`); use at least 32 random bytes".into(),
            ),
            Some(s) if s.len() < 32 => {
                problems.push(format!("JEMBATAN_JWT_SECRET is {} bytes; it must be at least 32", s.len()))
            }
            Some(_) => {}
        }
        if let Some(url) = self.smtp_url.as_deref().filter(|u| !u.is_empty()) {
            if let Err(e) = crate::jobs::mailer::transport(url) {
                problems.push(format!("JEMBATAN_SMTP_URL is not usable: {e}"));
            }
            if self.mail_from.parse::<lettre::message::Mailbox>().is_err() {
                problems
                    .push(format!("JEMBATAN_MAIL_FROM `{}` is not an address like Name <a@b.go.id>", self.mail_from));
            }
        }
        if !(50..=60_000).contains(&self.audit_sequence_interval_ms) {
            problems.push("JEMBATAN_AUDIT_SEQUENCE_INTERVAL_MS must be 50–60000".into());
        }
        if self.audit_origin.trim().is_empty() || self.audit_origin.contains(char::is_whitespace) {
            problems
                .push("JEMBATAN_AUDIT_ORIGIN must be a name without spaces, e.g. jembatan.example.go.id/audit".into());
        }
        if !(1..=3600).contains(&self.mail_interval_secs) {
            problems.push("JEMBATAN_MAIL_INTERVAL_SECS must be 1–3600".into());
        }
        match self.listen.parse::<std::net::SocketAddr>() {
            Err(_) => problems.push(format!("JEMBATAN_LISTEN `{}` is not an address like 127.0.0.1:8080", self.listen)),
            Ok(a) if demo && !a.ip().is_loopback() => problems.push(format!(
                "serve --demo listens on loopback only (its accounts share a published password); JEMBATAN_LISTEN is {}",
                self.listen
            )),
            Ok(_) => {}
        }
        for (i, s) in self.previous_secrets().iter().enumerate() {
            if s.len() < 32 {
                problems.push(format!(
                    "JEMBATAN_JWT_PREVIOUS_SECRETS: secret {} is {} bytes; each must be at least 32",
                    i + 1,
                    s.len()
                ));
            }
        }
        match parse_cidrs(self.trusted_proxies.as_deref().unwrap_or("")) {
            Ok(nets) => self.trusted_proxy_nets = nets,
            Err(bad) => {
                problems.push(format!("JEMBATAN_TRUSTED_PROXIES: `{bad}` is not an address or CIDR like 10.0.0.0/8"))
            }
        }
        match parse_cidrs(self.webhook_allow_cidrs.as_deref().unwrap_or("")) {
            Ok(nets) => self.webhook_allow_nets = nets,
            Err(bad) => problems
                .push(format!("JEMBATAN_WEBHOOK_ALLOW_CIDRS: `{bad}` is not an address or CIDR like 10.20.0.0/16")),
        }
        if !(50..=60_000).contains(&self.webhook_interval_ms) {
            problems.push("JEMBATAN_WEBHOOK_INTERVAL_MS must be 50–60000".into());
        }
        if let Err(bad) = cors_origins(self.cors_origins.as_deref()) {
            problems.push(format!(
                "JEMBATAN_CORS_ORIGINS: `{bad}` is not an origin like https://portal.example.go.id (scheme, host, \
                 optional port; no path, no wildcard)"
            ));
        }
        if self.session_max_secs < self.access_token_ttl_secs {
            problems.push("JEMBATAN_SESSION_MAX_SECS must be at least the access-token lifetime".into());
        }
        if !(1..=60).contains(&self.auth_refresh_secs) {
            problems.push("JEMBATAN_AUTH_REFRESH_SECS must be between 1 and 60".into());
        }
        if self.client_token_rate_per_sec == 0 {
            problems.push("JEMBATAN_CLIENT_TOKEN_RATE_PER_SEC must be at least 1".into());
        }
        if self.max_documents_per_request == 0
            || self.max_request_document_bytes == 0
            || self.max_organization_bytes_per_day == 0
        {
            problems.push("document quotas (JEMBATAN_MAX_DOCUMENTS_PER_REQUEST, JEMBATAN_MAX_REQUEST_DOCUMENT_BYTES, JEMBATAN_MAX_ORGANIZATION_BYTES_PER_DAY) must be at least 1".into());
        }
        if self.housekeeping_interval_secs == 0 {
            problems.push("JEMBATAN_HOUSEKEEPING_INTERVAL_SECS must be at least 1".into());
        }
        if !(self.database_url.starts_with("sqlite:") || self.database_url.starts_with("postgres")) {
            problems.push("JEMBATAN_DATABASE_URL must start with sqlite: or postgres://".into());
        }
        // `serve` creates that admin at start; `create-admin` takes its name from
        // `--username` and only the password from here.
        match (&self.admin_username, &self.admin_password) {
            (Some(_), None) | (None, Some(_)) if !self.offline => {
                problems.push("JEMBATAN_ADMIN_USERNAME and JEMBATAN_ADMIN_PASSWORD must be set together".into())
            }
            _ => {}
        }
        if self.db_max_connections == 0 {
            problems.push("JEMBATAN_DB_MAX_CONNECTIONS must be at least 1".into());
        }
        if !(60..=24 * 3600).contains(&self.access_token_ttl_secs) {
            problems.push("JEMBATAN_ACCESS_TOKEN_TTL_SECS must be between 60 and 86400".into());
        }
        if !matches!(self.log_format.as_str(), "text" | "json") {
            problems.push("JEMBATAN_LOG_FORMAT must be `text` or `json`".into());
        }
        if self.metrics_token.as_deref().is_some_and(|t| t.len() < 32) {
            problems.push("JEMBATAN_METRICS_TOKEN must be at least 32 characters (or unset)".into());
        }
        match self.storage_location() {
            Err(e) => problems.push(e),
            Ok(crate::storage::Location::Local(dir)) => {
                // One folder, however it was named: `data_dir` and the tests go by it.
                self.storage_dir = dir;
                if let Err(e) = check_storage_dir(&self.storage_dir) {
                    let name = if self.storage_url.is_some() { "JEMBATAN_STORAGE_URL" } else { "JEMBATAN_STORAGE_DIR" };
                    problems.push(format!("{name} {}: {e}", self.storage_dir.display()));
                }
            }
            // The client is built (no request yet): a bad endpoint or option is refused here.
            Ok(crate::storage::Location::S3 { bucket, prefix }) => {
                if let Err(e) = crate::storage::S3Store::new(&bucket, &prefix, &self.storage_s3_options) {
                    problems.push(format!("JEMBATAN_STORAGE_URL: {e}"));
                }
            }
        }
        if problems.is_empty() { Ok(self) } else { Err(problems) }
    }

    /// The signing secret; `check` guarantees there is one (a random one in demo mode).
    pub fn jwt_secret(&self) -> &str {
        self.jwt_secret.as_deref().unwrap_or_default()
    }

    /// Earlier secrets that still verify tokens.
    pub fn previous_secrets(&self) -> Vec<&str> {
        self.jwt_previous_secrets.as_deref().unwrap_or("").split(',').map(str::trim).filter(|s| !s.is_empty()).collect()
    }

    /// Where documents are kept (`storage_url`, else the folder `storage_dir`).
    pub fn storage_location(&self) -> Result<crate::storage::Location, String> {
        match self.storage_url.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
            None => Ok(crate::storage::Location::Local(self.storage_dir.clone())),
            Some(url) => crate::storage::Location::parse(url).map_err(|e| format!("JEMBATAN_STORAGE_URL {e}")),
        }
    }

    /// The folder beside the document store, for the audit log's key and witness file.
    fn data_dir(&self) -> PathBuf {
        self.storage_dir.parent().map(std::path::Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."))
    }

    pub fn audit_signing_key_path(&self) -> PathBuf {
        self.audit_signing_key_file.clone().unwrap_or_else(|| self.data_dir().join("audit-signing.key"))
    }

    pub fn audit_checkpoint_dir(&self) -> PathBuf {
        self.audit_checkpoint_dir.clone().unwrap_or_else(|| self.data_dir().join("checkpoints"))
    }

    pub fn is_sqlite(&self) -> bool {
        self.database_url.starts_with("sqlite:")
    }
}

/// Comma-separated addresses or CIDRs (a bare address is a /32 or /128).
fn parse_cidrs(list: &str) -> Result<Vec<ipnet::IpNet>, String> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<ipnet::IpNet>()
                .or_else(|_| s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| s.to_owned())
        })
        .collect()
}

/// The storage folder must exist (we create it) and be writable.
fn check_storage_dir(dir: &std::path::Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot be created: {e}"))?;
    let probe = dir.join(format!(".write-check-{}", uuid::Uuid::new_v4()));
    std::fs::write(&probe, b"ok").map_err(|e| format!("is not writable: {e}"))?;
    let _ = std::fs::remove_file(probe);
    Ok(())
}

/// The exact origins in `JEMBATAN_CORS_ORIGINS`; the first that is not one, as the error.
pub fn cors_origins(list: Option<&str>) -> Result<Vec<String>, String> {
    list.unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .map(|given| {
            // As a browser sends it: scheme and host in lower case, no default port, no path.
            let url = reqwest::Url::parse(given).map_err(|_| given.to_owned())?;
            let bare = url.path() == "/"
                && url.query().is_none()
                && url.fragment().is_none()
                && url.username().is_empty()
                && url.password().is_none()
                && !given.trim_end_matches('/').contains(['?', '#'])
                && given.matches('/').count() <= 3;
            if matches!(url.scheme(), "http" | "https") && url.host().is_some() && bare {
                Ok(url.origin().ascii_serialization())
            } else {
                Err(given.to_owned())
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Settings {
        Settings { storage_dir: std::env::temp_dir().join("jembatan-config-test"), ..Settings::default() }
    }

    #[test]
    fn missing_secret_is_refused_outside_demo_and_filled_in_demo() {
        let err = base().check(false).unwrap_err();
        assert!(err.iter().any(|l| l.contains("JEMBATAN_JWT_SECRET is not set")), "{err:?}");
        let a = base().check(true).unwrap();
        let b = base().check(true).unwrap();
        assert!(a.jwt_secret().len() >= 32 && a.demo);
        assert_ne!(a.jwt_secret(), b.jwt_secret(), "every demo run signs with a secret of its own");
    }

    #[test]
    fn commands_that_do_not_serve_need_no_secret_and_are_never_a_demo() {
        // `create-admin` once ran with the demo flag set, so its admin was marked a demo
        // account and `serve` then refused the database.
        let s = base().check_offline().unwrap();
        assert!(!s.demo);
        assert!(s.jwt_secret().len() >= 32);
        // `create-admin --username NAME` with only the password in the environment.
        let only_password = Settings { admin_password: Some("Kata-sandi-panjang-2026".into()), ..base() };
        assert!(only_password.clone().check_offline().is_ok());
        assert!(only_password.check(false).unwrap_err().iter().any(|l| l.contains("must be set together")));
    }

    #[test]
    fn demo_listens_on_loopback_only() {
        let s = Settings { listen: "0.0.0.0:8080".into(), ..base() };
        assert!(s.check(true).unwrap_err()[0].contains("loopback"));
        assert!(Settings { listen: "[::1]:8080".into(), ..base() }.check(true).is_ok());
    }

    #[test]
    fn trusted_proxies_are_cidrs_or_addresses() {
        let s = Settings {
            jwt_secret: Some("x".repeat(32)),
            trusted_proxies: Some("10.0.0.0/8, 192.0.2.7".into()),
            ..base()
        };
        let nets = s.check(false).unwrap().trusted_proxy_nets;
        assert_eq!(nets.len(), 2);
        assert_eq!(nets[1].to_string(), "192.0.2.7/32");
        let bad = Settings { jwt_secret: Some("x".repeat(32)), trusted_proxies: Some("10.0.0.0/33".into()), ..base() };
        assert!(bad.check(false).unwrap_err()[0].contains("TRUSTED_PROXIES"));
    }

    #[test]
    fn short_secret_and_bad_listen_are_each_one_line() {
        let s = Settings { jwt_secret: Some("short".into()), listen: "nowhere".into(), ..base() };
        let err = s.check(false).unwrap_err();
        assert_eq!(err.len(), 2, "{err:?}");
        assert!(err[0].contains("5 bytes"));
        assert!(err[1].contains("JEMBATAN_LISTEN"));
    }

    #[test]
    fn admin_needs_both_halves() {
        let s = Settings { jwt_secret: Some("x".repeat(32)), admin_username: Some("root".into()), ..base() };
        assert!(s.check(false).unwrap_err()[0].contains("set together"));
    }

    #[test]
    fn unwritable_storage_is_reported() {
        let s = Settings {
            jwt_secret: Some("x".repeat(32)),
            storage_dir: PathBuf::from("/proc/jembatan-cannot-write-here"),
            ..Settings::default()
        };
        assert!(s.check(false).unwrap_err()[0].contains("JEMBATAN_STORAGE_DIR"));
    }

    #[test]
    fn storage_urls_are_checked_at_start_up() {
        let ok = || Settings { jwt_secret: Some("x".repeat(32)), ..base() };
        let s = Settings { storage_url: Some("ftp://files.example/docs".into()), ..ok() };
        let err = s.check(false).unwrap_err();
        assert_eq!(err.len(), 1, "{err:?}");
        assert!(err[0].starts_with("JEMBATAN_STORAGE_URL has the unknown scheme `ftp`"), "{err:?}");
        let s = Settings { storage_url: Some("s3://AKIAEXAMPLE:hunter2@bucket".into()), ..ok() };
        let err = s.check(false).unwrap_err();
        assert!(err[0].contains("credentials") && !err[0].contains("hunter2"), "{err:?}");
        // file:// names the folder, for the documents and everything beside them.
        let dir = std::env::temp_dir().join(format!("jembatan-url-{}", uuid::Uuid::new_v4()));
        let s = Settings { storage_url: Some(format!("file://{}", dir.display())), ..ok() }.check(false).unwrap();
        assert_eq!(s.storage_dir, dir);
        let _ = std::fs::remove_dir_all(&dir);
        // s3:// builds a client (no request yet); an unknown option is refused.
        let s = Settings {
            storage_url: Some("s3://jembatan-docs/prod".into()),
            storage_s3_options: vec![("aws_endpoint".into(), "http://127.0.0.1:9".into())],
            ..ok()
        };
        assert!(s.check(false).is_ok());
        let s = Settings {
            storage_url: Some("s3://jembatan-docs".into()),
            storage_s3_options: vec![("aws_no_such_option".into(), "1".into())],
            ..ok()
        };
        assert!(s.check(false).unwrap_err()[0].contains("aws_no_such_option"));
    }
}
