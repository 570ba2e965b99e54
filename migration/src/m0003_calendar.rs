//! The office calendar as data: closed dates, special schedules for date ranges, and one
//! settings row holding the weekly hours.
//!
//! The seeded national holidays live in the api crate (`calendar::seeded_closed_dates`),
//! which a migration cannot depend on; the service inserts them at its first start and
//! records that in `calendar_settings.closed_dates_seeded_at`, so a date an admin deletes
//! is not seeded again on the next start.
//!
//! Dates are `date` columns: PostgreSQL `DATE`, SQLite ISO-8601 text (`YYYY-MM-DD`), which
//! compares in date order for four-digit years (the service accepts 1970–9999 only).
use sea_orm_migration::async_trait;

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ClosedDates {
    Table,
    Date,
    Name,
    Kind,
    Source,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum SpecialSchedules {
    Table,
    Id,
    FromDate,
    ToDate,
    Name,
    Hours,
    Source,
    CreatedAt,
}

#[derive(DeriveIden)]
enum CalendarSettings {
    Table,
    Id,
    WeeklySchedule,
    ClosedDatesSeededAt,
    Version,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One row per date: a date is closed or not, and an admin corrects the row.
        m.create_table(
            Table::create()
                .table(ClosedDates::Table)
                .col(date(ClosedDates::Date).primary_key())
                .col(string_len(ClosedDates::Name, 200))
                .col(string_len(ClosedDates::Kind, 32))
                .col(text(ClosedDates::Source))
                .col(timestamp_with_time_zone(ClosedDates::CreatedAt))
                .col(timestamp_with_time_zone(ClosedDates::UpdatedAt))
                .to_owned(),
        )
        .await?;

        // Special schedules never overlap (the service refuses it), so the start date is
        // unique; the index is the backstop and the key of the list's keyset pagination.
        m.create_table(
            Table::create()
                .table(SpecialSchedules::Table)
                .col(uuid(SpecialSchedules::Id).primary_key())
                .col(date(SpecialSchedules::FromDate))
                .col(date(SpecialSchedules::ToDate))
                .col(string_len(SpecialSchedules::Name, 200))
                .col(json(SpecialSchedules::Hours))
                .col(text(SpecialSchedules::Source))
                .col(timestamp_with_time_zone(SpecialSchedules::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_special_schedules_from_date")
                .table(SpecialSchedules::Table)
                .col(SpecialSchedules::FromDate)
                .unique()
                .to_owned(),
        )
        .await?;

        // A single row (id 1). Every calendar change updates it first: that bumps
        // `version` and, on PostgreSQL, locks the row, so concurrent changes are checked
        // one after the other. `weekly_schedule` is null until the service writes the
        // default hours at its first start.
        m.create_table(
            Table::create()
                .table(CalendarSettings::Table)
                .col(integer(CalendarSettings::Id).primary_key())
                .col(json_null(CalendarSettings::WeeklySchedule))
                .col(timestamp_with_time_zone_null(CalendarSettings::ClosedDatesSeededAt))
                .col(integer(CalendarSettings::Version).default(1))
                .col(timestamp_with_time_zone_null(CalendarSettings::UpdatedAt))
                .to_owned(),
        )
        .await?;
        let row = Query::insert()
            .into_table(CalendarSettings::Table)
            .columns([CalendarSettings::Id, CalendarSettings::Version])
            .values_panic([1.into(), 1.into()])
            .to_owned();
        m.exec_stmt(row).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in
            [CalendarSettings::Table.into_iden(), SpecialSchedules::Table.into_iden(), ClosedDates::Table.into_iden()]
        {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
