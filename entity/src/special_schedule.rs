use sea_orm::entity::prelude::*;

/// Working hours that replace the weekly hours from `from_date` to `to_date` (inclusive),
/// e.g. shorter Ramadan hours.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "special_schedules")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub from_date: Date,
    pub to_date: Date,
    pub name: String,
    /// A weekly schedule: `{"monday": [{"start": "08:00:00", "end": "14:00:00"}], …}`.
    pub hours: Json,
    pub source: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
