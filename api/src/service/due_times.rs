//! Due times of open steps after a calendar change.
//!
//! `docs/time-standards.md`: "When closed dates or schedules change, due times of open
//! steps are recomputed; finished steps keep what they were measured with." A step's due
//! times are a function of its start, its time standard and the working time it waited on
//! the applicant (`paused_seconds`), so recomputing is `shift(due(started_at), paused)`
//! under the calendar now in force — exactly what the step would show had the new
//! calendar been in force from the start.
//!
//! What is kept: `started_at`, `paused_seconds`, and the sweeper's `*_notified_at` flags
//! (a crossing already recorded is not recorded again if the times move later). A
//! request that is returned right now has its current pause added on resubmission, as
//! always.

use chrono::{DateTime, Utc};
use entity::{request, step_instance};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use super::audit::{self, Actor};
use crate::calendar::{Due, TimeStandard, WorkingCalendar};
use crate::error::ApiResult;
use crate::state::AppState;

/// Open instances are read in keyset batches of this size.
const BATCH: u64 = 500;

/// The due times an open step has under `calendar`, or None if its stored standard does
/// not parse or a time falls outside the calendar's range (the row is then left as is).
pub fn recomputed(calendar: &WorkingCalendar, inst: &step_instance::Model) -> Option<Due> {
    let standard: TimeStandard = inst.time_standard.parse().ok()?;
    let due = calendar.due(inst.started_at, &standard).ok()?;
    calendar.shift(&due, inst.paused_seconds).ok()
}

fn stored(inst: &step_instance::Model) -> Due {
    Due {
        clock_started_at: inst.clock_started_at,
        warning_at: inst.warning_at,
        target_at: inst.due_at,
        limit_at: inst.limit_at,
    }
}

/// Recomputes the due times of every open step instance under the calendar in force
/// (`state.calendar()`, so install the new calendar first), and the copies on requests
/// whose current step it is. One write transaction; returns how many step instances
/// changed. A request whose current due times changed gets its `version` bumped (its
/// representation and ETag changed, and a transition that read the old times fails its
/// compare-and-set with 409 instead of writing them back) and one
/// `request.due_times_recomputed` audit event with the old and new times.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn recompute_open_due_times(state: &AppState) -> ApiResult<u64> {
    use step_instance::Column as S;
    let now = state.now();
    let calendar = state.calendar();
    let txn = crate::db::begin_write(&state.db).await?;
    let mut changed = 0u64;
    let mut after: Option<Uuid> = None;
    loop {
        let mut q = step_instance::Entity::find().filter(S::CompletedAt.is_null()).order_by_asc(S::Id).limit(BATCH);
        if let Some(after) = after {
            q = q.filter(S::Id.gt(after));
        }
        let batch = q.all(&txn).await?;
        for inst in &batch {
            let old = stored(inst);
            let Some(new) = recomputed(&calendar, inst) else {
                tracing::warn!(step_instance_id = %inst.id, standard = %inst.time_standard, "cannot recompute the due times of an open step");
                continue;
            };
            if new == old {
                continue;
            }
            update_instance(&txn, inst.id, &new).await?;
            changed += 1;
            let res = request::Entity::update_many()
                .col_expr(request::Column::CurrentWarningAt, Expr::value(new.warning_at))
                .col_expr(request::Column::CurrentDueAt, Expr::value(new.target_at))
                .col_expr(request::Column::CurrentLimitAt, Expr::value(new.limit_at))
                .col_expr(request::Column::Version, Expr::col(request::Column::Version).add(1))
                .col_expr(request::Column::UpdatedAt, Expr::value(now))
                .filter(request::Column::Id.eq(inst.request_id))
                .filter(request::Column::CurrentStepInstanceId.eq(inst.id))
                .exec(&txn)
                .await?;
            if res.rows_affected == 1 {
                let times = |d: &Due| {
                    serde_json::json!({"clock_started_at": d.clock_started_at, "warning_at": d.warning_at,
                        "due_at": d.target_at, "limit_at": d.limit_at})
                };
                let details = serde_json::json!({
                    "reason": "calendar_changed",
                    "step": inst.step_code,
                    "step_instance_id": inst.id,
                    "time_standard": inst.time_standard,
                    "paused_working_seconds": inst.paused_seconds,
                    "from": times(&old),
                    "to": times(&new),
                });
                audit::append(
                    &txn,
                    now,
                    Actor::SYSTEM,
                    "request.due_times_recomputed",
                    "request",
                    inst.request_id,
                    details,
                )
                .await?;
            }
        }
        if (batch.len() as u64) < BATCH {
            break;
        }
        after = batch.last().map(|i| i.id);
    }
    txn.commit().await?;
    if changed > 0 {
        tracing::info!(changed, "recomputed the due times of open steps after a calendar change");
    }
    Ok(changed)
}

async fn update_instance(txn: &sea_orm::DatabaseTransaction, id: Uuid, due: &Due) -> ApiResult<()> {
    use step_instance::Column as S;
    let at = |t: DateTime<Utc>| Expr::value(t);
    step_instance::Entity::update_many()
        .col_expr(S::ClockStartedAt, at(due.clock_started_at))
        .col_expr(S::WarningAt, at(due.warning_at))
        .col_expr(S::DueAt, at(due.target_at))
        .col_expr(S::LimitAt, at(due.limit_at))
        .filter(S::Id.eq(id))
        .filter(S::CompletedAt.is_null())
        .exec(txn)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, TimeZone};

    use super::*;
    use crate::calendar::{ClosedDate, ClosedDateKind, WeeklySchedule};

    fn wib(d: (i32, u32, u32), h: u32, m: u32) -> DateTime<Utc> {
        chrono_tz::Asia::Jakarta.with_ymd_and_hms(d.0, d.1, d.2, h, m, 0).unwrap().with_timezone(&Utc)
    }

    fn open_step(
        standard: &str,
        started_at: DateTime<Utc>,
        paused: i64,
        calendar: &WorkingCalendar,
    ) -> step_instance::Model {
        let due = calendar.due(started_at, &standard.parse().unwrap()).unwrap();
        let due = calendar.shift(&due, paused).unwrap();
        step_instance::Model {
            id: Uuid::now_v7(),
            request_id: Uuid::now_v7(),
            organization_id: Some(Uuid::now_v7()),
            flow: crate::workflow::Flow::External.into(),
            step_code: crate::workflow::StepCode::Discussion.into(),
            round: 1,
            actor: crate::workflow::CurrentActor::Step(crate::workflow::Actor::Role(
                crate::workflow::Role::TechnicalLead,
            ))
            .into(),
            time_standard: standard.into(),
            started_at,
            clock_started_at: due.clock_started_at,
            warning_at: due.warning_at,
            due_at: due.target_at,
            limit_at: due.limit_at,
            paused_seconds: paused,
            completed_at: None,
            completed_by_user: None,
            completed_by_client: None,
            outcome: None,
            note: None,
            note_visibility: crate::workflow::Visibility::Public.into(),
            warning_notified_at: None,
            overdue_notified_at: None,
            working_seconds: None,
        }
    }

    #[test]
    fn a_new_closed_date_moves_an_open_step_by_a_day_and_keeps_its_pause() {
        let before = WorkingCalendar::regency_default();
        // "1d" started Tuesday 17 Nov 2026 10:00 WIB, having waited 30 working minutes:
        // due Wednesday 10:00, moved by the pause to 10:30.
        let inst = open_step("1d", wib((2026, 11, 17), 10, 0), 30 * 60, &before);
        assert_eq!(inst.due_at, wib((2026, 11, 18), 10, 30));
        assert_eq!(recomputed(&before, &inst), Some(stored(&inst)), "same calendar, same times");
        // Wednesday becomes a regional closure: due Thursday 10:00, + 30 minutes.
        let closure = ClosedDate {
            date: NaiveDate::from_ymd_opt(2026, 11, 18).unwrap(),
            name: "Libur daerah".into(),
            kind: ClosedDateKind::RegionalClosure,
            source: "SE Bupati (test)".into(),
        };
        let after = WorkingCalendar::new(WeeklySchedule::regency_default(), vec![closure], Vec::new()).unwrap();
        let new = recomputed(&after, &inst).unwrap();
        assert_eq!(new.target_at, wib((2026, 11, 19), 10, 30));
        assert_eq!(new.limit_at, new.target_at);
        assert_eq!(new.clock_started_at, wib((2026, 11, 17), 10, 0));
    }

    #[test]
    fn an_unparsable_standard_is_left_alone() {
        let cal = WorkingCalendar::regency_default();
        let mut inst = open_step("15m", wib((2026, 11, 16), 8, 0), 0, &cal);
        inst.time_standard = "soon".into();
        assert_eq!(recomputed(&cal, &inst), None);
    }
}
