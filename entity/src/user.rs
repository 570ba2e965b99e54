use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub username: String,
    pub full_name: String,
    pub password_hash: String,
    pub organization_id: Uuid,
    /// JSON array of role keys (`applicant`, `head_of_division`, ...).
    pub roles: Json,
    pub nip: Option<String>,
    pub email: Option<String>,
    pub active: bool,
    pub version: i32,
    pub password_changed_at: DateTimeUtc,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// Raised when every token issued so far must stop working (deactivation).
    pub auth_version: i32,
    /// Created by `serve --demo`, with the published demo password.
    pub demo: bool,
    /// The user asked for no e-mail (in-app notifications still arrive).
    pub email_opt_out: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
