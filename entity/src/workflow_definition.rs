use jembatan_domain::workflow::Flow;
use sea_orm::entity::prelude::*;

use crate::Stored;

/// One published version of a flow's definition (the whole definition as JSON).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "workflow_definitions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub flow: Stored<Flow>,
    pub version: i32,
    pub definition: Json,
    pub published_at: DateTimeUtc,
    pub published_by: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
