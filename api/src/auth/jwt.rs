//! Access tokens: short-lived HS256 JWTs. The algorithm is pinned, and `iss`, `aud`, `exp`,
//! `nbf` and `sub` are required and validated with an explicit leeway.

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Role;
use crate::config::Settings;

/// Clock skew we tolerate between replicas (seconds).
pub const LEEWAY_SECS: u64 = 30;

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
    pub roles: Vec<Role>,
    /// The caller's organization.
    pub org: Uuid,
    /// `user` or `client`.
    pub kind: String,
    /// The login session (refresh-token family) this token belongs to, for users.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<Uuid>,
}

#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    pub issuer: String,
    pub audience: String,
    pub ttl_secs: u64,
}

impl TokenKeys {
    pub fn from_settings(s: &Settings) -> Self {
        let secret = s.jwt_secret().as_bytes();
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.set_issuer(&[&s.jwt_issuer]);
        validation.set_audience(&[&s.jwt_audience]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.leeway = LEEWAY_SECS;
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            issuer: s.jwt_issuer.clone(),
            audience: s.jwt_audience.clone(),
            ttl_secs: s.access_token_ttl_secs,
        }
    }

    pub fn issue(
        &self,
        now: DateTime<Utc>,
        subject: Uuid,
        kind: &str,
        roles: Vec<Role>,
        org: Uuid,
        sid: Option<Uuid>,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let iat = now.timestamp();
        let claims = Claims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub: subject.to_string(),
            exp: iat + self.ttl_secs as i64,
            nbf: iat,
            iat,
            jti: Uuid::new_v4().to_string(),
            roles,
            org,
            kind: kind.to_owned(),
            sid,
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
    }

    /// Validates signature, algorithm and claims. `exp`/`nbf` are checked against the
    /// library's wall clock (the injectable clock only drives domain time).
    pub fn verify(&self, token: &str) -> Result<Claims, jsonwebtoken::errors::Error> {
        decode::<Claims>(token, &self.decoding, &self.validation).map(|d| d.claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    fn keys() -> TokenKeys {
        TokenKeys::from_settings(&Settings { jwt_secret: Some("k".repeat(40)), ..Settings::default() })
    }

    #[test]
    fn round_trip() {
        let k = keys();
        let id = Uuid::new_v4();
        let t = k.issue(Utc::now(), id, "user", vec![Role::Admin], Uuid::nil(), None).unwrap();
        let c = k.verify(&t).unwrap();
        assert_eq!(c.sub, id.to_string());
        assert_eq!(c.roles, vec![Role::Admin]);
    }

    #[test]
    fn alg_none_and_foreign_signatures_are_refused() {
        let k = keys();
        let t = k.issue(Utc::now(), Uuid::new_v4(), "user", vec![Role::Admin], Uuid::nil(), None).unwrap();
        let mut parts: Vec<&str> = t.split('.').collect();
        let none = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        parts[0] = &none;
        assert!(k.verify(&format!("{}.{}.", parts[0], parts[1])).is_err());
        let other = TokenKeys::from_settings(&Settings { jwt_secret: Some("z".repeat(40)), ..Settings::default() });
        assert!(k.verify(&other.issue(Utc::now(), Uuid::nil(), "user", vec![], Uuid::nil(), None).unwrap()).is_err());
    }

    #[test]
    fn expired_beyond_leeway_is_refused_within_leeway_accepted() {
        let k = keys();
        let long_ago = Utc::now() - chrono::Duration::seconds(k.ttl_secs as i64 + LEEWAY_SECS as i64 + 5);
        assert!(k.verify(&k.issue(long_ago, Uuid::nil(), "user", vec![], Uuid::nil(), None).unwrap()).is_err());
        let just = Utc::now() - chrono::Duration::seconds(k.ttl_secs as i64 + 5);
        assert!(k.verify(&k.issue(just, Uuid::nil(), "user", vec![], Uuid::nil(), None).unwrap()).is_ok());
    }
}
