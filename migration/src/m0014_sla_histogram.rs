//! The SLA report's pre-aggregated durations (issue 15, item 4: the report over 1 M
//! requests in under 300 ms). PostgreSQL only: SQLite, the single-office default, keeps
//! computing the report from the finished steps themselves.
//!
//! * `sla_histogram`: per (flow, step, WIB month of completion, duration bucket) the number
//!   of counted finished steps and how many of them were within target and within limit.
//!   Buckets are log-linear (`service::sla_histogram::bucket_of`, at most 1/128 of the
//!   value wide), so a percentile is found by counting buckets and then reading the exact
//!   value inside one bucket's narrow range of the existing `ix_step_instances_sla`.
//! * `sla_pending`: what the histogram does not hold yet. Triggers on `step_instances`
//!   write one row here, in the same transaction, whenever a step starts or stops being
//!   counted (`SLA_INDEX_CONDITION`) or a counted step's figures change: `+1` with the new
//!   figures, `-1` with the old. The service folds pending rows into the histogram in
//!   batches (`FOR UPDATE SKIP LOCKED`, any replica), so the histogram plus the pending
//!   rows always equal the finished steps, in any snapshot, however the steps were written
//!   (the service, a bulk import, an administrator's `UPDATE`).
//! * A transition adds one small insert (the trigger); the histogram's rows are never
//!   updated on the hot path, so transitions do not queue on a counter row.
//!
//! Existing finished steps are queued at migration time; the service folds them.

use sea_orm_migration::async_trait;
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

use crate::SLA_INDEX_CONDITION;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The pending row a step's figures make (`r` is `NEW`, `OLD` or a transition table's
/// row), with its sign.
fn pending_values(r: &str, delta: i32) -> String {
    format!(
        "{r}.flow, {r}.step_code, {r}.working_seconds, {r}.completed_at, \
         coalesce({r}.completed_at <= {r}.due_at, false), coalesce({r}.completed_at <= {r}.limit_at, false), {delta}"
    )
}

/// `SLA_INDEX_CONDITION` of a row variable.
fn counted(r: &str) -> String {
    SLA_INDEX_CONDITION
        .replace("working_seconds", &format!("{r}.working_seconds"))
        .replace("outcome", &format!("{r}.outcome"))
}

const COLUMNS: &str = "flow, step_code, working_seconds, completed_at, within_target, within_limit, delta";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() != DatabaseBackend::Postgres {
            return Ok(());
        }
        let db = m.get_connection();
        // Migrations run in a transaction on PostgreSQL. Holding off writers of finished
        // steps (another replica still on the old version) until the triggers exist means
        // no step is finished between the queueing below and the triggers.
        db.execute_unprepared("LOCK TABLE step_instances IN SHARE ROW EXCLUSIVE MODE").await?;
        db.execute_unprepared(
            "CREATE TABLE sla_histogram (
                flow varchar(16) NOT NULL,
                step_code varchar(32) NOT NULL,
                month timestamptz NOT NULL,
                bucket integer NOT NULL,
                steps bigint NOT NULL,
                within_target bigint NOT NULL,
                within_limit bigint NOT NULL,
                PRIMARY KEY (flow, step_code, month, bucket)
            )",
        )
        .await?;
        db.execute_unprepared(
            "CREATE TABLE sla_pending (
                id bigserial PRIMARY KEY,
                flow varchar(16) NOT NULL,
                step_code varchar(32) NOT NULL,
                working_seconds bigint NOT NULL,
                completed_at timestamptz NOT NULL,
                within_target boolean NOT NULL,
                within_limit boolean NOT NULL,
                delta smallint NOT NULL
            )",
        )
        .await?;
        // Steps finished before this migration: queued, folded by the service.
        db.execute_unprepared(&format!(
            "INSERT INTO sla_pending ({COLUMNS}) SELECT {} FROM step_instances s WHERE {}",
            pending_values("s", 1),
            counted("s")
        ))
        .await?;
        // Inserts: once per statement (a bulk import is one INSERT … SELECT into the queue).
        db.execute_unprepared(&format!(
            "CREATE FUNCTION sla_queue_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN
                 INSERT INTO sla_pending ({COLUMNS}) SELECT {} FROM inserted_steps s WHERE {};
                 RETURN NULL;
             END $$",
            pending_values("s", 1),
            counted("s")
        ))
        .await?;
        db.execute_unprepared(
            "CREATE TRIGGER sla_queue_inserted AFTER INSERT ON step_instances
             REFERENCING NEW TABLE AS inserted_steps FOR EACH STATEMENT EXECUTE FUNCTION sla_queue_inserted()",
        )
        .await?;
        // Updates and deletes: per row, and only for rows whose counted figures change
        // (the WHEN is evaluated without calling the function).
        db.execute_unprepared(&format!(
            "CREATE FUNCTION sla_queue_changed() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN
                 IF TG_OP IN ('UPDATE', 'DELETE') AND {old_counted} THEN
                     INSERT INTO sla_pending ({COLUMNS}) VALUES ({old});
                 END IF;
                 IF TG_OP = 'UPDATE' AND {new_counted} THEN
                     INSERT INTO sla_pending ({COLUMNS}) VALUES ({new});
                 END IF;
                 RETURN NULL;
             END $$",
            old_counted = counted("OLD"),
            new_counted = counted("NEW"),
            old = pending_values("OLD", -1),
            new = pending_values("NEW", 1),
        ))
        .await?;
        let figures = |r: &str| {
            format!(
                "({r}.flow, {r}.step_code, {r}.working_seconds, {r}.outcome, {r}.completed_at, {r}.due_at, {r}.limit_at)"
            )
        };
        db.execute_unprepared(&format!(
            "CREATE TRIGGER sla_queue_updated AFTER UPDATE ON step_instances FOR EACH ROW
             WHEN (({old_counted} OR {new_counted}) AND {old} IS DISTINCT FROM {new})
             EXECUTE FUNCTION sla_queue_changed()",
            old_counted = counted("OLD"),
            new_counted = counted("NEW"),
            old = figures("OLD"),
            new = figures("NEW"),
        ))
        .await?;
        db.execute_unprepared(&format!(
            "CREATE TRIGGER sla_queue_deleted AFTER DELETE ON step_instances FOR EACH ROW
             WHEN ({}) EXECUTE FUNCTION sla_queue_changed()",
            counted("OLD")
        ))
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() != DatabaseBackend::Postgres {
            return Ok(());
        }
        let db = m.get_connection();
        for sql in [
            "DROP TRIGGER sla_queue_deleted ON step_instances",
            "DROP TRIGGER sla_queue_updated ON step_instances",
            "DROP TRIGGER sla_queue_inserted ON step_instances",
            "DROP FUNCTION sla_queue_changed()",
            "DROP FUNCTION sla_queue_inserted()",
            "DROP TABLE sla_pending",
            "DROP TABLE sla_histogram",
        ] {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }
}
