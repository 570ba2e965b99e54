//! Who signs what (issue 13, item 7).
//!
//! - **Notes** — the audit log's checkpoints, the manifests of evidence bundles, and the
//!   detached signature of every printed record — are signed by a [`NoteSigner`]. The one
//!   in use is local: the log's Ed25519 key (`service::tlog::LogKeys`), kept outside the
//!   database.
//! - **A printed record with an official's electronic signature** (PAdES, legally binding
//!   under UU ITE) is made by BSrE, the national signing service of BSSN, through
//!   [`Bsre`]: the official gives their NIK and passphrase, BSrE signs with their
//!   certificate and returns the signed PDF. A deployment enables it with
//!   `JEMBATAN_BSRE_URL` and the client credentials BSSN issues; docs/EVIDENCE.md has the
//!   request and response shapes.

use std::time::Duration;

use base64::Engine;
use serde::{Deserialize, Serialize};

use crate::tlog::bundle::sha256_hex;

/// Makes ring the process's TLS provider for outgoing HTTPS (reqwest is built without one,
/// to avoid a second crypto library); call once at start. Idempotent.
pub fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Signs the text of a C2SP signed note (under the key's name, the log's origin).
pub trait NoteSigner {
    /// The signed note: the text, a blank line, the signature line.
    fn sign_note(&self, text: &str) -> String;
}

/// The text whose signature vouches for a printed record: its SHA-256.
pub fn record_note_text(pdf: &[u8]) -> String {
    format!("jembatan-record/1\nsha256 {}\n", sha256_hex(pdf))
}

/// A record's detached signature, base64 (a note spans lines; a header cannot).
pub fn sign_record(signer: &impl NoteSigner, pdf: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(signer.sign_note(&record_note_text(pdf)))
}

/// The BSrE adapter: one call, `POST {url}/api/v2/sign/pdf`.
pub struct Bsre {
    url: String,
    client_id: String,
    client_secret: String,
    location: String,
    http: reqwest::Client,
}

impl std::fmt::Debug for Bsre {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bsre").field("url", &self.url).finish_non_exhaustive()
    }
}

/// Why BSrE did not sign.
#[derive(Debug, thiserror::Error)]
pub enum BsreError {
    /// BSrE answered and refused (a wrong passphrase, a NIK without a certificate): the
    /// official can fix it.
    #[error("BSrE refused: {0}")]
    Refused(String),
    /// BSrE could not be reached or failed: try again later.
    #[error("BSrE is not available: {0}")]
    Unavailable(String),
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SignRequest<'a> {
    nik: &'a str,
    passphrase: &'a str,
    signature_properties: [SignatureProperties<'a>; 1],
    /// The PDFs, base64.
    file: [String; 1],
}

#[derive(Serialize)]
struct SignatureProperties<'a> {
    tampilan: &'static str,
    reason: &'a str,
    location: &'a str,
}

#[derive(Deserialize)]
struct SignResponse {
    file: Vec<String>,
}

#[derive(Deserialize)]
struct ErrorResponse {
    error: Option<String>,
    message: Option<String>,
}

/// The signed PDF is read up to this size (the unsigned one plus the signature).
const MAX_SIGNED: usize = 32 << 20;

impl Bsre {
    /// The adapter the settings describe, when BSrE is enabled.
    pub fn from_settings(s: &crate::config::Settings) -> Result<Option<Bsre>, String> {
        let Some(url) = s.bsre_url.as_deref().filter(|u| !u.trim().is_empty()) else { return Ok(None) };
        // The NIK, the passphrase and the client's credentials travel in the request: over
        // TLS, except to a gateway on this machine.
        let parsed = reqwest::Url::parse(url).map_err(|e| format!("JEMBATAN_BSRE_URL: {e}"))?;
        let loopback = matches!(parsed.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
        if parsed.scheme() != "https" && !(parsed.scheme() == "http" && loopback) {
            return Err("JEMBATAN_BSRE_URL must be https:// (http:// only to a gateway on this machine)".into());
        }
        let (Some(client_id), Some(client_secret)) = (s.bsre_client_id.clone(), s.bsre_client_secret.clone()) else {
            return Err("JEMBATAN_BSRE_URL needs JEMBATAN_BSRE_CLIENT_ID and JEMBATAN_BSRE_CLIENT_SECRET".into());
        };
        install_tls_provider();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("the BSrE client: {e}"))?;
        Ok(Some(Bsre {
            url: url.trim_end_matches('/').to_owned(),
            client_id,
            client_secret,
            location: s.bsre_location.clone(),
            http,
        }))
    }

    /// The PDF signed (PAdES, invisible) with the certificate of the official `nik`.
    pub async fn sign_pdf(&self, pdf: &[u8], nik: &str, passphrase: &str, reason: &str) -> Result<Vec<u8>, BsreError> {
        let b64 = base64::engine::general_purpose::STANDARD;
        let body = SignRequest {
            nik,
            passphrase,
            signature_properties: [SignatureProperties { tampilan: "INVISIBLE", reason, location: &self.location }],
            file: [b64.encode(pdf)],
        };
        let response = self
            .http
            .post(format!("{}/api/v2/sign/pdf", self.url))
            .basic_auth(&self.client_id, Some(&self.client_secret))
            .json(&body)
            .send()
            .await
            .map_err(|e| BsreError::Unavailable(e.without_url().to_string()))?;
        let status = response.status();
        let too_large = || BsreError::Unavailable("the answer is too large".into());
        if response.content_length().is_some_and(|n| n > MAX_SIGNED as u64) {
            return Err(too_large());
        }
        let mut bytes = Vec::new();
        let mut response = response;
        while let Some(chunk) = response.chunk().await.map_err(|e| BsreError::Unavailable(e.to_string()))? {
            if bytes.len() + chunk.len() > MAX_SIGNED {
                return Err(too_large());
            }
            bytes.extend_from_slice(&chunk);
        }
        if status.is_client_error() {
            let why = serde_json::from_slice::<ErrorResponse>(&bytes)
                .ok()
                .and_then(|e| e.error.or(e.message))
                .unwrap_or_else(|| format!("HTTP {status}"));
            // BSrE's own words, cut short: they reach the official's screen.
            return Err(BsreError::Refused(why.chars().take(200).collect()));
        }
        if !status.is_success() {
            return Err(BsreError::Unavailable(format!("HTTP {status}")));
        }
        let signed = serde_json::from_slice::<SignResponse>(&bytes)
            .ok()
            .and_then(|r| r.file.into_iter().next())
            .and_then(|f| b64.decode(f).ok())
            .filter(|f| f.starts_with(b"%PDF-"))
            .ok_or_else(|| BsreError::Unavailable("the answer holds no signed PDF".into()))?;
        Ok(signed)
    }
}
