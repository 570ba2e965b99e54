//! The first admin: created at start from `JEMBATAN_ADMIN_USERNAME`/`_PASSWORD` when no
//! user of that name exists. This is how a first deployment, and every black-box test,
//! gets in. The admin belongs to the Diskominfo organization, created if missing.

use entity::{organization, user};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::auth::{Role, password};
use crate::error::{ApiError, ApiResult};
use crate::service::audit::Actor;
use crate::service::{organizations, users};
use crate::state::AppState;

pub const OFFICE_CODE: &str = "DISKOMINFO";

/// Diskominfo itself, as a division-kind organization (its bidang are divisions too).
pub async fn office(state: &AppState) -> ApiResult<organization::Model> {
    if let Some(o) =
        organization::Entity::find().filter(organization::Column::Code.eq(OFFICE_CODE)).one(&state.db).await?
    {
        return Ok(o);
    }
    let now = state.now();
    let txn = crate::db::begin_write(&state.db).await?;
    let name = "Dinas Komunikasi dan Informatika Kabupaten Trenggalek";
    let model =
        organizations::insert(&txn, now, Actor::SYSTEM, OFFICE_CODE, name, "division", Some("bootstrap")).await?;
    txn.commit().await?;
    Ok(model)
}

pub async fn ensure_admin(state: &AppState) -> ApiResult<()> {
    let (Some(username), Some(pw)) = (&state.settings.admin_username, &state.settings.admin_password) else {
        return Ok(());
    };
    let username = username.trim().to_lowercase();
    if user::Entity::find().filter(user::Column::Username.eq(&username)).one(&state.db).await?.is_some() {
        return Ok(());
    }
    password::check_policy(pw, &username).map_err(|m| ApiError::invalid("JEMBATAN_ADMIN_PASSWORD", m))?;
    let org = office(state).await?;
    let hash = password::hash(pw.clone()).await?;
    users::insert(
        state,
        Actor::SYSTEM,
        username.clone(),
        "Administrator".into(),
        hash,
        org.id,
        vec![Role::Admin],
        None,
        None,
    )
    .await?;
    tracing::info!(%username, "created the configured admin");
    Ok(())
}
