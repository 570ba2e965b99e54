//! The SLA report's periods that do not start and end on WIB month starts: the whole
//! months inside come from the histogram (m0014), the parts of months at the ends are
//! counted per bucket from the counted finished steps of that time. This partial index
//! on `completed_at` covers what that count reads. PostgreSQL only (SQLite reads the
//! steps for every report).

use sea_orm_migration::async_trait;
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

use crate::SLA_INDEX_CONDITION;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() != DatabaseBackend::Postgres {
            return Ok(());
        }
        m.get_connection()
            .execute_unprepared(&format!(
                "CREATE INDEX ix_step_instances_sla_completed ON step_instances (completed_at) \
                 INCLUDE (flow, step_code, working_seconds, due_at, limit_at) WHERE {SLA_INDEX_CONDITION}"
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() != DatabaseBackend::Postgres {
            return Ok(());
        }
        m.get_connection().execute_unprepared("DROP INDEX ix_step_instances_sla_completed").await?;
        Ok(())
    }
}
