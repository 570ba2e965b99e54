//! Compare-and-set: update a versioned row only if it is still at the version the caller
//! read, so of two racing writers exactly one wins and the other gets 409.

use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};

/// Applies `am` to row `id` if its `version` column still holds `version`, and returns
/// the row as written. `what` names the resource in the 409 ("the user changed …").
pub async fn compare_and_set<E, A>(
    txn: &DatabaseTransaction,
    am: A,
    (id_column, id): (E::Column, Uuid),
    (version_column, version): (E::Column, i32),
    what: &str,
) -> ApiResult<E::Model>
where
    E: EntityTrait,
    A: ActiveModelTrait<Entity = E> + Send,
{
    E::update_many()
        .set(am)
        .filter(id_column.eq(id))
        .filter(version_column.eq(version))
        .exec_with_returning(txn)
        .await?
        .pop()
        .ok_or_else(|| ApiError::Conflict(crate::msg!("changed-meanwhile", what = crate::i18n::Msg::thing(what))))
}
