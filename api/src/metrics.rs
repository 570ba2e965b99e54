//! Prometheus metrics, served by `GET /metrics` (`routes::metrics`) in the text format.
//!
//! * HTTP, by actix-web-prom's middleware: `jembatan_http_requests_total` and
//!   `jembatan_http_requests_duration_seconds`, labelled by the route's *pattern*
//!   (`/api/v1/requests/{id}`: one series per route, not per id; unmatched paths are
//!   `UNMATCHED`), method and status.
//! * The register, read from the database at each scrape (two small aggregate queries):
//!   `jembatan_requests{status}` and `jembatan_steps_overdue` (current steps of requests in
//!   progress past their limit, the rule of `GET /requests?overdue=true`).

use actix_web_prom::{PrometheusMetrics, PrometheusMetricsBuilder};
use entity::request;
use prometheus::{Encoder, IntGauge, IntGaugeVec, Opts, TextEncoder};
use sea_orm::sea_query::{Expr, Func};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect};

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::workflow::Status;

/// The metric families of one running service; cheap to clone (shared inside).
#[derive(Clone)]
pub struct Metrics {
    /// The middleware to wrap the app in; its registry holds every family below too.
    pub http: PrometheusMetrics,
    requests: IntGaugeVec,
    overdue: IntGauge,
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
        http.registry.register(Box::new(requests.clone())).map_err(internal)?;
        http.registry.register(Box::new(overdue.clone())).map_err(internal)?;
        Ok(Self { http, requests, overdue })
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

        let mut out = Vec::new();
        TextEncoder::new().encode(&self.http.registry.gather(), &mut out).map_err(internal)?;
        String::from_utf8(out).map_err(internal)
    }
}
