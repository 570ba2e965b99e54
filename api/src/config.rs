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
    pub storage_dir: PathBuf,
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
    pub workers: Option<usize>,
    /// Bearer token a Prometheus scraper sends to `GET /metrics` (admins may also use their
    /// own access token). Unset: only admins can read the metrics.
    pub metrics_token: Option<String>,
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
            workers: None,
            metrics_token: None,
        }
    }
}

/// Demo mode signs tokens with a fixed, public secret: fine for a laptop, never for a server.
pub const DEMO_JWT_SECRET: &str = "jembatan-demo-secret-do-not-use-in-production";

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

    /// Checks what can be checked before anything starts. Every problem is one line.
    pub fn check(mut self, demo: bool) -> Result<Self, Vec<String>> {
        let mut problems = Vec::new();
        match self.jwt_secret.as_deref() {
            None | Some("") if demo => self.jwt_secret = Some(DEMO_JWT_SECRET.into()),
            None | Some("") => problems.push(
                "JEMBATAN_JWT_SECRET is not set (required unless `serve --demo`); use at least 32 random bytes".into(),
            ),
            Some(s) if s.len() < 32 => {
                problems.push(format!("JEMBATAN_JWT_SECRET is {} bytes; it must be at least 32", s.len()))
            }
            Some(_) => {}
        }
        if self.listen.parse::<std::net::SocketAddr>().is_err() {
            problems.push(format!("JEMBATAN_LISTEN `{}` is not an address like 127.0.0.1:8080", self.listen));
        }
        if !(self.database_url.starts_with("sqlite:") || self.database_url.starts_with("postgres")) {
            problems.push("JEMBATAN_DATABASE_URL must start with sqlite: or postgres://".into());
        }
        match (&self.admin_username, &self.admin_password) {
            (Some(_), None) | (None, Some(_)) => {
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
        if let Err(e) = check_storage_dir(&self.storage_dir) {
            problems.push(format!("JEMBATAN_STORAGE_DIR {}: {e}", self.storage_dir.display()));
        }
        if problems.is_empty() { Ok(self) } else { Err(problems) }
    }

    pub fn jwt_secret(&self) -> &str {
        self.jwt_secret.as_deref().unwrap_or(DEMO_JWT_SECRET)
    }

    pub fn is_sqlite(&self) -> bool {
        self.database_url.starts_with("sqlite:")
    }
}

/// The storage folder must exist (we create it) and be writable.
fn check_storage_dir(dir: &std::path::Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot be created: {e}"))?;
    let probe = dir.join(format!(".write-check-{}", uuid::Uuid::new_v4()));
    std::fs::write(&probe, b"ok").map_err(|e| format!("is not writable: {e}"))?;
    let _ = std::fs::remove_file(probe);
    Ok(())
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
        assert_eq!(base().check(true).unwrap().jwt_secret(), DEMO_JWT_SECRET);
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
}
