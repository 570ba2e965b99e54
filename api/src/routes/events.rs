//! `/events`: the event feed for agency systems that poll instead of receiving calls.

use actix_web::{HttpResponse, get, web};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::policy::{Authorized, SignedIn};
use crate::error::{ApiError, ApiResult};
use crate::service::feed::{self, FeedPage};
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list);
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeedQuery {
    /// The `next_cursor` of the previous page; absent: from the beginning.
    #[param(pattern = "^[A-Za-z0-9_-]{21}[AQgw]$", min_length = 22, max_length = 22)]
    pub after: Option<String>,
    /// Entries per page, 1–100 (default 50).
    #[param(minimum = 1, maximum = 100, example = 50)]
    pub limit: Option<u64>,
}

/// Any signed-in user or agency system. What happened to the requests the caller may see
/// (an agency: its own organization's; the office, admins and auditors: all), oldest
/// first, in the audit log's order: submitted, moved to a step, returned, resubmitted,
/// rejected, withdrawn, cancelled, completed, SLA warning and overdue, documents added,
/// public comments. Entries are thin (ids, type, time, links): read the request for the
/// rest. Poll with `after` = the last `next_cursor`: pages never skip or repeat an entry,
/// even while transitions commit. Read pages until `at_end`, then poll. An event appears
/// once it is in the audit log (within a second). A cursor beyond the log's end is 422.
#[utoipa::path(
    tag = "events",
    summary = "The event feed: what happened to the requests you may see, in order",
    params(FeedQuery),
    responses((status = 200, description = "A page of the feed", body = FeedPage)),
    security(("bearer" = []))
)]
#[get("/events")]
async fn list(
    state: web::Data<AppState>,
    who: Authorized<SignedIn>,
    q: web::Query<FeedQuery>,
) -> ApiResult<HttpResponse> {
    let limit = match q.limit {
        None => 50,
        Some(n) if (1..=100).contains(&n) => n,
        Some(_) => return Err(ApiError::invalid("limit", crate::msg!("limit-range", max = 100u32))),
    };
    Ok(HttpResponse::Ok().json(feed::page(&state, &who, q.after.as_deref(), limit).await?))
}
