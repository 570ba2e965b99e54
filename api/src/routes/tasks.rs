//! `/tasks`: the caller's worklist, and `/integrations`: the catalogue.

use actix_web::{HttpResponse, get, web};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;

use super::extract::PageQuery;
use crate::auth::policy::{Authorized, SignedIn};
use crate::error::ApiResult;
use crate::service::requests::{self as svc, CatalogueEntry, RequestView};
use crate::shared::Page;
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(tasks).service(integrations);
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TaskQuery {
    /// At most this many (1–100, default 50).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u64>,
}

/// Any signed-in caller: the requests whose current step the caller may act on (for an
/// applicant: their organization's drafts and returned requests), most urgent first.
#[utoipa::path(
    tag = "requests",
    summary = "My worklist (most urgent first)",
    params(TaskQuery),
    responses((status = 200, body = Vec<RequestView>)),
    security(("bearer" = []))
)]
#[get("/tasks")]
async fn tasks(
    state: web::Data<AppState>,
    who: Authorized<SignedIn>,
    q: web::Query<TaskQuery>,
) -> ApiResult<HttpResponse> {
    let limit = match q.limit {
        None => 50,
        Some(n) if (1..=100).contains(&n) => n,
        Some(_) => return Err(crate::error::ApiError::invalid("limit", "must be between 1 and 100")),
    };
    Ok(HttpResponse::Ok().json(svc::tasks(&state, &who, limit).await?))
}

/// Any signed-in caller; applicants see their organization's integrations, the office
/// sees all.
#[utoipa::path(
    tag = "requests",
    summary = "The catalogue of completed integrations",
    params(PageQuery),
    responses((status = 200, body = Page<CatalogueEntry>)),
    security(("bearer" = []))
)]
#[get("/integrations")]
async fn integrations(
    state: web::Data<AppState>,
    who: Authorized<SignedIn>,
    page: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(svc::catalogue(&state, &who, page.limit()?, page.after()?).await?))
}
