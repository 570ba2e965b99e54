use sea_orm::entity::prelude::*;

/// An address an agency (or the office) registered to be told, by signed HTTP calls, what
/// happens to the requests it may see (Standard Webhooks 1.0).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_endpoints")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Whose requests it hears about; `None`: every request (registered by an admin).
    pub organization_id: Option<Uuid>,
    pub url: String,
    pub description: Option<String>,
    /// Event types, comma-separated; empty: every type.
    pub event_types: String,
    /// `whsec_…`: kept as is, since every delivery is signed with it.
    pub secret: String,
    /// The secret before the last rotation, still signing until `previous_secret_until`.
    pub previous_secret: Option<String>,
    pub previous_secret_until: Option<DateTimeUtc>,
    pub enabled: bool,
    pub disabled_at: Option<DateTimeUtc>,
    pub disabled_reason: Option<String>,
    /// Since when every attempt has failed (cleared by a success).
    pub failing_since: Option<DateTimeUtc>,
    pub created_by_user_id: Option<Uuid>,
    pub created_by_client_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
