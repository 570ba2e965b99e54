//! The SLA sweeper: finds open steps that crossed their warning point or their limit,
//! records each crossing once (an audit event on the request), notifies the step's
//! actor(s) and, at the limit, escalates one level up the office (see [`ESCALATION`]).
//!
//! # Exactly once, with several replicas
//! A crossing is "claimed" by setting the step instance's `warning_notified_at` or
//! `overdue_notified_at` with a compare-and-set (`… WHERE id = ? AND …_notified_at IS
//! NULL`); the notifications and the audit event are written in the same transaction,
//! so either all of a crossing is recorded or none of it, and a second sweeper (another
//! replica, or the next tick) finds nothing left to claim. On PostgreSQL the instance is
//! first locked with `FOR UPDATE SKIP LOCKED`, so replicas pass over each other's rows
//! instead of queueing on them; on SQLite `BEGIN IMMEDIATE` serializes writers anyway.
//!
//! # What is swept
//! Open step instances (`completed_at IS NULL`) that are their request's current step
//! while the request is `in_progress`. Drafts (the applicant's own time) and returned
//! requests (the office's clock is paused) are not swept; a resubmitted request's due
//! times have moved by the pause, and it is swept against those.
//!
//! A crossing is recorded once per step instance: if due times later move (a calendar
//! change, a pause) the flags stay set. A new round of a step (after a failed test) is
//! a new instance and is swept afresh.

use std::collections::HashMap;
use std::time::Duration;

use actix_web::web;
use chrono::{DateTime, Utc};
use entity::{request, step_instance, team_member, user};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, LockBehavior, LockType, Order, Query, SimpleExpr, UnionType};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QuerySelect};
use serde::Serialize;
use uuid::Uuid;

use crate::auth::Role;
use crate::error::ApiResult;
use crate::msg;
use crate::service::audit::{self, Actor};
use crate::service::notifications::{self, NewNotification, NotificationKind};
use crate::service::{acting, requests, users, workflows};
use crate::state::AppState;
use crate::workflow::{Actor as StepActor, CurrentActor, Status};

/// Candidates are read in keyset batches of this size, so a backlog never loads whole.
const BATCH: u64 = 200;

/// What one sweep did.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct SweepReport {
    /// Warning crossings recorded (one `request.sla_warning` event each).
    pub warnings: u64,
    /// Limit crossings recorded (one `request.sla_overdue` event each).
    pub overdue: u64,
    /// Notifications written: to actors and to the escalation level.
    pub notifications: u64,
    /// Candidates that another sweeper (or a transition) had taken or changed meanwhile.
    pub skipped: u64,
    /// Candidates whose transaction failed; logged, and tried again by the next sweep.
    pub failed: u64,
}

impl SweepReport {
    /// Nothing was recorded and nothing failed.
    pub fn is_quiet(&self) -> bool {
        self.warnings == 0 && self.overdue == 0 && self.failed == 0
    }
}

/// Runs `sweep` every `settings.sweep_interval_secs` (the first run one interval after
/// start), for ever. A failed or even panicking sweep is logged and the next tick runs
/// as usual; the job itself never ends the process.
pub fn spawn(state: web::Data<AppState>) -> tokio::task::JoinHandle<()> {
    let period = Duration::from_secs(state.settings.sweep_interval_secs);
    super::every(period, move || {
        let state = state.clone();
        async move {
            // Another replica may have changed the calendar: install the stored one first.
            if let Err(e) = crate::service::calendar::refresh(&state).await {
                tracing::warn!(error = %e, "cannot refresh the office calendar");
            }
            let s = state.clone();
            match tokio::spawn(async move { sweep(&s).await }).await {
                Ok(Ok(r)) if r.is_quiet() => tracing::debug!(skipped = r.skipped, "SLA sweep: nothing crossed"),
                Ok(Ok(r)) => tracing::info!(
                    warnings = r.warnings,
                    overdue = r.overdue,
                    notifications = r.notifications,
                    skipped = r.skipped,
                    failed = r.failed,
                    "SLA sweep"
                ),
                Ok(Err(e)) => tracing::warn!(error = %e, "the SLA sweep failed; it runs again at the next interval"),
                Err(e) => tracing::error!(error = %e, "the SLA sweep panicked; it runs again at the next interval"),
            }
        }
    })
}

/// One pass over every open step that crossed its warning point or limit by
/// `state.now()`. Each step instance is handled in its own transaction; one that fails
/// is counted in `failed` and left for the next sweep.
pub async fn sweep(state: &AppState) -> ApiResult<SweepReport> {
    let now = state.now();
    let mut report = SweepReport::default();
    let mut ctx = Context::default();
    let mut after: Option<Uuid> = None;
    loop {
        let batch = candidates(state, now, after).await?;
        for id in &batch {
            if ctx.directory.is_none() {
                ctx.directory = Some(Directory::load(state).await?);
            }
            match sweep_one(state, now, *id, &mut ctx).await {
                Ok(Some(done)) => {
                    report.warnings += u64::from(done.warned);
                    report.overdue += u64::from(done.overdue);
                    report.notifications += done.notifications;
                }
                Ok(None) => report.skipped += 1,
                Err(e) => {
                    tracing::warn!(step_instance_id = %id, error = %e, "SLA sweep of a step failed");
                    report.failed += 1;
                }
            }
        }
        if (batch.len() as u64) < BATCH {
            break;
        }
        after = batch.last().copied();
    }
    Ok(report)
}

/// Ids of open, current steps of in-progress requests with an unrecorded crossing, in id
/// order after `after`.
///
/// Written as the union of the two crossings, each matching one partial index of m0017
/// (open steps with that crossing unrecorded, by its instant), so a sweep reads the steps
/// that crossed, not every open step: `… OR …` in one query made PostgreSQL scan all open
/// steps by primary key (90 ms of both cores at 150 000 open steps, every minute).
async fn candidates(state: &AppState, now: DateTime<Utc>, after: Option<Uuid>) -> ApiResult<Vec<Uuid>> {
    use step_instance::Column as S;
    let in_progress = Query::select()
        .column(request::Column::Id)
        .from(request::Entity)
        .and_where(request::Column::Status.eq(Status::InProgress.as_str()))
        .to_owned();
    let crossed = |unrecorded: S, crossing: SimpleExpr| {
        let mut q = Query::select();
        q.column(S::Id)
            .from(step_instance::Entity)
            .and_where(Expr::col(S::CompletedAt).is_null())
            .and_where(Expr::col(unrecorded).is_null())
            .and_where(crossing)
            .and_where(Expr::col(S::RequestId).in_subquery(in_progress.clone()));
        if let Some(after) = after {
            q.and_where(Expr::col(S::Id).gt(after));
        }
        q
    };
    let mut both = crossed(S::WarningNotifiedAt, Expr::col(S::WarningAt).lte(now));
    both.union(UnionType::Distinct, crossed(S::OverdueNotifiedAt, Expr::col(S::LimitAt).lt(now)));
    let q = Query::select()
        .column(S::Id)
        .from_subquery(both, Alias::new("crossed"))
        .order_by(S::Id, Order::Asc)
        .limit(BATCH)
        .to_owned();
    let mut ids = Vec::new();
    for row in state.db.query_all(&q).await? {
        ids.push(row.try_get::<Uuid>("", "id")?);
    }
    Ok(ids)
}

/// Active users and their roles, read once per sweep. (The roles are a JSON column,
/// which SQLite and PostgreSQL query differently; the office's directory is small, so
/// it is filtered here.)
struct Directory {
    roles: HashMap<Uuid, (Vec<Role>, Uuid)>,
}

impl Directory {
    async fn load(state: &AppState) -> ApiResult<Self> {
        let rows = user::Entity::find().filter(user::Column::Active.eq(true)).all(&state.db).await?;
        Ok(Self { roles: rows.iter().map(|u| (u.id, (users::roles_of(u), u.organization_id))).collect() })
    }

    /// Active holders of `role`, in id order; a divisional role's only in `division`, when
    /// the flow is routed to one.
    fn holders(&self, role: Role, division: Option<Uuid>) -> Vec<Uuid> {
        let in_division = |org: &Uuid| !role.is_divisional() || division.is_none_or(|d| d == *org);
        let mut ids: Vec<Uuid> = self
            .roles
            .iter()
            .filter(|(_, (rs, org))| rs.contains(&role) && in_division(org))
            .map(|(id, _)| *id)
            .collect();
        ids.sort();
        ids
    }

    fn is_active(&self, id: Uuid) -> bool {
        self.roles.contains_key(&id)
    }
}

#[derive(Default)]
struct Context {
    directory: Option<Directory>,
}

struct Done {
    warned: bool,
    overdue: bool,
    notifications: u64,
}

fn wib(t: DateTime<Utc>) -> String {
    t.with_timezone(&chrono_tz::Asia::Jakarta).format("%Y-%m-%d %H:%M WIB").to_string()
}

/// Claims one crossing: sets `flag` to `now` only if it is still unset and the step is
/// still open and past `instant` (strictly past, for the limit). False: someone else
/// recorded it, or the step changed meanwhile.
async fn claim(
    txn: &sea_orm::DatabaseTransaction,
    id: Uuid,
    now: DateTime<Utc>,
    flag: step_instance::Column,
    crossed: Condition,
) -> ApiResult<bool> {
    let res = step_instance::Entity::update_many()
        .col_expr(flag, Expr::value(now))
        .filter(step_instance::Column::Id.eq(id))
        .filter(flag.is_null())
        .filter(step_instance::Column::CompletedAt.is_null())
        .filter(crossed)
        .exec(txn)
        .await?;
    Ok(res.rows_affected == 1)
}

/// The open step instance `id`; on PostgreSQL locked `FOR UPDATE SKIP LOCKED`, so a
/// replica that has it locked is passed over rather than waited for.
fn lock_open(id: Uuid, backend: DbBackend) -> sea_orm::Select<step_instance::Entity> {
    let q = step_instance::Entity::find_by_id(id).filter(step_instance::Column::CompletedAt.is_null());
    if backend == DbBackend::Postgres { q.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked) } else { q }
}

/// Records the crossings of one step instance in one transaction. `None`: nothing to do
/// any more (taken by another sweeper, completed, returned, or no longer current).
async fn sweep_one(state: &AppState, now: DateTime<Utc>, id: Uuid, ctx: &mut Context) -> ApiResult<Option<Done>> {
    use step_instance::Column as S;
    let txn = crate::db::begin_write(&state.db).await?;
    // Returning early drops `txn`, which rolls it back.
    let Some(inst) = lock_open(id, state.db.get_database_backend()).one(&txn).await? else { return Ok(None) };
    let Some(r) = request::Entity::find_by_id(inst.request_id).one(&txn).await? else { return Ok(None) };
    if r.status != Status::InProgress || r.current_step_instance_id != Some(inst.id) {
        return Ok(None);
    }
    let warned = inst.warning_notified_at.is_none()
        && inst.warning_at <= now
        && claim(&txn, id, now, S::WarningNotifiedAt, Condition::all().add(S::WarningAt.lte(now))).await?;
    let overdue = inst.overdue_notified_at.is_none()
        && inst.limit_at < now
        && claim(&txn, id, now, S::OverdueNotifiedAt, Condition::all().add(S::LimitAt.lt(now))).await?;
    if !warned && !overdue {
        return Ok(None);
    }

    let Some(directory) = ctx.directory.as_ref() else { return Ok(None) };
    // The process's definition cache: a shared pointer, no query after the first.
    let published = workflows::by_id(&txn, r.definition_id).await?;
    let def = &published.definition;
    let division = requests::division_of(&txn, def).await?;
    // The addressees' step escalates like its role's.
    let actor = match inst.actor.0 {
        CurrentActor::Step(actor) => Some(actor),
        CurrentActor::Addressees => def.step(inst.step_code.0).map(|s| s.actor),
        CurrentActor::Nobody => None,
    };
    let mut actors: Vec<Uuid> = match inst.actor.0 {
        CurrentActor::Step(StepActor::Role(role)) => directory.holders(role, division),
        CurrentActor::Step(StepActor::Team) => team_member::Entity::find()
            .filter(team_member::Column::RequestId.eq(r.id))
            .all(&txn)
            .await?
            .into_iter()
            .map(|m| m.user_id)
            .collect(),
        CurrentActor::Addressees => requests::addressees_of(&txn, r.id).await?,
        CurrentActor::Nobody => Vec::new(),
    };
    // Whoever acts for them now (Plt, Plh, delegation) is told as well.
    let mut stand_ins: Vec<Uuid> =
        acting::acting_for_users(&txn, &actors, now).await?.into_iter().map(|(b, _)| b).collect();
    if let CurrentActor::Step(StepActor::Role(role)) = inst.actor.0 {
        stand_ins.extend(acting::acting_for_role(&txn, role, division.filter(|_| role.is_divisional()), now).await?);
    }
    actors.extend(stand_ins);
    actors.retain(|u| directory.is_active(*u));
    actors.sort();
    actors.dedup();
    // One level up, as the request's definition says.
    let escalation = actor.and_then(|a| def.escalates_to(a));
    let escalated: Vec<Uuid> = match escalation {
        // Someone who already hears about it as an actor is not told twice.
        Some(role) => directory.holders(role, division).into_iter().filter(|u| !actors.contains(u)).collect(),
        None => Vec::new(),
    };
    // Notices and mail are in the office's language (nobody has a language of their own).
    let lang = crate::i18n::Lang::Id;
    let t = |m: crate::i18n::Msg| lang.render(&m);
    let label = def
        .step(inst.step_code.0)
        .map(|s| crate::service::requests::StepLabels::of(s).get(lang).to_owned())
        .unwrap_or_else(|| inst.step_code.to_string());

    let number = r.number.clone().unwrap_or_else(|| t(msg!("notice-unnumbered")));
    let actor_text = match actor {
        Some(StepActor::Team) => t(msg!("notice-team")),
        Some(StepActor::Role(role)) => role.to_string(),
        None => inst.actor.to_string(),
    };
    let what = t(msg!("sla-what", number = &number, title = &r.title, step = inst.step_code.0, label = &label));
    let standard = &inst.time_standard;
    let mut notifications = 0u64;
    let link = format!("{}/api/v1/requests/{}", state.settings.public_url.trim_end_matches('/'), r.id);
    let mut notify = async |users: &[Uuid], kind: NotificationKind, title: &str, body: &str| -> ApiResult<()> {
        let all = users
            .iter()
            .map(|u| NewNotification {
                user_id: *u,
                request_id: r.id,
                step_instance_id: Some(inst.id),
                kind,
                title,
                body,
            })
            .collect();
        notifications::deliver(&txn, state, now, all, &link).await?;
        notifications += users.len() as u64;
        Ok(())
    };
    let base = serde_json::json!({
        "step": inst.step_code,
        "step_instance_id": inst.id,
        "round": inst.round,
        "actor": inst.actor.to_string(),
        "time_standard": inst.time_standard,
        "clock_started_at": inst.clock_started_at,
        "warning_at": inst.warning_at,
        "due_at": inst.due_at,
        "limit_at": inst.limit_at,
        "notified_user_ids": actors,
    });

    if warned {
        let title = t(msg!("sla-warning-title", number = &number, label = &label));
        let body = t(msg!(
            "sla-warning-body",
            what = &what,
            started = wib(inst.started_at),
            standard = standard,
            due = wib(inst.due_at),
            limit = wib(inst.limit_at)
        ));
        notify(&actors, NotificationKind::SlaWarning, &title, &body).await?;
        audit::append(&txn, now, Actor::SYSTEM, "request.sla_warning", "request", r.id, base.clone()).await?;
    }
    if overdue {
        let escalation_text = match escalation {
            Some(role) => format!(" {}", t(msg!("sla-escalated-to", role = role))),
            None => String::new(),
        };
        let title = t(msg!("sla-overdue-title", number = &number, label = &label));
        let body = t(msg!(
            "sla-overdue-body",
            what = &what,
            limit = wib(inst.limit_at),
            standard = standard,
            started = wib(inst.started_at)
        )) + &escalation_text;
        notify(&actors, NotificationKind::SlaOverdue, &title, &body).await?;
        if let Some(role) = escalation {
            let title = t(msg!("sla-escalation-title", number = &number, label = &label));
            let body = t(msg!(
                "sla-escalation-body",
                what = &what,
                actor = &actor_text,
                limit = wib(inst.limit_at),
                standard = standard,
                role = role
            ));
            notify(&escalated, NotificationKind::Escalation, &title, &body).await?;
        }
        let mut details = base;
        details["escalated_to"] = match escalation {
            Some(role) => serde_json::json!({"role": role, "user_ids": escalated}),
            None => serde_json::Value::Null,
        };
        audit::append(&txn, now, Actor::SYSTEM, "request.sla_overdue", "request", r.id, details).await?;
    }
    txn.commit().await?;
    Ok(Some(Done { warned, overdue, notifications }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_skips_rows_another_replica_holds() {
        use sea_orm::QueryTrait;
        let id = Uuid::nil();
        let pg = lock_open(id, DbBackend::Postgres).build(DbBackend::Postgres).to_string();
        assert!(pg.ends_with("FOR UPDATE SKIP LOCKED"), "{pg}");
        let sqlite = lock_open(id, DbBackend::Sqlite).build(DbBackend::Sqlite).to_string();
        assert!(!sqlite.contains("FOR UPDATE"), "{sqlite}");
    }
}
