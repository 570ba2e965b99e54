//! The request row also carries its current step's warning instant, so a request's SLA
//! state (on_time → warning → overdue) is exact in lists without reading step instances.

use sea_orm_migration::async_trait;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Requests {
    Table,
    CurrentWarningAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Requests::Table)
                .add_column(timestamp_with_time_zone_null(Requests::CurrentWarningAt))
                .to_owned(),
        )
        .await?;
        // Requests already open take the warning instant of their open step instance.
        let sql = "UPDATE requests SET current_warning_at = (SELECT s.warning_at FROM step_instances s \
                   WHERE s.id = requests.current_step_instance_id)";
        m.get_connection().execute_unprepared(sql).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table(Requests::Table).drop_column(Requests::CurrentWarningAt).to_owned()).await
    }
}
