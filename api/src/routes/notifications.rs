//! `/notifications`: the caller's inbox (SLA warnings, overdue steps, escalations).

use actix_web::{HttpResponse, get, post, web};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::extract::PageQuery;
use crate::auth::policy::{Authorized, SignedInUser};
use crate::error::{ApiError, ApiResult};
use crate::service::notifications::{self as svc, MarkedRead, Notification};
use crate::shared::Page;
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list).service(read_all).service(read_one);
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NotificationQuery {
    /// true: only unread ones; false: only read ones; absent: both, unread first.
    pub unread: Option<bool>,
}

fn me(who: &crate::auth::Caller) -> ApiResult<Uuid> {
    who.user_id().ok_or_else(|| ApiError::Forbidden(crate::msg!("notifications-not-for-clients")))
}

/// Notices are written once, in Indonesian (`docs/API-DESIGN.md`, "Languages"): they say
/// so, and do not vary with `Accept-Language`.
const WRITTEN_IN: (actix_web::http::header::HeaderName, &str) = (actix_web::http::header::CONTENT_LANGUAGE, "id");

/// Any signed-in person: their own notifications, unread first, newest first within each.
#[utoipa::path(
    tag = "notifications",
    summary = "My notifications (unread first, then newest)",
    params(PageQuery, NotificationQuery),
    responses((status = 200, body = Page<Notification>, headers(("Content-Language" = String, description = "`id`: notices are written in Indonesian, whatever `Accept-Language` asks")))),
    security(("bearer" = []))
)]
#[get("/notifications")]
async fn list(
    state: web::Data<AppState>,
    who: Authorized<SignedInUser>,
    page: web::Query<PageQuery>,
    q: web::Query<NotificationQuery>,
) -> ApiResult<HttpResponse> {
    let limit = page.limit()?;
    let items = svc::list(&state, me(&who)?, q.unread, limit, page.cursor.as_deref()).await?;
    Ok(HttpResponse::Ok().insert_header(WRITTEN_IN).json(items))
}

/// Your own notification only; anyone else's is 404. Marking a read one again changes
/// nothing.
#[utoipa::path(
    tag = "notifications",
    summary = "Mark one of my notifications read",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Notification, headers(("Content-Language" = String, description = "`id`: notices are written in Indonesian, whatever `Accept-Language` asks")))),
    security(("bearer" = []))
)]
#[post("/notifications/{id}/read")]
async fn read_one(
    state: web::Data<AppState>,
    who: Authorized<SignedInUser>,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().insert_header(WRITTEN_IN).json(svc::mark_read(&state, me(&who)?, *id).await?))
}

/// Any signed-in person, for their own notifications.
#[utoipa::path(
    tag = "notifications",
    summary = "Mark all my notifications read",
    responses((status = 200, body = MarkedRead)),
    security(("bearer" = []))
)]
#[post("/notifications/read-all")]
async fn read_all(state: web::Data<AppState>, who: Authorized<SignedInUser>) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(svc::mark_all_read(&state, me(&who)?).await?))
}
