//! Working time of finished steps and requests, measured once, when they finish, and
//! stored (`working_seconds`): finished steps keep what they were measured with
//! (docs/time-standards.md), so a later calendar correction does not rewrite history, and
//! the SLA reports aggregate stored numbers in the database.

use chrono::{DateTime, Utc};
use entity::{request, step_instance};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use crate::calendar::WorkingCalendar;
use crate::error::ApiResult;
use crate::state::AppState;

/// A step's working duration: working seconds from its clock start to `completed_at`, less
/// the working time it waited on the applicant — `paused_seconds` already counted, plus
/// `waiting` for a pause still running when it ends — never below zero.
pub fn of_step(
    calendar: &WorkingCalendar,
    inst: &step_instance::Model,
    completed_at: DateTime<Utc>,
    waiting: i64,
) -> i64 {
    (calendar.elapsed_seconds(inst.clock_started_at, completed_at) - inst.paused_seconds - waiting).max(0)
}

/// A request's end-to-end working time: from submission to `closed_at`, less `waited`
/// (every pause of its steps, and one still running), never below zero.
pub fn of_request(
    calendar: &WorkingCalendar,
    submitted_at: DateTime<Utc>,
    closed_at: DateTime<Utc>,
    waited: i64,
) -> i64 {
    (calendar.elapsed_seconds(submitted_at, closed_at) - waited).max(0)
}

/// The working seconds a request's steps waited on the applicant, as recorded so far.
#[tracing::instrument(level = "debug", skip_all, fields(request_id = %request_id))]
pub async fn paused_total<C: ConnectionTrait>(db: &C, request_id: Uuid) -> ApiResult<i64> {
    // Summed here: PostgreSQL's SUM(bigint) is numeric, and pauses are few.
    let pauses: Vec<i64> = step_instance::Entity::find()
        .select_only()
        .column(step_instance::Column::PausedSeconds)
        .filter(step_instance::Column::RequestId.eq(request_id))
        .filter(step_instance::Column::PausedSeconds.gt(0))
        .into_tuple()
        .all(db)
        .await?;
    Ok(pauses.iter().sum())
}

const BATCH: u64 = 1_000;

/// Measures finished steps and requests that have no `working_seconds` yet (rows that
/// finished before the column existed), under the calendar in force. Runs at start; a
/// no-op once done. Returns (steps, requests) measured.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn measure_unmeasured(state: &AppState) -> ApiResult<(u64, u64)> {
    use step_instance::Column as S;
    let calendar = state.calendar();
    let mut steps = 0u64;
    loop {
        let batch = step_instance::Entity::find()
            .filter(S::CompletedAt.is_not_null())
            .filter(S::WorkingSeconds.is_null())
            .order_by_asc(S::Id)
            .limit(BATCH)
            .all(&state.db)
            .await?;
        if batch.is_empty() {
            break;
        }
        let txn = crate::db::begin_write(&state.db).await?;
        for inst in &batch {
            let Some(completed_at) = inst.completed_at else { continue };
            step_instance::Entity::update_many()
                .col_expr(S::WorkingSeconds, Expr::value(of_step(&calendar, inst, completed_at, 0)))
                .filter(S::Id.eq(inst.id))
                .exec(&txn)
                .await?;
        }
        txn.commit().await?;
        steps += batch.len() as u64;
        if (batch.len() as u64) < BATCH {
            break;
        }
    }

    use request::Column as R;
    let mut requests = 0u64;
    loop {
        let batch: Vec<(Uuid, DateTime<Utc>, DateTime<Utc>)> = request::Entity::find()
            .select_only()
            .column(R::Id)
            .column(R::SubmittedAt)
            .column(R::ClosedAt)
            .filter(R::SubmittedAt.is_not_null())
            .filter(R::ClosedAt.is_not_null())
            .filter(R::WorkingSeconds.is_null())
            .order_by_asc(R::Id)
            .limit(BATCH)
            .into_tuple()
            .all(&state.db)
            .await?;
        if batch.is_empty() {
            break;
        }
        let txn = crate::db::begin_write(&state.db).await?;
        for (id, submitted_at, closed_at) in &batch {
            let waited = paused_total(&txn, *id).await?;
            request::Entity::update_many()
                .col_expr(R::WorkingSeconds, Expr::value(of_request(&calendar, *submitted_at, *closed_at, waited)))
                .filter(R::Id.eq(*id))
                .exec(&txn)
                .await?;
        }
        txn.commit().await?;
        requests += batch.len() as u64;
        if (batch.len() as u64) < BATCH {
            break;
        }
    }
    if steps + requests > 0 {
        tracing::info!(
            steps,
            requests,
            "measured the working time of steps and requests finished before it was stored"
        );
    }
    Ok((steps, requests))
}
