//! Request extractors that answer in problem+json: a strict JSON body, the page query,
//! `If-Match`. The rules they apply (pages, cursors, text) live in `crate::shared`.

use std::future::Future;
use std::pin::Pin;

use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use futures_util::StreamExt;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use utoipa::IntoParams;

use crate::error::ApiError;
use crate::shared::page::DEFAULT_PAGE;
use crate::shared::page::{MAX_PAGE, decode_cursor};
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
                return Err(ApiError::UnsupportedMediaType(crate::msg!("send-json")));
            }
            if declared_len.is_some_and(|n| n > limit) {
                return Err(ApiError::PayloadTooLarge(crate::msg!("json-too-large", limit = limit)));
            }
            let mut body = web::BytesMut::new();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk.map_err(|_| ApiError::bad_request(crate::msg!("body-unreadable")))?;
                if body.len() + chunk.len() > limit {
                    return Err(ApiError::PayloadTooLarge(crate::msg!("json-too-large", limit = limit)));
                }
                body.extend_from_slice(&chunk);
            }
            parse_json(&body).map(ApiJson)
        })
    }
}

pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    if body.is_empty() {
        return Err(ApiError::bad_request(crate::msg!("json-required")));
    }
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let message = inner.to_string();
        // Strip serde_json's " at line 1 column 17": the field path says where.
        let message = message.split(" at line ").next().unwrap_or(&message).to_owned();
        if inner.is_syntax() || inner.is_eof() {
            return ApiError::bad_request(crate::msg!("json-malformed", why = message));
        }
        let field = if path == "." { "body".to_owned() } else { path };
        if let Some(reason) = message.strip_prefix(crate::error::UNACCEPTABLE) {
            return ApiError::invalid(&field, reason);
        }
        ApiError::bad_field(&field, message)
    })
}

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
            Some(_) => Err(ApiError::invalid("limit", crate::msg!("limit-range", max = MAX_PAGE))),
        }
    }

    pub fn after(&self) -> Result<Option<uuid::Uuid>, ApiError> {
        self.cursor.as_deref().map(decode_cursor).transpose()
    }
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
        let malformed = || ApiError::bad_request(crate::msg!("if-match-malformed"));
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
}
