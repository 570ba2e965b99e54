use sea_orm::entity::prelude::*;

/// The calendar's single settings row (id 1): the weekly hours and the calendar version.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "calendar_settings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i32,
    /// A weekly schedule; null until the service writes the default hours at first start.
    pub weekly_schedule: Option<Json>,
    /// When the national holidays were seeded; set once, so deleted dates stay deleted.
    pub closed_dates_seeded_at: Option<DateTimeUtc>,
    /// Bumped by every change to the calendar (hours, special schedules, closed dates).
    pub version: i32,
    pub updated_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
