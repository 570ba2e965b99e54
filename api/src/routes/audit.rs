//! `/audit`: the trail of every change (admins and auditors), and the transparency log's
//! public face: signed checkpoints, the verifier key, inclusion and consistency proofs.

use actix_web::http::header;
use actix_web::{HttpResponse, get, web};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::extract::PageQuery;
use crate::auth::Role;
use crate::auth::policy::{AdminOrAuditor, Authorized, SignedIn};
use crate::error::{ApiError, ApiResult};
use crate::service::audit::{self, AuditEvent, ChainReport};
use crate::service::tlog::{self, ConsistencyProof, InclusionProof};
use crate::shared::Page;
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(events).service(verify).service(checkpoint).service(public_key).service(proof).service(consistency);
}

/// The verifier key at the well-known address, outside `/api/v1` (public).
pub fn configure_well_known(cfg: &mut ServiceConfig) {
    cfg.service(well_known_key);
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditFilter {
    /// Only events about this object (a request, user, organization, …).
    pub object_id: Option<Uuid>,
    /// Only events by this user.
    pub actor_user_id: Option<Uuid>,
    /// Only this action, e.g. `request.submitted`.
    pub action: Option<String>,
}

/// Admin and auditor. Newest first.
#[utoipa::path(
    tag = "audit",
    summary = "List audit events (newest first)",
    params(PageQuery, AuditFilter),
    responses((status = 200, body = Page<AuditEvent>)),
    security(("bearer" = []))
)]
#[get("/audit/events")]
async fn events(
    state: web::Data<AppState>,
    _who: Authorized<AdminOrAuditor>,
    page: web::Query<PageQuery>,
    filter: web::Query<AuditFilter>,
) -> ApiResult<HttpResponse> {
    let limit = page.limit()?;
    let after = page.cursor.as_deref().map(audit::decode_seq).transpose()?;
    let f = filter.into_inner();
    let events = audit::list_events(&state.db, f.object_id, f.actor_user_id, f.action.as_deref(), limit, after).await?;
    Ok(HttpResponse::Ok().json(events))
}

/// Admin and auditor. Recomputes the old chain and every logged event's leaf hash,
/// rebuilds the tree and checks it against every signed checkpoint, in the database and in
/// the witness file outside it; reports the first break, if any. `jembatan check` runs
/// the same code.
#[utoipa::path(
    tag = "audit",
    summary = "Verify the audit trail's integrity",
    responses((status = 200, body = ChainReport)),
    security(("bearer" = []))
)]
#[get("/audit/verify")]
async fn verify(state: web::Data<AppState>, _who: Authorized<AdminOrAuditor>) -> ApiResult<HttpResponse> {
    let witness = tlog::witness_path(&state.settings.audit_checkpoint_dir());
    Ok(HttpResponse::Ok().json(tlog::verify(&state.db, &state.audit_keys, Some(&witness)).await?))
}

const NOTE: &str = "text/plain; charset=utf-8";

/// Public. The latest signed checkpoint (C2SP `tlog-checkpoint` in a `signed-note`):
/// origin, tree size, base64 root hash, then the Ed25519 signature line. Save it: a
/// checkpoint kept outside this service is what shows a later rewrite. 404 before the
/// first event is logged.
#[utoipa::path(
    tag = "audit",
    summary = "The audit log's latest signed checkpoint",
    responses((status = 200, description = "The signed note", content_type = "text/plain",
        body = String, example = "jembatan.trenggalekkab.go.id/audit\n42\n3q2+7w==…\n\n— jembatan.trenggalekkab.go.id/audit AbCdEf…\n")),
)]
#[get("/audit/checkpoint")]
async fn checkpoint(state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let c = tlog::latest_checkpoint(&state.db).await?.ok_or_else(|| ApiError::not_found("checkpoint"))?;
    Ok(HttpResponse::Ok().insert_header((header::CONTENT_TYPE, NOTE)).body(c.note))
}

/// Public. The key that verifies the log's checkpoints (C2SP verifier key `name+id+key`),
/// then, one per line, the keys used before a rotation.
#[utoipa::path(
    tag = "audit",
    summary = "The audit log's verifier key(s)",
    responses((status = 200, description = "Verifier keys, current first", content_type = "text/plain",
        body = String, example = "jembatan.trenggalekkab.go.id/audit+1a2b3c4d+AWx0…\n")),
)]
#[get("/audit/public-key")]
async fn public_key(state: web::Data<AppState>) -> HttpResponse {
    keys_response(&state)
}

/// Public. The same verifier keys at a well-known address.
#[utoipa::path(
    tag = "audit",
    summary = "The audit log's verifier key(s), at the well-known address",
    responses((status = 200, description = "Verifier keys, current first", content_type = "text/plain", body = String)),
)]
#[get("/.well-known/jembatan-audit-key")]
async fn well_known_key(state: web::Data<AppState>) -> HttpResponse {
    keys_response(&state)
}

fn keys_response(state: &AppState) -> HttpResponse {
    let mut body = state.audit_keys.verifier();
    body.push('\n');
    for k in state.audit_keys.previous_verifiers() {
        body.push_str(&k);
        body.push('\n');
    }
    HttpResponse::Ok().insert_header((header::CONTENT_TYPE, NOTE)).body(body)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProofQuery {
    /// The tree size to prove against: one a checkpoint was signed at (422 otherwise);
    /// default the latest checkpoint.
    #[param(minimum = 1)]
    pub size: Option<u64>,
}

/// Whoever may see what the event is about: a request's events for those who see the
/// request (another agency: 404); anything else for admins and auditors. 409 while the
/// event is not yet in the log (it is within seconds).
#[utoipa::path(
    tag = "audit",
    summary = "Inclusion proof of one audit event",
    params(("id" = Uuid, Path, description = "The event's id"), ProofQuery),
    responses((status = 200, body = InclusionProof)),
    security(("bearer" = []))
)]
#[get("/audit/events/{id}/proof")]
async fn proof(
    state: web::Data<AppState>,
    who: Authorized<SignedIn>,
    id: web::Path<Uuid>,
    q: web::Query<ProofQuery>,
) -> ApiResult<HttpResponse> {
    let e = audit::find_logged(&state.db, *id).await?.ok_or_else(|| ApiError::not_found("audit event"))?;
    let oversight = who.has_any(&[Role::Admin, Role::Auditor]);
    if !oversight {
        // Only events about a request the caller sees.
        if !e.request_organization.is_some_and(|o| crate::service::requests::visible_in(&who, o)) {
            return Err(ApiError::not_found("audit event"));
        }
        if !who.sees_all_requests() && e.internal {
            return Err(ApiError::not_found("audit event"));
        }
    }
    Ok(HttpResponse::Ok().json(tlog::inclusion(&state.db, &state.audit_keys, &e, q.size).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConsistencyQuery {
    /// The earlier tree size: one a checkpoint was signed at (one of your saved ones).
    #[param(minimum = 1)]
    pub from: u64,
    /// The later tree size: one a checkpoint was signed at.
    #[param(minimum = 1)]
    pub to: u64,
}

/// Public. The proof that the log of `from` events is the beginning of the log of `to`
/// events: nothing was rewritten or removed between two checkpoints (RFC 9162 §2.1.4).
#[utoipa::path(
    tag = "audit",
    summary = "Consistency proof between two tree sizes",
    params(ConsistencyQuery),
    responses((status = 200, body = ConsistencyProof)),
)]
#[get("/audit/consistency")]
async fn consistency(state: web::Data<AppState>, q: web::Query<ConsistencyQuery>) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(tlog::consistency(&state.db, &state.audit_keys, q.from, q.to).await?))
}
