//! `/auth`: sign in, refresh, sign out, who am I, change password, machine tokens.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::extract::{ApiJson, parse_json};
use crate::auth::CallerKind;
use crate::auth::policy::{Authorized, SignedIn, SignedInUser};
use crate::error::{ApiError, ApiResult, Problem};
use crate::service::sessions::{
    self, ClientTokenResponse, LoginRequest, LoginResponse, PasswordChange, RefreshRequest,
};
use crate::service::{api_clients, users};
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(login)
        .service(refresh)
        .service(logout)
        .service(me)
        .service(update_me)
        .service(change_password)
        .service(token);
}

/// Public. Wrong username and wrong password answer the same 401; repeated failures per
/// account or address answer 429 with `Retry-After`.
#[utoipa::path(
    tag = "auth",
    summary = "Sign in with username and password",
    request_body = LoginRequest,
    responses(
        (status = 200, body = LoginResponse),
        (status = 401, description = "Invalid username or password", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failed attempts", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
#[post("/auth/login")]
async fn login(state: web::Data<AppState>, req: HttpRequest, body: ApiJson<LoginRequest>) -> ApiResult<HttpResponse> {
    let res = sessions::login(&state, body.0, &super::client_address(&req)).await?;
    Ok(HttpResponse::Ok().json(res))
}

/// Public (the refresh token is the credential). Rotates the token; presenting a used one
/// revokes its whole session.
#[utoipa::path(
    tag = "auth",
    summary = "Exchange a refresh token for a new token pair",
    request_body = RefreshRequest,
    responses(
        (status = 200, body = LoginResponse),
        (status = 401, description = "Invalid, expired or reused refresh token", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/refresh")]
async fn refresh(state: web::Data<AppState>, body: ApiJson<RefreshRequest>) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(sessions::refresh(&state, &body.0.refresh_token).await?))
}

/// Public (the refresh token is the credential). Ends the session; idempotent.
#[utoipa::path(
    tag = "auth",
    summary = "Sign out (revoke the session of a refresh token)",
    request_body = RefreshRequest,
    responses((status = 204, description = "Signed out"))
)]
#[post("/auth/logout")]
async fn logout(state: web::Data<AppState>, body: ApiJson<RefreshRequest>) -> ApiResult<HttpResponse> {
    sessions::logout(&state, &body.0.refresh_token).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The signed-in caller: a user's profile (`kind: user`), or an API client's description
/// (`kind: client`). Each shape is a named schema, so client generators make a union of
/// two types.
#[derive(serde::Serialize, ToSchema)]
#[serde(untagged)]
pub enum Me {
    User(MeUser),
    Client(MeClient),
}

#[derive(serde::Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UserKind {
    User,
}

#[derive(serde::Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClientKind {
    Client,
}

/// A signed-in person.
#[derive(serde::Serialize, ToSchema)]
pub struct MeUser {
    pub kind: UserKind,
    #[serde(flatten)]
    pub user: users::User,
}

/// A signed-in agency system.
#[derive(serde::Serialize, ToSchema)]
pub struct MeClient {
    pub kind: ClientKind,
    #[serde(flatten)]
    pub client: api_clients::ApiClient,
}

impl Me {
    fn user(user: users::User) -> Me {
        Me::User(MeUser { kind: UserKind::User, user })
    }
}

/// Any signed-in user or API client.
#[utoipa::path(
    tag = "auth",
    summary = "Who am I",
    responses((status = 200, body = Me)),
    security(("bearer" = []))
)]
#[get("/auth/me")]
async fn me(state: web::Data<AppState>, who: Authorized<SignedIn>) -> ApiResult<HttpResponse> {
    let me = match who.kind {
        // Whether the account may act was checked by the extractor, against the directory.
        CallerKind::User => Me::user(users::find(&state.db, who.id).await?.into()),
        CallerKind::Client => Me::Client(MeClient {
            kind: ClientKind::Client,
            client: api_clients::find(&state.db, who.id).await?.into(),
        }),
    };
    Ok(HttpResponse::Ok().json(me))
}

/// What a user may change about themselves here.
#[derive(Debug, serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email_opt_out": true}))]
pub struct MyPreferences {
    /// true: no e-mail (in-app notifications still arrive).
    pub email_opt_out: bool,
}

/// Any signed-in user (not an API client): their own preferences.
#[utoipa::path(
    tag = "auth",
    summary = "Change my preferences (e-mail)",
    request_body = MyPreferences,
    responses((status = 200, body = Me)),
    security(("bearer" = []))
)]
#[patch("/auth/me")]
async fn update_me(
    state: web::Data<AppState>,
    who: Authorized<SignedInUser>,
    body: ApiJson<MyPreferences>,
) -> ApiResult<HttpResponse> {
    let user = users::set_email_opt_out(&state, who.id, body.0.email_opt_out).await?;
    Ok(HttpResponse::Ok().json(Me::user(user)))
}

/// Any signed-in user (not an API client). Other sessions of the user are revoked.
#[utoipa::path(
    tag = "auth",
    summary = "Change my password",
    request_body = PasswordChange,
    responses((status = 204, description = "Changed; your other sessions are signed out")),
    security(("bearer" = []))
)]
#[post("/auth/password")]
async fn change_password(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Authorized<SignedInUser>,
    body: ApiJson<PasswordChange>,
) -> ApiResult<HttpResponse> {
    sessions::change_password(&state, &who, body.0, &super::client_address(&req)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The OAuth2 client-credentials grant (RFC 6749 §4.4).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"grant_type": "client_credentials", "client_id": "jbc_3kq9d0x2m4", "client_secret": "jbs_…"}))]
pub struct ClientCredentials {
    pub grant_type: GrantType,
    #[schema(min_length = 1, max_length = 64)]
    pub client_id: String,
    #[schema(min_length = 1, max_length = 200)]
    pub client_secret: String,
}

/// The only grant Jembatan issues tokens for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GrantType {
    ClientCredentials,
}

/// Public (the client secret is the credential). Accepts JSON or, as OAuth2 clients send
/// it, `application/x-www-form-urlencoded`. The token acts for the client's agency with an
/// applicant's rights.
#[utoipa::path(
    tag = "auth",
    summary = "Client-credentials grant for agency systems",
    request_body(content(
        (ClientCredentials = "application/json"),
        (ClientCredentials = "application/x-www-form-urlencoded")
    )),
    responses(
        (status = 200, body = ClientTokenResponse),
        (status = 401, description = "Invalid client credentials", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/token")]
async fn token(state: web::Data<AppState>, req: HttpRequest, body: web::Bytes) -> ApiResult<HttpResponse> {
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if body.len() > state.settings.json_limit_bytes {
        return Err(ApiError::PayloadTooLarge(crate::msg!("body-too-large")));
    }
    let creds: ClientCredentials = match essence.as_str() {
        "application/json" => parse_json(&body)?,
        "application/x-www-form-urlencoded" => serde_urlencoded::from_bytes(&body)
            .map_err(|e| ApiError::bad_request(crate::msg!("form-malformed", why = e.to_string())))?,
        _ => return Err(ApiError::UnsupportedMediaType(crate::msg!("send-json-or-form"))),
    };
    let res =
        sessions::client_token(&state, &creds.client_id, &creds.client_secret, &super::client_address(&req)).await?;
    Ok(HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "no-store")).json(res))
}
