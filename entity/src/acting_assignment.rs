use jembatan_domain::workflow::{ActingKind, Role};
use sea_orm::entity::prelude::*;

use crate::Stored;

/// "User B acts for user A (or for role R in organization O) from D1 to D2": a Plt, a Plh
/// or a delegation, with the letter that made it. Kept after it ends, for the record.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "acting_assignments")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub acting_user_id: Uuid,
    /// Set when B acts for a person …
    pub for_user_id: Option<Uuid>,
    /// … or these two when B acts for a post (a role in an organization).
    pub for_role: Option<Stored<Role>>,
    pub for_organization_id: Option<Uuid>,
    pub kind: Stored<ActingKind>,
    pub letter_number: String,
    /// The dates as written on the letter (Asia/Jakarta), both inclusive.
    pub starts_on: Date,
    pub ends_on: Date,
    /// The same range as instants: from the start of `starts_on` to the end of `ends_on`.
    pub starts_at: DateTimeUtc,
    pub ends_at: DateTimeUtc,
    /// Set when it was ended early.
    pub ended_at: Option<DateTimeUtc>,
    pub created_by_user: Uuid,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
