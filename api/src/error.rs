//! One error type, mapped once to RFC 9457 `application/problem+json`.
//!
//! Handlers and services return `ApiError`; nothing else writes an error response. Internal
//! details (SQL, I/O errors, panics) are logged with the request id and never sent.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use sea_orm::{DbErr, RuntimeErr, SqlErr};
use serde::Serialize;
use utoipa::ToSchema;

use crate::i18n::{Lang, Msg};
use crate::msg;

pub type ApiResult<T> = Result<T, ApiError>;

/// Field path → human-readable messages (rendered in the request's language).
pub type FieldErrors = BTreeMap<String, Vec<Msg>>;

/// Starts the message of a serde error that means "well-formed but not acceptable": a
/// value of the documented shape that the rules behind it refuse (e.g. a time standard
/// `2-1d`, target not below limit). `routes::extract::parse_json` answers such an error
/// with 422 naming the field, where any other deserialization error is a 400.
pub use jembatan_domain::UNACCEPTABLE;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{detail}")]
    BadRequest { detail: Msg, errors: FieldErrors },
    #[error("authentication required")]
    Unauthorized(Msg),
    #[error("forbidden: {0}")]
    Forbidden(Msg),
    #[error("not found")]
    NotFound(Msg),
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("conflict: {0}")]
    Conflict(Msg),
    #[error("precondition failed: {0}")]
    PreconditionFailed(Msg),
    #[error("payload too large: {0}")]
    PayloadTooLarge(Msg),
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(Msg),
    #[error("{detail}")]
    Unprocessable { detail: Msg, errors: FieldErrors },
    #[error("rate limited")]
    TooManyRequests { detail: Msg, retry_after_secs: u64 },
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// A service outside ours (BSrE) could not be reached or failed.
    #[error("upstream unavailable: {0}")]
    UpstreamUnavailable(Msg),
    /// A capability this installation has not enabled.
    #[error("not implemented: {0}")]
    NotImplemented(Msg),
    #[error("internal error: {0}")]
    Internal(String),
}

/// The problem document (RFC 9457) every error response carries.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "type": "urn:jembatan:problem:validation",
    "title": "Your request parameters didn't validate",
    "status": 422,
    "detail": "password: must be at least 12 characters",
    "errors": {"password": ["must be at least 12 characters"]}
}))]
pub struct Problem {
    /// A URN naming the kind of problem; stable, documented in `docs/API-DESIGN.md`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Field path → messages, for input that did not validate.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<std::collections::HashMap<String, Vec<String>>>, inline)]
    pub errors: Option<BTreeMap<String, Vec<String>>>,
}

impl ApiError {
    pub fn bad_request(detail: impl Into<Msg>) -> Self {
        Self::BadRequest { detail: detail.into(), errors: FieldErrors::new() }
    }

    /// A 400 naming one field (the body or a parameter could not be read as its schema).
    pub fn bad_field(field: &str, message: impl Into<Msg>) -> Self {
        let mut errors = FieldErrors::new();
        errors.insert(field.to_owned(), vec![message.into()]);
        Self::BadRequest { detail: Msg::Fields(errors.clone()), errors }
    }

    /// A 422 naming one field.
    pub fn invalid(field: &str, message: impl Into<Msg>) -> Self {
        let mut errors = FieldErrors::new();
        errors.insert(field.to_owned(), vec![message.into()]);
        Self::invalid_fields(errors)
    }

    pub fn invalid_fields(errors: FieldErrors) -> Self {
        Self::Unprocessable { detail: Msg::Fields(errors.clone()), errors }
    }

    /// `what` is a `thing-…` key of the resources (`request`, `user`, …).
    pub fn not_found(what: &'static str) -> Self {
        Self::NotFound(msg!("not-found", what = Msg::thing(what)))
    }

    pub fn internal(e: impl std::fmt::Display) -> Self {
        Self::Internal(e.to_string())
    }

    /// The type's slug and the key of its title.
    fn parts(&self) -> (&'static str, &'static str) {
        match self {
            Self::BadRequest { .. } => ("bad-request", "problem-title-bad-request"),
            Self::Unauthorized(_) => ("unauthorized", "problem-title-unauthorized"),
            Self::Forbidden(_) => ("forbidden", "problem-title-forbidden"),
            Self::NotFound(_) => ("not-found", "problem-title-not-found"),
            Self::MethodNotAllowed => ("method-not-allowed", "problem-title-method-not-allowed"),
            Self::Conflict(_) => ("conflict", "problem-title-conflict"),
            Self::PreconditionFailed(_) => ("precondition-failed", "problem-title-precondition-failed"),
            Self::PayloadTooLarge(_) => ("payload-too-large", "problem-title-payload-too-large"),
            Self::UnsupportedMediaType(_) => ("unsupported-media-type", "problem-title-unsupported-media-type"),
            Self::Unprocessable { .. } => ("validation", "problem-title-validation"),
            Self::TooManyRequests { .. } => ("rate-limited", "problem-title-rate-limited"),
            Self::Unavailable(_) => ("unavailable", "problem-title-unavailable"),
            Self::NotImplemented(_) => ("not-enabled", "problem-title-not-enabled"),
            Self::UpstreamUnavailable(_) => ("upstream-unavailable", "problem-title-upstream-unavailable"),
            Self::Internal(_) => ("internal", "problem-title-internal"),
        }
    }

    fn detail(&self) -> Msg {
        match self {
            Self::BadRequest { detail, .. } | Self::Unprocessable { detail, .. } => detail.clone(),
            Self::TooManyRequests { detail, .. } => detail.clone(),
            Self::Unauthorized(d)
            | Self::Forbidden(d)
            | Self::NotFound(d)
            | Self::Conflict(d)
            | Self::PreconditionFailed(d)
            | Self::PayloadTooLarge(d)
            | Self::UnsupportedMediaType(d)
            | Self::NotImplemented(d) => d.clone(),
            Self::MethodNotAllowed => msg!("method-not-allowed"),
            Self::UpstreamUnavailable(d) => msg!("upstream-unavailable", why = d.clone()),
            Self::Unavailable(_) => msg!("unavailable"),
            Self::Internal(_) => msg!("internal-error"),
        }
    }

    /// A typical error of each status, for the OpenAPI document's examples (rendered
    /// from the same texts as real answers, so they cannot drift).
    pub fn example(status: u16) -> Option<ApiError> {
        let mut errors = FieldErrors::new();
        Some(match status {
            400 => ApiError::BadRequest {
                detail: msg!("json-malformed", why = "expected `,` or `}` at line 1 column 18"),
                errors: FieldErrors::new(),
            },
            401 => ApiError::Unauthorized(msg!("token-invalid-or-expired")),
            403 => ApiError::Forbidden(msg!(
                "wf-forbidden",
                step = "follow_up",
                reason = msg!("wf-reason-not-actor", actor = "technical_lead")
            )),
            404 => ApiError::not_found("request"),
            409 => ApiError::Conflict(msg!("stale-version", current = 4, sent = 3)),
            412 => ApiError::PreconditionFailed(msg!("if-match-failed", sent = 3, current = 4)),
            413 => ApiError::PayloadTooLarge(msg!("body-too-large")),
            415 => ApiError::UnsupportedMediaType(msg!("send-multipart")),
            422 => {
                errors.insert("letter_date".into(), vec![msg!("letter-date-future")]);
                ApiError::invalid_fields(errors)
            }
            429 => ApiError::TooManyRequests { detail: msg!("login-throttled"), retry_after_secs: 60 },
            500 => ApiError::internal("example"),
            501 => ApiError::NotImplemented(msg!("bsre-not-enabled")),
            503 => ApiError::Unavailable("example".into()),
            _ => return None,
        })
    }

    /// The problem document in the default language (Indonesian). The `i18n` middleware
    /// renders every error response again in the request's language.
    pub fn problem(&self) -> Problem {
        self.problem_in(Lang::default())
    }

    pub fn problem_in(&self, lang: Lang) -> Problem {
        let (slug, title) = self.parts();
        let errors = match self {
            Self::BadRequest { errors, .. } | Self::Unprocessable { errors, .. } if !errors.is_empty() => {
                Some(errors.iter().map(|(f, ms)| (f.clone(), ms.iter().map(|m| lang.render(m)).collect())).collect())
            }
            _ => None,
        };
        Problem {
            kind: format!("urn:jembatan:problem:{slug}"),
            title: lang.text(title, &[]),
            status: self.status_code().as_u16(),
            detail: lang.render(&self.detail()),
            errors,
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::NotImplemented(_) => StatusCode::NOT_IMPLEMENTED,
            Self::UpstreamUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Self::Internal(e) => tracing::error!(error = %e, "internal error"),
            Self::Unavailable(e) => tracing::warn!(error = %e, "dependency unavailable"),
            Self::UpstreamUnavailable(e) => tracing::warn!(error = %e, "dependency unavailable"),
            _ => {}
        }
        let mut res = HttpResponse::build(self.status_code());
        res.insert_header((header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json")));
        match self {
            Self::TooManyRequests { retry_after_secs, .. } => {
                res.insert_header((header::RETRY_AFTER, retry_after_secs.max(&1).to_string()));
            }
            Self::Unavailable(_) | Self::UpstreamUnavailable(_) => {
                res.insert_header((header::RETRY_AFTER, "5"));
            }
            Self::Unauthorized(_) => {
                res.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
            }
            _ => {}
        }
        res.body(serde_json::to_string(&self.problem()).unwrap_or_default())
    }
}

/// Whether a database error means "the database is not there" (→ 503) rather than a bug.
pub(crate) fn is_unavailable(e: &DbErr) -> bool {
    let runtime = match e {
        DbErr::ConnectionAcquire(_) => return true,
        DbErr::Conn(r) | DbErr::Exec(r) | DbErr::Query(r) => r,
        _ => return false,
    };
    match runtime {
        RuntimeErr::SqlxError(sqlx) => {
            use sea_orm::sqlx::Error as S;
            match sqlx.as_ref() {
                S::Io(_) | S::PoolTimedOut | S::PoolClosed | S::Tls(_) | S::Protocol(_) | S::WorkerCrashed => true,
                // SQLite "database is locked" after the busy timeout, or PostgreSQL shutting down.
                S::Database(db) => {
                    let code = db.code().unwrap_or_default();
                    matches!(code.as_ref(), "5" | "6" | "57P01" | "57P02" | "57P03" | "08006" | "08001" | "08004")
                }
                _ => false,
            }
        }
        #[allow(unreachable_patterns)]
        _ => false,
    }
}

impl From<DbErr> for ApiError {
    fn from(e: DbErr) -> Self {
        if matches!(e, DbErr::ConnectionAcquire(sea_orm::error::ConnAcquireErr::Timeout)) {
            crate::metrics::POOL_TIMEOUTS.inc();
        }
        if is_unavailable(&e) {
            return Self::Unavailable(e.to_string());
        }
        if let Some(SqlErr::UniqueConstraintViolation(_)) = e.sql_err() {
            return Self::Conflict(msg!("unique-violation"));
        }
        Self::Internal(e.to_string())
    }
}

impl<E: Into<ApiError>> From<sea_orm::TransactionError<E>> for ApiError
where
    E: std::error::Error,
{
    fn from(e: sea_orm::TransactionError<E>) -> Self {
        match e {
            sea_orm::TransactionError::Connection(db) => db.into(),
            sea_orm::TransactionError::Transaction(inner) => inner.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problem_never_leaks_internal_text() {
        let p = ApiError::Internal("SELECT secret FROM users".into()).problem();
        assert_eq!(p.status, 500);
        assert!(!p.detail.contains("SELECT"));
        assert_eq!(p.title, "Kesalahan internal server");
        let p = ApiError::Unavailable("connection refused 127.0.0.1:5432".into()).problem();
        assert!(!p.detail.contains("5432"));
    }

    #[test]
    fn validation_problem_names_fields() {
        let p = ApiError::invalid("password", "too short").problem();
        assert_eq!(p.status, 422);
        assert_eq!(p.kind, "urn:jembatan:problem:validation");
        assert_eq!(p.errors.unwrap()["password"], vec!["too short".to_string()]);
    }

    #[test]
    fn titles_and_details_follow_the_language() {
        let e = ApiError::not_found("request");
        let (id, en) = (e.problem_in(Lang::Id), e.problem_in(Lang::En));
        assert_eq!((id.title.as_str(), id.detail.as_str()), ("Tidak ditemukan", "permohonan tidak ditemukan"));
        assert_eq!((en.title.as_str(), en.detail.as_str()), ("Not found", "request not found"));
        assert_eq!(id.kind, en.kind);
        let e = ApiError::invalid("limit", msg!("limit-range", max = 100u32));
        assert_eq!(e.problem_in(Lang::En).detail, "limit: must be between 1 and 100");
        assert_eq!(e.problem_in(Lang::Id).errors.unwrap()["limit"], vec!["harus antara 1 dan 100".to_string()]);
    }
}
