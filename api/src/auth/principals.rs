//! Who may act right now: every user's and API client's standing (active, roles,
//! organization, token version), which organizations are deactivated, and which login
//! sessions were revoked, held in memory and checked on every request.
//!
//! A signed token proves only that we issued it once. Deactivation, logout, a password or
//! role change, a client's rotation and an organization's deactivation must take effect
//! before the token expires, on every replica. So each replica re-reads this directory
//! from the database every `auth_refresh_secs` (default 2 s), and at once after a change
//! it made itself; a subject it has not seen yet (a user created a moment ago on another
//! replica) is read on first use. The check itself is a hash lookup under a read lock
//! (`examples/auth_cost.rs` measures it).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, RwLock};

use chrono::{DateTime, Duration, Utc};
use entity::{api_client, organization, refresh_token, user};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use super::{CallerKind, Role};

/// One user's or client's standing, as the directory knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub active: bool,
    pub roles: Vec<Role>,
    pub organization_id: Uuid,
    /// Tokens issued with a lower version are void.
    pub auth_version: i32,
}

/// Why a verified token may not act.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    UnknownSubject,
    Inactive,
    OrganizationInactive,
    Superseded,
    SessionRevoked,
}

impl Refusal {
    pub fn detail(self) -> crate::i18n::Msg {
        use crate::msg;
        match self {
            Refusal::UnknownSubject => msg!("token-invalid"),
            Refusal::Inactive => msg!("account-deactivated"),
            Refusal::OrganizationInactive => msg!("account-organization-deactivated"),
            Refusal::Superseded | Refusal::SessionRevoked => msg!("token-revoked"),
        }
    }
}

#[derive(Default)]
struct Directory {
    users: HashMap<Uuid, Principal>,
    clients: HashMap<Uuid, Principal>,
    inactive_organizations: HashSet<Uuid>,
    revoked_sessions: HashSet<Uuid>,
}

#[derive(Default)]
pub struct Principals {
    directory: RwLock<Directory>,
    /// Reloads are numbered as they start; a reload installs its snapshot only if no
    /// later-started one has been installed, so a slow reload that read the database
    /// before a change committed cannot overwrite the state that change produced.
    started: AtomicU64,
    installed: Mutex<u64>,
    /// Sessions this replica revoked, kept for a while on top of every installed snapshot:
    /// a reload that read the database just before the revocation committed must not
    /// bring them back.
    local_revocations: Mutex<Vec<(Uuid, std::time::Instant)>>,
}

/// How long a local revocation is kept on top of reloaded snapshots: far longer than a
/// reload can take.
const LOCAL_REVOCATION_HOLD: std::time::Duration = std::time::Duration::from_secs(120);

/// What a token claims about itself, as far as the directory cares.
pub struct Presented {
    pub kind: CallerKind,
    pub id: Uuid,
    pub session: Option<Uuid>,
    pub version: i32,
}

impl Principals {
    /// The principal's standing if the token may act, from memory. `Ok(None)` means the
    /// subject is not in memory yet: load it (`load_one`) and ask again.
    pub fn check(&self, token: &Presented) -> Result<Option<Principal>, Refusal> {
        let d = self.directory.read().unwrap_or_else(|p| p.into_inner());
        let map = match token.kind {
            CallerKind::User => &d.users,
            CallerKind::Client => &d.clients,
        };
        let Some(p) = map.get(&token.id) else { return Ok(None) };
        judge(&d, p, token).map(|()| Some(p.clone()))
    }

    /// Reads one subject (and its organization's standing) from the database into memory.
    pub async fn load_one<C: ConnectionTrait>(&self, db: &C, kind: CallerKind, id: Uuid) -> Result<(), sea_orm::DbErr> {
        let principal = match kind {
            CallerKind::User => user::Entity::find_by_id(id).one(db).await?.map(|u| user_principal(&u)),
            CallerKind::Client => api_client::Entity::find_by_id(id).one(db).await?.map(|c| client_principal(&c)),
        };
        let Some(p) = principal else {
            // Not cached: a token for a subject that never existed could only have been
            // forged with our key, and must not fill memory.
            return Ok(());
        };
        let org_active = organization::Entity::find_by_id(p.organization_id).one(db).await?.is_none_or(|o| o.active);
        let mut d = self.directory.write().unwrap_or_else(|p| p.into_inner());
        if org_active {
            d.inactive_organizations.remove(&p.organization_id);
        } else {
            d.inactive_organizations.insert(p.organization_id);
        }
        match kind {
            CallerKind::User => d.users.insert(id, p),
            CallerKind::Client => d.clients.insert(id, p),
        };
        Ok(())
    }

    /// Re-reads the whole directory. Sessions revoked more than an access token's
    /// lifetime (plus leeway) ago cannot matter any more and are not kept.
    pub async fn reload<C: ConnectionTrait>(
        &self,
        db: &C,
        now: DateTime<Utc>,
        access_ttl_secs: u64,
    ) -> Result<(), sea_orm::DbErr> {
        let generation = self.started.fetch_add(1, Ordering::SeqCst) + 1;
        let users = user::Entity::find().all(db).await?;
        let clients = api_client::Entity::find().all(db).await?;
        let inactive: Vec<Uuid> = organization::Entity::find()
            .select_only()
            .column(organization::Column::Id)
            .filter(organization::Column::Active.eq(false))
            .into_tuple()
            .all(db)
            .await?;
        let horizon = now - Duration::seconds(access_ttl_secs as i64 + super::jwt::LEEWAY_SECS as i64 + 60);
        let revoked: Vec<Uuid> = refresh_token::Entity::find()
            .select_only()
            .column(refresh_token::Column::FamilyId)
            .distinct()
            .filter(refresh_token::Column::RevokedAt.gte(horizon))
            .into_tuple()
            .all(db)
            .await?;
        let mut fresh = Directory {
            users: users.iter().map(|u| (u.id, user_principal(u))).collect(),
            clients: clients.iter().map(|c| (c.id, client_principal(c))).collect(),
            inactive_organizations: inactive.into_iter().collect(),
            revoked_sessions: revoked.into_iter().collect(),
        };
        let mut installed = self.installed.lock().unwrap_or_else(|p| p.into_inner());
        if generation < *installed {
            return Ok(()); // a reload that started later is already in place
        }
        {
            let mut local = self.local_revocations.lock().unwrap_or_else(|p| p.into_inner());
            local.retain(|(_, at)| at.elapsed() < LOCAL_REVOCATION_HOLD);
            fresh.revoked_sessions.extend(local.iter().map(|(s, _)| *s));
        }
        *self.directory.write().unwrap_or_else(|p| p.into_inner()) = fresh;
        *installed = generation;
        Ok(())
    }

    /// Puts one principal in memory, as `load_one` would (benchmarks; the service loads).
    pub fn insert(&self, kind: CallerKind, id: Uuid, principal: Principal) {
        let mut d = self.directory.write().unwrap_or_else(|p| p.into_inner());
        match kind {
            CallerKind::User => d.users.insert(id, principal),
            CallerKind::Client => d.clients.insert(id, principal),
        };
    }

    /// Marks sessions revoked in memory at once (the next reload confirms it from the
    /// database).
    pub fn revoke_sessions(&self, sessions: impl IntoIterator<Item = Uuid>) {
        let sessions: Vec<Uuid> = sessions.into_iter().collect();
        let now = std::time::Instant::now();
        self.local_revocations.lock().unwrap_or_else(|p| p.into_inner()).extend(sessions.iter().map(|s| (*s, now)));
        let mut d = self.directory.write().unwrap_or_else(|p| p.into_inner());
        d.revoked_sessions.extend(sessions);
    }
}

fn judge(d: &Directory, p: &Principal, token: &Presented) -> Result<(), Refusal> {
    if !p.active {
        return Err(Refusal::Inactive);
    }
    if d.inactive_organizations.contains(&p.organization_id) {
        return Err(Refusal::OrganizationInactive);
    }
    if token.version < p.auth_version {
        return Err(Refusal::Superseded);
    }
    if token.session.is_some_and(|s| d.revoked_sessions.contains(&s)) {
        return Err(Refusal::SessionRevoked);
    }
    Ok(())
}

fn user_principal(u: &user::Model) -> Principal {
    Principal {
        active: u.active,
        roles: crate::service::users::roles_of(u),
        organization_id: u.organization_id,
        auth_version: u.auth_version,
    }
}

/// An agency system acts for its agency with an applicant's rights, and nothing more.
fn client_principal(c: &api_client::Model) -> Principal {
    Principal {
        active: c.active,
        roles: vec![Role::Applicant],
        organization_id: c.organization_id,
        auth_version: c.auth_version,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principals(p: Principal, inactive_org: bool, revoked: Option<Uuid>) -> (Principals, Uuid) {
        let id = Uuid::new_v4();
        let mut d = Directory::default();
        if inactive_org {
            d.inactive_organizations.insert(p.organization_id);
        }
        d.revoked_sessions.extend(revoked);
        d.users.insert(id, p);
        (Principals { directory: RwLock::new(d), ..Principals::default() }, id)
    }

    fn active() -> Principal {
        Principal { active: true, roles: vec![Role::Admin], organization_id: Uuid::new_v4(), auth_version: 2 }
    }

    fn token(id: Uuid, session: Option<Uuid>, version: i32) -> Presented {
        Presented { kind: CallerKind::User, id, session, version }
    }

    #[test]
    fn each_refusal_has_its_reason() {
        let s = Uuid::new_v4();
        let (p, id) = principals(active(), false, None);
        assert_eq!(p.check(&token(id, Some(s), 2)).unwrap().unwrap().roles, vec![Role::Admin]);
        assert_eq!(p.check(&token(id, Some(s), 1)), Err(Refusal::Superseded));
        assert_eq!(p.check(&token(Uuid::new_v4(), None, 2)), Ok(None), "unknown: load, then ask again");
        let (p, id) = principals(Principal { active: false, ..active() }, false, None);
        assert_eq!(p.check(&token(id, None, 2)), Err(Refusal::Inactive));
        let (p, id) = principals(active(), true, None);
        assert_eq!(p.check(&token(id, None, 2)), Err(Refusal::OrganizationInactive));
        let (p, id) = principals(active(), false, Some(s));
        assert_eq!(p.check(&token(id, Some(s), 2)), Err(Refusal::SessionRevoked));
        assert!(p.check(&token(id, Some(Uuid::new_v4()), 2)).unwrap().is_some(), "other sessions are fine");
        p.revoke_sessions([Uuid::nil()]);
        assert_eq!(p.check(&token(id, Some(Uuid::nil()), 2)), Err(Refusal::SessionRevoked));
    }
}
