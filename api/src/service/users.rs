//! Users: people, each in one organization, with roles from the SOP.

use std::collections::BTreeSet;

use entity::{refresh_token, user};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait, Set,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::audit::{self, Actor};
use super::organizations::{self, OrganizationKind};
use crate::auth::{Role, password};
use crate::error::{ApiError, ApiResult, FieldErrors};
use crate::i18n::Msg;
use crate::msg;
use crate::shared::Page;
use crate::shared::Text;
use crate::shared::cas::compare_and_set;
use crate::state::AppState;

#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"id": "0190f1f4-6c1e-7d7a-9a4e-3f1d2c3b4a59", "username": "kabid.aptika", "full_name": "Sri Wahyuni, S.Kom", "organization_id": "0190f1f4-6c1e-7d7a-9a4e-3f1d2c3b4a00", "roles": ["head_of_division"], "nip": "197806122005012003", "email": "aptika@trenggalekkab.go.id", "email_opt_out": false, "active": true, "version": 1, "created_at": "2026-01-05T02:00:00Z", "updated_at": "2026-01-05T02:00:00Z"}))]
pub struct User {
    pub id: Uuid,
    pub username: String,
    pub full_name: String,
    pub organization_id: Uuid,
    pub roles: Vec<Role>,
    /// Civil-servant number (NIP), 18 digits.
    pub nip: Option<String>,
    pub email: Option<String>,
    /// The user asked for no e-mail; in-app notifications still arrive.
    pub email_opt_out: bool,
    pub active: bool,
    pub version: i32,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

pub fn roles_of(m: &user::Model) -> Vec<Role> {
    serde_json::from_value(m.roles.clone()).unwrap_or_default()
}

impl From<user::Model> for User {
    fn from(m: user::Model) -> Self {
        let roles = roles_of(&m);
        Self {
            id: m.id,
            username: m.username,
            full_name: m.full_name,
            organization_id: m.organization_id,
            roles,
            nip: m.nip,
            email: m.email,
            email_opt_out: m.email_opt_out,
            active: m.active,
            version: m.version,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"username": "budi.dinkes", "full_name": "Budi Santoso", "password": "kopi tubruk di alun-alun", "organization_id": "0190f1f4-6c1e-7d7a-9a4e-3f1d2c3b4a59", "roles": ["applicant"], "nip": "198503142010011005", "email": "budi@dinkes.trenggalekkab.go.id"}))]
pub struct NewUser {
    /// 3–64 characters: lowercase letters, digits, `.`, `_` or `-`.
    #[schema(pattern = "^[a-z0-9._-]{3,64}$")]
    pub username: String,
    /// 1–200 characters, not blank, no control characters.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub full_name: String,
    /// At least 12 characters, not a common password, not containing the username.
    #[schema(min_length = 12, max_length = 256)]
    pub password: String,
    pub organization_id: Uuid,
    #[schema(min_items = 1)]
    pub roles: Vec<Role>,
    #[schema(pattern = "^[0-9]{18}$")]
    pub nip: Option<String>,
    #[schema(
        max_length = 254,
        pattern = r"^[^@\s\u0000-\u001F\u007F-\u009F]+@[^@.\s\u0000-\u001F\u007F-\u009F]+(\.[^@.\s\u0000-\u001F\u007F-\u009F]+)+$"
    )]
    pub email: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"full_name": "Budi Santoso, S.T.", "roles": ["applicant"], "version": 1}))]
pub struct UserUpdate {
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub full_name: Option<String>,
    pub organization_id: Option<Uuid>,
    #[schema(min_items = 1)]
    pub roles: Option<Vec<Role>>,
    #[schema(pattern = "^[0-9]{18}$")]
    pub nip: Option<String>,
    #[schema(
        max_length = 254,
        pattern = r"^[^@\s\u0000-\u001F\u007F-\u009F]+@[^@.\s\u0000-\u001F\u007F-\u009F]+(\.[^@.\s\u0000-\u001F\u007F-\u009F]+)+$"
    )]
    pub email: Option<String>,
    /// The version you saw; a stale one is refused with 409 (or use `If-Match`).
    #[serde(default, deserialize_with = "crate::shared::integral::integral_i32")]
    #[schema(minimum = 1, maximum = 2147483647)]
    pub version: Option<i32>,
}

fn push(errors: &mut FieldErrors, field: &str, m: Msg) {
    errors.entry(field.into()).or_default().push(m);
}

fn check_username(u: &str, errors: &mut FieldErrors) {
    let ok = (3..=64).contains(&u.len())
        && u.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
    if !ok {
        push(errors, "username", msg!("user-username-shape"));
    }
}

fn check_profile(nip: Option<&str>, email: Option<&str>, errors: &mut FieldErrors) {
    if let Some(nip) = nip
        && (nip.len() != 18 || !nip.chars().all(|c| c.is_ascii_digit()))
    {
        push(errors, "nip", msg!("user-nip-shape"));
    }
    if let Some(e) = email
        && !crate::shared::text::is_email(e)
    {
        push(errors, "email", msg!("user-email-shape"));
    }
}

/// Agency staff can only be applicants: the office's roles belong to Diskominfo divisions.
fn check_roles(roles: &[Role], org_kind: OrganizationKind, errors: &mut FieldErrors) {
    if roles.is_empty() {
        push(errors, "roles", msg!("user-roles-empty"));
    }
    let unique: BTreeSet<_> = roles.iter().collect();
    if unique.len() != roles.len() {
        push(errors, "roles", msg!("user-roles-repeated"));
    }
    if org_kind == OrganizationKind::Agency && roles.iter().any(|r| *r != Role::Applicant) {
        push(errors, "roles", msg!("user-roles-agency"));
    }
}

#[tracing::instrument(level = "debug", skip_all, fields(id = %id))]
pub async fn find<C: ConnectionTrait>(db: &C, id: Uuid) -> ApiResult<user::Model> {
    user::Entity::find_by_id(id).one(db).await?.ok_or_else(|| ApiError::not_found("user"))
}

/// The user's row, locked for the rest of the transaction. Every change to a user's
/// sessions takes this lock first (sign-in, refresh, logout, password, roles,
/// deactivation), so a refresh cannot slip a new token into a session while a logout or
/// a password change revokes it. On SQLite the write transaction already excludes others.
pub async fn lock(txn: &sea_orm::DatabaseTransaction, id: Uuid) -> ApiResult<user::Model> {
    let mut q = user::Entity::find_by_id(id);
    if txn.get_database_backend() == sea_orm::DbBackend::Postgres {
        q = q.lock_exclusive();
    }
    q.one(txn).await?.ok_or_else(|| ApiError::not_found("user"))
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn create(state: &AppState, actor: Actor, input: NewUser) -> ApiResult<User> {
    // Checked as sent: the spec's pattern allows no surrounding spaces, so neither do we.
    let username = input.username.clone();
    let mut errors = FieldErrors::new();
    check_username(&username, &mut errors);
    let full_name = Text::<200>::parse_field(&input.full_name, "full_name", &mut errors);
    check_profile(input.nip.as_deref(), input.email.as_deref(), &mut errors);
    if let Err(m) = password::check_policy(&input.password, &username) {
        push(&mut errors, "password", m);
    }
    let org = match organizations::find(&state.db, input.organization_id).await {
        Ok(o) if o.active => Some(o),
        _ => {
            push(&mut errors, "organization_id", msg!("active-organization-required"));
            None
        }
    };
    if let Some(o) = &org {
        check_roles(&input.roles, OrganizationKind::parse(&o.kind), &mut errors);
    }
    let Some(full_name) = full_name.filter(|_| errors.is_empty()) else {
        return Err(ApiError::invalid_fields(errors));
    };
    let hash = password::hash(input.password).await?;
    insert(
        state,
        actor,
        username,
        full_name.trimmed().to_owned(),
        hash,
        input.organization_id,
        input.roles,
        input.nip,
        input.email,
    )
    .await
}

/// Inserts a user whose input was already checked (also used by bootstrap and the demo).
#[allow(clippy::too_many_arguments)]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert(
    state: &AppState,
    actor: Actor,
    username: String,
    full_name: String,
    password_hash: String,
    organization_id: Uuid,
    roles: Vec<Role>,
    nip: Option<String>,
    email: Option<String>,
) -> ApiResult<User> {
    let now = state.now();
    let txn = crate::db::begin_write(&state.db).await?;
    if user::Entity::find().filter(user::Column::Username.eq(&username)).one(&txn).await?.is_some() {
        return Err(ApiError::Conflict(msg!("user-username-taken", username = &username)));
    }
    if let Some(n) = &nip
        && user::Entity::find().filter(user::Column::Nip.eq(n)).one(&txn).await?.is_some()
    {
        return Err(ApiError::Conflict(msg!("user-nip-taken")));
    }
    let model = user::ActiveModel {
        id: Set(Uuid::now_v7()),
        username: Set(username),
        full_name: Set(full_name.trim().to_owned()),
        password_hash: Set(password_hash),
        organization_id: Set(organization_id),
        roles: Set(serde_json::to_value(&roles).map_err(ApiError::internal)?),
        nip: Set(nip),
        email: Set(email),
        active: Set(true),
        version: Set(1),
        auth_version: Set(0),
        // Every account made while serving a demo database is a demo account.
        demo: Set(state.settings.demo),
        email_opt_out: Set(false),
        password_changed_at: Set(now),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    audit::append(
        &txn,
        now,
        actor,
        "user.created",
        "user",
        model.id,
        serde_json::json!({"username": model.username, "organization_id": organization_id, "roles": roles}),
    )
    .await?;
    txn.commit().await?;
    Ok(model.into())
}

pub struct UserFilter {
    pub organization_id: Option<Uuid>,
    pub role: Option<Role>,
    pub active: Option<bool>,
    /// Only the office's people (members of a division), without NIP and e-mail: what a
    /// head sees when choosing addressees and team members.
    pub staff_only: bool,
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn list(state: &AppState, f: UserFilter, limit: u64, after: Option<Uuid>) -> ApiResult<Page<User>> {
    let mut q = user::Entity::find().order_by_asc(user::Column::Id).limit(limit + 1);
    if let Some(o) = f.organization_id {
        q = q.filter(user::Column::OrganizationId.eq(o));
    }
    if let Some(a) = f.active {
        q = q.filter(user::Column::Active.eq(a));
    }
    if let Some(r) = f.role {
        // Roles are a small JSON array; matching the quoted key is exact on both databases.
        q = q.filter(
            Expr::col((user::Entity, user::Column::Roles))
                .cast_as(sea_orm::sea_query::Alias::new("TEXT"))
                .like(format!("%\"{}\"%", r.as_str())),
        );
    }
    if f.staff_only {
        let divisions = sea_orm::sea_query::Query::select()
            .column(entity::organization::Column::Id)
            .from(entity::organization::Entity)
            .and_where(Expr::col(entity::organization::Column::Kind).eq("division"))
            .to_owned();
        q = q.filter(user::Column::OrganizationId.in_subquery(divisions));
    }
    if let Some(after) = after {
        q = q.filter(user::Column::Id.gt(after));
    }
    let rows = q.all(&state.db).await?;
    let staff_only = f.staff_only;
    Ok(Page::from_rows(
        rows,
        limit,
        |r| r.id,
        |r| {
            let mut u = User::from(r);
            if staff_only {
                u.nip = None;
                u.email = None;
            }
            u
        },
    ))
}

#[tracing::instrument(level = "debug", skip_all, fields(id = %id))]
pub async fn update(
    state: &AppState,
    actor: Actor,
    id: Uuid,
    input: UserUpdate,
    if_match: Option<i32>,
) -> ApiResult<User> {
    let mut errors = FieldErrors::new();
    let full_name = input.full_name.as_deref().map(|n| Text::<200>::parse_field(n, "full_name", &mut errors));
    check_profile(input.nip.as_deref(), input.email.as_deref(), &mut errors);
    let now = state.now();
    let txn = crate::db::begin_write(&state.db).await?;
    let current = lock(&txn, id).await?;
    super::check_preconditions(current.version, if_match, input.version)?;
    let org_id = input.organization_id.unwrap_or(current.organization_id);
    let org = organizations::find(&txn, org_id).await;
    let roles = input.roles.clone().unwrap_or_else(|| roles_of(&current));
    // Changing one's own roles or organization revokes one's own sessions (and could drop
    // the office's last admin): another admin must do it, as with deactivation.
    if actor.user_id == Some(id) && (roles != roles_of(&current) || org_id != current.organization_id) {
        return Err(ApiError::Conflict(msg!("user-change-own-standing")));
    }
    match &org {
        Ok(o) if o.active || org_id == current.organization_id => {
            check_roles(&roles, OrganizationKind::parse(&o.kind), &mut errors)
        }
        _ => push(&mut errors, "organization_id", msg!("active-organization-required")),
    }
    if !errors.is_empty() {
        return Err(ApiError::invalid_fields(errors));
    }
    if let Some(n) = &input.nip
        && user::Entity::find()
            .filter(user::Column::Nip.eq(n))
            .filter(user::Column::Id.ne(id))
            .one(&txn)
            .await?
            .is_some()
    {
        return Err(ApiError::Conflict(msg!("user-nip-taken")));
    }
    let before = User::from(current.clone());
    let version = current.version;
    let mut am: user::ActiveModel = current.into();
    if let Some(Some(n)) = full_name {
        am.full_name = Set(n.trimmed().to_owned());
    }
    am.organization_id = Set(org_id);
    am.roles = Set(serde_json::to_value(&roles).map_err(ApiError::internal)?);
    if input.nip.is_some() {
        am.nip = Set(input.nip);
    }
    if input.email.is_some() {
        am.email = Set(input.email);
    }
    am.version = Set(version + 1);
    am.updated_at = Set(now);
    let model = compare_and_set(&txn, am, (user::Column::Id, id), (user::Column::Version, version), "user").await?;
    // A change of roles or organization must not live on in old sessions.
    if before.roles != roles || before.organization_id != org_id {
        revoke_sessions(&txn, id, None, now).await?;
    }
    audit::append(
        &txn,
        now,
        actor,
        "user.updated",
        "user",
        id,
        serde_json::json!({
            "before": {"full_name": before.full_name, "organization_id": before.organization_id, "roles": before.roles, "nip": before.nip, "email": before.email},
            "after": {"full_name": model.full_name, "organization_id": model.organization_id, "roles": roles, "nip": model.nip, "email": model.email},
        }),
    )
    .await?;
    txn.commit().await?;
    // Roles and organization are read from the directory on every request.
    state.principals_changed().await;
    Ok(model.into())
}

#[tracing::instrument(level = "debug", skip_all, fields(id = %id))]
pub async fn set_active(state: &AppState, actor: Actor, id: Uuid, active: bool) -> ApiResult<User> {
    if !active && actor.user_id == Some(id) {
        return Err(ApiError::Conflict(msg!("user-deactivate-self")));
    }
    let now = state.now();
    let txn = crate::db::begin_write(&state.db).await?;
    let current = lock(&txn, id).await?;
    if current.active == active {
        return Ok(current.into());
    }
    if active && current.demo {
        return Err(ApiError::Conflict(msg!("user-demo-activation")));
    }
    let version = current.version;
    let auth_version = current.auth_version;
    let mut am: user::ActiveModel = current.into();
    am.active = Set(active);
    am.version = Set(version + 1);
    am.updated_at = Set(now);
    if !active {
        // Tokens issued before stay void even if the account is activated again.
        am.auth_version = Set(auth_version + 1);
    }
    let model = compare_and_set(&txn, am, (user::Column::Id, id), (user::Column::Version, version), "user").await?;
    if !active {
        revoke_sessions(&txn, id, None, now).await?;
    }
    let action = if active { "user.activated" } else { "user.deactivated" };
    audit::append(&txn, now, actor, action, "user", id, serde_json::json!({})).await?;
    txn.commit().await?;
    state.principals_changed().await;
    Ok(model.into())
}

/// Revokes every refresh token of the user, except those of session `keep`.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn revoke_sessions<C: ConnectionTrait>(
    db: &C,
    user_id: Uuid,
    keep: Option<Uuid>,
    now: chrono::DateTime<chrono::Utc>,
) -> ApiResult<u64> {
    let mut q = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RevokedAt, Expr::value(now))
        .filter(refresh_token::Column::UserId.eq(user_id))
        .filter(refresh_token::Column::RevokedAt.is_null());
    if let Some(k) = keep {
        q = q.filter(refresh_token::Column::FamilyId.ne(k));
    }
    Ok(q.exec(db).await?.rows_affected)
}

/// The user's own e-mail preference (`PATCH /auth/me`). Not an audited change of the
/// record: it concerns only the user's inbox.
pub async fn set_email_opt_out(state: &AppState, user_id: Uuid, opt_out: bool) -> ApiResult<User> {
    use sea_orm::sea_query::Expr;
    user::Entity::update_many()
        .col_expr(user::Column::EmailOptOut, Expr::value(opt_out))
        .filter(user::Column::Id.eq(user_id))
        .exec(&state.db)
        .await?;
    Ok(find(&state.db, user_id).await?.into())
}

/// The people who hold `role` and may sign in (active, in an active organization), in id
/// order: whom a task for the role reaches. Read from the database, not the principal
/// directory, which learns of a new account only when it is next used or reloaded.
/// With `in_organization`, only the holders in that organization.
pub async fn holders<C: sea_orm::ConnectionTrait>(
    db: &C,
    role: Role,
    in_organization: Option<Uuid>,
) -> ApiResult<Vec<Uuid>> {
    use sea_orm::sea_query::Query;
    let inactive_organizations = Query::select()
        .column(entity::organization::Column::Id)
        .from(entity::organization::Entity)
        .and_where(Expr::col(entity::organization::Column::Active).eq(false))
        .to_owned();
    let rows: Vec<(Uuid, serde_json::Value)> = user::Entity::find()
        .select_only()
        .columns([user::Column::Id, user::Column::Roles])
        .filter(user::Column::Active.eq(true))
        // The same exact match on the quoted key as `list`; `roles_of` confirms it below.
        .filter(
            Expr::col((user::Entity, user::Column::Roles))
                .cast_as(sea_orm::sea_query::Alias::new("TEXT"))
                .like(format!("%\"{}\"%", role.as_str())),
        )
        .filter(user::Column::OrganizationId.not_in_subquery(inactive_organizations))
        .apply_if(in_organization, |q, o| q.filter(user::Column::OrganizationId.eq(o)))
        .order_by_asc(user::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter(|(_, roles)| serde_json::from_value::<Vec<Role>>(roles.clone()).unwrap_or_default().contains(&role))
        .map(|(id, _)| id)
        .collect())
}
