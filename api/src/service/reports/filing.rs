//! Filing the steps from before migration m0016 under their request's organization, so the
//! per-agency SLA report can read them from `ix_step_instances_sla_organization` (see
//! `docs/sla.md`). Run by `jobs::step_filing`.

use sea_orm::{ConnectionTrait, DbBackend, Statement};

use crate::error::ApiResult;

/// Steps are filed in batches of this many, by id.
const FILE_BATCH: u64 = 5_000;
/// Above this many unfiled steps (PostgreSQL), the table is walked in physical order
/// instead, [`FILE_BLOCKS`] pages per statement.
const FILE_BY_BLOCK_ABOVE: u64 = 100_000;
const FILE_BLOCKS: i64 = 1_024;

/// Gives the steps from before migration m0016 their request's organization, in short
/// statements (each its own transaction, so transitions never wait long), until none is
/// left or the rest is claimed by another replica. Returns how many it filed.
///
/// A few (a rolling upgrade's) are filed by id, [`FILE_BATCH`] at a time, claimed with
/// `SKIP LOCKED` on PostgreSQL. A whole register (PostgreSQL, more than
/// [`FILE_BY_BLOCK_ABOVE`]) is walked in physical order, [`FILE_BLOCKS`] pages a statement
/// (`ctid` ranges), up to the table's end when the walk starts: in id order, steps whose
/// ids do not follow their insertion (a bulk import's random UUIDs) cost a random page read
/// and write each, five to ten times slower (measured). Two replicas walking at once both
/// finish; a row the other has filed no longer matches.
pub async fn file_steps(db: &impl ConnectionTrait) -> ApiResult<u64> {
    let postgres = db.get_database_backend() == DbBackend::Postgres;
    let mut filed = 0;
    if postgres && unfiled_at_least(db, FILE_BY_BLOCK_ABOVE).await? {
        filed += file_steps_by_block(db).await?;
    }
    let sql = if postgres {
        format!(
            "UPDATE step_instances s SET organization_id = r.organization_id FROM requests r \
             WHERE r.id = s.request_id AND s.id IN (SELECT id FROM step_instances WHERE organization_id IS NULL \
             ORDER BY id LIMIT {FILE_BATCH} FOR UPDATE SKIP LOCKED)"
        )
    } else {
        format!(
            "UPDATE step_instances SET organization_id = \
             (SELECT r.organization_id FROM requests r WHERE r.id = step_instances.request_id) \
             WHERE id IN (SELECT id FROM step_instances WHERE organization_id IS NULL ORDER BY id LIMIT {FILE_BATCH})"
        )
    };
    loop {
        let n = db.execute_unprepared(&sql).await?.rows_affected();
        filed += n;
        if n < FILE_BATCH {
            return Ok(filed);
        }
    }
}

/// Whether at least `n` steps are unfiled (counted on the partial index, stopping at `n`).
async fn unfiled_at_least(db: &impl ConnectionTrait, n: u64) -> ApiResult<bool> {
    let sql = format!(
        "SELECT COUNT(*) AS n FROM (SELECT 1 FROM step_instances WHERE organization_id IS NULL LIMIT {n}) AS u"
    );
    let row = db.query_one_raw(Statement::from_string(db.get_database_backend(), sql)).await?;
    let found: i64 = match row {
        Some(row) => row.try_get("", "n")?,
        None => 0,
    };
    Ok(u64::try_from(found).unwrap_or(0) >= n)
}

/// One walk over `step_instances` in physical order (PostgreSQL), filing every unfiled
/// step in the pages that exist when it starts. Public for the tests: [`file_steps`]
/// chooses it for a whole register.
pub async fn file_steps_by_block(db: &impl ConnectionTrait) -> ApiResult<u64> {
    let sql = "SELECT (pg_relation_size('step_instances') / current_setting('block_size')::bigint) AS blocks";
    let row = db.query_one_raw(Statement::from_string(DbBackend::Postgres, sql)).await?;
    let blocks: i64 = match row {
        Some(row) => row.try_get("", "blocks")?,
        None => 0,
    };
    let mut filed = 0;
    let mut first = 0;
    while first < blocks {
        let last = first + FILE_BLOCKS;
        let n = db
            .execute_unprepared(&format!(
                "UPDATE step_instances s SET organization_id = r.organization_id FROM requests r \
                 WHERE r.id = s.request_id AND s.organization_id IS NULL \
                 AND s.ctid >= '({first},0)'::tid AND s.ctid < '({last},0)'::tid"
            ))
            .await?
            .rows_affected();
        filed += n;
        first = last;
    }
    Ok(filed)
}
