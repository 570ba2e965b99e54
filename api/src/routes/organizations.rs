//! `/organizations`: agencies and Diskominfo divisions.

use actix_web::{HttpResponse, get, patch, post, web};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::extract::{ApiJson, IfMatch, PageQuery};
use crate::auth::policy::{AdminOnly, Authorized, SignedIn};
use crate::error::{ApiResult, Problem};
use crate::service::audit::Actor;
use crate::service::organizations::{self as svc, NewOrganization, Organization, OrganizationKind, OrganizationUpdate};
use crate::shared::Page;
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create).service(list).service(get_one).service(update).service(deactivate).service(activate);
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrganizationFilter {
    pub kind: Option<OrganizationKind>,
    pub active: Option<bool>,
}

/// Admin only.
#[utoipa::path(
    tag = "directory",
    summary = "Create an organization",
    request_body = NewOrganization,
    responses(
        (status = 201, body = Organization, headers(("Location" = String), ("ETag" = String))),
        (status = 409, description = "The code is taken", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/organizations")]
async fn create(
    state: web::Data<AppState>,
    who: Authorized<AdminOnly>,
    body: ApiJson<NewOrganization>,
) -> ApiResult<HttpResponse> {
    let org = svc::create(&state, Actor::from(&*who), body.0).await?;
    Ok(super::created(format!("/api/v1/organizations/{}", org.id), org.version, &org))
}

/// Any signed-in caller (organization names are not secret; front-ends need them).
#[utoipa::path(
    tag = "directory",
    summary = "List organizations",
    params(PageQuery, OrganizationFilter),
    responses((status = 200, body = Page<Organization>)),
    security(("bearer" = []))
)]
#[get("/organizations")]
async fn list(
    state: web::Data<AppState>,
    _who: Authorized<SignedIn>,
    page: web::Query<PageQuery>,
    filter: web::Query<OrganizationFilter>,
) -> ApiResult<HttpResponse> {
    let res = svc::list(&state, filter.kind, filter.active, page.limit()?, page.after()?).await?;
    Ok(HttpResponse::Ok().json(res))
}

/// Any signed-in caller.
#[utoipa::path(
    tag = "directory",
    summary = "Get an organization",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Organization, headers(("ETag" = String)))),
    security(("bearer" = []))
)]
#[get("/organizations/{id}")]
async fn get_one(
    state: web::Data<AppState>,
    _who: Authorized<SignedIn>,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let org = svc::get(&state, *id).await?;
    Ok(super::ok_versioned(org.version, &org))
}

/// Admin only. Send the version you saw: `If-Match` (stale → 412) or `version` (stale → 409).
#[utoipa::path(
    tag = "directory",
    summary = "Update an organization's code or name",
    params(("id" = Uuid, Path), IfMatch),
    request_body = OrganizationUpdate,
    responses(
        (status = 200, body = Organization, headers(("ETag" = String))),
        (status = 409, description = "Stale `version` or code taken", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale `If-Match`", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[patch("/organizations/{id}")]
async fn update(
    state: web::Data<AppState>,
    who: Authorized<AdminOnly>,
    if_match: IfMatch,
    id: web::Path<Uuid>,
    body: ApiJson<OrganizationUpdate>,
) -> ApiResult<HttpResponse> {
    let org = svc::update(&state, Actor::from(&*who), *id, body.0, if_match.version).await?;
    Ok(super::ok_versioned(org.version, &org))
}

/// Admin only. Organizations are never deleted: their requests stay on record. An admin
/// cannot deactivate their own organization (it would sign everyone in it out, the admin
/// too, with nobody left to turn it back on): 409; another admin must.
#[utoipa::path(
    tag = "directory",
    summary = "Deactivate an organization",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = Organization),
        (status = 409, description = "Your own organization", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/organizations/{id}/deactivate")]
async fn deactivate(
    state: web::Data<AppState>,
    who: Authorized<AdminOnly>,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let org = svc::set_active(&state, Actor::from(&*who), *id, false).await?;
    Ok(super::ok_versioned(org.version, &org))
}

/// Admin only.
#[utoipa::path(
    tag = "directory",
    summary = "Reactivate an organization",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Organization)),
    security(("bearer" = []))
)]
#[post("/organizations/{id}/activate")]
async fn activate(
    state: web::Data<AppState>,
    who: Authorized<AdminOnly>,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let org = svc::set_active(&state, Actor::from(&*who), *id, true).await?;
    Ok(super::ok_versioned(org.version, &org))
}
