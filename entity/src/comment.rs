use jembatan_domain::workflow::Visibility;
use sea_orm::entity::prelude::*;

use crate::Stored;

/// One comment in a request's thread; `internal` ones are never shown to the applicant.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "comments")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub request_id: Uuid,
    pub author_user_id: Option<Uuid>,
    pub author_client_id: Option<Uuid>,
    pub visibility: Stored<Visibility>,
    pub body: String,
    /// JSON array of the ids of the people the body mentions (and who were notified).
    pub mentioned_user_ids: Json,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
