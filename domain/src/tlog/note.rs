//! Signed checkpoints in the C2SP formats: `tlog-checkpoint` (origin, size, root) and
//! `signed-note` (the text, a blank line, and one signature line per key) with Ed25519
//! keys, so the verifiers of Go's checksum database and Sigstore read them.
//!
//! A signature line is `— <key name> <base64(key id ‖ signature)>`, where the key id is
//! the first 4 bytes of SHA-256(key name ‖ "\n" ‖ 0x01 ‖ public key) and the signature is
//! Ed25519 over the note's text (every line, each ending in "\n").

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{Signer, SigningKey, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};

use super::Hash;

/// The Ed25519 algorithm byte of C2SP signed-note keys.
const ALG_ED25519: u8 = 0x01;

/// A checkpoint: the log's name (`origin`), its size and its root hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
    /// Extension lines after the root (e.g. the hash the old chain ended with).
    pub extensions: Vec<String>,
}

impl Checkpoint {
    /// The note text: `origin\nsize\nbase64(root)\n[extension\n…]`.
    pub fn text(&self) -> String {
        let mut t = format!("{}\n{}\n{}\n", self.origin, self.size, B64.encode(self.root));
        for e in &self.extensions {
            t.push_str(e);
            t.push('\n');
        }
        t
    }

    /// Reads a note's text back (signatures are checked by [`open`]).
    pub fn parse(text: &str) -> Result<Checkpoint, NoteError> {
        let body = text.strip_suffix('\n').ok_or(NoteError::Malformed("the text must end with a newline"))?;
        let mut lines = body.split('\n');
        let origin = lines.next().filter(|o| !o.is_empty()).ok_or(NoteError::Malformed("no origin line"))?;
        let size = lines
            .next()
            .and_then(|s| s.parse::<u64>().ok())
            .ok_or(NoteError::Malformed("the second line must be the tree size"))?;
        let root = lines
            .next()
            .and_then(|r| B64.decode(r).ok())
            .and_then(|r| <Hash>::try_from(r.as_slice()).ok())
            .ok_or(NoteError::Malformed("the third line must be the base64 root hash"))?;
        let extensions = lines.map(str::to_owned).collect::<Vec<_>>();
        if extensions.iter().any(String::is_empty) {
            return Err(NoteError::Malformed("blank line inside the checkpoint"));
        }
        Ok(Checkpoint { origin: origin.to_owned(), size, root, extensions })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    #[error("malformed note: {0}")]
    Malformed(&'static str),
    #[error("no valid signature by key `{0}`")]
    NotSigned(String),
    #[error("malformed key: {0}")]
    BadKey(&'static str),
}

/// The key id of `name` with this Ed25519 public key.
pub fn key_id(name: &str, public: &VerifyingKey) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update(b"\n");
    h.update([ALG_ED25519]);
    h.update(public.as_bytes());
    let d = h.finalize();
    [d[0], d[1], d[2], d[3]]
}

/// The verifier key string: `<name>+<hex key id>+<base64(0x01 ‖ public key)>`.
pub fn verifier_key(name: &str, public: &VerifyingKey) -> String {
    let id: String = key_id(name, public).iter().map(|b| format!("{b:02x}")).collect();
    let mut key = vec![ALG_ED25519];
    key.extend_from_slice(public.as_bytes());
    format!("{name}+{id}+{}", B64.encode(key))
}

/// Reads a verifier key string back.
pub fn parse_verifier_key(s: &str) -> Result<(String, VerifyingKey), NoteError> {
    let mut parts = s.trim().splitn(3, '+');
    let (Some(name), Some(id), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(NoteError::BadKey("expected name+id+key"));
    };
    let bytes = B64.decode(key).map_err(|_| NoteError::BadKey("the key is not base64"))?;
    let (alg, raw) = bytes.split_first().ok_or(NoteError::BadKey("empty key"))?;
    if *alg != ALG_ED25519 {
        return Err(NoteError::BadKey("not an Ed25519 key"));
    }
    let raw: [u8; 32] = raw.try_into().map_err(|_| NoteError::BadKey("an Ed25519 key is 32 bytes"))?;
    let public = VerifyingKey::from_bytes(&raw).map_err(|_| NoteError::BadKey("not a valid Ed25519 point"))?;
    let expected: String = key_id(name, &public).iter().map(|b| format!("{b:02x}")).collect();
    if expected != id {
        return Err(NoteError::BadKey("the key id does not match the key"));
    }
    Ok((name.to_owned(), public))
}

/// The signed note: the text, a blank line, and the signature line.
pub fn sign(text: &str, name: &str, key: &SigningKey) -> String {
    let signature = key.sign(text.as_bytes());
    let mut blob = key_id(name, &key.verifying_key()).to_vec();
    blob.extend_from_slice(&signature.to_bytes());
    format!("{text}\n\u{2014} {name} {}\n", B64.encode(blob))
}

/// The note's text if one of its signature lines is a valid signature by (`name`,
/// `public`); lines by other keys are ignored, as the format says.
pub fn open<'a>(note: &'a str, name: &str, public: &VerifyingKey) -> Result<&'a str, NoteError> {
    let split = note.rfind("\n\n").ok_or(NoteError::Malformed("no blank line before the signatures"))?;
    let (text, signatures) = (&note[..split + 1], &note[split + 2..]);
    let id = key_id(name, public);
    for line in signatures.lines() {
        let Some(rest) = line.strip_prefix("\u{2014} ") else { continue };
        let Some((line_name, blob)) = rest.split_once(' ') else { continue };
        if line_name != name {
            continue;
        }
        let Ok(blob) = B64.decode(blob) else { continue };
        if blob.len() != 68 || blob[..4] != id {
            continue;
        }
        let Ok(sig) = <[u8; 64]>::try_from(&blob[4..]) else { continue };
        if public.verify(text.as_bytes(), &ed25519_dalek::Signature::from_bytes(&sig)).is_ok() {
            return Ok(text);
        }
    }
    Err(NoteError::NotSigned(name.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    #[test]
    fn a_signed_checkpoint_opens_with_its_key_only() {
        let cp = Checkpoint {
            origin: "jembatan.trenggalekkab.go.id/audit".into(),
            size: 42,
            root: super::super::leaf_hash(b"x"),
            extensions: vec!["chain-head 00ff".into()],
        };
        let k = key(7);
        let note = sign(&cp.text(), "jembatan-audit", &k);
        assert!(note.starts_with("jembatan.trenggalekkab.go.id/audit\n42\n"));
        assert!(note.contains("\n\n\u{2014} jembatan-audit "));
        let text = open(&note, "jembatan-audit", &k.verifying_key()).unwrap();
        assert_eq!(Checkpoint::parse(text).unwrap(), cp);
        // Another key, another name, or one changed byte of the text: refused.
        assert!(open(&note, "jembatan-audit", &key(8).verifying_key()).is_err());
        assert!(open(&note, "other", &k.verifying_key()).is_err());
        let forged = note.replacen("\n42\n", "\n43\n", 1);
        assert!(open(&forged, "jembatan-audit", &k.verifying_key()).is_err());
    }

    #[test]
    fn verifier_keys_round_trip_and_check_their_id() {
        let k = key(9);
        let s = verifier_key("jembatan-audit", &k.verifying_key());
        let (name, public) = parse_verifier_key(&s).unwrap();
        assert_eq!((name.as_str(), public), ("jembatan-audit", k.verifying_key()));
        let wrong_id = s.replacen('+', "+0", 1);
        assert!(parse_verifier_key(&wrong_id).is_err());
        assert!(parse_verifier_key("jembatan-audit+00000000+AAAA").is_err());
    }

    #[test]
    fn malformed_checkpoints_are_refused() {
        for bad in ["", "origin\n", "origin\nx\nAAAA\n", "origin\n1\nnot-base64\n", "origin\n1\nAAAA\n"] {
            assert!(Checkpoint::parse(bad).is_err(), "{bad:?}");
        }
    }
}
