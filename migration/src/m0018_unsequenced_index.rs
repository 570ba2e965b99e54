//! The audit sequencer asks, every beat, for the events not yet in the transparency log
//! (`leaf_index IS NULL`, oldest first), and the metrics for their count and age. Those
//! are the newest few of a table that only grows. With statistics taken while many events
//! waited (a backlog, or a young table), PostgreSQL planned the question as a walk of the
//! whole table, expecting an unlogged event at every step: 146 ms for the cheap check and
//! 553 ms for the batch at 1 M events, on every beat, until the next `ANALYZE`
//! (docs/benchmarks.md, session 15). A partial index holds exactly the unlogged events, by
//! `seq`, so the answer is read from it whatever the statistics say; an event leaves it
//! when the sequencer gives it its index.

use sea_orm_migration::async_trait;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const NAME: &str = "ix_audit_events_unsequenced";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.get_connection()
            .execute_unprepared(&format!("CREATE INDEX {NAME} ON audit_events (seq) WHERE leaf_index IS NULL"))
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.get_connection().execute_unprepared(&format!("DROP INDEX {NAME}")).await?;
        Ok(())
    }
}
