use jembatan_domain::workflow::{CurrentActor, Flow, Status, StepCode};
use sea_orm::entity::prelude::*;

use crate::Stored;

/// An integration request (permohonan). The current step's actor and due times are
/// copied here from its open step instance, so lists and worklists need no join.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "requests")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Registration number, e.g. `INT/2026/0001`, assigned at submission.
    pub number: Option<String>,
    pub flow: Stored<Flow>,
    pub definition_id: Uuid,
    pub organization_id: Uuid,
    pub created_by_user: Option<Uuid>,
    pub created_by_client: Option<Uuid>,
    pub title: String,
    pub purpose: String,
    pub source_system: String,
    pub target_system: String,
    pub data_exchanged: String,
    pub letter_number: String,
    pub letter_date: Date,
    pub status: Stored<Status>,
    pub current_step: Stored<StepCode>,
    /// `role:<role>`, `team`, `addressees` or `none`: who acts on the current step.
    pub current_actor: Stored<CurrentActor>,
    pub current_step_instance_id: Option<Uuid>,
    pub current_step_started_at: Option<DateTimeUtc>,
    pub current_warning_at: Option<DateTimeUtc>,
    pub current_due_at: Option<DateTimeUtc>,
    pub current_limit_at: Option<DateTimeUtc>,
    pub office_has_acted: bool,
    /// Set while the request waits on the applicant (returned); the office's clock is paused.
    pub returned_at: Option<DateTimeUtc>,
    pub test_rounds: i32,
    pub base_url: Option<String>,
    pub repository_url: Option<String>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub submitted_at: Option<DateTimeUtc>,
    pub closed_at: Option<DateTimeUtc>,
    /// Working seconds from `submitted_at` to `closed_at`, less the time the request waited
    /// on the applicant, measured once when it ends (null before).
    pub working_seconds: Option<i64>,
    /// A completed integration taken out of service (the catalogue shows it `retired`).
    pub retired_at: Option<DateTimeUtc>,
    pub retired_by: Option<Uuid>,
    pub retired_reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
