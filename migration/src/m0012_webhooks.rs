//! Webhooks (issue 14): the endpoints agencies register, the deliveries to them (an
//! outbox, one row per event and endpoint, with its attempts), and the position up to
//! which the audit log has been fanned out to endpoints.

use sea_orm_migration::async_trait;
use sea_orm_migration::sea_orm::ConnectionTrait;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum WebhookEndpoints {
    Table,
    Id,
    OrganizationId,
    Url,
    Description,
    EventTypes,
    Secret,
    PreviousSecret,
    PreviousSecretUntil,
    Enabled,
    DisabledAt,
    DisabledReason,
    FailingSince,
    CreatedByUserId,
    CreatedByClientId,
    CreatedAt,
    UpdatedAt,
    Version,
}

#[derive(DeriveIden)]
enum WebhookDeliveries {
    Table,
    Id,
    EndpointId,
    MessageId,
    EventType,
    Payload,
    CreatedAt,
    Attempts,
    NextAttemptAt,
    LastAttemptAt,
    LastStatus,
    LastError,
    DeliveredAt,
    FailedAt,
}

#[derive(DeriveIden)]
enum WebhookFanout {
    Table,
    Name,
    Position,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(WebhookEndpoints::Table)
                .col(uuid(WebhookEndpoints::Id).primary_key())
                .col(uuid_null(WebhookEndpoints::OrganizationId))
                .col(string_len(WebhookEndpoints::Url, 2048))
                .col(string_len_null(WebhookEndpoints::Description, 200))
                .col(text(WebhookEndpoints::EventTypes))
                .col(string_len(WebhookEndpoints::Secret, 100))
                .col(string_len_null(WebhookEndpoints::PreviousSecret, 100))
                .col(timestamp_with_time_zone_null(WebhookEndpoints::PreviousSecretUntil))
                .col(boolean(WebhookEndpoints::Enabled))
                .col(timestamp_with_time_zone_null(WebhookEndpoints::DisabledAt))
                .col(text_null(WebhookEndpoints::DisabledReason))
                .col(timestamp_with_time_zone_null(WebhookEndpoints::FailingSince))
                .col(uuid_null(WebhookEndpoints::CreatedByUserId))
                .col(uuid_null(WebhookEndpoints::CreatedByClientId))
                .col(timestamp_with_time_zone(WebhookEndpoints::CreatedAt))
                .col(timestamp_with_time_zone(WebhookEndpoints::UpdatedAt))
                .col(integer(WebhookEndpoints::Version))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_webhook_endpoints_organization")
                .table(WebhookEndpoints::Table)
                .col(WebhookEndpoints::OrganizationId)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(WebhookDeliveries::Table)
                .col(uuid(WebhookDeliveries::Id).primary_key())
                .col(uuid(WebhookDeliveries::EndpointId))
                .col(string_len(WebhookDeliveries::MessageId, 64))
                .col(string_len(WebhookDeliveries::EventType, 40))
                .col(text(WebhookDeliveries::Payload))
                .col(timestamp_with_time_zone(WebhookDeliveries::CreatedAt))
                .col(integer(WebhookDeliveries::Attempts).default(0))
                .col(timestamp_with_time_zone(WebhookDeliveries::NextAttemptAt))
                .col(timestamp_with_time_zone_null(WebhookDeliveries::LastAttemptAt))
                .col(integer_null(WebhookDeliveries::LastStatus))
                .col(text_null(WebhookDeliveries::LastError))
                .col(timestamp_with_time_zone_null(WebhookDeliveries::DeliveredAt))
                .col(timestamp_with_time_zone_null(WebhookDeliveries::FailedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_webhook_deliveries_due")
                .table(WebhookDeliveries::Table)
                .col(WebhookDeliveries::DeliveredAt)
                .col(WebhookDeliveries::FailedAt)
                .col(WebhookDeliveries::NextAttemptAt)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_webhook_deliveries_endpoint")
                .table(WebhookDeliveries::Table)
                .col(WebhookDeliveries::EndpointId)
                .col(WebhookDeliveries::Id)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(WebhookFanout::Table)
                .col(string_len(WebhookFanout::Name, 40).primary_key())
                .col(big_integer(WebhookFanout::Position))
                .to_owned(),
        )
        .await?;
        // Fan-out starts at the log's end: no endpoint existed before, so nothing earlier
        // is owed to anyone (and an upgrade does not rescan the whole log).
        m.get_connection()
            .execute_unprepared(
                "INSERT INTO webhook_fanout (name, position) \
                 SELECT 'events', COALESCE(MAX(leaf_index), -1) FROM audit_events",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(WebhookFanout::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(WebhookDeliveries::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(WebhookEndpoints::Table).to_owned()).await?;
        Ok(())
    }
}
