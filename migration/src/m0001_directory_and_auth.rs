//! Organizations, users, sessions (refresh-token families), machine clients and the audit chain.
use sea_orm_migration::async_trait;

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Organizations {
    Table,
    Id,
    Code,
    Name,
    Kind,
    Active,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Username,
    FullName,
    PasswordHash,
    OrganizationId,
    Roles,
    Nip,
    Email,
    Active,
    Version,
    PasswordChangedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum RefreshTokens {
    Table,
    Id,
    FamilyId,
    UserId,
    TokenHash,
    IssuedAt,
    ExpiresAt,
    UsedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum ApiClients {
    Table,
    Id,
    ClientId,
    Name,
    OrganizationId,
    SecretHash,
    Active,
    Version,
    CreatedBy,
    CreatedAt,
    RotatedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    Seq,
    Id,
    OccurredAt,
    ActorUserId,
    ActorClientId,
    Action,
    ObjectType,
    ObjectId,
    Details,
    PrevHash,
    Hash,
}

#[derive(DeriveIden)]
enum AuditHead {
    Table,
    Id,
    Seq,
    Hash,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Organizations::Table)
                .col(uuid(Organizations::Id).primary_key())
                .col(string_len_uniq(Organizations::Code, 32))
                .col(string_len(Organizations::Name, 200))
                .col(string_len(Organizations::Kind, 16))
                .col(boolean(Organizations::Active).default(true))
                .col(integer(Organizations::Version).default(1))
                .col(timestamp_with_time_zone(Organizations::CreatedAt))
                .col(timestamp_with_time_zone(Organizations::UpdatedAt))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Users::Table)
                .col(uuid(Users::Id).primary_key())
                .col(string_len_uniq(Users::Username, 64))
                .col(string_len(Users::FullName, 200))
                .col(string_len(Users::PasswordHash, 200))
                .col(uuid(Users::OrganizationId))
                .col(json(Users::Roles))
                .col(string_len_null(Users::Nip, 18).unique_key())
                .col(string_len_null(Users::Email, 254))
                .col(boolean(Users::Active).default(true))
                .col(integer(Users::Version).default(1))
                .col(timestamp_with_time_zone(Users::PasswordChangedAt))
                .col(timestamp_with_time_zone(Users::CreatedAt))
                .col(timestamp_with_time_zone(Users::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_users_organization")
                        .from(Users::Table, Users::OrganizationId)
                        .to(Organizations::Table, Organizations::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("ix_users_organization").table(Users::Table).col(Users::OrganizationId).to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(RefreshTokens::Table)
                .col(uuid(RefreshTokens::Id).primary_key())
                .col(uuid(RefreshTokens::FamilyId))
                .col(uuid(RefreshTokens::UserId))
                .col(string_len_uniq(RefreshTokens::TokenHash, 64))
                .col(timestamp_with_time_zone(RefreshTokens::IssuedAt))
                .col(timestamp_with_time_zone(RefreshTokens::ExpiresAt))
                .col(timestamp_with_time_zone_null(RefreshTokens::UsedAt))
                .col(timestamp_with_time_zone_null(RefreshTokens::RevokedAt))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_refresh_tokens_user")
                        .from(RefreshTokens::Table, RefreshTokens::UserId)
                        .to(Users::Table, Users::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_refresh_tokens_family")
                .table(RefreshTokens::Table)
                .col(RefreshTokens::FamilyId)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_refresh_tokens_user")
                .table(RefreshTokens::Table)
                .col(RefreshTokens::UserId)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(ApiClients::Table)
                .col(uuid(ApiClients::Id).primary_key())
                .col(string_len_uniq(ApiClients::ClientId, 64))
                .col(string_len(ApiClients::Name, 200))
                .col(uuid(ApiClients::OrganizationId))
                .col(string_len(ApiClients::SecretHash, 200))
                .col(boolean(ApiClients::Active).default(true))
                .col(integer(ApiClients::Version).default(1))
                .col(uuid(ApiClients::CreatedBy))
                .col(timestamp_with_time_zone(ApiClients::CreatedAt))
                .col(timestamp_with_time_zone_null(ApiClients::RotatedAt))
                .col(timestamp_with_time_zone_null(ApiClients::RevokedAt))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_api_clients_organization")
                        .from(ApiClients::Table, ApiClients::OrganizationId)
                        .to(Organizations::Table, Organizations::Id),
                )
                .to_owned(),
        )
        .await?;

        // The audit trail is append-only and hash-chained; `audit_head` holds the chain's
        // tip and is the row every audited transaction locks, so the chain stays linear.
        m.create_table(
            Table::create()
                .table(AuditEvents::Table)
                .col(big_integer(AuditEvents::Seq).primary_key())
                .col(uuid_uniq(AuditEvents::Id))
                .col(timestamp_with_time_zone(AuditEvents::OccurredAt))
                .col(uuid_null(AuditEvents::ActorUserId))
                .col(uuid_null(AuditEvents::ActorClientId))
                .col(string_len(AuditEvents::Action, 64))
                .col(string_len(AuditEvents::ObjectType, 32))
                .col(uuid(AuditEvents::ObjectId))
                .col(json(AuditEvents::Details))
                .col(string_len(AuditEvents::PrevHash, 64))
                .col(string_len(AuditEvents::Hash, 64))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_audit_events_object")
                .table(AuditEvents::Table)
                .col(AuditEvents::ObjectId)
                .col(AuditEvents::Seq)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(AuditHead::Table)
                .col(integer(AuditHead::Id).primary_key())
                .col(big_integer(AuditHead::Seq))
                .col(string_len(AuditHead::Hash, 64))
                .to_owned(),
        )
        .await?;
        let genesis = Query::insert()
            .into_table(AuditHead::Table)
            .columns([AuditHead::Id, AuditHead::Seq, AuditHead::Hash])
            .values_panic([1.into(), 0i64.into(), "0".repeat(64).into()])
            .to_owned();
        m.exec_stmt(genesis).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            AuditHead::Table.into_iden(),
            AuditEvents::Table.into_iden(),
            ApiClients::Table.into_iden(),
            RefreshTokens::Table.into_iden(),
            Users::Table.into_iden(),
            Organizations::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
