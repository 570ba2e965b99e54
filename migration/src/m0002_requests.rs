//! Workflow definitions, integration requests, their step instances, team members,
//! documents and the per-year registration counter.
use sea_orm_migration::async_trait;

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum WorkflowDefinitions {
    Table,
    Id,
    Flow,
    Version,
    Definition,
    PublishedAt,
    PublishedBy,
}

#[derive(DeriveIden)]
enum Requests {
    Table,
    Id,
    Number,
    Flow,
    DefinitionId,
    OrganizationId,
    CreatedByUser,
    CreatedByClient,
    Title,
    Purpose,
    SourceSystem,
    TargetSystem,
    DataExchanged,
    LetterNumber,
    LetterDate,
    Status,
    CurrentStep,
    CurrentActor,
    CurrentStepInstanceId,
    CurrentStepStartedAt,
    CurrentDueAt,
    CurrentLimitAt,
    OfficeHasActed,
    ReturnedAt,
    TestRounds,
    BaseUrl,
    RepositoryUrl,
    Version,
    CreatedAt,
    UpdatedAt,
    SubmittedAt,
    ClosedAt,
}

#[derive(DeriveIden)]
enum StepInstances {
    Table,
    Id,
    RequestId,
    StepCode,
    Round,
    Actor,
    TimeStandard,
    StartedAt,
    ClockStartedAt,
    WarningAt,
    DueAt,
    LimitAt,
    PausedSeconds,
    CompletedAt,
    CompletedByUser,
    CompletedByClient,
    Outcome,
    Note,
    WarningNotifiedAt,
    OverdueNotifiedAt,
}

#[derive(DeriveIden)]
enum TeamMembers {
    Table,
    RequestId,
    UserId,
    IsLead,
    AddedAt,
}

#[derive(DeriveIden)]
enum Documents {
    Table,
    Id,
    RequestId,
    StepInstanceId,
    StepCode,
    Kind,
    KindVersion,
    Filename,
    ContentType,
    Size,
    Sha256,
    StorageKey,
    UploadedAt,
    UploadedByUser,
    UploadedByClient,
}

#[derive(DeriveIden)]
enum RequestNumbers {
    Table,
    Year,
    Last,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(WorkflowDefinitions::Table)
                .col(uuid(WorkflowDefinitions::Id).primary_key())
                .col(string_len(WorkflowDefinitions::Flow, 16))
                .col(integer(WorkflowDefinitions::Version))
                .col(json(WorkflowDefinitions::Definition))
                .col(timestamp_with_time_zone(WorkflowDefinitions::PublishedAt))
                .col(uuid_null(WorkflowDefinitions::PublishedBy))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_workflow_definitions_flow_version")
                .table(WorkflowDefinitions::Table)
                .col(WorkflowDefinitions::Flow)
                .col(WorkflowDefinitions::Version)
                .unique()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Requests::Table)
                .col(uuid(Requests::Id).primary_key())
                .col(string_len_null(Requests::Number, 32).unique_key())
                .col(string_len(Requests::Flow, 16))
                .col(uuid(Requests::DefinitionId))
                .col(uuid(Requests::OrganizationId))
                .col(uuid_null(Requests::CreatedByUser))
                .col(uuid_null(Requests::CreatedByClient))
                .col(string_len(Requests::Title, 200))
                .col(text(Requests::Purpose))
                .col(string_len(Requests::SourceSystem, 200))
                .col(string_len(Requests::TargetSystem, 200))
                .col(text(Requests::DataExchanged))
                .col(string_len(Requests::LetterNumber, 100))
                .col(date(Requests::LetterDate))
                .col(string_len(Requests::Status, 16))
                .col(string_len(Requests::CurrentStep, 32))
                .col(string_len(Requests::CurrentActor, 48))
                .col(uuid_null(Requests::CurrentStepInstanceId))
                .col(timestamp_with_time_zone_null(Requests::CurrentStepStartedAt))
                .col(timestamp_with_time_zone_null(Requests::CurrentDueAt))
                .col(timestamp_with_time_zone_null(Requests::CurrentLimitAt))
                .col(boolean(Requests::OfficeHasActed).default(false))
                .col(timestamp_with_time_zone_null(Requests::ReturnedAt))
                .col(integer(Requests::TestRounds).default(0))
                .col(string_len_null(Requests::BaseUrl, 500))
                .col(string_len_null(Requests::RepositoryUrl, 500))
                .col(integer(Requests::Version).default(1))
                .col(timestamp_with_time_zone(Requests::CreatedAt))
                .col(timestamp_with_time_zone(Requests::UpdatedAt))
                .col(timestamp_with_time_zone_null(Requests::SubmittedAt))
                .col(timestamp_with_time_zone_null(Requests::ClosedAt))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_requests_definition")
                        .from(Requests::Table, Requests::DefinitionId)
                        .to(WorkflowDefinitions::Table, WorkflowDefinitions::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_requests_organization")
                        .from(Requests::Table, Requests::OrganizationId)
                        .to(Alias::new("organizations"), Alias::new("id")),
                )
                .to_owned(),
        )
        .await?;
        // The list and worklist queries: by organization, by status + step, by urgency.
        for (name, cols) in [
            ("ix_requests_org", vec![Requests::OrganizationId, Requests::Id]),
            ("ix_requests_status", vec![Requests::Status, Requests::Id]),
            ("ix_requests_actor_limit", vec![Requests::CurrentActor, Requests::CurrentLimitAt, Requests::Id]),
            ("ix_requests_status_limit", vec![Requests::Status, Requests::CurrentLimitAt]),
        ] {
            let mut idx = Index::create();
            idx.name(name).table(Requests::Table);
            for c in cols {
                idx.col(c);
            }
            m.create_index(idx.to_owned()).await?;
        }

        m.create_table(
            Table::create()
                .table(StepInstances::Table)
                .col(uuid(StepInstances::Id).primary_key())
                .col(uuid(StepInstances::RequestId))
                .col(string_len(StepInstances::StepCode, 32))
                .col(integer(StepInstances::Round).default(1))
                .col(string_len(StepInstances::Actor, 48))
                .col(string_len(StepInstances::TimeStandard, 16))
                .col(timestamp_with_time_zone(StepInstances::StartedAt))
                .col(timestamp_with_time_zone(StepInstances::ClockStartedAt))
                .col(timestamp_with_time_zone(StepInstances::WarningAt))
                .col(timestamp_with_time_zone(StepInstances::DueAt))
                .col(timestamp_with_time_zone(StepInstances::LimitAt))
                .col(big_integer(StepInstances::PausedSeconds).default(0))
                .col(timestamp_with_time_zone_null(StepInstances::CompletedAt))
                .col(uuid_null(StepInstances::CompletedByUser))
                .col(uuid_null(StepInstances::CompletedByClient))
                .col(string_len_null(StepInstances::Outcome, 32))
                .col(text_null(StepInstances::Note))
                .col(timestamp_with_time_zone_null(StepInstances::WarningNotifiedAt))
                .col(timestamp_with_time_zone_null(StepInstances::OverdueNotifiedAt))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_step_instances_request")
                        .from(StepInstances::Table, StepInstances::RequestId)
                        .to(Requests::Table, Requests::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_step_instances_request")
                .table(StepInstances::Table)
                .col(StepInstances::RequestId)
                .col(StepInstances::StartedAt)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_step_instances_open_limit")
                .table(StepInstances::Table)
                .col(StepInstances::CompletedAt)
                .col(StepInstances::LimitAt)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(TeamMembers::Table)
                .col(uuid(TeamMembers::RequestId))
                .col(uuid(TeamMembers::UserId))
                .col(boolean(TeamMembers::IsLead))
                .col(timestamp_with_time_zone(TeamMembers::AddedAt))
                .primary_key(Index::create().col(TeamMembers::RequestId).col(TeamMembers::UserId))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_team_members_request")
                        .from(TeamMembers::Table, TeamMembers::RequestId)
                        .to(Requests::Table, Requests::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_team_members_user")
                        .from(TeamMembers::Table, TeamMembers::UserId)
                        .to(Alias::new("users"), Alias::new("id")),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("ix_team_members_user").table(TeamMembers::Table).col(TeamMembers::UserId).to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Documents::Table)
                .col(uuid(Documents::Id).primary_key())
                .col(uuid(Documents::RequestId))
                .col(uuid(Documents::StepInstanceId))
                .col(string_len(Documents::StepCode, 32))
                .col(string_len(Documents::Kind, 32))
                .col(integer(Documents::KindVersion))
                .col(string_len(Documents::Filename, 255))
                .col(string_len(Documents::ContentType, 128))
                .col(big_integer(Documents::Size))
                .col(string_len(Documents::Sha256, 64))
                .col(string_len_uniq(Documents::StorageKey, 128))
                .col(timestamp_with_time_zone(Documents::UploadedAt))
                .col(uuid_null(Documents::UploadedByUser))
                .col(uuid_null(Documents::UploadedByClient))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_documents_request")
                        .from(Documents::Table, Documents::RequestId)
                        .to(Requests::Table, Requests::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_documents_request")
                .table(Documents::Table)
                .col(Documents::RequestId)
                .col(Documents::UploadedAt)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_documents_step_instance")
                .table(Documents::Table)
                .col(Documents::StepInstanceId)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(RequestNumbers::Table)
                .col(integer(RequestNumbers::Year).primary_key())
                .col(integer(RequestNumbers::Last))
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            RequestNumbers::Table.into_iden(),
            Documents::Table.into_iden(),
            TeamMembers::Table.into_iden(),
            StepInstances::Table.into_iden(),
            Requests::Table.into_iden(),
            WorkflowDefinitions::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
