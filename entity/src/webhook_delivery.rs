use sea_orm::entity::prelude::*;

/// One message for one endpoint (the webhook outbox): queued by the fan-out, a ping or a
/// redelivery, sent by the delivery worker until delivered or given up on.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_deliveries")]
pub struct Model {
    /// UUIDv7: id order is queue order.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub endpoint_id: Uuid,
    /// `webhook-id`: the same for every attempt and redelivery of one message.
    pub message_id: String,
    pub event_type: String,
    /// The exact bytes signed and sent.
    pub payload: String,
    pub created_at: DateTimeUtc,
    pub attempts: i32,
    pub next_attempt_at: DateTimeUtc,
    pub last_attempt_at: Option<DateTimeUtc>,
    /// The receiver's HTTP status at the last attempt (none: no answer).
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    pub delivered_at: Option<DateTimeUtc>,
    pub failed_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
