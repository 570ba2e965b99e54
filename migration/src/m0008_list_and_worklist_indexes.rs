//! Indexes for lists and worklists at a million requests, proposed by the load benchmark
//! (docs/benchmarks.md, "Load"; plans measured there with EXPLAIN ANALYZE).
//!
//! - `ix_requests_org_status_id` (organization_id, status, id): an agency's list filtered by
//!   status (`GET /requests?status=…` as an applicant), newest first, reads one index range
//!   instead of walking the primary key backwards past every other agency's requests.
//! - `ix_requests_status_step_id` (status, current_step, id): the office's list filtered by
//!   status and step (`GET /requests?status=in_progress&current_step=…`), same reason.
//! - `ix_requests_org_status_limit` (organization_id, status, current_limit_at, id): the
//!   applicant's part of the worklist (`GET /tasks`: the organization's drafts and
//!   returned requests, earliest limit first). Only used once `service::requests::tasks`
//!   asks for each status in its own `ORDER BY current_limit_at, id LIMIT n` query (the
//!   change proposed with the benchmark); until then it is one more index to maintain.
//!
//! Numbered m0008: m0007 is being written elsewhere at the same time.

use sea_orm_migration::async_trait;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Requests {
    Table,
    Id,
    OrganizationId,
    Status,
    CurrentStep,
    CurrentLimitAt,
}

fn indexes() -> Vec<(&'static str, Vec<Requests>)> {
    vec![
        ("ix_requests_org_status_id", vec![Requests::OrganizationId, Requests::Status, Requests::Id]),
        ("ix_requests_status_step_id", vec![Requests::Status, Requests::CurrentStep, Requests::Id]),
        (
            "ix_requests_org_status_limit",
            vec![Requests::OrganizationId, Requests::Status, Requests::CurrentLimitAt, Requests::Id],
        ),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (name, cols) in indexes() {
            let mut idx = Index::create();
            idx.name(name).table(Requests::Table);
            for c in cols {
                idx.col(c);
            }
            m.create_index(idx.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (name, _) in indexes() {
            m.drop_index(Index::drop().name(name).table(Requests::Table).to_owned()).await?;
        }
        Ok(())
    }
}
