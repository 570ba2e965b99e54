//! Oversight reports: SLA compliance per flow and step, and a summary of the register.
//!
//! Rules (also in `docs/sla.md`):
//! * A step's working duration is measured once, when it finishes, and stored
//!   (`working_seconds`, `service::working_time`): working seconds from its clock start to
//!   its completion under the calendar then in force, less the working time it waited on
//!   the applicant, never below zero. Finished steps keep what they were measured with.
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
//!   `percentile_cont`, Excel's `PERCENTILE.INC`). On PostgreSQL the database aggregates
//!   (one pass over a covering index, in duration order); SQLite has no percentile
//!   function, so there the rows are read in keyset batches of [`BATCH`] and each group
//!   keeps one `i64` per completed step (800 KB per 100 000 steps) to sort. [`percentile`]
//!   repeats PostgreSQL's arithmetic, so both give the same numbers.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use entity::{organization, request, step_instance};
use sea_orm::sea_query::{Expr, ExprTrait, Func, JoinType, Order, Query, SelectStatement};
use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QuerySelect, RelationDef, Select};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::workflows;
use crate::calendar::WorkDuration;
use crate::error::{ApiError, ApiResult, FieldErrors};
use crate::state::AppState;
use crate::workflow::{Flow, Status, StepOutcome};

pub mod filing;
pub mod histogram;

/// The length of a standard working day for reports: 7 h 45 min, a Monday (–Thursday) of
/// the regency's default week (07:30–12:00 and 12:15–15:30). Friday is shorter (6.5 h),
/// so a Friday's full day counts as 0.84 of a standard day; a fixed divisor keeps
/// durations comparable across weeks and across calendar changes.
pub const WORKING_DAY_SECONDS: i64 = 27_900;

/// Rows are read in keyset batches of this size.
const BATCH: u64 = 5_000;

/// The `p`-th quantile (0.0–1.0) of ascending `sorted` values by linear interpolation
/// between closest ranks — rank h = (n − 1)·p, value x[⌊h⌋] + (h − ⌊h⌋)·(x[⌈h⌉] − x[⌊h⌋]) —
/// with exactly PostgreSQL's `percentile_cont` arithmetic (IEEE doubles, the same
/// operations in the same order), so both databases give identical reports. None for no
/// values.
pub fn percentile(sorted: &[i64], p: f64) -> Option<f64> {
    let (first, second, frac) = percentile_ranks(sorted.len(), p)?;
    Some(interpolate(sorted[first], sorted[second], first == second, frac))
}

/// The ranks (0-based, ascending) whose values the `p`-th quantile of `n` values lies
/// between, and how far between: h = (n − 1)·p, ⌊h⌋, ⌈h⌉, h − ⌊h⌋. None for no values.
pub fn percentile_ranks(n: usize, p: f64) -> Option<(usize, usize, f64)> {
    if n == 0 {
        return None;
    }
    let h = p * (n - 1) as f64;
    let (first, second) = (h.floor(), h.ceil());
    Some((first as usize, second as usize, h - first))
}

/// `percentile_cont`'s interpolation between the values at the two ranks.
fn interpolate(lo: i64, hi: i64, same_rank: bool, frac: f64) -> f64 {
    let lo = lo as f64;
    if same_rank {
        return lo;
    }
    lo + (hi as f64 - lo) * frac
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
        Self::from_percentiles(percentile(&seconds, 0.5), percentile(&seconds, 0.9), days)
    }

    fn from_percentiles(median: Option<f64>, p90: Option<f64>, days: bool) -> Self {
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
                    errors.insert(field.into(), vec![crate::msg!("report-bound", value = s)]);
                    None
                }
            }
        };
        let from = bound("from", from, false);
        let to = bound("to", to, true);
        if !errors.is_empty() {
            return Err(ApiError::BadRequest { detail: crate::i18n::Msg::Fields(errors.clone()), errors });
        }
        if let (Some(f), Some(t)) = (from, to)
            && f >= t
        {
            return Err(ApiError::invalid("to", crate::msg!("to-after-from")));
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
    /// The step's name in the response's language (as `current_step.label`); empty for a
    /// step the current definition no longer has.
    pub label: String,
    #[serde(skip)]
    #[schema(ignore)]
    labels: super::requests::StepLabels,
    /// Who acts (`{"role": …}` or `"team"`), from the current definition; null for a step
    /// it no longer has.
    #[schema(value_type = Option<crate::workflow::Actor>)]
    pub actor: Option<crate::workflow::Actor>,
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

impl crate::i18n::Localize for SlaReport {
    fn localize(&mut self, lang: crate::i18n::Lang) {
        for r in &mut self.rows {
            r.label = r.labels.get(lang).to_owned();
        }
    }
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
    /// Where the completed steps' figures came from (for the metrics, not the client).
    #[serde(skip)]
    #[schema(ignore)]
    pub computed_from: ComputedFrom,
}

/// Where an SLA report's completed-step figures came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ComputedFrom {
    /// PostgreSQL's histogram (`histogram`).
    Histogram,
    /// The finished steps themselves.
    Steps,
    /// The steps, because the histogram disagreed with them (logged as an error).
    StepsAfterDisagreement,
}

impl ComputedFrom {
    pub fn as_str(self) -> &'static str {
        match self {
            ComputedFrom::Histogram => "histogram",
            ComputedFrom::Steps => "steps",
            ComputedFrom::StepsAfterDisagreement => "steps_after_disagreement",
        }
    }
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

pub(crate) fn csv_field(s: &str) -> String {
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
            r.actor.map(|a| crate::workflow::CurrentActor::from(a).to_string()).unwrap_or_default(),
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

/// What the report says of one (flow, step) group.
#[derive(Default)]
struct Acc {
    completed: u64,
    spread: Option<Spread>,
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

/// Outcomes that count as the step being done (see the module documentation). The same
/// list is written out in the migration's `SLA_INDEX_CONDITION`, which the queries below
/// use; a test keeps the two together.
pub const COUNTED_OUTCOMES: [StepOutcome; 3] = [StepOutcome::Completed, StepOutcome::TestFailed, StepOutcome::Rejected];

/// How the counted steps of one organization are found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OrganizationOf {
    /// By the step's own copy of it (m0016): one range of
    /// `ix_step_instances_sla_organization`. Once every step is filed.
    Step,
    /// Through the step's request: while steps from before m0016 are being filed.
    Request,
}

impl OrganizationOf {
    async fn now(db: &impl ConnectionTrait) -> ApiResult<Self> {
        let unfiled = step_instance::Entity::find()
            .select_only()
            .column(step_instance::Column::Id)
            .filter(step_instance::Column::OrganizationId.is_null())
            .into_tuple::<Uuid>()
            .one(db)
            .await?;
        Ok(if unfiled.is_some() { Self::Request } else { Self::Step })
    }
}

/// The counted finished steps matching the filter, on `step_instances` alone (its `flow`
/// is the request's): the condition is the partial index's, written out literally so
/// PostgreSQL can use that index with any plan.
fn finished_steps(f: &ReportFilter, organization_of: OrganizationOf) -> SelectStatement {
    use step_instance::Column as S;
    let mut q = Query::select();
    q.from(step_instance::Entity).and_where(Expr::cust(migration::SLA_INDEX_CONDITION));
    if let Some(flow) = f.flow {
        q.and_where(Expr::col(S::Flow).eq(flow.as_str()));
    }
    match (f.organization_id, organization_of) {
        (None, _) => {}
        (Some(org), OrganizationOf::Step) => {
            q.and_where(Expr::col(S::OrganizationId).eq(org));
        }
        (Some(org), OrganizationOf::Request) => {
            q.and_where(
                Expr::col(S::RequestId).in_subquery(
                    Query::select()
                        .column(request::Column::Id)
                        .from(request::Entity)
                        .and_where(Expr::col(request::Column::OrganizationId).eq(org))
                        .to_owned(),
                ),
            );
        }
    }
    if let Some(from) = f.from {
        q.and_where(Expr::col(S::CompletedAt).gte(from));
    }
    if let Some(to) = f.to {
        q.and_where(Expr::col(S::CompletedAt).lt(to));
    }
    q
}

/// How this report finds an organization's steps (no question without the filter).
async fn organization_of(state: &AppState, f: &ReportFilter) -> ApiResult<OrganizationOf> {
    match f.organization_id {
        Some(_) => OrganizationOf::now(&state.db).await,
        None => Ok(OrganizationOf::Step),
    }
}

/// Completed count, spread and within-target/limit counts per (flow, step), aggregated by
/// PostgreSQL in one pass over the index (presorted input for `percentile_cont`).
async fn finished_in_database(state: &AppState, f: &ReportFilter, days: &DayGroups) -> ApiResult<Groups> {
    use step_instance::Column as S;
    let q = finished_steps(f, organization_of(state, f).await?)
        .column(S::Flow)
        .column(S::StepCode)
        .expr_as(Expr::cust("COUNT(*)"), "n")
        .expr_as(Expr::cust("percentile_cont(0.5) WITHIN GROUP (ORDER BY working_seconds)"), "p50")
        .expr_as(Expr::cust("percentile_cont(0.9) WITHIN GROUP (ORDER BY working_seconds)"), "p90")
        .expr_as(Expr::cust("COUNT(*) FILTER (WHERE completed_at <= due_at)"), "within_target")
        .expr_as(Expr::cust("COUNT(*) FILTER (WHERE completed_at <= limit_at)"), "within_limit")
        .group_by_col(S::Flow)
        .group_by_col(S::StepCode)
        .to_owned();
    let mut groups = Groups::new();
    for row in state.db.query_all(&q).await? {
        let flow: String = row.try_get("", "flow")?;
        let step: String = row.try_get("", "step_code")?;
        let count = |col: &str| -> ApiResult<u64> { Ok(u64::try_from(row.try_get::<i64>("", col)?).unwrap_or(0)) };
        let in_days = days.contains(&(flow.clone(), step.clone()));
        let spread = Spread::from_percentiles(row.try_get("", "p50")?, row.try_get("", "p90")?, in_days);
        let acc = groups.entry((flow, step)).or_default();
        acc.completed = count("n")?;
        acc.spread = Some(spread);
        acc.within_target = count("within_target")?;
        acc.within_limit = count("within_limit")?;
    }
    Ok(groups)
}

/// The same figures from the histogram (`histogram::finished`).
fn from_histogram(found: Vec<histogram::Finished>, days: &DayGroups) -> Groups {
    let mut groups = Groups::new();
    for g in found {
        let in_days = days.contains(&(g.flow.clone(), g.step.clone()));
        let [completed, within_target, within_limit] = g.total.map(|n| u64::try_from(n).unwrap_or(0));
        groups.insert(
            (g.flow, g.step),
            Acc {
                completed,
                spread: Some(Spread::from_percentiles(g.median, g.p90, in_days)),
                within_target,
                within_limit,
                ..Default::default()
            },
        );
    }
    groups
}

/// The same figures computed here, for SQLite (no percentile function): rows read in
/// keyset batches of [`BATCH`], one `i64` kept per finished step to sort.
async fn finished_in_rust(state: &AppState, f: &ReportFilter, days: &DayGroups) -> ApiResult<Groups> {
    use step_instance::Column as S;
    let mut seconds: HashMap<(String, String), Vec<i64>> = HashMap::new();
    let mut groups = Groups::new();
    type Row = (Uuid, String, String, i64, DateTime<Utc>, DateTime<Utc>, DateTime<Utc>);
    let organization_of = organization_of(state, f).await?;
    let mut after: Option<Uuid> = None;
    loop {
        let mut q = finished_steps(f, organization_of)
            .columns([S::Id, S::Flow, S::StepCode, S::WorkingSeconds, S::CompletedAt, S::DueAt, S::LimitAt])
            .order_by(S::Id, Order::Asc)
            .limit(BATCH)
            .to_owned();
        if let Some(after) = after {
            q.and_where(Expr::col(S::Id).gt(after));
        }
        let mut rows: Vec<Row> = Vec::new();
        for row in state.db.query_all(&q).await? {
            rows.push((
                row.try_get("", "id")?,
                row.try_get("", "flow")?,
                row.try_get("", "step_code")?,
                row.try_get("", "working_seconds")?,
                row.try_get("", "completed_at")?,
                row.try_get("", "due_at")?,
                row.try_get("", "limit_at")?,
            ));
        }
        for (_, flow, step, working, completed_at, due_at, limit_at) in &rows {
            let key = (flow.clone(), step.clone());
            seconds.entry(key.clone()).or_default().push(*working);
            let acc = groups.entry(key).or_default();
            acc.completed += 1;
            acc.within_target += u64::from(completed_at <= due_at);
            acc.within_limit += u64::from(completed_at <= limit_at);
        }
        if (rows.len() as u64) < BATCH {
            break;
        }
        after = rows.last().map(|r| r.0);
    }
    for (key, values) in seconds {
        let in_days = days.contains(&key);
        groups.entry(key).or_default().spread = Some(Spread::of(values, in_days));
    }
    Ok(groups)
}

type Groups = HashMap<(String, String), Acc>;
/// The (flow, step) groups whose standard counts days, from the current definitions.
type DayGroups = std::collections::HashSet<(String, String)>;

#[tracing::instrument(level = "debug", skip_all)]
pub async fn sla(state: &AppState, f: &ReportFilter) -> ApiResult<SlaReport> {
    use step_instance::Column as S;
    let now = state.now();
    let flows: Vec<Flow> = match f.flow {
        Some(flow) => vec![flow],
        None => Flow::ALL.to_vec(),
    };
    let mut definitions = Vec::new();
    let mut days = DayGroups::new();
    for flow in &flows {
        let def = workflows::latest(&state.db, *flow).await?.definition;
        for step in &def.steps {
            if matches!(step.time_standard.target, WorkDuration::Days(_)) {
                days.insert((flow.as_str().to_owned(), step.code.as_str().to_owned()));
            }
        }
        definitions.push((*flow, def));
    }
    let (mut groups, computed_from) = match state.db.get_database_backend() {
        DbBackend::Postgres => match histogram::finished(&state.db, f).await? {
            histogram::Answer::Found(found) => (from_histogram(found, &days), ComputedFrom::Histogram),
            histogram::Answer::NotForThisFilter | histogram::Answer::Backlog => {
                (finished_in_database(state, f, &days).await?, ComputedFrom::Steps)
            }
            histogram::Answer::Disagrees => {
                (finished_in_database(state, f, &days).await?, ComputedFrom::StepsAfterDisagreement)
            }
        },
        _ => (finished_in_rust(state, f, &days).await?, ComputedFrom::Steps),
    };

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

    let mut rows = Vec::new();
    for (flow, def) in definitions {
        // Steps an older definition had and the current one does not.
        let mut gone: Vec<String> = groups
            .keys()
            .filter(|(fl, code)| fl == flow.as_str() && !def.steps.iter().any(|s| s.code.as_str() == code))
            .map(|(_, code)| code.clone())
            .collect();
        gone.sort();
        let mut take = |code: String,
                        order: Option<u16>,
                        labels: super::requests::StepLabels,
                        actor: Option<crate::workflow::Actor>,
                        standard: String| {
            let acc = groups.remove(&(flow.as_str().to_owned(), code.clone())).unwrap_or_default();
            SlaRow {
                flow,
                step_code: code,
                step_order: order,
                label: labels.get(crate::i18n::Lang::default()).to_owned(),
                labels,
                actor,
                time_standard: standard,
                completed: acc.completed,
                spread: acc.spread.unwrap_or_default(),
                within_target: acc.within_target,
                within_target_share: share(acc.within_target, acc.completed),
                within_limit: acc.within_limit,
                within_limit_share: share(acc.within_limit, acc.completed),
                open_now: acc.open,
                overdue_now: acc.overdue,
            }
        };
        for step in &def.steps {
            rows.push(take(
                step.code.as_str().into(),
                Some(step.order),
                super::requests::StepLabels::of(step),
                Some(step.actor),
                step.time_standard.to_string(),
            ));
        }
        for code in gone {
            rows.push(take(code, None, Default::default(), None, String::new()));
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
        computed_from,
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
    pub cancelled: u64,
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
            Ok(Status::Cancelled) => self.cancelled += n,
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

#[tracing::instrument(level = "debug", skip_all)]
pub async fn summary(state: &AppState, f: &ReportFilter) -> ApiResult<Summary> {
    use request::Column as R;
    let now = state.now();
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

    // End to end: the stored working time of the requests completed in the period.
    let completed_in_period = || {
        let mut q = filtered().filter(R::Status.eq(Status::Completed.as_str())).filter(R::WorkingSeconds.is_not_null());
        if let Some(from) = f.from {
            q = q.filter(R::ClosedAt.gte(from));
        }
        if let Some(to) = f.to {
            q = q.filter(R::ClosedAt.lt(to));
        }
        q
    };
    let (completed, spread) = if state.db.get_database_backend() == DbBackend::Postgres {
        let row: Option<(i64, Option<f64>, Option<f64>)> = completed_in_period()
            .select_only()
            .column_as(Expr::cust("COUNT(*)"), "n")
            .column_as(Expr::cust("percentile_cont(0.5) WITHIN GROUP (ORDER BY working_seconds)"), "p50")
            .column_as(Expr::cust("percentile_cont(0.9) WITHIN GROUP (ORDER BY working_seconds)"), "p90")
            .into_tuple()
            .one(&state.db)
            .await?;
        let (n, p50, p90) = row.unwrap_or((0, None, None));
        (u64::try_from(n).unwrap_or(0), Spread::from_percentiles(p50, p90, true))
    } else {
        let seconds: Vec<Option<i64>> =
            completed_in_period().select_only().column(R::WorkingSeconds).into_tuple().all(&state.db).await?;
        let seconds: Vec<i64> = seconds.into_iter().flatten().collect();
        (seconds.len() as u64, Spread::of(seconds, true))
    };
    Ok(Summary {
        generated_at: now,
        from: f.from,
        to: f.to,
        flow: f.flow,
        organization_id: f.organization_id,
        total,
        by_status,
        by_organization,
        end_to_end: EndToEnd { completed, spread, working_day_seconds: WORKING_DAY_SECONDS },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_index_condition_counts_exactly_the_counted_outcomes() {
        let condition = migration::SLA_INDEX_CONDITION;
        for o in crate::workflow::StepOutcome::ALL {
            let quoted = format!("'{o}'");
            assert_eq!(condition.contains(&quoted), COUNTED_OUTCOMES.contains(o), "{o} in {condition}");
        }
    }

    #[test]
    fn percentiles_interpolate_between_closest_ranks_as_postgresql_does() {
        let close = |got: Option<f64>, want: f64| {
            let got = got.unwrap();
            assert!((got - want).abs() < 1e-9, "{got} != {want}");
        };
        assert_eq!(percentile(&[], 0.5), None);
        assert_eq!(percentile(&[7], 0.5), Some(7.0));
        assert_eq!(percentile(&[7], 0.9), Some(7.0));
        // Odd count: the middle one. h(90) = 4·0.9 = 3.6 → 40 + 0.6·(50 − 40) = 46.
        assert_eq!(percentile(&[10, 20, 30, 40, 50], 0.5), Some(30.0));
        close(percentile(&[10, 20, 30, 40, 50], 0.9), 46.0);
        // Even count: halfway between the two middle ones. h(90) = 3·0.9 = 2.7.
        assert_eq!(percentile(&[0, 900, 16_200, 27_900], 0.5), Some(8_550.0));
        close(percentile(&[0, 900, 16_200, 27_900], 0.9), 24_390.0);
        // Ends.
        assert_eq!(percentile(&[1, 2, 3], 0.0), Some(1.0));
        assert_eq!(percentile(&[1, 2, 3], 1.0), Some(3.0));
        // Eleven values: h(90) = 0.9·10 = 9 (exactly, in doubles too).
        let v: Vec<i64> = (0..11).map(|i| i * 100).collect();
        assert_eq!(percentile(&v, 0.9), Some(900.0));
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
