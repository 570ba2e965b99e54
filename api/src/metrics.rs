//! Prometheus metrics, served by `GET /metrics` (`routes::metrics`) in the text format.
//!
//! * HTTP, by actix-web-prom's middleware: `jembatan_http_requests_total` and
//!   `jembatan_http_requests_duration_seconds`, labelled by the route's *pattern*
//!   (`/api/v1/requests/{id}`: one series per route, not per id; unmatched paths are
//!   `UNMATCHED`), method and status.
//! * The register, read from the database at each scrape (small aggregate queries):
//!   `jembatan_requests{status}`, `jembatan_steps_overdue` (current steps of requests in
//!   progress past their limit, the rule of `GET /requests?overdue=true`) and the same by
//!   step, `jembatan_steps_overdue_by_step{step}`.
//! * Transitions this replica answered, `jembatan_transitions_total{action, step,
//!   outcome}`: `action` the route's (`complete`, `submit`, `return`, …), `step` the step
//!   completed (or the request's step after the other actions; `-` when closed or
//!   refused), `outcome` `done` (2xx), `refused` (403, 404, 409, 412, 422) or `error`.
//!   A counter per replica: Prometheus sums them.
//! * The outboxes: `jembatan_outbox_depth{outbox}` (mail, webhook: messages waiting) and
//!   `jembatan_outbox_oldest_age_seconds{outbox}` (how long the oldest has waited).
//! * The audit log: `jembatan_audit_unsequenced` (events not yet in the log) and
//!   `jembatan_audit_sequencer_lag_seconds` (the oldest of them's age; 0 when none).
//! * SLA reports this replica answered, `jembatan_sla_reports_total{source}`: `histogram`
//!   (PostgreSQL's pre-aggregated durations), `steps` (read from the finished steps: SQLite,
//!   a filter by organization, a period not of whole months) or `steps_after_disagreement`
//!   (the histogram disagreed with the steps: logged as an error; the figures are still
//!   right).
//! * The database connections of the whole replica, `jembatan_db_pool_connections{pool,
//!   state}` (`idle`, `in_use`), summed over its pools: on PostgreSQL `background` (start-up
//!   and the jobs), `requests` (every HTTP worker's pool) and `read_lane` (every worker's
//!   read lane, `db/lane.rs`); on SQLite the one pool everything shares, `shared`.
//!   `jembatan_db_read_lane_reads_total{outcome}`: reads the lanes ran (`served`) and reads
//!   they sent to the pool because every lane connection was out (`overflowed`); many of
//!   those say the lanes are too small for the load. `jembatan_db_pool_wait_seconds`, a
//!   histogram of how long each acquire that got a pooled connection took, every pool of
//!   the process (the wait, and the ping or connect of the connection handed over; sqlx
//!   times each and reports it as a tracing event, which `telemetry::PoolWaits` records;
//!   the read lanes never wait, they overflow instead). sqlx reports nothing for an
//!   acquire that gave up: `jembatan_db_pool_timeouts_total` counts those that reached an
//!   answer (a 503) from the acquire timeout.
//!   `jembatan_db_pool_acquire_seconds`: the wait of this scrape's own acquire (a probe: a
//!   scrape that cannot get a connection shows here and in its error).

use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock, Mutex, Weak};

use actix_web_prom::{PrometheusMetrics, PrometheusMetricsBuilder};
use chrono::{DateTime, Utc};
use entity::{audit_event, mail_outbox, request, webhook_delivery};
use prometheus::{
    Encoder, Gauge, GaugeVec, Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    TextEncoder,
};
use sea_orm::sea_query::{Expr, Func};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect};

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::workflow::Status;

/// Every acquire of a pooled database connection in this process that got one, in
/// seconds. Process-wide because its source is: sqlx reports each acquire's time as a
/// tracing event, and the tracing subscriber that carries it to `telemetry::PoolWaits` is
/// the process's.
pub static POOL_WAITS: LazyLock<Histogram> = LazyLock::new(|| {
    let opts = HistogramOpts::new(
        "jembatan_db_pool_wait_seconds",
        "How long each acquire of a pooled database connection took, when it got one (every pool of this replica)",
    )
    // From an idle connection handed over at once (microseconds) to a long acquire timeout
    // (the default is 3 s).
    .buckets(vec![0.000_1, 0.000_5, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 2.5, 5.0, 10.0]);
    Histogram::with_opts(opts).expect("static histogram options are valid")
});

/// Acquires that gave up after the acquire timeout, counted where the error is mapped to
/// an answer (`error.rs`: a 503): what the wait histogram cannot show.
pub static POOL_TIMEOUTS: LazyLock<IntCounter> = LazyLock::new(|| {
    IntCounter::new(
        "jembatan_db_pool_timeouts_total",
        "Requests for a pooled database connection that gave up after the acquire timeout",
    )
    .expect("static counter options are valid")
});

/// The metric families of one running service; cheap to clone (shared inside).
#[derive(Clone)]
pub struct Metrics {
    /// The middleware to wrap the app in; its registry holds every family below too.
    pub http: PrometheusMetrics,
    requests: IntGaugeVec,
    overdue: IntGauge,
    overdue_by_step: IntGaugeVec,
    transitions: IntCounterVec,
    sla_reports: IntCounterVec,
    outbox_depth: IntGaugeVec,
    outbox_age: GaugeVec,
    unsequenced: IntGauge,
    sequencer_lag: Gauge,
    pool: IntGaugeVec,
    pool_acquire: Gauge,
    lane_reads: IntCounterVec,
    pools: Pools,
}

/// Every pool of this replica, read at each scrape. Held weakly: a worker that actix
/// restarts after a panic opens a new pool, and the dead worker's goes away with it.
#[derive(Clone, Default)]
struct Pools(Arc<Mutex<Vec<Registered>>>);

type Registered = (PoolRole, Weak<AppState>);

/// What a registered state's pool is for.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum PoolRole {
    /// The replica's own pool: start-up and the jobs on PostgreSQL, everything on SQLite.
    Replica,
    /// An HTTP worker's pool and its read lane (PostgreSQL).
    Worker,
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::internal(format!("metrics: {e}"))
}

impl Metrics {
    pub fn new() -> ApiResult<Self> {
        let http = PrometheusMetricsBuilder::new("jembatan")
            .exclude("/metrics")
            .mask_unmatched_patterns("UNMATCHED")
            .build()
            .map_err(internal)?;
        let requests = IntGaugeVec::new(
            Opts::new("jembatan_requests", "Integration requests in the register, by status"),
            &["status"],
        )
        .map_err(internal)?;
        let overdue = IntGauge::new("jembatan_steps_overdue", "Current steps of requests in progress past their limit")
            .map_err(internal)?;
        let overdue_by_step = IntGaugeVec::new(
            Opts::new("jembatan_steps_overdue_by_step", "Current steps past their limit, by step"),
            &["step"],
        )
        .map_err(internal)?;
        let transitions = IntCounterVec::new(
            Opts::new("jembatan_transitions_total", "Transitions this replica answered, by action, step and outcome"),
            &["action", "step", "outcome"],
        )
        .map_err(internal)?;
        let sla_reports = IntCounterVec::new(
            Opts::new(
                "jembatan_sla_reports_total",
                "SLA reports this replica answered, by where the figures came from",
            ),
            &["source"],
        )
        .map_err(internal)?;
        let outbox_depth =
            IntGaugeVec::new(Opts::new("jembatan_outbox_depth", "Messages waiting to be sent, by outbox"), &["outbox"])
                .map_err(internal)?;
        let outbox_age = GaugeVec::new(
            Opts::new("jembatan_outbox_oldest_age_seconds", "How long the oldest waiting message has waited"),
            &["outbox"],
        )
        .map_err(internal)?;
        let unsequenced = IntGauge::new("jembatan_audit_unsequenced", "Audit events not yet in the transparency log")
            .map_err(internal)?;
        let sequencer_lag = Gauge::new(
            "jembatan_audit_sequencer_lag_seconds",
            "Age of the oldest audit event not yet in the log (0 when none)",
        )
        .map_err(internal)?;
        let pool = IntGaugeVec::new(
            Opts::new("jembatan_db_pool_connections", "Database connections of this replica, by pool and state"),
            &["pool", "state"],
        )
        .map_err(internal)?;
        let lane_reads = IntCounterVec::new(
            Opts::new(
                "jembatan_db_read_lane_reads_total",
                "Reads given to the read lanes: served there, or overflowed to the pool (every lane connection was out)",
            ),
            &["outcome"],
        )
        .map_err(internal)?;
        let pool_acquire = Gauge::new(
            "jembatan_db_pool_acquire_seconds",
            "Time this scrape waited for a database connection (a sample)",
        )
        .map_err(internal)?;
        for c in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(overdue.clone()),
            Box::new(overdue_by_step.clone()),
            Box::new(transitions.clone()),
            Box::new(sla_reports.clone()),
            Box::new(outbox_depth.clone()),
            Box::new(outbox_age.clone()),
            Box::new(unsequenced.clone()),
            Box::new(sequencer_lag.clone()),
            Box::new(pool.clone()),
            Box::new(pool_acquire.clone()),
            Box::new(lane_reads.clone()),
            Box::new(POOL_WAITS.clone()),
            Box::new(POOL_TIMEOUTS.clone()),
        ] {
            http.registry.register(c).map_err(internal)?;
        }
        Ok(Self {
            http,
            requests,
            overdue,
            overdue_by_step,
            transitions,
            sla_reports,
            outbox_depth,
            outbox_age,
            unsequenced,
            sequencer_lag,
            pool,
            pool_acquire,
            lane_reads,
            pools: Pools::default(),
        })
    }

    /// Counts `state`'s pool (and, for a worker, its read lane) in this replica's
    /// connections from now on.
    pub fn count_pool_of(&self, role: PoolRole, state: &Arc<AppState>) {
        self.pools.0.lock().unwrap_or_else(|p| p.into_inner()).push((role, Arc::downgrade(state)));
    }

    /// The counters a worker's read lane counts its reads in.
    pub fn lane_counters(&self) -> crate::db::lane::ReadCounters {
        crate::db::lane::ReadCounters {
            served: self.lane_reads.with_label_values(&["served"]),
            overflowed: self.lane_reads.with_label_values(&["overflowed"]),
        }
    }

    /// Counts one transition answer.
    pub fn transition(&self, action: &str, step: &str, status: u16) {
        let outcome = match status {
            200..=299 => "done",
            403 | 404 | 409 | 412 | 422 => "refused",
            _ => "error",
        };
        self.transitions.with_label_values(&[action, step, outcome]).inc();
    }

    /// Counts one SLA report by where its figures came from.
    pub fn sla_report(&self, source: &str) {
        self.sla_reports.with_label_values(&[source]).inc();
    }

    /// Reads the register's gauges from the database, then renders every family.
    pub async fn render(&self, state: &AppState) -> ApiResult<String> {
        use request::Column as R;
        let counts: Vec<(String, i64)> = request::Entity::find()
            .select_only()
            .column(R::Status)
            .column_as(Expr::expr(Func::count(Expr::col((request::Entity, R::Id)))), "n")
            .group_by(R::Status)
            .into_tuple()
            .all(&state.db)
            .await?;
        for status in Status::ALL {
            let n = counts.iter().find(|(s, _)| s == status.as_str()).map_or(0, |(_, n)| *n);
            self.requests.with_label_values(&[status.as_str()]).set(n);
        }
        let overdue = request::Entity::find()
            .filter(R::Status.eq(Status::InProgress.as_str()))
            .filter(R::CurrentLimitAt.lt(state.now()))
            .count(&state.db)
            .await?;
        self.overdue.set(i64::try_from(overdue).unwrap_or(i64::MAX));
        let now = state.now();
        let by_step: Vec<(String, i64)> = request::Entity::find()
            .select_only()
            .column(R::CurrentStep)
            .column_as(Expr::expr(Func::count(Expr::col((request::Entity, R::Id)))), "n")
            .filter(R::Status.eq(Status::InProgress.as_str()))
            .filter(R::CurrentLimitAt.lt(now))
            .group_by(R::CurrentStep)
            .into_tuple()
            .all(&state.db)
            .await?;
        self.overdue_by_step.reset();
        for (step, n) in by_step {
            self.overdue_by_step.with_label_values(&[step.as_str()]).set(n);
        }
        self.outboxes(state, now).await?;
        self.audit(state, now).await?;
        self.pool(state).await;

        let mut out = Vec::new();
        TextEncoder::new().encode(&self.http.registry.gather(), &mut out).map_err(internal)?;
        String::from_utf8(out).map_err(internal)
    }
}

impl Metrics {
    async fn outboxes(&self, state: &AppState, now: DateTime<Utc>) -> ApiResult<()> {
        let mail: (i64, Option<DateTime<Utc>>) = mail_outbox::Entity::find()
            .select_only()
            .column_as(Expr::expr(Func::count(Expr::col(mail_outbox::Column::Id))), "n")
            .column_as(Expr::expr(Func::min(Expr::col(mail_outbox::Column::CreatedAt))), "oldest")
            .filter(mail_outbox::Column::SentAt.is_null())
            .filter(mail_outbox::Column::FailedAt.is_null())
            .into_tuple()
            .one(&state.db)
            .await?
            .unwrap_or((0, None));
        let webhook: (i64, Option<DateTime<Utc>>) = webhook_delivery::Entity::find()
            .select_only()
            .column_as(Expr::expr(Func::count(Expr::col(webhook_delivery::Column::Id))), "n")
            .column_as(Expr::expr(Func::min(Expr::col(webhook_delivery::Column::CreatedAt))), "oldest")
            .filter(webhook_delivery::Column::DeliveredAt.is_null())
            .filter(webhook_delivery::Column::FailedAt.is_null())
            .into_tuple()
            .one(&state.db)
            .await?
            .unwrap_or((0, None));
        for (name, (n, oldest)) in [("mail", mail), ("webhook", webhook)] {
            self.outbox_depth.with_label_values(&[name]).set(n);
            self.outbox_age.with_label_values(&[name]).set(age(now, oldest));
        }
        Ok(())
    }

    async fn audit(&self, state: &AppState, now: DateTime<Utc>) -> ApiResult<()> {
        let (n, oldest): (i64, Option<DateTime<Utc>>) = audit_event::Entity::find()
            .select_only()
            .column_as(Expr::expr(Func::count(Expr::col(audit_event::Column::Id))), "n")
            .column_as(Expr::expr(Func::min(Expr::col(audit_event::Column::OccurredAt))), "oldest")
            .filter(audit_event::Column::LeafIndex.is_null())
            .into_tuple()
            .one(&state.db)
            .await?
            .unwrap_or((0, None));
        self.unsequenced.set(n);
        self.sequencer_lag.set(age(now, oldest));
        Ok(())
    }

    async fn pool(&self, state: &AppState) {
        let started = std::time::Instant::now();
        match state.db.get_database_backend() {
            sea_orm::DatabaseBackend::Postgres => drop(state.db.get_postgres_connection_pool().acquire().await),
            _ => drop(state.db.get_sqlite_connection_pool().acquire().await),
        }
        self.pool_acquire.set(started.elapsed().as_secs_f64());
        let live: Vec<(PoolRole, Arc<AppState>)> = {
            let mut pools = self.pools.0.lock().unwrap_or_else(|p| p.into_inner());
            pools.retain(|(_, s)| s.strong_count() > 0);
            pools.iter().filter_map(|(role, s)| Some((*role, s.upgrade()?))).collect()
        };
        let mut by_pool: BTreeMap<&str, crate::db::Connections> = BTreeMap::new();
        let mut add = |name, c: crate::db::Connections| {
            let sum = by_pool.entry(name).or_default();
            sum.idle += c.idle;
            sum.in_use += c.in_use;
        };
        for (role, s) in &live {
            let name = match (role, s.settings.is_sqlite()) {
                (_, true) => "shared",
                (PoolRole::Replica, false) => "background",
                (PoolRole::Worker, false) => "requests",
            };
            add(name, crate::db::pool_connections(&s.db));
            if let Some(lane) = &s.lane {
                add("read_lane", lane.connections());
            }
        }
        // No reset first: two scrapes at once would each see the other's empty moment. The
        // pools' names do not change while the replica runs.
        for (name, c) in by_pool {
            self.pool.with_label_values(&[name, "idle"]).set(i64::try_from(c.idle).unwrap_or(i64::MAX));
            self.pool.with_label_values(&[name, "in_use"]).set(i64::try_from(c.in_use).unwrap_or(i64::MAX));
        }
    }
}

/// Seconds since `oldest` (0 when nothing waits).
fn age(now: DateTime<Utc>, oldest: Option<DateTime<Utc>>) -> f64 {
    oldest.map_or(0.0, |o| ((now - o).num_milliseconds().max(0) as f64) / 1000.0)
}
