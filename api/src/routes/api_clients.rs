//! `/api-clients`: agency systems that call Jembatan with the client-credentials grant.

use actix_web::http::header;
use actix_web::{HttpResponse, get, post, web};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::extract::{ApiJson, PageQuery};
use crate::auth::policy::{AdminOnly, Authorized};
use crate::error::{ApiResult, Problem};
use crate::service::api_clients::{self as svc, ApiClient, ApiClientWithSecret, NewApiClient};
use crate::service::audit::Actor;
use crate::shared::Page;
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create).service(list).service(get_one).service(rotate).service(revoke);
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ClientFilter {
    pub organization_id: Option<Uuid>,
}

/// Admin only. The secret is in this response and nowhere else, ever.
#[utoipa::path(
    tag = "api-clients",
    summary = "Create an API client (secret shown once)",
    request_body = NewApiClient,
    responses((status = 201, body = ApiClientWithSecret, headers(("Location" = String)))),
    security(("bearer" = []))
)]
#[post("/api-clients")]
async fn create(
    state: web::Data<AppState>,
    who: Authorized<AdminOnly>,
    body: ApiJson<NewApiClient>,
) -> ApiResult<HttpResponse> {
    let c = svc::create(&state, Actor::from(&*who), body.0).await?;
    // Said here, not only by the headers middleware: the idempotency store keeps no
    // response marked so.
    let mut res = super::created(format!("/api/v1/api-clients/{}", c.client.id), c.client.version, &c);
    res.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    Ok(res)
}

/// Admin only.
#[utoipa::path(
    tag = "api-clients",
    summary = "List API clients",
    params(PageQuery, ClientFilter),
    responses((status = 200, body = Page<ApiClient>)),
    security(("bearer" = []))
)]
#[get("/api-clients")]
async fn list(
    state: web::Data<AppState>,
    _who: Authorized<AdminOnly>,
    page: web::Query<PageQuery>,
    filter: web::Query<ClientFilter>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(svc::list(&state, filter.organization_id, page.limit()?, page.after()?).await?))
}

/// Admin only.
#[utoipa::path(
    tag = "api-clients",
    summary = "Get an API client",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = ApiClient)),
    security(("bearer" = []))
)]
#[get("/api-clients/{id}")]
async fn get_one(
    state: web::Data<AppState>,
    _who: Authorized<AdminOnly>,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let c: ApiClient = svc::find(&state.db, *id).await?.into();
    Ok(super::ok_versioned(c.version, &c))
}

/// Admin only. The old secret stops working at once.
#[utoipa::path(
    tag = "api-clients",
    summary = "Rotate an API client's secret (new secret shown once)",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = ApiClientWithSecret),
        (status = 409, description = "The client is revoked", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/api-clients/{id}/rotate")]
async fn rotate(
    state: web::Data<AppState>,
    who: Authorized<AdminOnly>,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let c = svc::rotate(&state, Actor::from(&*who), *id).await?;
    let mut res = super::ok_versioned(c.client.version, &c);
    res.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    Ok(res)
}

/// Admin only. Final: a revoked client cannot be used or rotated.
#[utoipa::path(
    tag = "api-clients",
    summary = "Revoke an API client",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = ApiClient)),
    security(("bearer" = []))
)]
#[post("/api-clients/{id}/revoke")]
async fn revoke(
    state: web::Data<AppState>,
    who: Authorized<AdminOnly>,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let c = svc::revoke(&state, Actor::from(&*who), *id).await?;
    Ok(super::ok_versioned(c.version, &c))
}
