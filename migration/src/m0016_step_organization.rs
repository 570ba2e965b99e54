//! The requesting organization on each step instance, copied when the step starts (a
//! request never changes organization), so the SLA report for one agency reads that
//! agency's counted steps from one index, grouped by (flow, step) in duration order,
//! instead of joining every counted step of the register to its request (at 1 M requests,
//! ~10 M steps, that join was the per-agency report's 400 ms).
//!
//! Existing steps are given their request's organization without a table rewrite under
//! lock: filling ~10 M rows in one `UPDATE` held `step_instances` for over 15 minutes (every
//! transition waiting) when measured. So on PostgreSQL this migration only adds the
//! nullable column and the indexes (seconds), and the service files the existing steps in
//! batches in the background (`service::reports::filing`); until none is left without
//! an organization the per-agency report joins through the requests, as before. SQLite (the
//! single-process default, small registers) fills them here. The column stays nullable:
//! neither database can add `NOT NULL` to it without a rewrite; the service, the only
//! writer of steps, always sets it.

use sea_orm_migration::async_trait;
use sea_orm_migration::sea_orm::DatabaseBackend;
use sea_orm_migration::{prelude::*, schema::*};

use crate::SLA_INDEX_CONDITION;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum StepInstances {
    Table,
    OrganizationId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter().table(StepInstances::Table).add_column(uuid_null(StepInstances::OrganizationId)).to_owned(),
        )
        .await?;
        let db = m.get_connection();
        let postgres = m.get_database_backend() == DatabaseBackend::Postgres;
        if !postgres {
            db.execute_unprepared(
                "UPDATE step_instances SET organization_id = \
                 (SELECT r.organization_id FROM requests r WHERE r.id = step_instances.request_id)",
            )
            .await?;
        }
        // On PostgreSQL the index covers every column the report reads (index-only scan).
        let include = if postgres { " INCLUDE (completed_at, due_at, limit_at)" } else { "" };
        db.execute_unprepared(&format!(
            "CREATE INDEX ix_step_instances_sla_organization ON step_instances \
             (organization_id, flow, step_code, working_seconds){include} WHERE {SLA_INDEX_CONDITION}"
        ))
        .await?;
        // The steps still to file: empty once they are, so checking for one is one probe.
        db.execute_unprepared(
            "CREATE INDEX ix_step_instances_unfiled ON step_instances (id) WHERE organization_id IS NULL",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        db.execute_unprepared("DROP INDEX ix_step_instances_unfiled").await?;
        db.execute_unprepared("DROP INDEX ix_step_instances_sla_organization").await?;
        m.alter_table(Table::alter().table(StepInstances::Table).drop_column(StepInstances::OrganizationId).to_owned())
            .await?;
        Ok(())
    }
}
