//! Who is calling: the verified bearer token, turned into a `Caller`. The extractor that
//! does this for every handler lives with the HTTP glue (`routes::caller`); this module
//! knows tokens and the principal directory, not the application state.

use actix_web::HttpRequest;
use actix_web::http::header;
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use super::principals::{Presented, Principals, Refusal};
use super::{Role, TokenKeys};
use crate::error::ApiError;

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

/// What a bearer token says about its subject, once its signature and claims are valid.
pub fn presented(keys: &TokenKeys, token: &str) -> Result<Presented, ApiError> {
    let claims = keys.verify(token).map_err(|_| ApiError::Unauthorized(crate::msg!("token-invalid-or-expired")))?;
    let id = claims.sub.parse().map_err(|_| ApiError::Unauthorized(crate::msg!("token-invalid")))?;
    let kind = match claims.kind.as_str() {
        "user" => CallerKind::User,
        "client" => CallerKind::Client,
        _ => return Err(ApiError::Unauthorized(crate::msg!("token-invalid"))),
    };
    Ok(Presented { kind, id, session: claims.sid, version: claims.ver })
}

/// Whether the token's subject may still act, and as what: roles and organization come
/// from the directory, not from the token.
pub async fn authorize(principals: &Principals, db: &DatabaseConnection, token: Presented) -> Result<Caller, ApiError> {
    let refused = |r: Refusal| ApiError::Unauthorized(r.detail());
    let principal = match principals.check(&token).map_err(refused)? {
        Some(p) => p,
        None => {
            principals.load_one(db, token.kind, token.id).await?;
            principals.check(&token).map_err(refused)?.ok_or_else(|| refused(Refusal::UnknownSubject))?
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
