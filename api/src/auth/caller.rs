//! Who is calling: the verified bearer token, turned into a `Caller`.

use std::future::{Ready, ready};

use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use uuid::Uuid;

use super::Role;
use crate::error::ApiError;
use crate::state::AppState;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallerKind {
    /// A person, signed in with username and password.
    User,
    /// An agency's system, signed in with the client-credentials grant.
    Client,
}

#[derive(Debug, Clone)]
pub struct Caller {
    /// The user's id, or the API client's id.
    pub id: Uuid,
    pub kind: CallerKind,
    pub roles: Vec<Role>,
    pub organization_id: Uuid,
    /// The login session, for users (password change keeps this one).
    pub session_id: Option<Uuid>,
}

impl Caller {
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    pub fn has_any(&self, roles: &[Role]) -> bool {
        roles.iter().any(|r| self.has(*r))
    }

    pub fn user_id(&self) -> Option<Uuid> {
        (self.kind == CallerKind::User).then_some(self.id)
    }

    pub fn client_id(&self) -> Option<Uuid> {
        (self.kind == CallerKind::Client).then_some(self.id)
    }

    /// Diskominfo staff see every request; applicants only their organization's.
    pub fn sees_all_requests(&self) -> bool {
        self.roles.iter().copied().any(super::role::is_office)
    }
}

fn bearer(req: &HttpRequest) -> Option<&str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then_some(token.trim())
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(authenticate(req))
    }
}

fn authenticate(req: &HttpRequest) -> Result<Caller, ApiError> {
    let state = req.app_data::<web::Data<AppState>>().ok_or_else(|| ApiError::internal("application state missing"))?;
    let token = bearer(req).ok_or_else(|| ApiError::Unauthorized("a bearer access token is required".into()))?;
    let claims = state
        .keys
        .verify(token)
        .map_err(|_| ApiError::Unauthorized("the access token is invalid or expired".into()))?;
    let id = claims.sub.parse().map_err(|_| ApiError::Unauthorized("the access token is invalid".into()))?;
    let kind = match claims.kind.as_str() {
        "user" => CallerKind::User,
        "client" => CallerKind::Client,
        _ => return Err(ApiError::Unauthorized("the access token is invalid".into())),
    };
    Ok(Caller { id, kind, roles: claims.roles, organization_id: claims.org, session_id: claims.sid })
}
