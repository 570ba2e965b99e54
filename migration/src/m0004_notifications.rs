//! Notifications: what the SLA sweeper tells people (a step nearing or past its limit,
//! an escalation), read through `GET /notifications`.
//!
//! The inbox is listed per user, unread first, newest first, so the index leads with
//! (user_id, read_at) and then the time.
use sea_orm_migration::async_trait;

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Notifications {
    Table,
    Id,
    UserId,
    RequestId,
    StepInstanceId,
    Kind,
    Title,
    Body,
    CreatedAt,
    ReadAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Notifications::Table)
                .col(uuid(Notifications::Id).primary_key())
                .col(uuid(Notifications::UserId))
                .col(uuid(Notifications::RequestId))
                .col(uuid_null(Notifications::StepInstanceId))
                // `sla_warning`, `sla_overdue` or `escalation`.
                .col(string_len(Notifications::Kind, 32))
                .col(string_len(Notifications::Title, 300))
                .col(text(Notifications::Body))
                .col(timestamp_with_time_zone(Notifications::CreatedAt))
                .col(timestamp_with_time_zone_null(Notifications::ReadAt))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_notifications_user")
                        .from(Notifications::Table, Notifications::UserId)
                        .to(Alias::new("users"), Alias::new("id")),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_notifications_request")
                        .from(Notifications::Table, Notifications::RequestId)
                        .to(Alias::new("requests"), Alias::new("id")),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_notifications_inbox")
                .table(Notifications::Table)
                .col(Notifications::UserId)
                .col(Notifications::ReadAt)
                .col(Notifications::CreatedAt)
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Notifications::Table).to_owned()).await
    }
}
