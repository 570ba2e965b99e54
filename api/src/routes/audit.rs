//! `/audit`: the hash-chained trail of every change, for admins and auditors.

use actix_web::{HttpResponse, get, web};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::extract::PageQuery;
use crate::auth::policy::{AdminOrAuditor, Authorized};
use crate::error::ApiResult;
use crate::service::audit::{self, AuditEvent, ChainReport};
use crate::shared::Page;
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(events).service(verify);
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

/// Admin and auditor. Recomputes every hash; reports the first break, if any.
#[utoipa::path(
    tag = "audit",
    summary = "Verify the audit chain's integrity",
    responses((status = 200, body = ChainReport)),
    security(("bearer" = []))
)]
#[get("/audit/verify")]
async fn verify(state: web::Data<AppState>, _who: Authorized<AdminOrAuditor>) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(audit::verify(&state.db).await?))
}
