//! Machine clients: an agency's information system calling Jembatan on its own.

use entity::api_client;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::audit::{self, Actor};
use super::organizations;
use crate::auth::tokens;
use crate::error::{ApiError, ApiResult};
use crate::shared::Page;
use crate::shared::Text;
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "0190f1f4-6c1e-7d7a-9a4e-3f1d2c3b4a59", "client_id": "jbc_3kq9d0x2m4", "name": "SIMPUS Dinkes", "organization_id": "0190f1f4-6c1e-7d7a-9a4e-3f1d2c3b4a00", "active": true, "version": 1, "created_at": "2026-01-05T02:00:00Z", "rotated_at": null, "revoked_at": null}))]
pub struct ApiClient {
    pub id: Uuid,
    /// Public identifier, sent as `client_id` to `/auth/token`.
    pub client_id: String,
    pub name: String,
    pub organization_id: Uuid,
    pub active: bool,
    pub version: i32,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub rotated_at: Option<chrono::DateTime<chrono::Utc>>,
    pub revoked_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl From<api_client::Model> for ApiClient {
    fn from(m: api_client::Model) -> Self {
        Self {
            id: m.id,
            client_id: m.client_id,
            name: m.name,
            organization_id: m.organization_id,
            active: m.active,
            version: m.version,
            created_at: m.created_at,
            rotated_at: m.rotated_at,
            revoked_at: m.revoked_at,
        }
    }
}

/// A client with its secret: returned once, by create and rotate. Store it now.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiClientWithSecret {
    #[serde(flatten)]
    pub client: ApiClient,
    /// Shown only in this response; Jembatan keeps only its hash.
    pub client_secret: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "SIMPUS Dinas Kesehatan", "organization_id": "0190f1f4-6c1e-7d7a-9a4e-3f1d2c3b4a59"}))]
pub struct NewApiClient {
    /// 1–200 characters, not blank, no control characters.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub name: String,
    /// The agency (or division) this system acts for.
    pub organization_id: Uuid,
}

#[tracing::instrument(level = "debug", skip_all, fields(id = %id))]
pub async fn find<C: sea_orm::ConnectionTrait>(db: &C, id: Uuid) -> ApiResult<api_client::Model> {
    api_client::Entity::find_by_id(id).one(db).await?.ok_or_else(|| ApiError::not_found("API client"))
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn create(state: &AppState, actor: Actor, input: NewApiClient) -> ApiResult<ApiClientWithSecret> {
    let mut errors = crate::error::FieldErrors::new();
    let Some(name) = Text::<200>::parse_field(&input.name, "name", &mut errors) else {
        return Err(ApiError::invalid_fields(errors));
    };
    let name = name.trimmed().to_owned();
    match organizations::find(&state.db, input.organization_id).await {
        Ok(o) if o.active => {}
        _ => return Err(ApiError::invalid("organization_id", crate::msg!("active-organization-required"))),
    }
    let now = state.now();
    let secret = tokens::generate("jbs_");
    let client_id = format!("jbc_{}", &tokens::sha256_hex(&tokens::generate(""))[..16]);
    let txn = crate::db::begin_write(&state.db).await?;
    let model = api_client::ActiveModel {
        id: Set(Uuid::now_v7()),
        client_id: Set(client_id),
        name: Set(name),
        organization_id: Set(input.organization_id),
        secret_hash: Set(tokens::sha256_hex(&secret)),
        active: Set(true),
        auth_version: Set(0),
        version: Set(1),
        created_by: Set(actor.user_id.unwrap_or_default()),
        created_at: Set(now),
        rotated_at: Set(None),
        revoked_at: Set(None),
    }
    .insert(&txn)
    .await?;
    audit::append(
        &txn,
        now,
        actor,
        "api_client.created",
        "api_client",
        model.id,
        serde_json::json!({"client_id": model.client_id, "organization_id": model.organization_id, "name": model.name}),
    )
    .await?;
    txn.commit().await?;
    Ok(ApiClientWithSecret { client: model.into(), client_secret: secret })
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn list(
    state: &AppState,
    organization_id: Option<Uuid>,
    limit: u64,
    after: Option<Uuid>,
) -> ApiResult<Page<ApiClient>> {
    let mut q = api_client::Entity::find().order_by_asc(api_client::Column::Id).limit(limit + 1);
    if let Some(o) = organization_id {
        q = q.filter(api_client::Column::OrganizationId.eq(o));
    }
    if let Some(after) = after {
        q = q.filter(api_client::Column::Id.gt(after));
    }
    let rows = q.all(&state.db).await?;
    Ok(Page::from_rows(rows, limit, |r| r.id, Into::into))
}

/// Issues a new secret; the old one stops working at once, and so do the tokens issued
/// with it (a rotation is what one does when a secret may have leaked).
#[tracing::instrument(level = "debug", skip_all, fields(id = %id))]
pub async fn rotate(state: &AppState, actor: Actor, id: Uuid) -> ApiResult<ApiClientWithSecret> {
    let now = state.now();
    let secret = tokens::generate("jbs_");
    let txn = crate::db::begin_write(&state.db).await?;
    let current = find(&txn, id).await?;
    if !current.active {
        return Err(ApiError::Conflict(crate::msg!("client-revoked")));
    }
    let mut am: api_client::ActiveModel = current.clone().into();
    am.secret_hash = Set(tokens::sha256_hex(&secret));
    am.rotated_at = Set(Some(now));
    am.version = Set(current.version + 1);
    am.auth_version = Set(current.auth_version + 1);
    let model = am.update(&txn).await?;
    audit::append(&txn, now, actor, "api_client.rotated", "api_client", id, serde_json::json!({})).await?;
    txn.commit().await?;
    state.principals_changed().await;
    Ok(ApiClientWithSecret { client: model.into(), client_secret: secret })
}

#[tracing::instrument(level = "debug", skip_all, fields(id = %id))]
pub async fn revoke(state: &AppState, actor: Actor, id: Uuid) -> ApiResult<ApiClient> {
    let now = state.now();
    let txn = crate::db::begin_write(&state.db).await?;
    let current = find(&txn, id).await?;
    if !current.active {
        return Ok(current.into());
    }
    let mut am: api_client::ActiveModel = current.clone().into();
    am.active = Set(false);
    am.revoked_at = Set(Some(now));
    am.version = Set(current.version + 1);
    am.auth_version = Set(current.auth_version + 1);
    let model = am.update(&txn).await?;
    audit::append(&txn, now, actor, "api_client.revoked", "api_client", id, serde_json::json!({})).await?;
    txn.commit().await?;
    state.principals_changed().await;
    Ok(model.into())
}
