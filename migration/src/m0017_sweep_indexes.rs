//! The SLA sweeper looks every minute for open steps that crossed their warning point or
//! their limit without it being recorded. Its search read every open step (by primary key,
//! filtering): 90 ms of both cores at 150 000 open steps, a stall that showed in the read
//! tails. Two partial indexes hold exactly the open steps with each crossing unrecorded, by
//! the instant of that crossing, so a sweep reads only the steps that crossed.
//! (`jobs::sla_sweeper::candidates` queries each through its own branch of a union.)

use sea_orm_migration::async_trait;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const INDEXES: [(&str, &str, &str); 2] = [
    ("ix_step_instances_warning_unrecorded", "warning_at", "warning_notified_at"),
    ("ix_step_instances_limit_unrecorded", "limit_at", "overdue_notified_at"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (name, instant, recorded) in INDEXES {
            m.get_connection()
                .execute_unprepared(&format!(
                    "CREATE INDEX {name} ON step_instances ({instant}) \
                     WHERE completed_at IS NULL AND {recorded} IS NULL"
                ))
                .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (name, _, _) in INDEXES {
            m.get_connection().execute_unprepared(&format!("DROP INDEX {name}")).await?;
        }
        Ok(())
    }
}
