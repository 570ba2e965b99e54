//! Standard Webhooks 1.0 signatures: `webhook-signature: v1,<base64 HMAC-SHA256>` over
//! `{webhook-id}.{webhook-timestamp}.{body}`, keyed by the base64 part of a `whsec_…`
//! secret; during a rotation one signature per valid secret, separated by spaces.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

pub const PREFIX: &str = "whsec_";

/// A new secret: 32 random bytes.
pub fn new_secret() -> String {
    let mut key = [0u8; 32];
    rand::rng().fill_bytes(&mut key);
    format!("{PREFIX}{}", STANDARD.encode(key))
}

fn key(secret: &str) -> Vec<u8> {
    // Our own secrets always decode; a damaged one signs with its text rather than panic.
    let b64 = secret.strip_prefix(PREFIX).unwrap_or(secret);
    STANDARD.decode(b64).unwrap_or_else(|_| b64.as_bytes().to_vec())
}

/// One `v1,…` signature.
pub fn sign(secret: &str, message_id: &str, timestamp: i64, body: &str) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&key(secret)) else {
        unreachable!("HMAC takes a key of any length")
    };
    mac.update(format!("{message_id}.{timestamp}.").as_bytes());
    mac.update(body.as_bytes());
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// The header's value: a signature for each secret.
pub fn header(secrets: &[&str], message_id: &str, timestamp: i64, body: &str) -> String {
    secrets.iter().map(|s| sign(s, message_id, timestamp, body)).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_specifications_example() {
        // The example of the Standard Webhooks specification (and of its libraries' tests).
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = r#"{"test": 2432232314}"#;
        assert_eq!(
            sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn a_rotation_signs_with_both_secrets() {
        let (a, b) = (new_secret(), new_secret());
        assert!(a.starts_with(PREFIX) && a != b);
        let h = header(&[&a, &b], "m", 1, "{}");
        assert_eq!(h.split(' ').collect::<Vec<_>>(), [sign(&a, "m", 1, "{}"), sign(&b, "m", 1, "{}")]);
    }
}
