//! The SLA report's histogram on PostgreSQL (migration m0014): folding the queued finished
//! steps into it, and reading the report's figures from it.
//!
//! Counts come from the histogram (plus the few steps still queued); a percentile's exact
//! value is then read inside the one bucket that holds its rank: an index range of at
//! most 1/128 of the value's width in `ix_step_instances_sla`, walked to the rank within
//! it. The figures are the same, to the last bit, as `percentile_cont` over every step
//! (`super::finished_in_database`), which the report still uses for a filter by
//! organization. A period's whole WIB months come from the histogram; the parts of months
//! at its ends are counted from the steps themselves (an index on `completed_at`).

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use sea_orm::{
    AccessMode, ConnectionTrait, DatabaseConnection, DbBackend, IsolationLevel, QueryResult, Statement,
    TransactionTrait, Value,
};

use super::{ReportFilter, percentile_ranks};
use crate::error::ApiResult;

/// Durations below this many seconds are a bucket each.
const EXACT_BELOW: u64 = 256;
/// Buckets per doubling above that: a bucket is at most 1/128 of its values wide.
const PER_DOUBLING: u64 = 128;

/// The histogram bucket of a duration: the value itself below [`EXACT_BELOW`], then
/// log-linear (the top eight bits of the value and its magnitude). Monotonic: a higher
/// bucket holds only higher values.
pub fn bucket_of(seconds: i64) -> i32 {
    let s = seconds.max(0) as u64;
    if s < EXACT_BELOW {
        return s as i32;
    }
    let shift = 63 - s.leading_zeros() - 7; // s >> shift is in [128, 256)
    (u64::from(shift) * PER_DOUBLING + (s >> shift)) as i32
}

/// The values of a bucket: from (inclusive), to (exclusive).
pub fn bucket_range(bucket: i32) -> (i64, i64) {
    let b = bucket.max(0) as u64;
    if b == 0 {
        return (i64::MIN, 1); // durations are never negative; if one were, it is here
    }
    if b < EXACT_BELOW {
        return (b as i64, b as i64 + 1);
    }
    let shift = b / PER_DOUBLING - 1;
    let top = b - shift * PER_DOUBLING;
    ((top << shift) as i64, ((top + 1) << shift) as i64)
}

/// The start (00:00 WIB on the 1st) of the month an instant falls in.
pub fn month_of(t: DateTime<Utc>) -> DateTime<Utc> {
    let local = t.with_timezone(&chrono_tz::Asia::Jakarta);
    let first = NaiveDate::from_ymd_opt(local.year(), local.month(), 1).and_then(|d| d.and_hms_opt(0, 0, 0));
    // WIB has no daylight saving: every local midnight exists exactly once.
    first.and_then(|d| chrono_tz::Asia::Jakarta.from_local_datetime(&d).single()).map_or(t, |m| m.with_timezone(&Utc))
}

/// Queued rows folded per transaction.
const FOLD_BATCH: u64 = 5_000;

/// Folds up to [`FOLD_BATCH`] queued rows with ids above `after` into the histogram, in
/// one transaction; returns how many and the highest id taken. The caller walks a backlog
/// with `after` (an index range past the rows it already deleted, instead of over their
/// dead entries each time) and starts again from 0 once a batch comes back short, which
/// also picks up rows whose transactions committed after the walk passed their ids. Any
/// replica may run it at any time: rows are claimed with `SKIP LOCKED`, and histogram rows
/// are written in key order, so two folders never wait on each other in a circle. Nothing
/// to do on SQLite.
pub async fn fold(db: &DatabaseConnection, after: i64) -> ApiResult<(u64, i64)> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Ok((0, after));
    }
    let txn = db.begin().await?;
    let taken = txn
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            format!(
                // `= ANY(ARRAY(…))`, not `IN (…)`: PostgreSQL joined `IN` by hashing the
                // batch and scanning the whole queue, every batch.
                "DELETE FROM sla_pending WHERE id = ANY(ARRAY( \
                 SELECT id FROM sla_pending WHERE id > $1 ORDER BY id LIMIT {FOLD_BATCH} FOR UPDATE SKIP LOCKED)) \
                 RETURNING id, flow, step_code, working_seconds, completed_at, within_target, within_limit, delta"
            ),
            [after.into()],
        ))
        .await?;
    if taken.is_empty() {
        return Ok((0, after));
    }
    let mut last = after;
    let mut cells: BTreeMap<(String, String, DateTime<Utc>, i32), [i64; 3]> = BTreeMap::new();
    for row in &taken {
        last = last.max(row.try_get("", "id")?);
        let key = (
            row.try_get::<String>("", "flow")?,
            row.try_get::<String>("", "step_code")?,
            month_of(row.try_get("", "completed_at")?),
            bucket_of(row.try_get("", "working_seconds")?),
        );
        add(cells.entry(key).or_default(), queued_counts(row)?);
    }
    let cells: Vec<_> = cells.into_iter().collect();
    for chunk in cells.chunks(1_000) {
        let mut sql = String::from(
            "INSERT INTO sla_histogram (flow, step_code, month, bucket, steps, within_target, within_limit) VALUES ",
        );
        let mut values: Vec<Value> = Vec::with_capacity(chunk.len() * 7);
        for (i, ((flow, step, month, bucket), [steps, target, limit])) in chunk.iter().enumerate() {
            let p = i * 7;
            if i > 0 {
                sql.push(',');
            }
            sql.push_str(&format!("(${},${},${},${},${},${},${})", p + 1, p + 2, p + 3, p + 4, p + 5, p + 6, p + 7));
            values.extend([
                flow.clone().into(),
                step.clone().into(),
                (*month).into(),
                (*bucket).into(),
                (*steps).into(),
                (*target).into(),
                (*limit).into(),
            ]);
        }
        sql.push_str(
            " ON CONFLICT (flow, step_code, month, bucket) DO UPDATE SET \
             steps = sla_histogram.steps + EXCLUDED.steps, \
             within_target = sla_histogram.within_target + EXCLUDED.within_target, \
             within_limit = sla_histogram.within_limit + EXCLUDED.within_limit",
        );
        txn.execute_raw(Statement::from_sql_and_values(DbBackend::Postgres, sql, values)).await?;
    }
    txn.commit().await?;
    Ok((taken.len() as u64, last))
}

/// Whether a fold took a whole batch (so more may wait right behind it).
pub fn was_full(n: u64) -> bool {
    n >= FOLD_BATCH
}

/// Counts of one bucket: steps, within target, within limit.
type Cell = [i64; 3];

/// Per (flow, step), per bucket.
type Buckets = BTreeMap<(String, String), BTreeMap<i32, Cell>>;

fn add(cell: &mut Cell, counts: Cell) {
    (0..3).for_each(|i| cell[i] += counts[i]);
}

/// What one queued row adds to its bucket: its sign, and its sign where it was within
/// target and within limit.
fn queued_counts(row: &QueryResult) -> ApiResult<Cell> {
    let delta = i64::from(row.try_get::<i16>("", "delta")?);
    let within = |col: &str| -> ApiResult<i64> { Ok(delta * i64::from(row.try_get::<bool>("", col)?)) };
    Ok([delta, within("within_target")?, within("within_limit")?])
}

/// Adds rows already counted per bucket (`flow, step_code, bucket, steps, target, limit_`).
fn add_bucket_counts(groups: &mut Buckets, rows: &[QueryResult]) -> ApiResult<()> {
    for row in rows {
        let cell = groups
            .entry((row.try_get("", "flow")?, row.try_get("", "step_code")?))
            .or_default()
            .entry(row.try_get("", "bucket")?)
            .or_default();
        add(cell, [row.try_get("", "steps")?, row.try_get("", "target")?, row.try_get("", "limit_")?]);
    }
    Ok(())
}

/// What the histogram says of the counted finished steps.
pub(super) enum Answer {
    /// Per (flow, step) with completed steps.
    Found(Vec<Finished>),
    /// Not for this filter (see the module documentation) or not on this database.
    NotForThisFilter,
    /// The histogram and the steps disagree (logged): read the steps.
    Disagrees,
    /// More than [`MAX_QUEUED`] steps wait to be folded (a bulk import, or the first start
    /// after migrating a large register): the steps are read rather than the queue.
    Backlog,
}

/// Queued steps a report adds to the histogram itself; beyond, it reads the steps.
const MAX_QUEUED: usize = 50_000;

/// A report's period split into the whole WIB months inside it, answered by the histogram
/// (`None`: there is none), and the parts before and after them, read from the steps.
/// From (inclusive) and to (exclusive); `None` is open-ended.
type Bounds = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

#[derive(Debug, PartialEq)]
pub(super) struct Split {
    pub months: Option<Bounds>,
    pub edges: Vec<(DateTime<Utc>, DateTime<Utc>)>,
}

/// The start of the month after the one starting at `month`.
fn next_month(month: DateTime<Utc>) -> DateTime<Utc> {
    month_of(month + chrono::Duration::days(32))
}

pub(super) fn split(from: Option<DateTime<Utc>>, to: Option<DateTime<Utc>>) -> Split {
    let first = from.map(|t| if month_of(t) == t { t } else { next_month(month_of(t)) });
    let last = to.map(month_of);
    if let (Some(from), Some(to), Some(a), Some(b)) = (from, to, first, last)
        && a >= b
    {
        return Split { months: None, edges: vec![(from, to)] };
    }
    let mut edges = Vec::new();
    if let (Some(f), Some(a)) = (from, first)
        && f < a
    {
        edges.push((f, a));
    }
    if let (Some(t), Some(b)) = (to, last)
        && b < t
    {
        edges.push((b, t));
    }
    Split { months: Some((first, last)), edges }
}

/// [`bucket_of`] in SQL: `width_bucket` over the powers of two counts the doublings with
/// integer comparisons, so both give the same bucket for every value (a black-box test
/// compares them).
pub fn bucket_sql(col: &str) -> String {
    let powers = (8..63).map(|k| (1i64 << k).to_string()).collect::<Vec<_>>().join(",");
    let shift = format!("width_bucket({col}, ARRAY[{powers}]::bigint[])");
    format!(
        "(CASE WHEN {col} < {EXACT_BELOW} THEN greatest({col}, 0) ELSE {shift} * {PER_DOUBLING} + ({col} >> {shift}) END)::int"
    )
}

/// What the histogram says of the counted finished steps per (flow, step).
pub(super) async fn finished(db: &DatabaseConnection, f: &ReportFilter) -> ApiResult<Answer> {
    if db.get_database_backend() != DbBackend::Postgres || f.organization_id.is_some() {
        return Ok(Answer::NotForThisFilter);
    }
    let Split { months, edges } = split(f.from, f.to);
    // One snapshot for the counts and the values they locate.
    let txn = db.begin_with_config(Some(IsolationLevel::RepeatableRead), Some(AccessMode::ReadOnly)).await?;
    let mut groups = Buckets::new();
    let flow = f.flow.map(|flow| Value::from(flow.as_str()));
    if let Some((first, last)) = months {
        // The whole months: the histogram by month, the queued steps by instant (the same
        // for month starts).
        let (mut by_month, mut by_instant) = (String::new(), String::new());
        let mut values: Vec<Value> = Vec::new();
        for (v, month, instant) in [
            (flow.clone(), "flow =", "flow ="),
            (first.map(Value::from), "month >=", "completed_at >="),
            (last.map(Value::from), "month <", "completed_at <"),
        ] {
            if let Some(v) = v {
                values.push(v);
                by_month.push_str(&format!(" AND {month} ${}", values.len()));
                by_instant.push_str(&format!(" AND {instant} ${}", values.len()));
            }
        }
        let folded = txn
            .query_all_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                format!(
                    "SELECT flow, step_code, bucket, SUM(steps)::bigint AS steps, \
                     SUM(within_target)::bigint AS target, SUM(within_limit)::bigint AS limit_ \
                     FROM sla_histogram WHERE true{by_month} GROUP BY flow, step_code, bucket"
                ),
                values.clone(),
            ))
            .await?;
        add_bucket_counts(&mut groups, &folded)?;
        let queued = txn
            .query_all_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                format!(
                    "SELECT flow, step_code, working_seconds, within_target, within_limit, delta FROM sla_pending \
                     WHERE true{by_instant} LIMIT {}",
                    MAX_QUEUED + 1
                ),
                values,
            ))
            .await?;
        if queued.len() > MAX_QUEUED {
            return Ok(Answer::Backlog);
        }
        for row in &queued {
            let cell = groups
                .entry((row.try_get("", "flow")?, row.try_get("", "step_code")?))
                .or_default()
                .entry(bucket_of(row.try_get("", "working_seconds")?))
                .or_default();
            add(cell, queued_counts(row)?);
        }
    }
    if !edges.is_empty() {
        // The parts of months: counted per bucket from the steps themselves (an index on
        // `completed_at`, migration m0015), folded or not.
        let mut values: Vec<Value> = Vec::new();
        let mut ranges = Vec::new();
        for (lo, hi) in &edges {
            values.extend([Value::from(*lo), Value::from(*hi)]);
            ranges.push(format!("(completed_at >= ${} AND completed_at < ${})", values.len() - 1, values.len()));
        }
        let mut filter = format!(" AND ({})", ranges.join(" OR "));
        if let Some(flow) = flow {
            values.push(flow);
            filter.push_str(&format!(" AND flow = ${}", values.len()));
        }
        let partial = txn
            .query_all_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                format!(
                    "SELECT flow, step_code, {bucket} AS bucket, COUNT(*) AS steps, \
                     COUNT(*) FILTER (WHERE completed_at <= due_at) AS target, \
                     COUNT(*) FILTER (WHERE completed_at <= limit_at) AS limit_ \
                     FROM step_instances WHERE {cond}{filter} GROUP BY 1, 2, 3",
                    bucket = bucket_sql("working_seconds"),
                    cond = migration::SLA_INDEX_CONDITION,
                ),
                values,
            ))
            .await?;
        add_bucket_counts(&mut groups, &partial)?;
    }

    // Where each wanted rank is: its bucket and its place in that bucket.
    let mut out = Vec::new();
    let mut wanted: Vec<(String, String, i32, i64)> = Vec::new();
    for ((flow, step), buckets) in groups {
        let mut total: Cell = [0; 3];
        buckets.values().for_each(|cell| add(&mut total, *cell));
        if total.iter().any(|&n| n < 0) || total[1] > total[0] || total[2] > total[0] {
            tracing::error!(flow, step, ?total, "the SLA histogram does not add up; reading the steps instead");
            return Ok(Answer::Disagrees);
        }
        if total[0] == 0 {
            continue;
        }
        let n = total[0] as usize;
        let mut ranks = Vec::new();
        for p in [0.5, 0.9] {
            if let Some((first, second, _)) = percentile_ranks(n, p) {
                ranks.extend([first, second]);
            }
        }
        ranks.dedup();
        let mut located = Vec::new();
        for rank in ranks {
            let mut before = 0usize;
            let spot = buckets.iter().find_map(|(bucket, cell)| {
                let here = usize::try_from(cell[0]).unwrap_or(0);
                if rank < before + here {
                    return Some((*bucket, (rank - before) as i64));
                }
                before += here;
                None
            });
            let Some((bucket, offset)) = spot else {
                tracing::error!(flow, step, rank, "the SLA histogram does not add up; reading the steps instead");
                return Ok(Answer::Disagrees);
            };
            located.push((rank, wanted.len()));
            wanted.push((flow.clone(), step.clone(), bucket, offset));
        }
        out.push(Finished { flow, step, total, located, median: None, p90: None });
    }

    // The values at those ranks: one statement, one short index range each.
    let found = values_at(&txn, f, &wanted).await?;
    txn.commit().await?;
    for g in &mut out {
        let n = g.total[0] as usize;
        let value = |rank: usize| g.located.iter().find(|(r, _)| *r == rank).and_then(|(_, i)| found[*i]);
        let spread = |p: f64| -> Option<Option<f64>> {
            let (first, second, frac) = percentile_ranks(n, p)?;
            Some(value(first).zip(value(second)).map(|(lo, hi)| super::interpolate(lo, hi, first == second, frac)))
        };
        match (spread(0.5), spread(0.9)) {
            (Some(Some(median)), Some(Some(p90))) => (g.median, g.p90) = (Some(median), Some(p90)),
            _ => {
                tracing::error!(flow = g.flow, step = g.step, "a rank the SLA histogram located is not there");
                return Ok(Answer::Disagrees);
            }
        }
    }
    Ok(Answer::Found(out))
}

/// The `working_seconds` at each (flow, step, bucket, offset): the offset-th smallest of
/// the counted steps in that bucket's range (and the report's period).
async fn values_at<C: ConnectionTrait>(
    db: &C,
    f: &ReportFilter,
    wanted: &[(String, String, i32, i64)],
) -> ApiResult<Vec<Option<i64>>> {
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let mut values: Vec<Value> = Vec::new();
    let mut period = String::new();
    if let Some(from) = f.from {
        values.push(from.into());
        period.push_str(&format!(" AND completed_at >= ${}", values.len()));
    }
    if let Some(to) = f.to {
        values.push(to.into());
        period.push_str(&format!(" AND completed_at < ${}", values.len()));
    }
    let mut rows = Vec::new();
    for (i, (flow, step, bucket, offset)) in wanted.iter().enumerate() {
        let (lo, hi) = bucket_range(*bucket);
        let p = values.len();
        rows.push(format!(
            "(${}::int, ${}::text, ${}::text, ${}::bigint, ${}::bigint, ${}::bigint)",
            p + 1,
            p + 2,
            p + 3,
            p + 4,
            p + 5,
            p + 6
        ));
        values.extend([
            (i as i32).into(),
            flow.clone().into(),
            step.clone().into(),
            lo.into(),
            hi.into(),
            (*offset).into(),
        ]);
    }
    let sql = format!(
        "SELECT v.i, (SELECT working_seconds FROM step_instances \
           WHERE {cond} AND flow = v.flow AND step_code = v.step \
             AND working_seconds >= v.lo AND working_seconds < v.hi{period} \
           ORDER BY working_seconds OFFSET v.k LIMIT 1) AS w \
         FROM (VALUES {rows}) AS v(i, flow, step, lo, hi, k)",
        cond = migration::SLA_INDEX_CONDITION,
        rows = rows.join(","),
    );
    let mut found = vec![None; wanted.len()];
    for row in db.query_all_raw(Statement::from_sql_and_values(DbBackend::Postgres, sql, values)).await? {
        let i: i32 = row.try_get("", "i")?;
        if let Some(slot) = found.get_mut(i as usize) {
            *slot = row.try_get::<Option<i64>>("", "w")?;
        }
    }
    Ok(found)
}

/// The counted finished steps of one (flow, step), from the histogram.
pub(super) struct Finished {
    pub flow: String,
    pub step: String,
    /// Steps, within target, within limit.
    pub total: Cell,
    /// Which entry of the value lookup holds each rank.
    located: Vec<(usize, usize)>,
    pub median: Option<f64>,
    pub p90: Option<f64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_exact_below_256_then_at_most_a_128th_wide() {
        for s in 0..256 {
            assert_eq!(bucket_of(s), s as i32);
        }
        let mut previous = bucket_of(0);
        for s in (0..3_000_000i64).chain([i64::MAX / 2, i64::MAX - 1, i64::MAX]) {
            let b = bucket_of(s);
            assert!(b >= previous, "monotonic at {s}");
            previous = b;
            let (lo, hi) = bucket_range(b);
            assert!(lo <= s && (s < hi || hi < lo), "{s} in bucket {b} = [{lo}, {hi})");
            if (256..i64::MAX / 2).contains(&s) {
                assert!((hi - lo) * 128 <= lo, "{s}: bucket [{lo}, {hi}) is wider than a 128th");
            }
        }
        // Adjacent buckets meet: no value falls between two.
        for b in 1..5_000 {
            assert_eq!(bucket_range(b).1, bucket_range(b + 1).0, "bucket {b}");
        }
        assert_eq!(bucket_of(-5), 0, "a negative duration (never stored) is in the first bucket");
        assert!(bucket_range(0).0 < -5);
    }

    #[test]
    fn a_period_is_whole_months_and_the_parts_at_its_ends() {
        let t = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        let (jan, feb, mar) = (t("2025-12-31T17:00:00Z"), t("2026-01-31T17:00:00Z"), t("2026-02-28T17:00:00Z"));
        // Whole months only.
        assert_eq!(split(Some(jan), Some(mar)), Split { months: Some((Some(jan), Some(mar))), edges: vec![] });
        assert_eq!(split(None, None), Split { months: Some((None, None)), edges: vec![] });
        assert_eq!(split(Some(feb), None), Split { months: Some((Some(feb), None)), edges: vec![] });
        // 10 January – end of February: the rest of January from the steps, February whole.
        let jan10 = t("2026-01-09T17:00:00Z");
        assert_eq!(
            split(Some(jan10), Some(mar)),
            Split { months: Some((Some(feb), Some(mar))), edges: vec![(jan10, feb)] }
        );
        // 10 January – 10 March: both ends partial.
        let mar10 = t("2026-03-09T17:00:00Z");
        assert_eq!(
            split(Some(jan10), Some(mar10)),
            Split { months: Some((Some(feb), Some(mar))), edges: vec![(jan10, feb), (mar, mar10)] }
        );
        // Within one month, or across a month start without a whole month: all from the steps.
        let jan20 = t("2026-01-19T17:00:00Z");
        assert_eq!(split(Some(jan10), Some(jan20)), Split { months: None, edges: vec![(jan10, jan20)] });
        let feb5 = t("2026-02-04T17:00:00Z");
        assert_eq!(split(Some(jan10), Some(feb5)), Split { months: None, edges: vec![(jan10, feb5)] });
        // Open-ended with a partial end.
        assert_eq!(split(None, Some(jan10)), Split { months: Some((None, Some(jan))), edges: vec![(jan, jan10)] });
        assert_eq!(split(Some(jan10), None), Split { months: Some((Some(feb), None)), edges: vec![(jan10, feb)] });
        assert_eq!(next_month(t("2026-01-31T17:00:00Z")), mar, "February is short");
    }

    #[test]
    fn a_month_starts_at_midnight_wib_on_the_first() {
        let t = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        // 1 December 2026 00:00 WIB is 30 November 17:00 UTC.
        assert_eq!(month_of(t("2026-11-30T17:00:00Z")), t("2026-11-30T17:00:00Z"));
        assert_eq!(month_of(t("2026-11-30T16:59:59Z")), t("2026-10-31T17:00:00Z"));
        assert_eq!(month_of(t("2026-12-31T16:59:59Z")), t("2026-11-30T17:00:00Z"));
        assert_eq!(month_of(t("2026-12-31T17:00:00Z")), t("2026-12-31T17:00:00Z"));
    }
}
