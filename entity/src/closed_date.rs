use sea_orm::entity::prelude::*;

/// A date the office is closed: a national holiday, collective leave or regional closure.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "closed_dates")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub date: Date,
    pub name: String,
    /// `public_holiday`, `collective_leave` or `regional_closure`.
    pub kind: String,
    /// The decree (SKB, Keppres, circular letter) the date comes from.
    pub source: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
