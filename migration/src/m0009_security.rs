//! What the security review asked for (issue 10): token versions per user and per client,
//! so a revocation reaches tokens already issued; demo accounts marked as such; the start
//! of each login session, for an absolute lifetime; which party uploaded a document; and a
//! small table of facts about this installation (whether it is a demo database).

use sea_orm_migration::async_trait;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    AuthVersion,
    Demo,
}

#[derive(DeriveIden)]
enum ApiClients {
    Table,
    AuthVersion,
}

#[derive(DeriveIden)]
enum RefreshTokens {
    Table,
    SessionStartedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum Documents {
    Table,
    UploadedAs,
    UploadedAt,
}

#[derive(DeriveIden)]
enum InstallationFacts {
    Table,
    Key,
    Value,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE.
        m.alter_table(Table::alter().table(Users::Table).add_column(integer(Users::AuthVersion).default(0)).to_owned())
            .await?;
        m.alter_table(Table::alter().table(Users::Table).add_column(boolean(Users::Demo).default(false)).to_owned())
            .await?;
        m.alter_table(
            Table::alter().table(ApiClients::Table).add_column(integer(ApiClients::AuthVersion).default(0)).to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(RefreshTokens::Table)
                .add_column(timestamp_with_time_zone_null(RefreshTokens::SessionStartedAt))
                .to_owned(),
        )
        .await?;
        // A session started when its family's first token was issued.
        let sql = "UPDATE refresh_tokens SET session_started_at = (SELECT MIN(f.issued_at) FROM refresh_tokens f \
                   WHERE f.family_id = refresh_tokens.family_id)";
        m.get_connection().execute_unprepared(sql).await?;
        // `actor`: the current step's actor (or the applicant on a draft); `applicant`: the
        // applicant revising a returned request. Only the actor's count for a step.
        m.alter_table(
            Table::alter()
                .table(Documents::Table)
                .add_column(string(Documents::UploadedAs).default("actor"))
                .to_owned(),
        )
        .await?;
        // Documents added before this rule by the applicant side after the first step (an
        // agency system, or an applicant of the requesting organization) were revisions:
        // they must not count for the office's step.
        let sql = "UPDATE documents SET uploaded_as = 'applicant' WHERE step_code <> 'submit' AND ( \
                   uploaded_by_client IS NOT NULL OR uploaded_by_user IN ( \
                     SELECT u.id FROM users u JOIN requests r ON r.organization_id = u.organization_id \
                     WHERE r.id = documents.request_id AND CAST(u.roles AS TEXT) LIKE '%\"applicant\"%'))";
        m.get_connection().execute_unprepared(sql).await?;
        // The daily upload quota sums today's documents.
        m.create_index(
            Index::create()
                .name("idx_documents_uploaded_at")
                .table(Documents::Table)
                .col(Documents::UploadedAt)
                .to_owned(),
        )
        .await?;
        // The principal directory re-reads recently revoked sessions every few seconds.
        m.create_index(
            Index::create()
                .name("idx_refresh_tokens_revoked_at")
                .table(RefreshTokens::Table)
                .col(RefreshTokens::RevokedAt)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(InstallationFacts::Table)
                .if_not_exists()
                .col(string(InstallationFacts::Key).primary_key())
                .col(string(InstallationFacts::Value))
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(InstallationFacts::Table).to_owned()).await?;
        m.drop_index(Index::drop().name("idx_refresh_tokens_revoked_at").table(RefreshTokens::Table).to_owned())
            .await?;
        m.drop_index(Index::drop().name("idx_documents_uploaded_at").table(Documents::Table).to_owned()).await?;
        m.alter_table(Table::alter().table(Documents::Table).drop_column(Documents::UploadedAs).to_owned()).await?;
        m.alter_table(
            Table::alter().table(RefreshTokens::Table).drop_column(RefreshTokens::SessionStartedAt).to_owned(),
        )
        .await?;
        m.alter_table(Table::alter().table(ApiClients::Table).drop_column(ApiClients::AuthVersion).to_owned()).await?;
        m.alter_table(Table::alter().table(Users::Table).drop_column(Users::Demo).to_owned()).await?;
        m.alter_table(Table::alter().table(Users::Table).drop_column(Users::AuthVersion).to_owned()).await
    }
}
