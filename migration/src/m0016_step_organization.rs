//! The requesting organization on each step instance, copied when the step starts (a
//! request never changes organization), so the SLA report for one agency reads that
//! agency's counted steps from one index, grouped by (flow, step) in duration order,
//! instead of joining every counted step of the register to its request (at 1 M requests,
//! ~10 M steps, that join was most of the per-agency report's 362 ms).
//!
//! Existing steps get their request's organization here. On PostgreSQL the backfill
//! rewrites every step row once (an upgrade note in CHANGELOG says how long that takes);
//! afterwards the column is `NOT NULL`. SQLite cannot add that constraint to an existing
//! column, so there the service alone keeps it filled (it is the only writer of steps).

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
        if postgres {
            // A join, not a lookup per row: ~10 M rows in minutes, not tens of minutes.
            db.execute_unprepared(
                "UPDATE step_instances s SET organization_id = r.organization_id FROM requests r \
                 WHERE r.id = s.request_id",
            )
            .await?;
            db.execute_unprepared("ALTER TABLE step_instances ALTER COLUMN organization_id SET NOT NULL").await?;
        } else {
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
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.get_connection().execute_unprepared("DROP INDEX ix_step_instances_sla_organization").await?;
        m.alter_table(Table::alter().table(StepInstances::Table).drop_column(StepInstances::OrganizationId).to_owned())
            .await?;
        Ok(())
    }
}
