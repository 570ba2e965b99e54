//! Schema migrations. Every schema change is a new migration; the same migrations run on
//! SQLite and PostgreSQL, so only portable column types are used (UUIDs, text, JSON,
//! timestamps with time zone, big integers).

pub use m0007_working_seconds::SLA_INDEX_CONDITION;
pub use sea_orm_migration::prelude::*;

mod m0001_directory_and_auth;
mod m0002_requests;
mod m0003_calendar;
mod m0004_notifications;
mod m0005_idempotency;
mod m0006_request_warning;
mod m0007_working_seconds;
mod m0008_list_and_worklist_indexes;
mod m0009_security;
mod m0010_office_work;
mod m0011_transparency_log;
mod m0012_webhooks;
mod m0013_rate_counters;
mod m0014_sla_histogram;
mod m0015_sla_completed_index;
mod m0016_step_organization;
mod m0017_sweep_indexes;
mod m0018_unsequenced_index;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m0001_directory_and_auth::Migration),
            Box::new(m0002_requests::Migration),
            Box::new(m0003_calendar::Migration),
            Box::new(m0004_notifications::Migration),
            Box::new(m0005_idempotency::Migration),
            Box::new(m0006_request_warning::Migration),
            Box::new(m0007_working_seconds::Migration),
            Box::new(m0008_list_and_worklist_indexes::Migration),
            Box::new(m0009_security::Migration),
            Box::new(m0010_office_work::Migration),
            Box::new(m0011_transparency_log::Migration),
            Box::new(m0012_webhooks::Migration),
            Box::new(m0013_rate_counters::Migration),
            Box::new(m0014_sla_histogram::Migration),
            Box::new(m0015_sla_completed_index::Migration),
            Box::new(m0016_step_organization::Migration),
            Box::new(m0017_sweep_indexes::Migration),
            Box::new(m0018_unsequenced_index::Migration),
        ]
    }
}
