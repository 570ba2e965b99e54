//! Request extractors that answer in problem+json: a strict JSON body, pagination.

use std::future::Future;
use std::pin::Pin;

use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, FieldErrors};
use crate::state::AppState;

/// A JSON body: `application/json` only (else 415), at most the configured size (else 413),
/// and every field known and well-typed (else 400 naming the field).
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for ApiJson<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = req.app_data::<web::Data<AppState>>().map(|s| s.settings.json_limit_bytes).unwrap_or(64 * 1024);
        let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
        let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        let declared_len = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let mut payload = payload.take();
        Box::pin(async move {
            if essence != "application/json" {
                return Err(ApiError::UnsupportedMediaType("send the body as application/json".into()));
            }
            if declared_len.is_some_and(|n| n > limit) {
                return Err(ApiError::PayloadTooLarge(format!("JSON bodies are limited to {limit} bytes")));
            }
            let mut body = web::BytesMut::new();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk.map_err(|_| ApiError::bad_request("the request body could not be read"))?;
                if body.len() + chunk.len() > limit {
                    return Err(ApiError::PayloadTooLarge(format!("JSON bodies are limited to {limit} bytes")));
                }
                body.extend_from_slice(&chunk);
            }
            parse_json(&body).map(ApiJson)
        })
    }
}

pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    if body.is_empty() {
        return Err(ApiError::bad_request("a JSON body is required"));
    }
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let message = inner.to_string();
        // Strip serde_json's " at line 1 column 17": the field path says where.
        let message = message.split(" at line ").next().unwrap_or(&message).to_owned();
        if inner.is_syntax() || inner.is_eof() {
            return ApiError::bad_request(format!("malformed JSON: {message}"));
        }
        let field = if path == "." { "body".to_owned() } else { path };
        if let Some(reason) = message.strip_prefix(crate::error::UNACCEPTABLE) {
            return ApiError::invalid(&field, reason);
        }
        let mut errors = FieldErrors::new();
        errors.insert(field.clone(), vec![message.clone()]);
        ApiError::BadRequest { detail: format!("{field}: {message}"), errors }
    })
}

pub const DEFAULT_PAGE: u64 = 20;
pub const MAX_PAGE: u64 = 100;

/// `?limit=&cursor=`: keyset pagination, so the cost of a page does not grow with the table.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page size, 1–100 (default 20).
    #[param(minimum = 1, maximum = 100, example = 20)]
    pub limit: Option<u64>,
    /// The `next_cursor` of the previous page (22 characters, base64url).
    #[param(pattern = "^[A-Za-z0-9_-]{21}[AQgw]$", min_length = 22, max_length = 22)]
    pub cursor: Option<String>,
}

impl PageQuery {
    pub fn limit(&self) -> Result<u64, ApiError> {
        match self.limit {
            None => Ok(DEFAULT_PAGE),
            Some(n) if (1..=MAX_PAGE).contains(&n) => Ok(n),
            Some(_) => Err(ApiError::invalid("limit", format!("must be between 1 and {MAX_PAGE}"))),
        }
    }

    pub fn after(&self) -> Result<Option<uuid::Uuid>, ApiError> {
        self.cursor.as_deref().map(decode_cursor).transpose()
    }
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
        .ok_or_else(|| ApiError::invalid("cursor", "is not a cursor this API returned"))
}

pub fn encode_cursor(id: uuid::Uuid) -> String {
    encode_cursor_bytes(*id.as_bytes())
}

fn decode_cursor(c: &str) -> Result<uuid::Uuid, ApiError> {
    decode_cursor_bytes(c).map(uuid::Uuid::from_bytes)
}

/// `If-Match: "3"` — the version (ETag) the caller saw. Absent or `*`: no precondition.
/// Only the shape this API hands out is accepted; anything else is a malformed request
/// (400), which is different from a precondition that was well-formed and failed.
#[derive(Debug, Clone, Copy, Default, IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IfMatch {
    /// The `ETag` you saw, e.g. `"3"` (or `*`).
    #[param(rename = "If-Match", value_type = String, required = false, pattern = r#"^(\*|(W/)?"[0-9]{1,9}")$"#, example = "\"1\"")]
    pub version: Option<i32>,
}

impl IfMatch {
    pub fn parse(req: &HttpRequest) -> Result<Option<i32>, ApiError> {
        let Some(v) = req.headers().get(header::IF_MATCH) else { return Ok(None) };
        let malformed = || ApiError::bad_request("If-Match must be an ETag this API returned, like \"3\", or *");
        let s = v.to_str().map_err(|_| malformed())?.trim();
        if s == "*" {
            return Ok(None);
        }
        let digits = s.strip_prefix("W/").unwrap_or(s).strip_prefix('"').and_then(|s| s.strip_suffix('"'));
        match digits {
            Some(d) if (1..=9).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit()) => {
                d.parse().map(Some).map_err(|_| malformed())
            }
            _ => Err(malformed()),
        }
    }
}

impl FromRequest for IfMatch {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(Self::parse(req).map(|version| IfMatch { version }))
    }
}

/// For `version` fields in bodies: JSON Schema's `integer` admits `3.0` as well as `3`, so
/// a client that writes numbers as floats is not refused. Fractions and out-of-range
/// values still are.
pub fn integral_i32<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<i32>, D::Error> {
    let Some(n) = Option::<serde_json::Number>::deserialize(d)? else { return Ok(None) };
    integral_number(n).map(Some)
}

/// `integral_i32` for a required integer of any width (`order: u16`, `version: i32`).
pub fn integral<'de, D: serde::Deserializer<'de>, T: TryFrom<i64>>(d: D) -> Result<T, D::Error> {
    integral_number(serde_json::Number::deserialize(d)?)
}

fn integral_number<T: TryFrom<i64>, E: serde::de::Error>(n: serde_json::Number) -> Result<T, E> {
    let as_int = n.as_i64().or_else(|| n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 1e15).map(|f| f as i64));
    match as_int {
        Some(i) => T::try_from(i).map_err(|_| E::custom(format!("{n} is out of range"))),
        None => Err(E::custom(format!("expected an integer, got {n}"))),
    }
}

/// The pattern of names and titles (`name`, `full_name`): not blank, no control
/// characters. Pair it with `min_length = 1` and a `max_length`; `check_text` enforces
/// the same rule, so what the spec allows is exactly what is accepted.
pub const TEXT_PATTERN: &str =
    r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$";

/// `TEXT_PATTERN` plus a length limit in characters.
pub fn check_text(value: &str, max_chars: usize) -> Result<(), String> {
    if value.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    if value.trim().is_empty() {
        return Err("must not be blank".into());
    }
    if value.chars().count() > max_chars {
        return Err(format!("must be at most {max_chars} characters"));
    }
    Ok(())
}

/// The pattern of email addresses: `local@domain.tld`, no spaces or control characters.
pub const EMAIL_PATTERN: &str =
    r"^[^@\s\u0000-\u001F\u007F-\u009F]+@[^@.\s\u0000-\u001F\u007F-\u009F]+(\.[^@.\s\u0000-\u001F\u007F-\u009F]+)+$";

/// `EMAIL_PATTERN`, and at most 254 characters.
pub fn is_email(e: &str) -> bool {
    let plain = |c: char| !(c.is_whitespace() || c.is_control() || c == '@');
    e.chars().count() <= 254
        && e.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && local.chars().all(plain)
                && domain.split('.').count() >= 2
                && domain.split('.').all(|label| !label.is_empty() && label.chars().all(plain))
        })
}

/// A page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// `rows` were fetched with `limit + 1` to learn whether another page exists.
    pub fn from_rows<R>(mut rows: Vec<R>, limit: u64, id: impl Fn(&R) -> uuid::Uuid, map: impl Fn(R) -> T) -> Self {
        let more = rows.len() as u64 > limit;
        rows.truncate(limit as usize);
        let next_cursor = if more { rows.last().map(|r| encode_cursor(id(r))) } else { None };
        Page { items: rows.into_iter().map(map).collect(), next_cursor }
    }
}

/// Like `ApiJson`, but an empty body without a content type means `T::default()`: simple
/// transitions (`submit`, `follow-up`, …) may be posted with no body at all.
pub struct OptionalJson<T>(pub T);

impl<T: DeserializeOwned + Default + 'static> FromRequest for OptionalJson<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let empty = req.headers().get(header::CONTENT_TYPE).is_none()
            && req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).is_none_or(|v| v.trim() == "0");
        if empty {
            return Box::pin(async { Ok(OptionalJson(T::default())) });
        }
        let inner = ApiJson::<T>::from_request(req, payload);
        Box::pin(async move { inner.await.map(|j| OptionalJson(j.0)) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_of_the_documented_shape_always_decode() {
        let id = uuid::Uuid::now_v7();
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
    fn if_match_takes_only_etags_we_hand_out() {
        let parse = |v: &str| {
            let req = actix_web::test::TestRequest::default().insert_header((header::IF_MATCH, v)).to_http_request();
            IfMatch::parse(&req)
        };
        assert_eq!(parse("\"3\"").unwrap(), Some(3));
        assert_eq!(parse("W/\"12\"").unwrap(), Some(12));
        assert_eq!(parse("*").unwrap(), None);
        for bad in ["3", "null", "", "\"\"", "\"-1\"", "\"1234567890\"", "\"1\", \"2\""] {
            let err = parse(bad).unwrap_err();
            assert_eq!(actix_web::ResponseError::status_code(&err).as_u16(), 400, "{bad}");
        }
        assert_eq!(IfMatch::parse(&actix_web::test::TestRequest::default().to_http_request()).unwrap(), None);
    }

    #[derive(Debug, Deserialize)]
    struct Versioned {
        #[serde(default, deserialize_with = "integral_i32")]
        version: Option<i32>,
    }

    #[test]
    fn versions_may_be_written_as_integral_floats() {
        let v = |s: &str| serde_json::from_str::<Versioned>(s).map(|v| v.version);
        assert_eq!(v(r#"{"version": 3}"#).unwrap(), Some(3));
        assert_eq!(v(r#"{"version": 8143.0}"#).unwrap(), Some(8143));
        assert_eq!(v(r#"{"version": null}"#).unwrap(), None);
        assert_eq!(v("{}").unwrap(), None);
        assert!(v(r#"{"version": 1.5}"#).is_err());
        assert!(v(r#"{"version": 3000000000}"#).is_err());
        assert!(v(r#"{"version": "3"}"#).is_err());
    }

    #[test]
    fn text_is_not_blank_and_has_no_control_characters() {
        assert!(check_text("Dinas Kesehatan", 200).is_ok());
        assert!(check_text(" x ", 200).is_ok());
        assert!(check_text("", 200).is_err());
        assert!(check_text(" \u{3000}\u{a0}", 200).is_err());
        assert!(check_text("a\u{1c}", 200).is_err());
        assert!(check_text("a\u{85}", 200).is_err());
        assert!(check_text(&"é".repeat(200), 200).is_ok());
        assert!(check_text(&"é".repeat(201), 200).is_err());
    }

    #[test]
    fn emails_follow_the_documented_pattern() {
        for ok in ["budi@dinkes.trenggalekkab.go.id", "a@b.c", "x.y+z@sub.example.org"] {
            assert!(is_email(ok), "{ok}");
        }
        for bad in ["", "a", "a@b", "@b.c", "a@.b", "a@b.", "a@b..c", "a b@c.d", "a@b@c.d", "a@b.c\u{1}"] {
            assert!(!is_email(bad), "{bad}");
        }
    }
}
