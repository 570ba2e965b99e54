//! `/reports`: SLA compliance and the register's summary, for oversight (admin, auditor,
//! heads). The rules behind every figure are in `service::reports` and `docs/sla.md`.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, web};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::auth::policy::{Authorized, Oversight};
use crate::error::ApiResult;
use crate::service::reports::{self as svc, ReportFilter, SlaReport, Summary};
use crate::state::AppState;
use crate::workflow::Flow;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(sla).service(summary);
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// Start of the period, inclusive: a date (`2026-11-01`, from 00:00 WIB) or an
    /// RFC 3339 instant.
    #[param(schema_with = from_schema)]
    pub from: Option<String>,
    /// End of the period: a date (inclusive, up to 24:00 WIB) or an RFC 3339 instant
    /// (exclusive). Must be after `from` (else 422).
    #[param(schema_with = to_schema)]
    pub to: Option<String>,
    pub flow: Option<Flow>,
    /// Only requests of this organization.
    pub organization_id: Option<Uuid>,
}

/// The schema of `from` and `to`: a date (`YYYY-MM-DD`) or an RFC 3339 date-time. (With
/// `schema_with` utoipa drops the field's doc comment, so the description is given here.)
fn date_or_instant(description: &str, example: &str) -> utoipa::openapi::Schema {
    use utoipa::openapi::schema::{AnyOfBuilder, KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type};
    let string =
        |format| ObjectBuilder::new().schema_type(Type::String).format(Some(SchemaFormat::KnownFormat(format)));
    Schema::AnyOf(
        AnyOfBuilder::new()
            .item(string(KnownFormat::Date))
            .item(string(KnownFormat::DateTime))
            .description(Some(description))
            .examples([example])
            .build(),
    )
}

fn from_schema() -> utoipa::openapi::Schema {
    date_or_instant("Start of the period, inclusive: a date (from 00:00 WIB) or an RFC 3339 instant.", "2026-11-01")
}

fn to_schema() -> utoipa::openapi::Schema {
    date_or_instant(
        "End of the period: a date (inclusive, up to 24:00 WIB) or an RFC 3339 instant (exclusive). \
         Must be after `from` (else 422).",
        "2026-11-30",
    )
}

impl ReportQuery {
    fn filter(&self) -> ApiResult<ReportFilter> {
        ReportFilter::parse(self.from.as_deref(), self.to.as_deref(), self.flow, self.organization_id)
    }
}

/// Whether the `Accept` header prefers CSV to JSON: the media range with the highest
/// q-value wins, the first listed on a tie; without a header, JSON.
pub(crate) fn wants_csv(req: &HttpRequest) -> bool {
    let Some(accept) = req.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok()) else { return false };
    let mut best: Option<(f32, bool)> = None;
    for item in accept.split(',') {
        let mut parts = item.split(';');
        let range = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q=").and_then(|v| v.trim().parse::<f32>().ok()))
            .next()
            .unwrap_or(1.0);
        let csv = match range.as_str() {
            "text/csv" | "text/*" => true,
            "application/json" | "application/*" | "*/*" => false,
            _ => continue,
        };
        if q > 0.0 && best.is_none_or(|(bq, _)| q > bq) {
            best = Some((q, csv));
        }
    }
    best.is_some_and(|(_, csv)| csv)
}

/// Admins, auditors and the office's heads. Per flow and per step (SOP order): steps
/// completed in the period with the median and p90 of their working duration (seconds;
/// also working days of 7.75 h for day-based standards), how many finished within the
/// target and within the limit, and how many are open and overdue now. `Accept:
/// text/csv` gives the same rows as CSV with a header row.
#[utoipa::path(
    tag = "reports",
    summary = "SLA compliance per flow and step",
    params(ReportQuery, ("Accept" = Option<String>, Header, description = "`text/csv` for CSV")),
    responses((status = 200, description = "The report", content(
        (SlaReport = "application/json"),
        (String = "text/csv", example = "flow,step_code,step_order,label,actor,time_standard,completed,median_working_seconds,p90_working_seconds,median_working_days,p90_working_days,within_target,within_target_share,within_limit,within_limit_share,open_now,overdue_now\r\n")
    ))),
    security(("bearer" = []))
)]
#[get("/reports/sla")]
async fn sla(
    state: web::Data<AppState>,
    _who: Authorized<Oversight>,
    req: HttpRequest,
    q: web::Query<ReportQuery>,
) -> ApiResult<HttpResponse> {
    let report = crate::i18n::Localize::localized(svc::sla(&state, &q.filter()?).await?, crate::i18n::of_request(&req));
    if let Some(m) = req.app_data::<web::Data<crate::metrics::Metrics>>() {
        m.sla_report(report.computed_from.as_str());
    }
    if wants_csv(&req) {
        return Ok(HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, "text/csv; charset=utf-8"))
            .insert_header((header::CONTENT_DISPOSITION, "attachment; filename=\"sla-report.csv\""))
            .insert_header((header::VARY, "Accept"))
            .body(svc::sla_csv(&report)));
    }
    Ok(HttpResponse::Ok().insert_header((header::VARY, "Accept")).json(report))
}

/// Admins, auditors and the office's heads. Requests by status and by requesting
/// organization as they stand now; end-to-end working time (submission to completion,
/// less the time waiting on the applicant) of the requests completed in the period.
#[utoipa::path(
    tag = "reports",
    summary = "Requests by status and organization, and end-to-end working days",
    params(ReportQuery),
    responses((status = 200, body = Summary)),
    security(("bearer" = []))
)]
#[get("/reports/summary")]
async fn summary(
    state: web::Data<AppState>,
    _who: Authorized<Oversight>,
    q: web::Query<ReportQuery>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(svc::summary(&state, &q.filter()?).await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_accept(v: &str) -> bool {
        wants_csv(&actix_web::test::TestRequest::default().insert_header((header::ACCEPT, v)).to_http_request())
    }

    #[test]
    fn csv_only_when_preferred() {
        assert!(!wants_csv(&actix_web::test::TestRequest::default().to_http_request()));
        assert!(with_accept("text/csv"));
        assert!(with_accept("text/csv, application/json"));
        assert!(!with_accept("application/json, text/csv"));
        assert!(with_accept("application/json;q=0.5, text/csv"));
        assert!(!with_accept("*/*"));
        assert!(!with_accept("text/csv;q=0"));
        assert!(!with_accept("text/html"));
    }
}
