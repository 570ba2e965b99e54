//! Access tokens: short-lived HS256 JWTs (RFC 9068 profile). The algorithm is pinned; the
//! header must say `typ: at+jwt` and name a `kid` we know; `iss`, `aud`, `exp`, `nbf` and
//! `sub` are required and validated with an explicit leeway. One key signs; earlier keys
//! (`JEMBATAN_JWT_PREVIOUS_SECRETS`) still verify, so a secret can be rolled without
//! signing everyone out.
//!
//! A valid signature proves only that we issued the token once: whether its subject may
//! still act, and with which roles, is decided per request from the principal directory
//! (`auth::principals`), never from the claims alone.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, decode_header, encode};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::Role;
use crate::config::Settings;

/// Clock skew we tolerate between replicas (seconds).
pub const LEEWAY_SECS: u64 = 30;

/// The media type of an access token (RFC 9068 §2.1).
pub const ACCESS_TOKEN_TYPE: &str = "at+jwt";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    /// The user id, or the API client's id for machine tokens.
    pub sub: String,
    pub exp: i64,
    pub nbf: i64,
    pub iat: i64,
    pub jti: String,
    /// The roles at issue time: informative only; the directory's roles apply.
    pub roles: Vec<Role>,
    /// The caller's organization at issue time (informative, as `roles`).
    pub org: Uuid,
    /// `user` or `client`.
    pub kind: String,
    /// The login session (refresh-token family) this token belongs to, for users.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<Uuid>,
    /// The subject's token version at issue time; a raised version (deactivation,
    /// rotation) ends every token issued before.
    #[serde(default)]
    pub ver: i32,
}

/// What a token is issued for.
pub struct Subject {
    pub id: Uuid,
    pub kind: &'static str,
    pub roles: Vec<Role>,
    pub org: Uuid,
    pub sid: Option<Uuid>,
    pub ver: i32,
}

#[derive(Clone)]
pub struct TokenKeys {
    kid: String,
    encoding: EncodingKey,
    decoding: HashMap<String, DecodingKey>,
    validation: Validation,
    pub issuer: String,
    pub audience: String,
    pub ttl_secs: u64,
    /// Tokens verified before, by their exact text, with their claims: a client sends the
    /// same token with every request for its lifetime, and a hit skips the signature and
    /// two JSON parses (8 % of a read's CPU; `docs/benchmarks.md`). `exp` and `nbf` are
    /// checked again on every hit; the directory check that follows is not cached.
    verified: Arc<RwLock<HashMap<Box<str>, Claims>>>,
}

/// Entries in the verified-token cache before it is emptied (about 1 MiB at most).
const VERIFIED_CACHE_ENTRIES: usize = 1024;

/// A key's id: derived from the key, so every replica with the same secrets agrees without
/// configuring ids; 64 bits of a hash say nothing useful about a 256-bit secret.
pub fn kid_of(secret: &str) -> String {
    let digest = Sha256::new().chain_update(b"jembatan-jwt-kid:").chain_update(secret.as_bytes()).finalize();
    hex::encode(&digest[..8])
}

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("not an access token (typ must be at+jwt)")]
    WrongType,
    #[error("unknown signing key")]
    UnknownKey,
    #[error(transparent)]
    Jwt(#[from] jsonwebtoken::errors::Error),
}

impl TokenKeys {
    pub fn from_settings(s: &Settings) -> Self {
        let secret = s.jwt_secret();
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.set_issuer(&[&s.jwt_issuer]);
        validation.set_audience(&[&s.jwt_audience]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.leeway = LEEWAY_SECS;
        let mut decoding = HashMap::new();
        for key in std::iter::once(secret).chain(s.previous_secrets()) {
            decoding.insert(kid_of(key), DecodingKey::from_secret(key.as_bytes()));
        }
        Self {
            kid: kid_of(secret),
            encoding: EncodingKey::from_secret(secret.as_bytes()),
            decoding,
            validation,
            issuer: s.jwt_issuer.clone(),
            audience: s.jwt_audience.clone(),
            ttl_secs: s.access_token_ttl_secs,
            verified: Arc::default(),
        }
    }

    pub fn issue(&self, now: DateTime<Utc>, subject: Subject) -> Result<String, jsonwebtoken::errors::Error> {
        let iat = now.timestamp();
        let claims = Claims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub: subject.id.to_string(),
            exp: iat + self.ttl_secs as i64,
            nbf: iat,
            iat,
            jti: Uuid::new_v4().to_string(),
            roles: subject.roles,
            org: subject.org,
            kind: subject.kind.to_owned(),
            sid: subject.sid,
            ver: subject.ver,
        };
        let mut header = Header::new(Algorithm::HS256);
        header.typ = Some(ACCESS_TOKEN_TYPE.into());
        header.kid = Some(self.kid.clone());
        encode(&header, &claims, &self.encoding)
    }

    /// Validates type, key, signature, algorithm and claims. `exp`/`nbf` are checked
    /// against the library's wall clock (the injectable clock only drives domain time).
    pub fn verify(&self, token: &str) -> Result<Claims, VerifyError> {
        let now = jsonwebtoken::get_current_timestamp() as i64;
        let leeway = LEEWAY_SECS as i64;
        if let Some(c) = self.verified.read().unwrap_or_else(|p| p.into_inner()).get(token)
            && c.exp >= now - leeway
            && c.nbf <= now + leeway
        {
            return Ok(c.clone());
        }
        let header = decode_header(token)?;
        if !header.typ.as_deref().is_some_and(|t| t.eq_ignore_ascii_case(ACCESS_TOKEN_TYPE)) {
            return Err(VerifyError::WrongType);
        }
        let key = header.kid.as_deref().and_then(|k| self.decoding.get(k)).ok_or(VerifyError::UnknownKey)?;
        let claims = decode::<Claims>(token, key, &self.validation)?.claims;
        let mut cache = self.verified.write().unwrap_or_else(|p| p.into_inner());
        if cache.len() >= VERIFIED_CACHE_ENTRIES {
            cache.clear();
        }
        cache.insert(token.into(), claims.clone());
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    fn keys_with(secret: &str, previous: Option<&str>) -> TokenKeys {
        TokenKeys::from_settings(&Settings {
            jwt_secret: Some(secret.into()),
            jwt_previous_secrets: previous.map(Into::into),
            ..Settings::default()
        })
    }

    fn keys() -> TokenKeys {
        keys_with(&"k".repeat(40), None)
    }

    fn subject(id: Uuid, roles: Vec<Role>) -> Subject {
        Subject { id, kind: "user", roles, org: Uuid::nil(), sid: None, ver: 3 }
    }

    #[test]
    fn a_cached_token_is_still_refused_once_expired_and_a_tampered_one_never_hits() {
        let k = keys();
        let now = Utc::now();
        let t = k.issue(now, subject(Uuid::new_v4(), vec![Role::Applicant])).unwrap();
        assert!(k.verify(&t).is_ok());
        assert!(k.verify(&t).is_ok(), "from the cache");
        // A token issued two hours ago has expired; were it in the cache (as it would be had
        // it been used while fresh), the hit must still refuse it.
        let old = k.issue(now - chrono::Duration::hours(2), subject(Uuid::new_v4(), vec![Role::Applicant])).unwrap();
        assert!(k.verify(&old).is_err());
        let claims: Claims = {
            let mut v = Validation::new(Algorithm::HS256);
            v.validate_exp = false;
            v.validate_aud = false;
            decode::<Claims>(&old, &DecodingKey::from_secret("k".repeat(40).as_bytes()), &v).unwrap().claims
        };
        k.verified.write().unwrap().insert(old.as_str().into(), claims);
        assert!(k.verify(&old).is_err(), "an expired token from the cache");
        // One character changed is another key: verified in full, and refused.
        let mut forged = t.clone();
        let last = forged.pop().unwrap();
        forged.push(if last == 'A' { 'B' } else { 'A' });
        assert!(k.verify(&forged).is_err());
        // Bounded.
        for _ in 0..(VERIFIED_CACHE_ENTRIES + 5) {
            let t = k.issue(now, subject(Uuid::new_v4(), vec![Role::Applicant])).unwrap();
            k.verify(&t).unwrap();
        }
        assert!(k.verified.read().unwrap().len() <= VERIFIED_CACHE_ENTRIES);
    }

    #[test]
    fn round_trip_with_type_and_key_id() {
        let k = keys();
        let id = Uuid::new_v4();
        let t = k.issue(Utc::now(), subject(id, vec![Role::Admin])).unwrap();
        let h = decode_header(&t).unwrap();
        assert_eq!(h.typ.as_deref(), Some("at+jwt"));
        assert_eq!(h.kid.as_deref(), Some(kid_of(&"k".repeat(40)).as_str()));
        let c = k.verify(&t).unwrap();
        assert_eq!(c.sub, id.to_string());
        assert_eq!(c.roles, vec![Role::Admin]);
        assert_eq!(c.ver, 3);
    }

    #[test]
    fn alg_none_foreign_signatures_and_other_types_are_refused() {
        let k = keys();
        let t = k.issue(Utc::now(), subject(Uuid::new_v4(), vec![Role::Admin])).unwrap();
        let mut parts: Vec<&str> = t.split('.').collect();
        let none = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"at+jwt"}"#);
        parts[0] = &none;
        assert!(k.verify(&format!("{}.{}.", parts[0], parts[1])).is_err());
        let other = keys_with(&"z".repeat(40), None);
        assert!(matches!(
            k.verify(&other.issue(Utc::now(), subject(Uuid::nil(), vec![])).unwrap()),
            Err(VerifyError::UnknownKey)
        ));
        // Same key, but an ID token's (or any other) type is not an access token.
        let claims = serde_json::json!({"iss": "jembatan", "aud": "jembatan-api", "sub": "x", "exp": Utc::now().timestamp() + 60,
            "nbf": 0, "iat": 0, "jti": "j", "roles": [], "org": Uuid::nil(), "kind": "user"});
        let mut h = Header::new(Algorithm::HS256);
        h.kid = Some(kid_of(&"k".repeat(40)));
        let jwt = encode(&h, &claims, &EncodingKey::from_secret("k".repeat(40).as_bytes())).unwrap();
        assert!(matches!(k.verify(&jwt), Err(VerifyError::WrongType)));
    }

    #[test]
    fn a_rolled_secret_keeps_earlier_tokens_valid_until_the_old_key_is_dropped() {
        let old = keys_with(&"o".repeat(40), None);
        let token = old.issue(Utc::now(), subject(Uuid::new_v4(), vec![])).unwrap();
        let rolled = keys_with(&"n".repeat(40), Some(&"o".repeat(40)));
        assert!(rolled.verify(&token).is_ok(), "the previous key still verifies");
        assert!(old.verify(&rolled.issue(Utc::now(), subject(Uuid::nil(), vec![])).unwrap()).is_err());
        let dropped = keys_with(&"n".repeat(40), None);
        assert!(dropped.verify(&token).is_err(), "once dropped, its tokens are refused");
    }

    #[test]
    fn expired_beyond_leeway_is_refused_within_leeway_accepted() {
        let k = keys();
        let long_ago = Utc::now() - chrono::Duration::seconds(k.ttl_secs as i64 + LEEWAY_SECS as i64 + 5);
        assert!(k.verify(&k.issue(long_ago, subject(Uuid::nil(), vec![])).unwrap()).is_err());
        let just = Utc::now() - chrono::Duration::seconds(k.ttl_secs as i64 + 5);
        assert!(k.verify(&k.issue(just, subject(Uuid::nil(), vec![])).unwrap()).is_ok());
    }
}
