//! Organizations: agencies (OPD, external flow) and Diskominfo divisions (internal flow).

use chrono::{DateTime, Utc};
use entity::{api_client, organization, refresh_token, user};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::audit::{self, Actor};
use crate::error::{ApiError, ApiResult, FieldErrors};
use crate::shared::Page;
use crate::shared::Text;
use crate::shared::cas::compare_and_set;
use crate::state::AppState;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrganizationKind {
    /// A regency agency (Perangkat Daerah); its requests follow the external flow.
    Agency,
    /// A division (Bidang) of Diskominfo; its requests follow the internal flow.
    Division,
}

impl OrganizationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Agency => "agency",
            Self::Division => "division",
        }
    }
    pub fn parse(s: &str) -> Self {
        if s == "division" { Self::Division } else { Self::Agency }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "0190f1f4-6c1e-7d7a-9a4e-3f1d2c3b4a59", "code": "DINKES", "name": "Dinas Kesehatan", "kind": "agency", "active": true, "version": 1, "created_at": "2026-01-05T02:00:00Z", "updated_at": "2026-01-05T02:00:00Z"}))]
pub struct Organization {
    pub id: Uuid,
    /// Short unique code, e.g. `DINKES`.
    pub code: String,
    pub name: String,
    pub kind: OrganizationKind,
    pub active: bool,
    pub version: i32,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl From<organization::Model> for Organization {
    fn from(m: organization::Model) -> Self {
        Self {
            id: m.id,
            code: m.code,
            name: m.name,
            kind: OrganizationKind::parse(&m.kind),
            active: m.active,
            version: m.version,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"code": "DINKES", "name": "Dinas Kesehatan", "kind": "agency"}))]
pub struct NewOrganization {
    /// 2–32 characters: capital letters, digits, `-` or `_`.
    #[schema(pattern = "^[A-Z0-9_-]{2,32}$")]
    pub code: String,
    /// 1–200 characters, not blank, no control characters.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub name: String,
    pub kind: OrganizationKind,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Dinas Kesehatan Kabupaten Trenggalek", "version": 1}))]
pub struct OrganizationUpdate {
    #[schema(pattern = "^[A-Z0-9_-]{2,32}$")]
    pub code: Option<String>,
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub name: Option<String>,
    /// The version you saw; a stale one is refused with 409 (or use `If-Match`).
    #[serde(default, deserialize_with = "crate::shared::integral::integral_i32")]
    #[schema(minimum = 1, maximum = 2147483647)]
    pub version: Option<i32>,
}

fn check_code(code: &str, errors: &mut FieldErrors) {
    let ok = (2..=32).contains(&code.len())
        && code.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if !ok {
        errors.entry("code".into()).or_default().push(crate::msg!("org-code-shape"));
    }
}

async fn code_taken<C: sea_orm::ConnectionTrait>(db: &C, code: &str, except: Option<Uuid>) -> ApiResult<bool> {
    let mut q = organization::Entity::find().filter(organization::Column::Code.eq(code));
    if let Some(id) = except {
        q = q.filter(organization::Column::Id.ne(id));
    }
    Ok(q.one(db).await?.is_some())
}

/// Inserts an organization and its `organization.created` audit event, inside the caller's
/// transaction. `origin` (`bootstrap`, `demo`) marks rows the service made itself.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert<C: ConnectionTrait>(
    txn: &C,
    now: DateTime<Utc>,
    actor: Actor,
    code: &str,
    name: &str,
    kind: &str,
    origin: Option<&str>,
) -> ApiResult<organization::Model> {
    let model = organization::ActiveModel {
        id: Set(Uuid::now_v7()),
        code: Set(code.into()),
        name: Set(name.into()),
        kind: Set(kind.into()),
        active: Set(true),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(txn)
    .await?;
    let mut details = serde_json::json!({"code": code, "name": name, "kind": kind});
    if let Some(origin) = origin {
        details["origin"] = origin.into();
    }
    audit::append(txn, now, actor, "organization.created", "organization", model.id, details).await?;
    Ok(model)
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn create(state: &AppState, actor: Actor, input: NewOrganization) -> ApiResult<Organization> {
    let mut errors = FieldErrors::new();
    check_code(&input.code, &mut errors);
    let name = Text::<200>::parse_field(&input.name, "name", &mut errors);
    let Some(name) = name.filter(|_| errors.is_empty()) else {
        return Err(ApiError::invalid_fields(errors));
    };
    let now = state.now();
    let txn = crate::db::begin_write(&state.db).await?;
    if code_taken(&txn, &input.code, None).await? {
        return Err(ApiError::Conflict(crate::msg!("org-code-taken", code = &input.code)));
    }
    let model = insert(&txn, now, actor, &input.code, name.trimmed(), input.kind.as_str(), None).await?;
    txn.commit().await?;
    Ok(model.into())
}

#[tracing::instrument(level = "debug", skip_all, fields(id = %id))]
pub async fn get(state: &AppState, id: Uuid) -> ApiResult<Organization> {
    find(&state.db, id).await.map(Into::into)
}

#[tracing::instrument(level = "debug", skip_all, fields(id = %id))]
pub async fn find<C: sea_orm::ConnectionTrait>(db: &C, id: Uuid) -> ApiResult<organization::Model> {
    organization::Entity::find_by_id(id).one(db).await?.ok_or_else(|| ApiError::not_found("organization"))
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn list(
    state: &AppState,
    kind: Option<OrganizationKind>,
    active: Option<bool>,
    limit: u64,
    after: Option<Uuid>,
) -> ApiResult<Page<Organization>> {
    let mut q = organization::Entity::find().order_by_asc(organization::Column::Id).limit(limit + 1);
    if let Some(k) = kind {
        q = q.filter(organization::Column::Kind.eq(k.as_str()));
    }
    if let Some(a) = active {
        q = q.filter(organization::Column::Active.eq(a));
    }
    if let Some(after) = after {
        q = q.filter(organization::Column::Id.gt(after));
    }
    let rows = q.all(&state.db).await?;
    Ok(Page::from_rows(rows, limit, |r| r.id, Into::into))
}

#[tracing::instrument(level = "debug", skip_all, fields(id = %id))]
pub async fn update(
    state: &AppState,
    actor: Actor,
    id: Uuid,
    input: OrganizationUpdate,
    if_match: Option<i32>,
) -> ApiResult<Organization> {
    let mut errors = FieldErrors::new();
    if let Some(c) = &input.code {
        check_code(c, &mut errors);
    }
    let name = input.name.as_deref().map(|n| Text::<200>::parse_field(n, "name", &mut errors));
    if !errors.is_empty() {
        return Err(ApiError::invalid_fields(errors));
    }
    let now = state.now();
    let txn = crate::db::begin_write(&state.db).await?;
    let current = find(&txn, id).await?;
    super::check_preconditions(current.version, if_match, input.version)?;
    if let Some(c) = &input.code
        && code_taken(&txn, c, Some(id)).await?
    {
        return Err(ApiError::Conflict(crate::msg!("org-code-taken", code = c)));
    }
    let before = serde_json::json!({"code": current.code, "name": current.name});
    let mut am: organization::ActiveModel = current.clone().into();
    if let Some(c) = input.code {
        am.code = Set(c);
    }
    if let Some(Some(n)) = name {
        am.name = Set(n.trimmed().to_owned());
    }
    am.version = Set(current.version + 1);
    am.updated_at = Set(now);
    let model = compare_and_set(
        &txn,
        am,
        (organization::Column::Id, id),
        (organization::Column::Version, current.version),
        "organization",
    )
    .await?;
    audit::append(
        &txn,
        now,
        actor,
        "organization.updated",
        "organization",
        id,
        serde_json::json!({"before": before, "after": {"code": model.code, "name": model.name}}),
    )
    .await?;
    txn.commit().await?;
    Ok(model.into())
}

#[tracing::instrument(level = "debug", skip_all, fields(id = %id))]
pub async fn set_active(state: &AppState, actor: Actor, id: Uuid, active: bool) -> ApiResult<Organization> {
    let now = state.now();
    let txn = crate::db::begin_write(&state.db).await?;
    let current = find(&txn, id).await?;
    if current.active == active {
        return Ok(current.into());
    }
    // Deactivating one's own organization would sign the admin (and every colleague) out
    // for good: nobody left could turn it back on. Another admin must.
    if !active
        && let Some(uid) = actor.user_id
        && user::Entity::find_by_id(uid).one(&txn).await?.is_some_and(|u| u.organization_id == id)
    {
        return Err(ApiError::Conflict(crate::msg!("organization-deactivate-own")));
    }
    let version = current.version;
    let mut am: organization::ActiveModel = current.into();
    am.active = Set(active);
    am.version = Set(version + 1);
    am.updated_at = Set(now);
    let model = compare_and_set(
        &txn,
        am,
        (organization::Column::Id, id),
        (organization::Column::Version, version),
        "organization",
    )
    .await?;
    let mut details = serde_json::json!({});
    if !active {
        // Its people's sessions end and its systems' tokens are void: reactivation lets
        // them sign in again, it does not bring old credentials back.
        let users: Vec<Uuid> = user::Entity::find()
            .select_only()
            .column(user::Column::Id)
            .filter(user::Column::OrganizationId.eq(id))
            .into_tuple()
            .all(&txn)
            .await?;
        let sessions = refresh_token::Entity::update_many()
            .col_expr(refresh_token::Column::RevokedAt, Expr::value(now))
            .filter(refresh_token::Column::UserId.is_in(users))
            .filter(refresh_token::Column::RevokedAt.is_null())
            .exec(&txn)
            .await?
            .rows_affected;
        let clients = api_client::Entity::update_many()
            .col_expr(api_client::Column::AuthVersion, Expr::col(api_client::Column::AuthVersion).add(1))
            .filter(api_client::Column::OrganizationId.eq(id))
            .exec(&txn)
            .await?
            .rows_affected;
        details = serde_json::json!({"refresh_tokens_revoked": sessions, "api_clients_cut_off": clients});
    }
    let action = if active { "organization.activated" } else { "organization.deactivated" };
    audit::append(&txn, now, actor, action, "organization", id, details).await?;
    txn.commit().await?;
    state.principals_changed().await;
    Ok(model.into())
}
