//! `/audit`: the hash-chained trail of every change, for admins and auditors.

use actix_web::{HttpResponse, get, web};
use entity::audit_event;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::extract::PageQuery;
use crate::auth::policy::{AdminOrAuditor, Authorized};
use crate::error::{ApiError, ApiResult};
use crate::service::audit::{self, ChainReport};
use crate::shared::Page;
use crate::shared::page::{decode_cursor_bytes, encode_cursor_bytes};
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(events).service(verify);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEvent {
    /// Position in the chain, from 1, without gaps.
    pub seq: i64,
    pub id: Uuid,
    pub occurred_at: chrono::DateTime<chrono::Utc>,
    pub actor_user_id: Option<Uuid>,
    /// Set when an agency system (API client) acted.
    pub actor_client_id: Option<Uuid>,
    #[schema(example = "request.submitted")]
    pub action: String,
    #[schema(example = "request")]
    pub object_type: String,
    pub object_id: Uuid,
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
    pub prev_hash: String,
    /// SHA-256 over this event's content and `prev_hash`.
    pub hash: String,
}

impl From<audit_event::Model> for AuditEvent {
    fn from(m: audit_event::Model) -> Self {
        Self {
            seq: m.seq,
            id: m.id,
            occurred_at: m.occurred_at,
            actor_user_id: m.actor_user_id,
            actor_client_id: m.actor_client_id,
            action: m.action,
            object_type: m.object_type,
            object_id: m.object_id,
            details: m.details,
            prev_hash: m.prev_hash,
            hash: m.hash,
        }
    }
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

/// The audit cursor is the last `seq` seen, as 16 big-endian bytes: the same shape as
/// every other cursor, so any cursor the spec allows decodes (out-of-range values clamp).
fn encode_seq(seq: i64) -> String {
    encode_cursor_bytes(i128::from(seq).to_be_bytes())
}

fn decode_seq(cursor: &str) -> Result<i64, ApiError> {
    let n = i128::from_be_bytes(decode_cursor_bytes(cursor)?);
    Ok(n.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64)
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
    let mut q = audit_event::Entity::find().order_by_desc(audit_event::Column::Seq).limit(limit + 1);
    if let Some(c) = &page.cursor {
        q = q.filter(audit_event::Column::Seq.lt(decode_seq(c)?));
    }
    if let Some(o) = filter.object_id {
        q = q.filter(audit_event::Column::ObjectId.eq(o));
    }
    if let Some(u) = filter.actor_user_id {
        q = q.filter(audit_event::Column::ActorUserId.eq(u));
    }
    if let Some(a) = &filter.action {
        q = q.filter(audit_event::Column::Action.eq(a.as_str()));
    }
    let rows = q.all(&state.db).await?;
    Ok(HttpResponse::Ok().json(Page::from_rows_by(rows, limit, |r| encode_seq(r.seq), AuditEvent::from)))
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
