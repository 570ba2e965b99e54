//! Who is calling: the verified bearer token, turned into a `Caller`.

use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use uuid::Uuid;

use super::Role;
use super::principals::{Presented, Refusal};
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

pub fn bearer(req: &HttpRequest) -> Option<&str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then_some(token.trim())
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = futures_util::future::LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let verified = verify(req);
        Box::pin(async move {
            let (state, presented) = verified?;
            authorize(&state, presented).await
        })
    }
}

/// The signature and claims, checked without waiting on anything.
fn verify(req: &HttpRequest) -> Result<(web::Data<AppState>, Presented), ApiError> {
    let state = req.app_data::<web::Data<AppState>>().ok_or_else(|| ApiError::internal("application state missing"))?;
    let token = bearer(req).ok_or_else(|| ApiError::Unauthorized("a bearer access token is required".into()))?;
    let presented = presented(state, token)?;
    Ok((state.clone(), presented))
}

/// What a bearer token says about its subject, once its signature and claims are valid.
pub fn presented(state: &AppState, token: &str) -> Result<Presented, ApiError> {
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
    Ok(Presented { kind, id, session: claims.sid, version: claims.ver })
}

/// Whether the token's subject may still act, and as what: roles and organization come
/// from the directory, not from the token.
pub async fn authorize(state: &AppState, token: Presented) -> Result<Caller, ApiError> {
    let refused = |r: Refusal| ApiError::Unauthorized(r.detail().into());
    let principal = match state.principals.check(&token).map_err(refused)? {
        Some(p) => p,
        None => {
            state.principals.load_one(&state.db, token.kind, token.id).await?;
            state.principals.check(&token).map_err(refused)?.ok_or_else(|| refused(Refusal::UnknownSubject))?
        }
    };
    Ok(Caller {
        id: token.id,
        kind: token.kind,
        roles: principal.roles,
        organization_id: principal.organization_id,
        session_id: token.session,
    })
}
