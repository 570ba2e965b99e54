//! The office's real work (issue 12): the people a disposition is addressed to, acting
//! officials (Plt/Plh) and delegations, a comment thread per request, the visibility of a
//! step's note, retiring an integration from the catalogue, and the mail outbox.

use sea_orm_migration::async_trait;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RequestAddressees {
    Table,
    RequestId,
    UserId,
    AddedAt,
}

#[derive(DeriveIden)]
enum ActingAssignments {
    Table,
    Id,
    ActingUserId,
    ForUserId,
    ForRole,
    ForOrganizationId,
    Kind,
    LetterNumber,
    StartsOn,
    EndsOn,
    StartsAt,
    EndsAt,
    EndedAt,
    CreatedByUser,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Comments {
    Table,
    Id,
    RequestId,
    AuthorUserId,
    AuthorClientId,
    Visibility,
    Body,
    MentionedUserIds,
    CreatedAt,
}

#[derive(DeriveIden)]
enum StepInstances {
    Table,
    NoteVisibility,
}

#[derive(DeriveIden)]
enum MailOutbox {
    Table,
    Id,
    NotificationId,
    UserId,
    ToAddress,
    Subject,
    Body,
    CreatedAt,
    Attempts,
    NextAttemptAt,
    SentAt,
    FailedAt,
    LastError,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    EmailOptOut,
}

#[derive(DeriveIden)]
enum Requests {
    Table,
    RetiredAt,
    RetiredBy,
    RetiredReason,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(RequestAddressees::Table)
                .col(uuid(RequestAddressees::RequestId))
                .col(uuid(RequestAddressees::UserId))
                .col(timestamp_with_time_zone(RequestAddressees::AddedAt))
                .primary_key(Index::create().col(RequestAddressees::RequestId).col(RequestAddressees::UserId))
                .to_owned(),
        )
        .await?;
        // The worklist asks "which requests is this person addressed on".
        m.create_index(
            Index::create()
                .name("ix_request_addressees_user")
                .table(RequestAddressees::Table)
                .col(RequestAddressees::UserId)
                .col(RequestAddressees::RequestId)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(ActingAssignments::Table)
                .col(uuid(ActingAssignments::Id).primary_key())
                .col(uuid(ActingAssignments::ActingUserId))
                .col(uuid_null(ActingAssignments::ForUserId))
                .col(string_len_null(ActingAssignments::ForRole, 32))
                .col(uuid_null(ActingAssignments::ForOrganizationId))
                .col(string_len(ActingAssignments::Kind, 16))
                .col(string_len(ActingAssignments::LetterNumber, 100))
                .col(date(ActingAssignments::StartsOn))
                .col(date(ActingAssignments::EndsOn))
                .col(timestamp_with_time_zone(ActingAssignments::StartsAt))
                .col(timestamp_with_time_zone(ActingAssignments::EndsAt))
                .col(timestamp_with_time_zone_null(ActingAssignments::EndedAt))
                .col(uuid(ActingAssignments::CreatedByUser))
                .col(timestamp_with_time_zone(ActingAssignments::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_acting_assignments_acting_user")
                .table(ActingAssignments::Table)
                .col(ActingAssignments::ActingUserId)
                .col(ActingAssignments::EndsAt)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Comments::Table)
                .col(uuid(Comments::Id).primary_key())
                .col(uuid(Comments::RequestId))
                .col(uuid_null(Comments::AuthorUserId))
                .col(uuid_null(Comments::AuthorClientId))
                .col(string_len(Comments::Visibility, 16))
                .col(text(Comments::Body))
                .col(json(Comments::MentionedUserIds))
                .col(timestamp_with_time_zone(Comments::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_comments_request")
                .table(Comments::Table)
                .col(Comments::RequestId)
                .col(Comments::Id)
                .to_owned(),
        )
        .await?;

        m.alter_table(
            Table::alter()
                .table(StepInstances::Table)
                .add_column(string_len(StepInstances::NoteVisibility, 16).default("public"))
                .to_owned(),
        )
        .await?;
        // SQLite adds one column per ALTER TABLE.
        m.alter_table(
            Table::alter()
                .table(Requests::Table)
                .add_column(timestamp_with_time_zone_null(Requests::RetiredAt))
                .to_owned(),
        )
        .await?;
        m.alter_table(Table::alter().table(Requests::Table).add_column(uuid_null(Requests::RetiredBy)).to_owned())
            .await?;
        m.alter_table(Table::alter().table(Requests::Table).add_column(text_null(Requests::RetiredReason)).to_owned())
            .await?;

        // Mail waits here, written in the transaction of the event it tells about; the
        // mailer sends it, retrying with backoff, and never twice (`sent_at`).
        m.create_table(
            Table::create()
                .table(MailOutbox::Table)
                .col(uuid(MailOutbox::Id).primary_key())
                .col(uuid_null(MailOutbox::NotificationId))
                .col(uuid(MailOutbox::UserId))
                .col(string_len(MailOutbox::ToAddress, 320))
                .col(string_len(MailOutbox::Subject, 300))
                .col(text(MailOutbox::Body))
                .col(timestamp_with_time_zone(MailOutbox::CreatedAt))
                .col(integer(MailOutbox::Attempts).default(0))
                .col(timestamp_with_time_zone(MailOutbox::NextAttemptAt))
                .col(timestamp_with_time_zone_null(MailOutbox::SentAt))
                .col(timestamp_with_time_zone_null(MailOutbox::FailedAt))
                .col(text_null(MailOutbox::LastError))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_mail_outbox_due")
                .table(MailOutbox::Table)
                .col(MailOutbox::SentAt)
                .col(MailOutbox::FailedAt)
                .col(MailOutbox::NextAttemptAt)
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter().table(Users::Table).add_column(boolean(Users::EmailOptOut).default(false)).to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table(Users::Table).drop_column(Users::EmailOptOut).to_owned()).await?;
        m.drop_table(Table::drop().table(MailOutbox::Table).to_owned()).await?;
        for col in [Requests::RetiredReason, Requests::RetiredBy, Requests::RetiredAt] {
            m.alter_table(Table::alter().table(Requests::Table).drop_column(col).to_owned()).await?;
        }
        m.alter_table(Table::alter().table(StepInstances::Table).drop_column(StepInstances::NoteVisibility).to_owned())
            .await?;
        m.drop_table(Table::drop().table(Comments::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(ActingAssignments::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(RequestAddressees::Table).to_owned()).await?;
        Ok(())
    }
}
