use sea_orm::entity::prelude::*;

/// A machine client of an agency (its information system), authenticating with the
/// client-credentials grant.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "api_clients")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub client_id: String,
    pub name: String,
    pub organization_id: Uuid,
    /// SHA-256 (hex) of the secret. Secrets are 256 random bits, so a fast hash is enough;
    /// the secret itself is shown once, at creation or rotation.
    pub secret_hash: String,
    pub active: bool,
    pub version: i32,
    pub created_by: Uuid,
    pub created_at: DateTimeUtc,
    pub rotated_at: Option<DateTimeUtc>,
    pub revoked_at: Option<DateTimeUtc>,
    /// Raised when every token issued so far must stop working (rotation, revocation,
    /// the agency's deactivation).
    pub auth_version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
