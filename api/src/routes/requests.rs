//! `/requests`: create, edit, read, list, and the timeline. Transitions are in
//! `transitions.rs`, documents in `documents.rs`.

use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::extract::{ApiJson, IfMatch, PageQuery};
use crate::auth::policy::{Authorized, SignedIn};
use crate::error::{ApiError, ApiResult};
use crate::service::requests::{self as svc, NewRequest, RequestFilter, RequestUpdate, RequestView};
use crate::service::timeline::{self, Timeline};
use crate::shared::Page;
use crate::state::AppState;
use crate::workflow::{Flow, Status, StepCode};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create).service(list).service(get_one).service(update).service(get_timeline).service(get_dossier);
}

/// An applicant or an agency's system. The flow follows the caller's organization:
/// an agency → `external`, a Diskominfo division → `internal`. Starts as a draft.
#[utoipa::path(
    tag = "requests",
    summary = "Create an integration request (draft)",
    request_body = NewRequest,
    responses((status = 201, body = RequestView, headers(("Location" = String), ("ETag" = String)))),
    security(("bearer" = []))
)]
#[post("/requests")]
async fn create(
    state: web::Data<AppState>,
    who: Authorized<SignedIn>,
    body: ApiJson<NewRequest>,
) -> ApiResult<HttpResponse> {
    let r = svc::create(&state, &who, body.0).await?;
    Ok(super::created(format!("/api/v1/requests/{}", r.id), r.version, &r))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RequestListQuery {
    pub status: Option<Status>,
    pub flow: Option<Flow>,
    pub organization_id: Option<Uuid>,
    pub current_step: Option<StepCode>,
    /// Only requests past their current step's limit (or, with false, only those not).
    pub overdue: Option<bool>,
    /// Text in the title or the registration number (at most 100 characters).
    #[param(max_length = 100)]
    pub q: Option<String>,
}

/// `q`'s `max_length` above (utoipa takes no constants; a test compares them).
pub const MAX_Q_CHARS: usize = 100;

/// Applicants see their organization's requests; the office's roles and the auditor see
/// all. Newest first.
#[utoipa::path(
    tag = "requests",
    summary = "List requests",
    params(PageQuery, RequestListQuery),
    responses((status = 200, body = Page<RequestView>)),
    security(("bearer" = []))
)]
#[get("/requests")]
async fn list(
    state: web::Data<AppState>,
    who: Authorized<SignedIn>,
    page: web::Query<PageQuery>,
    q: web::Query<RequestListQuery>,
) -> ApiResult<HttpResponse> {
    let q = q.into_inner();
    // The documented maxLength, in characters (as JSON Schema counts them).
    if q.q.as_deref().is_some_and(|text| text.chars().count() > MAX_Q_CHARS) {
        return Err(ApiError::invalid("q", format!("must be at most {MAX_Q_CHARS} characters")));
    }
    let f = RequestFilter {
        status: q.status,
        flow: q.flow,
        organization_id: q.organization_id,
        current_step: q.current_step,
        overdue: q.overdue,
        q: q.q,
    };
    Ok(HttpResponse::Ok().json(svc::list(&state, &who, f, page.limit()?, page.after()?).await?))
}

/// Anyone who may see the request (another agency's request is 404).
#[utoipa::path(
    tag = "requests",
    summary = "Get a request with its current step, due time and SLA state",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = RequestView, headers(("ETag" = String)))),
    security(("bearer" = []))
)]
#[get("/requests/{id}")]
async fn get_one(
    state: web::Data<AppState>,
    who: Authorized<SignedIn>,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let r = svc::get(&state, &who, *id).await?;
    Ok(super::ok_versioned(r.version, &r))
}

/// The applicant of the requesting organization, while the request is a draft or
/// returned for revision.
#[utoipa::path(
    tag = "requests",
    summary = "Edit a draft or returned request",
    params(("id" = Uuid, Path), IfMatch),
    request_body = RequestUpdate,
    responses(
        (status = 200, body = RequestView, headers(("ETag" = String))),
        (status = 409, description = "Not editable now, or a stale version", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "If-Match names a version the request is no longer at", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[patch("/requests/{id}")]
async fn update(
    state: web::Data<AppState>,
    who: Authorized<SignedIn>,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: ApiJson<RequestUpdate>,
) -> ApiResult<HttpResponse> {
    let r = svc::update(&state, &who, *id, body.0, IfMatch::parse(&req)?).await?;
    Ok(super::ok_versioned(r.version, &r))
}

/// Anyone who may see the request.
#[utoipa::path(
    tag = "requests",
    summary = "A request's timeline: every step and event, who, when, how long against the standard",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Timeline)),
    security(("bearer" = []))
)]
#[get("/requests/{id}/timeline")]
async fn get_timeline(
    state: web::Data<AppState>,
    who: Authorized<SignedIn>,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(timeline::timeline(&state, &who, *id).await?))
}

/// Anyone who may see the request. One tar file an auditor checks offline with `jembatan
/// verify` (docs/EVIDENCE.md): the request's events as JSONL with their inclusion proofs
/// to the latest signed checkpoint, the documents, consistency proofs from earlier
/// checkpoints, the verifier keys, and a manifest signed by the log's key. The applicant's
/// bundle leaves out the office's internal events and withholds internal notes (those
/// events are marked `redacted`: their place in the log is proven, their content is not).
/// 409 while an event of the request is not yet in the signed log (under a second).
#[utoipa::path(
    tag = "requests",
    summary = "A request's evidence bundle (tar), verifiable offline",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "The bundle", content_type = "application/x-tar", body = Vec<u8>,
        headers(("Content-Disposition" = String)))),
    security(("bearer" = []))
)]
#[get("/requests/{id}/dossier")]
async fn get_dossier(
    state: web::Data<AppState>,
    who: Authorized<SignedIn>,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let files = crate::service::bundle::for_request(&state, Some(&who), *id).await?;
    let tar = web::block(move || crate::service::bundle::to_tar(&files))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok()
        .content_type("application/x-tar")
        .insert_header(("Content-Disposition", format!("attachment; filename=\"dossier-{id}.tar\"")))
        .insert_header(("Cache-Control", "no-store"))
        .body(tar))
}
