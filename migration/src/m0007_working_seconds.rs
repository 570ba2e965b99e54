//! A finished step's working duration, and a finished request's end-to-end working time,
//! are measured once, when they finish, and stored: finished steps keep what they were
//! measured with (docs/time-standards.md), and the SLA report aggregates stored numbers
//! in the database instead of recomputing every duration on every call.
//!
//! * `step_instances.working_seconds`, `requests.working_seconds`: null until the row
//!   finishes. Rows that finished before this migration are measured by the service at
//!   its next start (`service::working_time`): working time needs the office calendar,
//!   which SQL does not have.
//! * `step_instances.flow`: the request's flow, copied (a request never changes flow), so
//!   one index serves the report's grouping by (flow, step) in duration order. On
//!   PostgreSQL the index also covers the columns the report reads (an index-only scan
//!   feeds `percentile_cont` presorted input: ~1 M finished steps in a few hundred ms).

use sea_orm_migration::async_trait;
use sea_orm_migration::sea_orm::DatabaseBackend;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum StepInstances {
    Table,
    WorkingSeconds,
    Flow,
}

#[derive(DeriveIden)]
enum Requests {
    Table,
    WorkingSeconds,
}

/// The outcomes the SLA report counts (`service::reports::COUNTED_OUTCOMES`); the report's
/// query repeats this condition so the partial index applies.
pub const SLA_INDEX_CONDITION: &str =
    "working_seconds IS NOT NULL AND outcome IN ('completed', 'test_failed', 'rejected')";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per ALTER: SQLite takes one change at a time.
        m.alter_table(
            Table::alter()
                .table(StepInstances::Table)
                .add_column(big_integer_null(StepInstances::WorkingSeconds))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(StepInstances::Table)
                .add_column(string_len(StepInstances::Flow, 16).default(""))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter().table(Requests::Table).add_column(big_integer_null(Requests::WorkingSeconds)).to_owned(),
        )
        .await?;
        let db = m.get_connection();
        db.execute_unprepared(
            "UPDATE step_instances SET flow = (SELECT r.flow FROM requests r WHERE r.id = step_instances.request_id)",
        )
        .await?;
        let index = match m.get_database_backend() {
            DatabaseBackend::Postgres => format!(
                "CREATE INDEX ix_step_instances_sla ON step_instances (flow, step_code, working_seconds) \
                 INCLUDE (completed_at, due_at, limit_at, request_id) WHERE {SLA_INDEX_CONDITION}"
            ),
            _ => format!(
                "CREATE INDEX ix_step_instances_sla ON step_instances (flow, step_code, working_seconds) \
                 WHERE {SLA_INDEX_CONDITION}"
            ),
        };
        db.execute_unprepared(&index).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.get_connection().execute_unprepared("DROP INDEX ix_step_instances_sla").await?;
        m.alter_table(Table::alter().table(Requests::Table).drop_column(Requests::WorkingSeconds).to_owned()).await?;
        for col in [StepInstances::Flow, StepInstances::WorkingSeconds] {
            m.alter_table(Table::alter().table(StepInstances::Table).drop_column(col).to_owned()).await?;
        }
        Ok(())
    }
}
