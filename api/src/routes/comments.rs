//! `/requests/{id}/comments`: a request's comment thread.

use actix_web::{HttpResponse, get, post, web};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::extract::{ApiJson, PageQuery};
use crate::auth::policy::{Authorized, SignedIn};
use crate::error::ApiResult;
use crate::service::comments::{self as svc, Comment, NewComment};
use crate::shared::Page;
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list).service(create);
}

/// Whoever may see the request. The applicant's side (its people and systems) reads the
/// `public` comments only; the office reads all. Oldest first.
#[utoipa::path(
    tag = "comments",
    summary = "A request's comment thread",
    params(("id" = Uuid, Path), PageQuery),
    responses((status = 200, body = Page<Comment>)),
    security(("bearer" = []))
)]
#[get("/requests/{id}/comments")]
async fn list(
    state: web::Data<AppState>,
    who: Authorized<SignedIn>,
    id: web::Path<Uuid>,
    page: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let items = svc::list(&state, &who, *id, page.limit()?, page.after()?).await?;
    Ok(HttpResponse::Ok().json(items))
}

/// Whoever may see the request, except the auditor (read-only). Only the office may post
/// an `internal` comment (403 for the applicant's side). `@username` mentions notify
/// those people when they may read the comment.
#[utoipa::path(
    tag = "comments",
    summary = "Comment on a request",
    params(("id" = Uuid, Path)),
    request_body = NewComment,
    responses((status = 201, body = Comment, headers(("Location" = String)))),
    security(("bearer" = []))
)]
#[post("/requests/{id}/comments")]
async fn create(
    state: web::Data<AppState>,
    who: Authorized<SignedIn>,
    id: web::Path<Uuid>,
    body: ApiJson<NewComment>,
) -> ApiResult<HttpResponse> {
    let c = svc::post(&state, &who, *id, body.0).await?;
    Ok(HttpResponse::Created()
        .insert_header((
            actix_web::http::header::LOCATION,
            format!("/api/v1/requests/{}/comments#{}", c.request_id, c.id),
        ))
        .json(c))
}
