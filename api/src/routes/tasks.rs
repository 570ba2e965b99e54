//! `/tasks`: the caller's worklist, and `/integrations`: the catalogue.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::extract::{ApiJson, PageQuery};
use crate::auth::policy::{Authorized, SignedIn};
use crate::error::{ApiError, ApiResult};
use crate::service::integrations::{self as catalogue, CatalogueEntry, CatalogueFilter, IntegrationStatus, Retirement};
use crate::service::requests::{self as svc, RequestView};
use crate::shared::Page;
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(tasks).service(integrations).service(retire);
}

/// Any signed-in caller: the requests whose current step the caller may act on (for an
/// applicant: their organization's drafts and returned requests), most urgent (earliest
/// limit) first, in pages like every list.
#[utoipa::path(
    tag = "requests",
    summary = "My worklist (most urgent first)",
    params(PageQuery),
    responses((status = 200, description = "A page of my worklist", body = Page<RequestView>)),
    security(("bearer" = []))
)]
#[get("/tasks")]
async fn tasks(
    state: web::Data<AppState>,
    who: Authorized<SignedIn>,
    lang: crate::i18n::Lang,
    page: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let items = svc::tasks(&state, &who, page.limit()?, page.after()?).await?;
    Ok(HttpResponse::Ok().json(crate::i18n::Localize::localized(items, lang)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IntegrationQuery {
    /// Text in the title, number, source or target system or the data exchanged.
    #[param(max_length = 100)]
    pub q: Option<String>,
    pub status: Option<IntegrationStatus>,
    pub organization_id: Option<Uuid>,
}

/// Any signed-in caller, whatever their organization: the regency's SPBE inventory of
/// completed integrations (active and retired), newest first. `Accept: text/csv` gives
/// the whole filtered catalogue (up to 10 000 rows) as CSV, without paging.
#[utoipa::path(
    tag = "requests",
    summary = "The catalogue of integrations (searchable; CSV export)",
    params(PageQuery, IntegrationQuery, ("Accept" = Option<String>, Header, description = "`text/csv` for CSV")),
    responses((status = 200, description = "The catalogue", content(
        (Page<CatalogueEntry> = "application/json"),
        (String = "text/csv", example = "number,organization_code,organization_name,title,source_system,target_system,data_exchanged,base_url,completed_at,status,retired_at,retired_reason\r\n")
    ))),
    security(("bearer" = []))
)]
#[get("/integrations")]
async fn integrations(
    state: web::Data<AppState>,
    _who: Authorized<SignedIn>,
    req: HttpRequest,
    page: web::Query<PageQuery>,
    q: web::Query<IntegrationQuery>,
) -> ApiResult<HttpResponse> {
    let q = q.into_inner();
    if q.q.as_deref().is_some_and(|t| t.chars().count() > 100) {
        return Err(ApiError::invalid("q", crate::msg!("text-at-most", max = 100u32)));
    }
    let f = CatalogueFilter { q: q.q, status: q.status, organization_id: q.organization_id };
    if super::reports::wants_csv(&req) {
        return Ok(HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, "text/csv; charset=utf-8"))
            .insert_header((header::CONTENT_DISPOSITION, "attachment; filename=\"integrations.csv\""))
            .insert_header((header::VARY, "Accept"))
            .body(catalogue::csv(&state, &f).await?));
    }
    let items = catalogue::list(&state, &f, page.limit()?, page.after()?).await?;
    Ok(HttpResponse::Ok().insert_header((header::VARY, "Accept")).json(items))
}

/// An admin or a head of division: the integration is out of service (the catalogue
/// keeps it, `retired`, with the reason; the request's audit trail records who and why).
/// Not a completed request: 404; already retired: 409.
#[utoipa::path(
    tag = "requests",
    summary = "Mark an integration retired",
    params(("id" = Uuid, Path, description = "The request's id")),
    request_body = Retirement,
    responses(
        (status = 200, body = CatalogueEntry),
        (status = 409, description = "Already retired", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/integrations/{id}/retire")]
async fn retire(
    state: web::Data<AppState>,
    who: Authorized<SignedIn>,
    id: web::Path<Uuid>,
    body: ApiJson<Retirement>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(catalogue::retire(&state, &who, *id, body.0).await?))
}
