use sea_orm::entity::prelude::*;

/// A message to one user about a request: a step nearing its limit (`sla_warning`), past
/// it (`sla_overdue`), or escalated to them (`escalation`). Written by the SLA sweeper.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notifications")]
pub struct Model {
    /// A UUIDv7 made from `created_at` (to the millisecond), so id order is time order.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    pub request_id: Uuid,
    pub step_instance_id: Option<Uuid>,
    /// `sla_warning`, `sla_overdue` or `escalation`.
    pub kind: String,
    pub title: String,
    pub body: String,
    /// Whole milliseconds (the id carries the same instant).
    pub created_at: DateTimeUtc,
    pub read_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
