use sea_orm::entity::prelude::*;

/// One entry of the append-only audit trail: a leaf of the transparency log.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub seq: i64,
    #[sea_orm(unique)]
    pub id: Uuid,
    pub occurred_at: DateTimeUtc,
    pub actor_user_id: Option<Uuid>,
    pub actor_client_id: Option<Uuid>,
    pub action: String,
    pub object_type: String,
    pub object_id: Uuid,
    pub details: Json,
    /// The old chain's link (events written before the transparency log; empty after).
    pub prev_hash: String,
    pub hash: String,
    /// Hex SHA-256 leaf hash (RFC 9162) of the event's canonical content.
    pub leaf_hash: Option<String>,
    /// The event's position in the log, set by the sequencer (null until then).
    pub leaf_index: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
