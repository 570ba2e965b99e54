//! `/workflows`: the SOP's flows as published definitions.

use actix_web::{HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::extract::{ApiJson, PageQuery};
use crate::auth::policy::{AdminOnly, Authorized, SignedIn};
use crate::error::ApiResult;
use crate::service::audit::Actor;
use crate::service::workflows::{self as svc, PublishedDefinition, WorkflowVersion};
use crate::shared::Page;
use crate::state::AppState;
use crate::workflow::{DispositionInstruction, Flow, WorkflowDefinition};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list).service(instructions).service(get_one).service(list_versions).service(publish);
}

#[derive(Serialize, ToSchema)]
pub struct WorkflowList {
    /// The newest version of each flow.
    pub items: Vec<PublishedDefinition>,
}

/// Any signed-in caller.
#[utoipa::path(
    tag = "workflows",
    summary = "List the flows (newest version of each)",
    responses((status = 200, body = WorkflowList)),
    security(("bearer" = []))
)]
#[get("/workflows")]
async fn list(state: web::Data<AppState>, _who: Authorized<SignedIn>) -> ApiResult<HttpResponse> {
    let mut items = Vec::new();
    for flow in Flow::ALL {
        items.push(svc::latest(&state.db, *flow).await?);
    }
    Ok(HttpResponse::Ok().json(WorkflowList { items }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VersionQuery {
    /// A specific version (default: the newest).
    #[param(minimum = 1)]
    pub version: Option<i32>,
}

/// Any signed-in caller.
#[utoipa::path(
    tag = "workflows",
    summary = "Get a flow's definition: steps, actors, documents, time standards",
    params(("key" = Flow, Path, description = "`external` or `internal`"), VersionQuery),
    responses((status = 200, body = PublishedDefinition)),
    security(("bearer" = []))
)]
#[get("/workflows/{key}")]
async fn get_one(
    state: web::Data<AppState>,
    _who: Authorized<SignedIn>,
    key: web::Path<Flow>,
    q: web::Query<VersionQuery>,
) -> ApiResult<HttpResponse> {
    let def = match q.version {
        Some(v) => svc::version(&state, *key, v).await?,
        None => svc::latest(&state.db, *key).await?,
    };
    Ok(HttpResponse::Ok().json(def))
}

/// Any signed-in caller. Newest first; each revision's whole definition is
/// `GET /workflows/{key}?version=N`.
#[utoipa::path(
    tag = "workflows",
    summary = "List a flow's published revisions",
    params(("key" = Flow, Path, description = "`external` or `internal`"), PageQuery),
    responses((status = 200, body = Page<WorkflowVersion>)),
    security(("bearer" = []))
)]
#[get("/workflows/{key}/versions")]
async fn list_versions(
    state: web::Data<AppState>,
    _who: Authorized<SignedIn>,
    key: web::Path<Flow>,
    page: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let before = page.cursor.as_deref().map(svc::decode_version).transpose()?;
    Ok(HttpResponse::Ok().json(svc::versions(&state, *key, page.limit()?, before).await?))
}

/// Admin only. Validated (unique codes, an actor per step, every step reachable, …);
/// numbered newest + 1. Running requests stay on the version they started with.
#[utoipa::path(
    tag = "workflows",
    summary = "Publish a revised definition of a flow",
    params(("key" = Flow, Path)),
    request_body = WorkflowDefinition,
    responses((status = 201, body = PublishedDefinition)),
    security(("bearer" = []))
)]
#[post("/workflows/{key}/versions")]
async fn publish(
    state: web::Data<AppState>,
    who: Authorized<AdminOnly>,
    key: web::Path<Flow>,
    body: ApiJson<WorkflowDefinition>,
) -> ApiResult<HttpResponse> {
    let published = svc::publish(&state, Actor::from(&*who), *key, body.0).await?;
    Ok(HttpResponse::Created().json(published))
}

#[derive(Serialize, ToSchema)]
pub struct InstructionInfo {
    pub code: DispositionInstruction,
    /// As printed on the disposition sheet.
    pub indonesian: &'static str,
    pub english: &'static str,
}

/// Any signed-in caller: the fixed list a disposition's `instructions` come from, as one
/// page (like every list; it has no next page).
#[utoipa::path(
    tag = "workflows",
    summary = "List the disposition instructions",
    responses((status = 200, description = "Every instruction, in one page", body = crate::shared::Page<InstructionInfo>)),
    security(("bearer" = []))
)]
#[get("/workflows/disposition-instructions")]
async fn instructions(_who: Authorized<SignedIn>) -> HttpResponse {
    let items: Vec<InstructionInfo> = DispositionInstruction::ALL
        .iter()
        .map(|i| InstructionInfo { code: *i, indonesian: i.indonesian(), english: i.english() })
        .collect();
    HttpResponse::Ok().json(crate::shared::Page { items, next_cursor: None })
}
