use jembatan_domain::workflow::{CurrentActor, Flow, StepCode, StepOutcome, Visibility};
use sea_orm::entity::prelude::*;

use crate::Stored;

/// One time a step was current for a request: when it started, when it was due, who
/// finished it and how. A failed test opens a new round of the integration step.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "step_instances")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub request_id: Uuid,
    /// The requesting organization, copied when the step starts (a request never changes
    /// organization), so the SLA report for one agency reads one index. Null only on a
    /// step from before migration m0016 that the service has not filed yet.
    pub organization_id: Option<Uuid>,
    /// The request's flow, copied when the step starts (a request never changes flow),
    /// so the SLA report groups and orders by (flow, step) from one index.
    pub flow: Stored<Flow>,
    pub step_code: Stored<StepCode>,
    pub round: i32,
    pub actor: Stored<CurrentActor>,
    /// The time standard in force when the step started, e.g. `1-2d`.
    pub time_standard: String,
    pub started_at: DateTimeUtc,
    pub clock_started_at: DateTimeUtc,
    pub warning_at: DateTimeUtc,
    pub due_at: DateTimeUtc,
    pub limit_at: DateTimeUtc,
    /// Working seconds the office's clock stood still while the applicant revised.
    pub paused_seconds: i64,
    pub completed_at: Option<DateTimeUtc>,
    pub completed_by_user: Option<Uuid>,
    pub completed_by_client: Option<Uuid>,
    pub outcome: Option<Stored<StepOutcome>>,
    pub note: Option<String>,
    /// Who may read `note`: `internal` notes are never shown to the applicant.
    pub note_visibility: Stored<Visibility>,
    pub warning_notified_at: Option<DateTimeUtc>,
    pub overdue_notified_at: Option<DateTimeUtc>,
    /// Working seconds from `clock_started_at` to `completed_at`, less `paused_seconds`,
    /// measured once when the step finishes (null while open).
    pub working_seconds: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
