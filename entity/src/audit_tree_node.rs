use sea_orm::entity::prelude::*;

/// A complete subtree of the audit log's Merkle tree: level 0 are the leaves; the node at
/// (`level`, `idx`) covers leaves `idx·2^level .. (idx+1)·2^level`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_tree_nodes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub level: i32,
    #[sea_orm(primary_key, auto_increment = false)]
    pub idx: i64,
    /// Hex SHA-256.
    pub hash: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
