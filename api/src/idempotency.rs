//! `Idempotency-Key` on POST: a retry with the same key (same caller) gets the first
//! response again, for 24 hours; the same key with a different request is 422; a retry
//! while the first is still running is 409. An agency system that lost a response at
//! 2 a.m. can simply send the request again.
//!
//! Scope: JSON (and empty) bodies of signed-in callers. Multipart uploads are not
//! buffered for this (documents may be 20 MiB and are streamed), so the header is
//! ignored there; 5xx answers are not stored, so a retry after one runs again.
//!
//! Secrets are never stored: the key is ignored on `/auth/*` (signing in is safe to
//! repeat, and a refresh token presented twice must count as reuse, not be answered from
//! a store), refused with 422 on operations whose response carries a secret (creating or
//! rotating an API client: a retry would need the stored secret), and no response marked
//! `Cache-Control: no-store` is kept. The request fingerprint is an HMAC under a key
//! derived from the token-signing secret, so the table does not let anyone test guesses
//! of a request body (a password change, say). Expired rows are deleted by the
//! housekeeping job.

use actix_web::body::{BoxBody, MessageBody, to_bytes};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::{Method, StatusCode, header};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, web};
use chrono::Duration;
use entity::idempotency_key;
use hmac::{Hmac, Mac};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::state::AppState;

pub const HEADER: &str = "idempotency-key";
const REPLAYED: &str = "idempotent-replayed";
/// Stored responses are kept this long.
pub const TTL_HOURS: i64 = 24;

/// Routes where the key is ignored: sign-in and sessions.
const IGNORED: &[&str] = &["/api/v1/auth/"];
/// Routes whose response carries a secret: a key is refused before anything happens.
const REFUSED: &[&str] = &[
    "/api/v1/api-clients",
    "/api/v1/api-clients/{id}/rotate",
    "/api/v1/webhooks",
    "/api/v1/webhooks/{id}/rotate-secret",
];

enum Scope {
    Stored,
    Ignored,
    Refused,
}

/// Whether the key is honoured on this route pattern (the OpenAPI document offers the
/// header only there).
pub fn applies_to(pattern: &str) -> bool {
    matches!(scope_of(pattern), Scope::Stored)
}

fn scope(req: &ServiceRequest) -> Scope {
    scope_of(&req.match_pattern().unwrap_or_else(|| req.path().to_owned()))
}

fn scope_of(pattern: &str) -> Scope {
    if IGNORED.iter().any(|p| pattern.starts_with(p)) {
        Scope::Ignored
    } else if REFUSED.contains(&pattern) {
        Scope::Refused
    } else {
        Scope::Stored
    }
}

/// The fingerprint key: derived from the signing secret, so every replica agrees and the
/// database alone does not hold it.
fn fingerprint_key(state: &AppState) -> [u8; 32] {
    Sha256::new()
        .chain_update(b"jembatan-idempotency-fingerprint:")
        .chain_update(state.settings.jwt_secret())
        .finalize()
        .into()
}
/// Responses larger than this are not stored (none of ours is near it).
const MAX_STORED: usize = 256 * 1024;

/// With the error attached, so that the language middleware renders it.
fn problem(e: ApiError) -> HttpResponse {
    HttpResponse::from_error(e)
}

/// The request answered with a problem (not `ServiceRequest::into_response`, which drops
/// the error the response carries).
fn refuse(req: ServiceRequest, e: ApiError) -> ServiceResponse<BoxBody> {
    ServiceResponse::new(req.into_parts().0, problem(e))
}

/// The caller a key belongs to: `user:<id>` / `client:<id>`, for a token that may still
/// act (checked against the principal directory like any request, so a revoked session
/// or a deactivated account gets no stored response replayed).
async fn caller_of(req: &ServiceRequest, state: &AppState) -> Option<String> {
    let token = crate::auth::caller::bearer(req.request())?;
    let presented = crate::auth::caller::presented(&state.keys, token).ok()?;
    let caller = crate::auth::caller::authorize(&state.principals, &state.db, presented).await.ok()?;
    let kind = match caller.kind {
        crate::auth::CallerKind::User => "user",
        crate::auth::CallerKind::Client => "client",
    };
    Some(format!("{kind}:{}", caller.id))
}

pub async fn middleware(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let key = req.headers().get(HEADER).map(|v| v.to_str().map(str::to_owned));
    let multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/"));
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let (Some(key), Some(state), true, false) = (key, state, req.method() == Method::POST, multipart) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    match scope(&req) {
        Scope::Stored => {}
        Scope::Ignored => return Ok(next.call(req).await?.map_into_boxed_body()),
        Scope::Refused => {
            let e = ApiError::invalid("Idempotency-Key", crate::msg!("idempotency-key-secret"));
            return Ok(refuse(req, e));
        }
    }
    let key = match key {
        Ok(k) if (1..=255).contains(&k.len()) && k.bytes().all(|b| (0x21..=0x7e).contains(&b)) => k,
        _ => {
            let e = ApiError::bad_request(crate::msg!("idempotency-key-shape"));
            return Ok(refuse(req, e));
        }
    };
    let Some(caller) = caller_of(&req, &state).await else {
        // Not signed in: the handler answers 401 (or it is a public endpoint).
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let body = req.extract::<web::Bytes>().await?;
    let mut mac =
        Hmac::<Sha256>::new_from_slice(&fingerprint_key(&state)).map_err(actix_web::error::ErrorInternalServerError)?;
    mac.update(req.method().as_str().as_bytes());
    mac.update(b" ");
    mac.update(req.uri().to_string().as_bytes());
    mac.update(b"\n");
    mac.update(&body);
    let fingerprint = hex::encode(mac.finalize().into_bytes());
    req.set_payload(Payload::from(body));

    match claim(&state, &caller, &key, &fingerprint).await {
        Ok(Claim::Fresh) => {}
        Ok(Claim::Replay(row)) => return Ok(req.into_response(replay(row))),
        Err(e) => return Ok(refuse(req, e)),
    }
    let lang = crate::i18n::Lang::of_extensions(&actix_web::HttpMessage::extensions(&req));
    let res = next.call(req).await?;
    let status = res.status();
    if status.is_server_error() {
        let _ = forget(&state, &caller, &key).await;
        return Ok(res.map_into_boxed_body());
    }
    let (http_req, res) = res.into_parts();
    // The response keeps the error it carries (the language middleware renders a problem
    // in the request's language); the stored copy is a problem rendered in the language of
    // this first request, and a replay answers exactly that.
    let (res, body) = res.into_parts();
    let headers = res.headers().clone();
    let rendered = res.error().and_then(|e| e.as_error::<ApiError>()).map(|e| e.problem_in(lang));
    let bytes = match to_bytes(body).await {
        Ok(b) => b,
        Err(_) => {
            let _ = forget(&state, &caller, &key).await;
            let e = ApiError::internal("response body could not be read for Idempotency-Key");
            return Ok(ServiceResponse::new(http_req, problem(e)));
        }
    };
    let get = |h: header::HeaderName| headers.get(h).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let secret = get(header::CACHE_CONTROL).is_some_and(|v| v.contains("no-store"));
    if bytes.len() <= MAX_STORED && !secret {
        let stored = idempotency_key::ActiveModel {
            caller: Set(caller.clone()),
            key: Set(key.clone()),
            fingerprint: Set(fingerprint),
            status_code: Set(Some(i32::from(status.as_u16()))),
            content_type: Set(get(header::CONTENT_TYPE)),
            location: Set(get(header::LOCATION)),
            etag: Set(get(header::ETAG)),
            body: Set(Some(match &rendered {
                Some(p) => serde_json::to_string(p).unwrap_or_default(),
                None => String::from_utf8_lossy(&bytes).into_owned(),
            })),
            created_at: Set(state.now()),
        };
        if let Err(e) = stored.update(&state.db).await {
            tracing::warn!(error = %e, "could not store the response for an Idempotency-Key");
        }
    } else {
        let _ = forget(&state, &caller, &key).await;
    }
    Ok(ServiceResponse::new(http_req, res.set_body(BoxBody::new(bytes))))
}

enum Claim {
    Fresh,
    Replay(idempotency_key::Model),
}

/// Claims the key for this request, or finds the stored first response.
async fn claim(state: &AppState, caller: &str, key: &str, fingerprint: &str) -> Result<Claim, ApiError> {
    let now = state.now();
    let txn = crate::db::begin_write(&state.db).await?;
    // An expired key of this caller makes room (the housekeeping job deletes the rest).
    idempotency_key::Entity::delete_many()
        .filter(idempotency_key::Column::Caller.eq(caller))
        .filter(idempotency_key::Column::Key.eq(key))
        .filter(idempotency_key::Column::CreatedAt.lt(now - Duration::hours(TTL_HOURS)))
        .exec(&txn)
        .await?;
    if let Some(row) = idempotency_key::Entity::find_by_id((caller.to_owned(), key.to_owned())).one(&txn).await? {
        txn.commit().await?;
        if row.fingerprint != fingerprint {
            return Err(ApiError::invalid("Idempotency-Key", crate::msg!("idempotency-key-reused")));
        }
        if row.status_code.is_none() {
            return Err(ApiError::Conflict(crate::msg!("idempotency-key-running")));
        }
        return Ok(Claim::Replay(row));
    }
    idempotency_key::ActiveModel {
        caller: Set(caller.to_owned()),
        key: Set(key.to_owned()),
        fingerprint: Set(fingerprint.to_owned()),
        status_code: Set(None),
        content_type: Set(None),
        location: Set(None),
        etag: Set(None),
        body: Set(None),
        created_at: Set(now),
    }
    .insert(&txn)
    .await
    .map_err(|e| match ApiError::from(e) {
        // Two first requests raced; the other one holds the key.
        ApiError::Conflict(_) => ApiError::Conflict(crate::msg!("idempotency-key-running")),
        other => other,
    })?;
    txn.commit().await?;
    Ok(Claim::Fresh)
}

/// Deletes every stored response older than the replay window; returns how many.
pub async fn purge_expired(state: &AppState) -> Result<u64, sea_orm::DbErr> {
    let cutoff = state.now() - Duration::hours(TTL_HOURS);
    Ok(idempotency_key::Entity::delete_many()
        .filter(idempotency_key::Column::CreatedAt.lt(cutoff))
        .exec(&state.db)
        .await?
        .rows_affected)
}

async fn forget(state: &AppState, caller: &str, key: &str) -> Result<(), ApiError> {
    idempotency_key::Entity::delete_by_id((caller.to_owned(), key.to_owned())).exec(&state.db).await?;
    Ok(())
}

fn replay(row: idempotency_key::Model) -> HttpResponse {
    let status = row.status_code.and_then(|s| StatusCode::from_u16(s as u16).ok()).unwrap_or(StatusCode::OK);
    let mut res = HttpResponse::build(status);
    res.insert_header((REPLAYED, "true"));
    if let Some(ct) = row.content_type {
        res.insert_header((header::CONTENT_TYPE, ct));
    }
    if let Some(l) = row.location {
        res.insert_header((header::LOCATION, l));
    }
    if let Some(e) = row.etag {
        res.insert_header((header::ETAG, e));
    }
    res.body(row.body.unwrap_or_default())
}
