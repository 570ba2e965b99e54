//! Keyset pagination: one page shape, one cursor shape, one end-of-page rule.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::error::ApiError;

pub const DEFAULT_PAGE: u64 = 20;
pub const MAX_PAGE: u64 = 100;

/// A page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// `rows` were fetched with `limit + 1` to learn whether another page exists; the
    /// cursor is the last row's id.
    pub fn from_rows<R>(rows: Vec<R>, limit: u64, id: impl Fn(&R) -> Uuid, map: impl Fn(R) -> T) -> Self {
        Self::from_rows_by(rows, limit, |r| encode_cursor(id(r)), map)
    }

    /// `from_rows` for lists ordered by another key; `cursor` encodes the last row's.
    pub fn from_rows_by<R>(rows: Vec<R>, limit: u64, cursor: impl Fn(&R) -> String, map: impl Fn(R) -> T) -> Self {
        let (rows, next_cursor) = cut(rows, limit, cursor);
        Page { items: rows.into_iter().map(map).collect(), next_cursor }
    }
}

/// The end-of-page rule, once: of `limit + 1` fetched rows, keep `limit`, and say where the
/// next page starts if there is one.
pub fn cut<R>(mut rows: Vec<R>, limit: u64, cursor: impl Fn(&R) -> String) -> (Vec<R>, Option<String>) {
    let more = rows.len() as u64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next = if more { rows.last().map(cursor) } else { None };
    (rows, next)
}

/// A cursor is 16 bytes in base64url without padding: 22 characters, the last of which
/// carries 2 bits (so it is one of `A`, `Q`, `g`, `w`). `PageQuery` documents exactly
/// this shape, so any string a client can build from the spec decodes. Lists keyed by a
/// UUID use the UUID's bytes; others encode their key in 16 bytes (see `audit`).
pub fn encode_cursor_bytes(bytes: [u8; 16]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn decode_cursor_bytes(c: &str) -> Result<[u8; 16], ApiError> {
    URL_SAFE_NO_PAD
        .decode(c)
        .ok()
        .and_then(|b| <[u8; 16]>::try_from(b.as_slice()).ok())
        .ok_or_else(|| ApiError::invalid("cursor", crate::msg!("cursor-unknown")))
}

pub fn encode_cursor(id: Uuid) -> String {
    encode_cursor_bytes(*id.as_bytes())
}

pub fn decode_cursor(c: &str) -> Result<Uuid, ApiError> {
    decode_cursor_bytes(c).map(Uuid::from_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_of_the_documented_shape_always_decode() {
        let id = Uuid::now_v7();
        let c = encode_cursor(id);
        assert_eq!(c.len(), 22);
        assert!(matches!(c.as_bytes()[21], b'A' | b'Q' | b'g' | b'w'), "{c}");
        assert_eq!(decode_cursor(&c).unwrap(), id);
        for c in ["AAAAAAAAAAAAAAAAAAAAAA", "_____________________w", "0123456789abcdefghijkQ"] {
            assert!(decode_cursor_bytes(c).is_ok(), "{c}");
        }
        for c in ["", "AAAAAAAAAAAAAAAAAAAAAB", "AAAA", "seq:1"] {
            assert!(decode_cursor_bytes(c).is_err(), "{c}");
        }
    }

    #[test]
    fn a_page_ends_where_the_rows_do() {
        let (rows, next) = cut(vec![1, 2, 3], 2, |r| r.to_string());
        assert_eq!((rows, next), (vec![1, 2], Some("2".to_owned())));
        let (rows, next) = cut(vec![1, 2], 2, |r| r.to_string());
        assert_eq!((rows, next), (vec![1, 2], None));
        let (rows, next) = cut(Vec::<u8>::new(), 2, |r| r.to_string());
        assert_eq!((rows, next), (vec![], None));
    }
}
