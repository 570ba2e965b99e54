//! `/users`: people and their roles.

use actix_web::{HttpResponse, get, patch, post, web};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::extract::{ApiJson, IfMatch, PageQuery};
use crate::auth::Role;
use crate::auth::policy::{AdminOnly, Authorized, Oversight, SignedIn};
use crate::error::{ApiError, ApiResult, Problem};
use crate::service::audit::Actor;
use crate::service::users::{self as svc, NewUser, User, UserFilter, UserUpdate};
use crate::shared::Page;
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create).service(list).service(get_one).service(update).service(deactivate).service(activate);
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserListFilter {
    pub organization_id: Option<Uuid>,
    pub role: Option<Role>,
    pub active: Option<bool>,
}

/// Admin only.
#[utoipa::path(
    tag = "directory",
    summary = "Create a user",
    request_body = NewUser,
    responses(
        (status = 201, body = User, headers(("Location" = String), ("ETag" = String))),
        (status = 409, description = "Username or NIP taken", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/users")]
async fn create(
    state: web::Data<AppState>,
    who: Authorized<AdminOnly>,
    body: ApiJson<NewUser>,
) -> ApiResult<HttpResponse> {
    let user = svc::create(&state, Actor::from(&*who), body.0).await?;
    Ok(super::created(format!("/api/v1/users/{}", user.id), user.version, &user))
}

/// Admin, auditor and the office's heads. The heads address dispositions and form teams
/// by naming people (`?role=technical_lead&active=true`): they see the office's people
/// (members of a division) only, without NIP and e-mail.
#[utoipa::path(
    tag = "directory",
    summary = "List users",
    params(PageQuery, UserListFilter),
    responses((status = 200, body = Page<User>)),
    security(("bearer" = []))
)]
#[get("/users")]
async fn list(
    state: web::Data<AppState>,
    who: Authorized<Oversight>,
    page: web::Query<PageQuery>,
    filter: web::Query<UserListFilter>,
) -> ApiResult<HttpResponse> {
    // The heads see the office's people only, without NIP and e-mail.
    let staff_only = !who.has_any(&[crate::auth::Role::Admin, crate::auth::Role::Auditor]);
    let f =
        UserFilter { organization_id: filter.organization_id, role: filter.role, active: filter.active, staff_only };
    Ok(HttpResponse::Ok().json(svc::list(&state, f, page.limit()?, page.after()?).await?))
}

/// Admin, auditor, or the user themself (anyone else: 404).
#[utoipa::path(
    tag = "directory",
    summary = "Get a user",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = User, headers(("ETag" = String)))),
    security(("bearer" = []))
)]
#[get("/users/{id}")]
async fn get_one(
    state: web::Data<AppState>,
    who: Authorized<SignedIn>,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    if !(who.has_any(&[Role::Admin, Role::Auditor]) || who.user_id() == Some(*id)) {
        return Err(ApiError::not_found("user"));
    }
    let user: User = svc::find(&state.db, *id).await?.into();
    Ok(super::ok_versioned(user.version, &user))
}

/// Admin only. Changing roles or organization signs the user out of other sessions.
#[utoipa::path(
    tag = "directory",
    summary = "Update a user",
    params(("id" = Uuid, Path), IfMatch),
    request_body = UserUpdate,
    responses(
        (status = 200, body = User, headers(("ETag" = String))),
        (status = 409, description = "Stale `version`, NIP taken, or your own roles or organization (another admin must change them)", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale `If-Match`", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[patch("/users/{id}")]
async fn update(
    state: web::Data<AppState>,
    who: Authorized<AdminOnly>,
    if_match: IfMatch,
    id: web::Path<Uuid>,
    body: ApiJson<UserUpdate>,
) -> ApiResult<HttpResponse> {
    let user = svc::update(&state, Actor::from(&*who), *id, body.0, if_match.version).await?;
    Ok(super::ok_versioned(user.version, &user))
}

/// Admin only. The user is refused at once on refresh, and within one access-token
/// lifetime everywhere. Users are never deleted.
#[utoipa::path(
    tag = "directory",
    summary = "Deactivate a user",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = User),
        (status = 409, description = "You cannot deactivate yourself", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/users/{id}/deactivate")]
async fn deactivate(
    state: web::Data<AppState>,
    who: Authorized<AdminOnly>,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let user = svc::set_active(&state, Actor::from(&*who), *id, false).await?;
    Ok(super::ok_versioned(user.version, &user))
}

/// Admin only.
#[utoipa::path(
    tag = "directory",
    summary = "Reactivate a user",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = User),
        (status = 409, description = "A demo account (its password is published) cannot be activated", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/users/{id}/activate")]
async fn activate(
    state: web::Data<AppState>,
    who: Authorized<AdminOnly>,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let user = svc::set_active(&state, Actor::from(&*who), *id, true).await?;
    Ok(super::ok_versioned(user.version, &user))
}
