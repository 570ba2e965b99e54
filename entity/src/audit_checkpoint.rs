use sea_orm::entity::prelude::*;

/// A signed checkpoint of the audit log (C2SP signed note): size, root, signature.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_checkpoints")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub size: i64,
    /// Hex SHA-256 root of the tree of the first `size` leaves.
    pub root_hash: String,
    /// The signed note, as served.
    pub note: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
