//! Oversight reports: SLA compliance per flow and step, and a summary of the register.
//!
//! Rules (also in `docs/sla.md`):
//! * A step's working duration is `elapsed_seconds(clock_started_at, completed_at)` under
//!   the calendar in force now, less the working time it waited on the applicant
//!   (`paused_seconds`), never below zero.
//! * For day-based standards the duration is also given in working days of
//!   [`WORKING_DAY_SECONDS`] (7.75 h, a Monday–Thursday of the regency's default week).
//! * "Completed" means the step was finished by the office or the applicant acting on it:
//!   outcomes `completed`, `test_failed` and `rejected`; a step ended by a withdrawal is
//!   not counted. Within target: `completed_at <= due_at`; within limit:
//!   `completed_at <= limit_at` (the due times stored on the step, pauses included).
//! * The period (`from`, `to`) filters completed steps by `completed_at`, and the summary's
//!   end-to-end figures by the request's completion; `open_now`/`overdue_now` and the
//!   summary's counts are the register as it stands now (filtered by flow and
//!   organization only).
//! * Median and p90 use linear interpolation between closest ranks (PostgreSQL's
//!   `percentile_cont`, Excel's `PERCENTILE.INC`). SQLite has no percentile function, so
//!   durations are computed and aggregated here: the rows are read in keyset batches of
//!   [`BATCH`], each costs one `elapsed_seconds` (microseconds), and each group keeps one
//!   `i64` per completed step (800 KB per 100 000 steps) to sort for its percentiles.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use entity::{organization, request, step_instance};
use sea_orm::sea_query::{Expr, Func, JoinType};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, RelationDef, Select};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::workflows;
use crate::calendar::WorkDuration;
use crate::error::{ApiError, ApiResult, FieldErrors};
use crate::state::AppState;
use crate::workflow::{Flow, Status};

/// The length of a standard working day for reports: 7 h 45 min, a Monday (–Thursday) of
/// the regency's default week (07:30–12:00 and 12:15–15:30). Friday is shorter (6.5 h),
/// so a Friday's full day counts as 0.84 of a standard day; a fixed divisor keeps
/// durations comparable across weeks and across calendar changes.
pub const WORKING_DAY_SECONDS: i64 = 27_900;

/// Rows are read in keyset batches of this size.
const BATCH: u64 = 5_000;

/// The p-th percentile (`pct` in 0–100) of ascending `sorted` values, by linear
/// interpolation between closest ranks: rank h = (n − 1)·p/100, value
/// x[⌊h⌋] + (h − ⌊h⌋)·(x[⌊h⌋+1] − x[⌊h⌋]). Integer arithmetic up to the last step, so
/// hand-computed fixtures match exactly. None for no values.
pub fn percentile(sorted: &[i64], pct: u32) -> Option<f64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let pct = u64::from(pct.min(100));
    let h = (n as u64 - 1) * pct;
    let lo = (h / 100) as usize;
    let frac = h % 100;
    let base = sorted[lo] as f64;
    if frac == 0 {
        return Some(base);
    }
    let next = sorted[lo + 1] as f64;
    Some(base + (next - base) * frac as f64 / 100.0)
}

fn round_to(x: f64, decimals: i32) -> f64 {
    let f = 10f64.powi(decimals);
    (x * f).round() / f
}

/// Median and p90 of some durations, in seconds (rounded to whole seconds) and, when
/// `days` is set, in working days of [`WORKING_DAY_SECONDS`] (two decimals).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, ToSchema)]
pub struct Spread {
    pub median_working_seconds: Option<i64>,
    pub p90_working_seconds: Option<i64>,
    pub median_working_days: Option<f64>,
    pub p90_working_days: Option<f64>,
}

impl Spread {
    fn of(mut seconds: Vec<i64>, days: bool) -> Self {
        seconds.sort_unstable();
        let median = percentile(&seconds, 50);
        let p90 = percentile(&seconds, 90);
        let in_days = |v: Option<f64>| v.filter(|_| days).map(|s| round_to(s / WORKING_DAY_SECONDS as f64, 2));
        Spread {
            median_working_seconds: median.map(|s| s.round() as i64),
            p90_working_seconds: p90.map(|s| s.round() as i64),
            median_working_days: in_days(median),
            p90_working_days: in_days(p90),
        }
    }
}

fn share(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| round_to(part as f64 / whole as f64, 4))
}

/// Filters of both reports.
#[derive(Debug, Clone, Default)]
pub struct ReportFilter {
    /// Inclusive.
    pub from: Option<DateTime<Utc>>,
    /// Exclusive.
    pub to: Option<DateTime<Utc>>,
    pub flow: Option<Flow>,
    pub organization_id: Option<Uuid>,
}

impl ReportFilter {
    /// `from` and `to` as given in a query: a date (`2026-11-01`) means that whole day in
    /// WIB — `from` from its 00:00, `to` up to its end (both dates inclusive); an RFC 3339
    /// instant is taken as is (`from` inclusive, `to` exclusive). Unreadable → 400;
    /// `from` not before `to` → 422.
    pub fn parse(
        from: Option<&str>,
        to: Option<&str>,
        flow: Option<Flow>,
        organization_id: Option<Uuid>,
    ) -> ApiResult<Self> {
        let mut errors = FieldErrors::new();
        let mut bound = |field: &str, s: Option<&str>, end: bool| -> Option<DateTime<Utc>> {
            let s = s?.trim();
            match parse_bound(s, end) {
                Some(t) => Some(t),
                None => {
                    errors.insert(
                        field.into(),
                        vec![format!("`{s}` is neither a date (YYYY-MM-DD) nor an RFC 3339 instant")],
                    );
                    None
                }
            }
        };
        let from = bound("from", from, false);
        let to = bound("to", to, true);
        if !errors.is_empty() {
            let detail = errors.iter().map(|(f, m)| format!("{f}: {}", m.join("; "))).collect::<Vec<_>>().join(", ");
            return Err(ApiError::BadRequest { detail, errors });
        }
        if let (Some(f), Some(t)) = (from, to)
            && f >= t
        {
            return Err(ApiError::invalid("to", "must be after `from`"));
        }
        Ok(Self { from, to, flow, organization_id })
    }
}

fn parse_bound(s: &str, end: bool) -> Option<DateTime<Utc>> {
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        let d = if end { d.succ_opt()? } else { d };
        let midnight = d.and_hms_opt(0, 0, 0)?;
        return chrono_tz::Asia::Jakarta.from_local_datetime(&midnight).single().map(|t| t.with_timezone(&Utc));
    }
    DateTime::parse_from_rfc3339(s).ok().map(|t| t.with_timezone(&Utc))
}

/// SLA figures of one step of one flow.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SlaRow {
    pub flow: Flow,
    #[schema(example = "disposition")]
    pub step_code: String,
    /// The step's number in the current definition (null for a step it no longer has).
    pub step_order: Option<u16>,
    pub label: String,
    /// `role:<role>` or `team`, from the current definition.
    pub actor: String,
    /// The standard in the current definition, e.g. `15m`, `1-2d`.
    pub time_standard: String,
    /// Steps completed in the period.
    pub completed: u64,
    #[serde(flatten)]
    pub spread: Spread,
    /// Completed by their target (`completed_at <= due_at`).
    pub within_target: u64,
    /// `within_target / completed`, four decimals; null when none completed.
    pub within_target_share: Option<f64>,
    /// Completed by their limit.
    pub within_limit: u64,
    pub within_limit_share: Option<f64>,
    /// Open now at this step, in requests in progress (returned ones are paused).
    pub open_now: u64,
    /// Of those, past their limit now.
    pub overdue_now: u64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SlaReport {
    pub generated_at: DateTime<Utc>,
    /// The period's start (inclusive) and end (exclusive) as applied to `completed_at`.
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub flow: Option<Flow>,
    pub organization_id: Option<Uuid>,
    /// The divisor of the `*_working_days` figures (7.75 h).
    pub working_day_seconds: i64,
    /// Per flow, per step in SOP order.
    pub rows: Vec<SlaRow>,
}

/// CSV columns, in order; a header row names them.
pub const SLA_CSV_HEADER: &[&str] = &[
    "flow",
    "step_code",
    "step_order",
    "label",
    "actor",
    "time_standard",
    "completed",
    "median_working_seconds",
    "p90_working_seconds",
    "median_working_days",
    "p90_working_days",
    "within_target",
    "within_target_share",
    "within_limit",
    "within_limit_share",
    "open_now",
    "overdue_now",
];

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_owned() }
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// The report as CSV (RFC 4180: comma-separated, CRLF line ends, a header row; empty
/// cells for nulls).
pub fn sla_csv(report: &SlaReport) -> String {
    let mut out = SLA_CSV_HEADER.join(",");
    out.push_str("\r\n");
    for r in &report.rows {
        let cells = [
            r.flow.to_string(),
            r.step_code.clone(),
            opt(r.step_order),
            r.label.clone(),
            r.actor.clone(),
            r.time_standard.clone(),
            r.completed.to_string(),
            opt(r.spread.median_working_seconds),
            opt(r.spread.p90_working_seconds),
            opt(r.spread.median_working_days),
            opt(r.spread.p90_working_days),
            r.within_target.to_string(),
            opt(r.within_target_share),
            r.within_limit.to_string(),
            opt(r.within_limit_share),
            r.open_now.to_string(),
            r.overdue_now.to_string(),
        ];
        out.push_str(&cells.iter().map(|c| csv_field(c)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    out
}

#[derive(Default)]
struct Acc {
    seconds: Vec<i64>,
    within_target: u64,
    within_limit: u64,
    open: u64,
    overdue: u64,
}

fn request_relation() -> RelationDef {
    step_instance::Entity::belongs_to(request::Entity)
        .from(step_instance::Column::RequestId)
        .to(request::Column::Id)
        .into()
}

/// Step instances joined to their request, with the flow and organization filters.
fn steps_of(f: &ReportFilter) -> Select<step_instance::Entity> {
    let mut q = step_instance::Entity::find().join(JoinType::InnerJoin, request_relation());
    if let Some(flow) = f.flow {
        q = q.filter(request::Column::Flow.eq(flow.as_str()));
    }
    if let Some(org) = f.organization_id {
        q = q.filter(request::Column::OrganizationId.eq(org));
    }
    q
}

/// Outcomes that count as the step being done (see the module documentation).
const COUNTED_OUTCOMES: [&str; 3] = ["completed", "test_failed", "rejected"];

pub async fn sla(state: &AppState, f: &ReportFilter) -> ApiResult<SlaReport> {
    use step_instance::Column as S;
    let now = state.now();
    let calendar = state.calendar();
    let mut groups: HashMap<(String, String), Acc> = HashMap::new();

    type Row = (Uuid, String, String, DateTime<Utc>, DateTime<Utc>, i64, DateTime<Utc>, DateTime<Utc>);
    let mut after: Option<Uuid> = None;
    loop {
        let mut q = steps_of(f)
            .select_only()
            .column(S::Id)
            .column(request::Column::Flow)
            .column(S::StepCode)
            .column(S::ClockStartedAt)
            .column(S::CompletedAt)
            .column(S::PausedSeconds)
            .column(S::DueAt)
            .column(S::LimitAt)
            .filter(S::CompletedAt.is_not_null())
            .filter(S::Outcome.is_in(COUNTED_OUTCOMES))
            .order_by_asc(S::Id)
            .limit(BATCH);
        if let Some(from) = f.from {
            q = q.filter(S::CompletedAt.gte(from));
        }
        if let Some(to) = f.to {
            q = q.filter(S::CompletedAt.lt(to));
        }
        if let Some(after) = after {
            q = q.filter(S::Id.gt(after));
        }
        let rows: Vec<Row> = q.into_tuple().all(&state.db).await?;
        for (_, flow, step, clock_started_at, completed_at, paused, due_at, limit_at) in &rows {
            let acc = groups.entry((flow.clone(), step.clone())).or_default();
            acc.seconds.push((calendar.elapsed_seconds(*clock_started_at, *completed_at) - paused).max(0));
            acc.within_target += u64::from(completed_at <= due_at);
            acc.within_limit += u64::from(completed_at <= limit_at);
        }
        if (rows.len() as u64) < BATCH {
            break;
        }
        after = rows.last().map(|r| r.0);
    }

    // Open and overdue now: counted in the database, one row per (flow, step).
    for overdue in [false, true] {
        let mut q = steps_of(f)
            .select_only()
            .column(request::Column::Flow)
            .column(S::StepCode)
            .column_as(Expr::expr(Func::count(Expr::col((step_instance::Entity, S::Id)))), "n")
            .filter(S::CompletedAt.is_null())
            .filter(request::Column::Status.eq(Status::InProgress.as_str()))
            .filter(sea_orm::sea_query::ExprTrait::equals(
                Expr::col((request::Entity, request::Column::CurrentStepInstanceId)),
                (step_instance::Entity, S::Id),
            ))
            .group_by(request::Column::Flow)
            .group_by(S::StepCode);
        if overdue {
            q = q.filter(S::LimitAt.lt(now));
        }
        let counts: Vec<(String, String, i64)> = q.into_tuple().all(&state.db).await?;
        for (flow, step, n) in counts {
            let acc = groups.entry((flow, step)).or_default();
            let n = u64::try_from(n).unwrap_or(0);
            if overdue {
                acc.overdue = n;
            } else {
                acc.open = n;
            }
        }
    }

    let flows: Vec<Flow> = match f.flow {
        Some(flow) => vec![flow],
        None => Flow::ALL.to_vec(),
    };
    let mut rows = Vec::new();
    for flow in flows {
        let def = workflows::latest(&state.db, flow).await?.definition;
        // Steps an older definition had and the current one does not.
        let mut gone: Vec<String> = groups
            .keys()
            .filter(|(fl, code)| fl == flow.as_str() && !def.steps.iter().any(|s| s.code.as_str() == code))
            .map(|(_, code)| code.clone())
            .collect();
        gone.sort();
        let mut take =
            |code: String, order: Option<u16>, label: String, actor: String, standard: String, days: bool| {
                let acc = groups.remove(&(flow.as_str().to_owned(), code.clone())).unwrap_or_default();
                let completed = acc.seconds.len() as u64;
                SlaRow {
                    flow,
                    step_code: code,
                    step_order: order,
                    label,
                    actor,
                    time_standard: standard,
                    completed,
                    spread: Spread::of(acc.seconds, days),
                    within_target: acc.within_target,
                    within_target_share: share(acc.within_target, completed),
                    within_limit: acc.within_limit,
                    within_limit_share: share(acc.within_limit, completed),
                    open_now: acc.open,
                    overdue_now: acc.overdue,
                }
            };
        for step in &def.steps {
            let days = matches!(step.time_standard.target, WorkDuration::Days(_));
            let actor = match step.actor.role() {
                Some(r) => format!("role:{r}"),
                None => "team".into(),
            };
            rows.push(take(
                step.code.as_str().into(),
                Some(step.order),
                step.label.clone(),
                actor,
                step.time_standard.to_string(),
                days,
            ));
        }
        for code in gone {
            rows.push(take(code, None, String::new(), String::new(), String::new(), false));
        }
    }
    Ok(SlaReport {
        generated_at: now,
        from: f.from,
        to: f.to,
        flow: f.flow,
        organization_id: f.organization_id,
        working_day_seconds: WORKING_DAY_SECONDS,
        rows,
    })
}

/// Requests per status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct StatusCounts {
    pub draft: u64,
    pub in_progress: u64,
    pub returned: u64,
    pub rejected: u64,
    pub withdrawn: u64,
    pub completed: u64,
}

impl StatusCounts {
    fn add(&mut self, status: &str, n: u64) {
        match status.parse::<Status>() {
            Ok(Status::Draft) => self.draft += n,
            Ok(Status::InProgress) => self.in_progress += n,
            Ok(Status::Returned) => self.returned += n,
            Ok(Status::Rejected) => self.rejected += n,
            Ok(Status::Withdrawn) => self.withdrawn += n,
            Ok(Status::Completed) => self.completed += n,
            Err(_) => {}
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrganizationCounts {
    pub organization_id: Uuid,
    pub code: String,
    pub name: String,
    /// `agency` or `division`.
    pub kind: String,
    pub total: u64,
    pub by_status: StatusCounts,
}

/// From submission to completion, in the office's working time less the time the
/// request waited on the applicant.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EndToEnd {
    /// Requests completed in the period.
    pub completed: u64,
    #[serde(flatten)]
    pub spread: Spread,
    pub working_day_seconds: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Summary {
    pub generated_at: DateTime<Utc>,
    /// The period applied to `end_to_end` (requests completed in it).
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub flow: Option<Flow>,
    pub organization_id: Option<Uuid>,
    /// All requests now (drafts included).
    pub total: u64,
    pub by_status: StatusCounts,
    /// Per requesting organization, by code.
    pub by_organization: Vec<OrganizationCounts>,
    pub end_to_end: EndToEnd,
}

pub async fn summary(state: &AppState, f: &ReportFilter) -> ApiResult<Summary> {
    use request::Column as R;
    let now = state.now();
    let calendar = state.calendar();
    let filtered = || {
        let mut q = request::Entity::find();
        if let Some(flow) = f.flow {
            q = q.filter(R::Flow.eq(flow.as_str()));
        }
        if let Some(org) = f.organization_id {
            q = q.filter(R::OrganizationId.eq(org));
        }
        q
    };
    let counts: Vec<(Uuid, String, i64)> = filtered()
        .select_only()
        .column(R::OrganizationId)
        .column(R::Status)
        .column_as(Expr::expr(Func::count(Expr::col((request::Entity, R::Id)))), "n")
        .group_by(R::OrganizationId)
        .group_by(R::Status)
        .into_tuple()
        .all(&state.db)
        .await?;
    let mut total = 0u64;
    let mut by_status = StatusCounts::default();
    let mut per_org: HashMap<Uuid, StatusCounts> = HashMap::new();
    let mut org_totals: HashMap<Uuid, u64> = HashMap::new();
    for (org, status, n) in counts {
        let n = u64::try_from(n).unwrap_or(0);
        total += n;
        by_status.add(&status, n);
        per_org.entry(org).or_default().add(&status, n);
        *org_totals.entry(org).or_default() += n;
    }
    let orgs = organization::Entity::find()
        .filter(organization::Column::Id.is_in(per_org.keys().copied().collect::<Vec<_>>()))
        .all(&state.db)
        .await?;
    let mut by_organization: Vec<OrganizationCounts> = orgs
        .into_iter()
        .map(|o| OrganizationCounts {
            organization_id: o.id,
            total: org_totals.get(&o.id).copied().unwrap_or(0),
            by_status: per_org.get(&o.id).copied().unwrap_or_default(),
            code: o.code,
            name: o.name,
            kind: o.kind,
        })
        .collect();
    by_organization.sort_by(|a, b| a.code.cmp(&b.code));

    // End to end: completed requests in keyset batches, with their pauses.
    let mut seconds: Vec<i64> = Vec::new();
    let mut after: Option<Uuid> = None;
    loop {
        let mut q = filtered()
            .select_only()
            .column(R::Id)
            .column(R::SubmittedAt)
            .column(R::ClosedAt)
            .filter(R::Status.eq(Status::Completed.as_str()))
            .order_by_asc(R::Id)
            .limit(BATCH);
        if let Some(from) = f.from {
            q = q.filter(R::ClosedAt.gte(from));
        }
        if let Some(to) = f.to {
            q = q.filter(R::ClosedAt.lt(to));
        }
        if let Some(after) = after {
            q = q.filter(R::Id.gt(after));
        }
        type Completed = (Uuid, Option<DateTime<Utc>>, Option<DateTime<Utc>>);
        let rows: Vec<Completed> = q.into_tuple().all(&state.db).await?;
        // Pauses are rare: fetch only the steps that have one, for this batch's requests.
        let mut paused: HashMap<Uuid, i64> = HashMap::new();
        for chunk in rows.chunks(500) {
            let pauses: Vec<(Uuid, i64)> = step_instance::Entity::find()
                .select_only()
                .column(step_instance::Column::RequestId)
                .column(step_instance::Column::PausedSeconds)
                .filter(step_instance::Column::RequestId.is_in(chunk.iter().map(|r| r.0).collect::<Vec<_>>()))
                .filter(step_instance::Column::PausedSeconds.gt(0))
                .into_tuple()
                .all(&state.db)
                .await?;
            for (id, p) in pauses {
                *paused.entry(id).or_default() += p;
            }
        }
        for (id, submitted_at, closed_at) in &rows {
            if let (Some(s), Some(c)) = (submitted_at, closed_at) {
                let waited = paused.get(id).copied().unwrap_or(0);
                seconds.push((calendar.elapsed_seconds(*s, *c) - waited).max(0));
            }
        }
        if (rows.len() as u64) < BATCH {
            break;
        }
        after = rows.last().map(|r| r.0);
    }
    let completed = seconds.len() as u64;
    Ok(Summary {
        generated_at: now,
        from: f.from,
        to: f.to,
        flow: f.flow,
        organization_id: f.organization_id,
        total,
        by_status,
        by_organization,
        end_to_end: EndToEnd { completed, spread: Spread::of(seconds, true), working_day_seconds: WORKING_DAY_SECONDS },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_interpolate_between_closest_ranks() {
        assert_eq!(percentile(&[], 50), None);
        assert_eq!(percentile(&[7], 50), Some(7.0));
        assert_eq!(percentile(&[7], 90), Some(7.0));
        // Odd count: the middle one. h(90) = 4·0.9 = 3.6 → 40 + 0.6·(50 − 40) = 46.
        assert_eq!(percentile(&[10, 20, 30, 40, 50], 50), Some(30.0));
        assert_eq!(percentile(&[10, 20, 30, 40, 50], 90), Some(46.0));
        // Even count: halfway between the two middle ones. h(90) = 3·0.9 = 2.7.
        assert_eq!(percentile(&[0, 900, 16_200, 27_900], 50), Some(8_550.0));
        assert_eq!(percentile(&[0, 900, 16_200, 27_900], 90), Some(16_200.0 + 0.7 * 11_700.0));
        // Ends.
        assert_eq!(percentile(&[1, 2, 3], 0), Some(1.0));
        assert_eq!(percentile(&[1, 2, 3], 100), Some(3.0));
        // Eleven values: h(90) = 9 exactly, no floating-point drift.
        let v: Vec<i64> = (0..11).map(|i| i * 100).collect();
        assert_eq!(percentile(&v, 90), Some(900.0));
    }

    #[test]
    fn spreads_round_seconds_and_give_days_only_for_day_standards() {
        let s = Spread::of(vec![27_900, 0, 55_800], true);
        assert_eq!(s.median_working_seconds, Some(27_900));
        assert_eq!(s.median_working_days, Some(1.0));
        // h = 1.8 → 27 900 + 0.8·27 900 = 50 220 s = 1.8 days.
        assert_eq!(s.p90_working_seconds, Some(50_220));
        assert_eq!(s.p90_working_days, Some(1.8));
        let m = Spread::of(vec![600, 900], false);
        assert_eq!(m.median_working_seconds, Some(750));
        assert_eq!((m.median_working_days, m.p90_working_days), (None, None));
        assert_eq!(Spread::of(Vec::new(), true), Spread::default());
    }

    #[test]
    fn shares_have_four_decimals() {
        assert_eq!(share(2, 3), Some(0.6667));
        assert_eq!(share(0, 0), None);
        assert_eq!(share(3, 3), Some(1.0));
    }

    #[test]
    fn periods_read_dates_as_whole_wib_days_and_instants_as_given() {
        let f = ReportFilter::parse(Some("2026-11-01"), Some("2026-11-30"), None, None).unwrap();
        assert_eq!(f.from, Some(Utc.with_ymd_and_hms(2026, 10, 31, 17, 0, 0).unwrap()));
        assert_eq!(f.to, Some(Utc.with_ymd_and_hms(2026, 11, 30, 17, 0, 0).unwrap()));
        let f = ReportFilter::parse(Some("2026-11-16T01:00:00Z"), None, None, None).unwrap();
        assert_eq!(f.from, Some(Utc.with_ymd_and_hms(2026, 11, 16, 1, 0, 0).unwrap()));
        assert!(matches!(ReportFilter::parse(Some("yesterday"), None, None, None), Err(ApiError::BadRequest { .. })));
        assert!(matches!(
            ReportFilter::parse(Some("2026-11-02"), Some("2026-11-01"), None, None),
            Err(ApiError::Unprocessable { .. })
        ));
        // A single day: from and to the same date.
        assert!(ReportFilter::parse(Some("2026-11-16"), Some("2026-11-16"), None, None).is_ok());
    }

    #[test]
    fn csv_quotes_only_what_needs_it() {
        assert_eq!(csv_field("disposition"), "disposition");
        assert_eq!(csv_field("Review, then act"), "\"Review, then act\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }
}
