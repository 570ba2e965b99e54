use jembatan_domain::workflow::{DocumentKind, StepCode, UploadParty};
use sea_orm::entity::prelude::*;

use crate::Stored;

/// An uploaded document's metadata. The bytes live in the document store under
/// `storage_key`; rows are never updated: a new upload is a new version.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "documents")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub request_id: Uuid,
    /// The step instance that was current when it was uploaded.
    pub step_instance_id: Uuid,
    pub step_code: Stored<StepCode>,
    pub kind: Stored<DocumentKind>,
    /// 1 for the first document of this kind on the request, 2 for the next, …
    pub kind_version: i32,
    /// The client's file name: metadata only, never a path.
    pub filename: String,
    /// Sniffed from the bytes.
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    #[sea_orm(unique)]
    pub storage_key: String,
    pub uploaded_at: DateTimeUtc,
    pub uploaded_by_user: Option<Uuid>,
    pub uploaded_by_client: Option<Uuid>,
    /// `actor` (the step's actor, or the applicant on a draft) or `applicant` (revising a
    /// returned request). A step's required documents count only the actor's.
    pub uploaded_as: Stored<UploadParty>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
