//! `/acting-assignments`: acting officials (Plt, Plh) and delegations.

use actix_web::{HttpResponse, get, post, web};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::extract::{ApiJson, PageQuery};
use crate::auth::policy::{Authorized, SignedInUser};
use crate::error::ApiResult;
use crate::service::acting::{self as svc, ActingAssignment, NewActingAssignment};
use crate::shared::Page;
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list).service(create).service(end);
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ActingQuery {
    /// true: only those in force now.
    pub active: Option<bool>,
}

/// Signed-in people. Admins and auditors see every appointment; anyone else those they
/// act in or are acted for in. Newest first.
#[utoipa::path(
    tag = "acting",
    summary = "Acting officials and delegations",
    params(PageQuery, ActingQuery),
    responses((status = 200, body = Page<ActingAssignment>)),
    security(("bearer" = []))
)]
#[get("/acting-assignments")]
async fn list(
    state: web::Data<AppState>,
    who: Authorized<SignedInUser>,
    page: web::Query<PageQuery>,
    q: web::Query<ActingQuery>,
) -> ApiResult<HttpResponse> {
    let items = svc::list(&state, &who, q.active.unwrap_or(false), page.limit()?, page.after()?).await?;
    Ok(HttpResponse::Ok().json(items))
}

/// An admin records a Plt or Plh (for a person, or for a post: a role in an
/// organization); an official may delegate their own tasks (`kind: delegation`,
/// `for_user_id` = themselves); anyone else 403. Inside the range the acting user sees the
/// official's tasks and may act on them; the audit trail records "B, Plh for A". A range
/// starting before today is 422; one overlapping another for the same official (or post)
/// is 409.
#[utoipa::path(
    tag = "acting",
    summary = "Appoint an acting official, or delegate",
    request_body = NewActingAssignment,
    responses(
        (status = 201, body = ActingAssignment, headers(("Location" = String))),
        (status = 409, description = "Another appointment already covers part of this range for that official", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/acting-assignments")]
async fn create(
    state: web::Data<AppState>,
    who: Authorized<SignedInUser>,
    body: ApiJson<NewActingAssignment>,
) -> ApiResult<HttpResponse> {
    let a = svc::create(&state, &who, body.0).await?;
    Ok(HttpResponse::Created()
        .insert_header((actix_web::http::header::LOCATION, format!("/api/v1/acting-assignments/{}", a.id)))
        .json(a))
}

/// An admin; for a delegation also its two parties. Ends it now (the record stays). One
/// the caller may not see is 404; an ended one 409.
#[utoipa::path(
    tag = "acting",
    summary = "End an appointment early",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = ActingAssignment),
        (status = 409, description = "The appointment has already ended", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/acting-assignments/{id}/end")]
async fn end(
    state: web::Data<AppState>,
    who: Authorized<SignedInUser>,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(svc::end(&state, &who, *id).await?))
}
