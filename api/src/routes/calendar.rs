//! `/calendar`: the office calendar (weekly hours, closed dates, special schedules) and
//! the working-time arithmetic front-ends preview due times with and auditors check them
//! against. Reading is for any signed-in caller; changing is for admins.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, delete, get, post, put, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::extract::{ApiJson, IfMatch, PageQuery};
use crate::auth::policy::{AdminOnly, Authorized, SignedIn};
use crate::calendar::TimeStandard;
use crate::calendar::standard::{self, StandardParseError};
use crate::error::{ApiError, ApiResult, Problem};
use crate::service::audit::Actor;
use crate::service::calendar::{
    self as svc, Calendar, ClosedDate, ClosedDateUpdate, DuePreview, ElapsedWorkingTime, NewClosedDate,
    NewSpecialSchedule, SpecialSchedule, WeeklyScheduleUpdate,
};
use crate::shared::Page;
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(get_calendar)
        .service(replace_weekly_schedule)
        .service(list_closed_dates)
        .service(create_closed_date)
        .service(get_closed_date)
        .service(update_closed_date)
        .service(delete_closed_date)
        .service(list_special_schedules)
        .service(create_special_schedule)
        .service(get_special_schedule)
        .service(delete_special_schedule)
        .service(due)
        .service(elapsed);
}

/// A 400 naming the query parameter.
fn bad_param(field: &str, message: impl Into<crate::i18n::Msg>) -> ApiError {
    ApiError::bad_field(field, message)
}

/// The parameter as sent (not trimmed: the documented shapes have no spaces).
fn required<'a>(field: &str, value: &'a Option<String>) -> ApiResult<&'a str> {
    match value.as_deref() {
        Some(v) if !v.trim().is_empty() => Ok(v),
        _ => Err(bad_param(field, crate::msg!("required"))),
    }
}

/// An RFC 3339 instant (any offset; answered in UTC).
fn instant(field: &str, value: &Option<String>) -> ApiResult<DateTime<Utc>> {
    let v = required(field, value)?;
    DateTime::parse_from_rfc3339(v).map(|t| t.with_timezone(&Utc)).map_err(|_| {
        bad_param(field, format!("`{v}` is not an RFC 3339 instant such as 2026-03-02T04:55:00Z (encode `+` as %2B)"))
    })
}

fn after(page: &PageQuery) -> ApiResult<Option<NaiveDate>> {
    page.cursor.as_deref().map(svc::decode_date_cursor).transpose()
}

/// Any signed-in caller.
#[utoipa::path(
    tag = "calendar",
    summary = "Get the office calendar: weekly hours, special schedules, time zone",
    responses((status = 200, body = Calendar, headers(("ETag" = String, description = "The calendar version")))),
    security(("bearer" = []))
)]
#[get("/calendar")]
async fn get_calendar(state: web::Data<AppState>, _who: Authorized<SignedIn>) -> ApiResult<HttpResponse> {
    let cal = svc::get_calendar(&state).await?;
    Ok(super::ok_versioned(cal.version, &cal))
}

/// Admin only. The new hours apply at once to every date not closed and not in a special
/// schedule; due times are computed with them from now on. Send the calendar version you
/// saw (`If-Match` or `version`) to be sure nobody changed it meanwhile.
#[utoipa::path(
    tag = "calendar",
    summary = "Replace the weekly working hours",
    params(IfMatch),
    request_body = WeeklyScheduleUpdate,
    responses(
        (status = 200, body = Calendar, headers(("ETag" = String))),
        (status = 409, description = "The calendar changed since the version you sent", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "If-Match names a version the calendar is no longer at", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No working time in the week, or an interval that does not end after it starts or overlaps another (`errors` names e.g. `hours.friday`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[put("/calendar/weekly-schedule")]
async fn replace_weekly_schedule(
    state: web::Data<AppState>,
    who: Authorized<AdminOnly>,
    req: HttpRequest,
    body: ApiJson<WeeklyScheduleUpdate>,
) -> ApiResult<HttpResponse> {
    let cal = svc::replace_weekly_schedule(&state, Actor::from(&*who), body.0, IfMatch::parse(&req)?).await?;
    Ok(super::ok_versioned(cal.version, &cal))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ClosedDateFilter {
    /// Only dates in this year (combines with `from` and `to`).
    #[param(minimum = 1, maximum = 9999, example = 2026)]
    pub year: Option<i32>,
    /// Only dates on or after this one (`YYYY-MM-DD`).
    #[param(example = "2026-03-01")]
    pub from: Option<NaiveDate>,
    /// Only dates on or before this one (`YYYY-MM-DD`).
    #[param(example = "2026-03-31")]
    pub to: Option<NaiveDate>,
}

impl ClosedDateFilter {
    /// The date range asked for: `year`, `from` and `to` all apply.
    fn range(&self) -> ApiResult<(Option<NaiveDate>, Option<NaiveDate>)> {
        let (mut from, mut to) = (self.from, self.to);
        if let Some(y) = self.year {
            let first = NaiveDate::from_ymd_opt(y, 1, 1).filter(|_| (1..=9999).contains(&y));
            let last = NaiveDate::from_ymd_opt(y, 12, 31);
            let (Some(first), Some(last)) = (first, last) else {
                return Err(ApiError::invalid("year", crate::msg!("calendar-year-range")));
            };
            from = Some(from.map_or(first, |f| f.max(first)));
            to = Some(to.map_or(last, |t| t.min(last)));
        }
        if let (Some(f), Some(t)) = (self.from, self.to)
            && t < f
        {
            return Err(ApiError::invalid("to", crate::msg!("to-not-before-from")));
        }
        Ok((from, to))
    }
}

/// Any signed-in caller. National holidays, collective leave and regional closures, by
/// date, in pages (use `limit=100` for a whole year).
#[utoipa::path(
    tag = "calendar",
    summary = "List closed dates",
    params(PageQuery, ClosedDateFilter),
    responses((status = 200, body = Page<ClosedDate>)),
    security(("bearer" = []))
)]
#[get("/calendar/closed-dates")]
async fn list_closed_dates(
    state: web::Data<AppState>,
    _who: Authorized<SignedIn>,
    page: web::Query<PageQuery>,
    filter: web::Query<ClosedDateFilter>,
) -> ApiResult<HttpResponse> {
    let (from, to) = filter.range()?;
    let res = svc::list_closed_dates(&state, from, to, page.limit()?, after(&page)?).await?;
    Ok(HttpResponse::Ok().json(res))
}

/// Admin only. Due times are computed with the new date from now on.
#[utoipa::path(
    tag = "calendar",
    summary = "Add a closed date",
    request_body = NewClosedDate,
    responses(
        (status = 201, body = ClosedDate, headers(("Location" = String))),
        (status = 409, description = "The date is already closed", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field did not validate (date outside 1970–9999, empty name or source), or the calendar would be closed for more than 366 days in a row", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/calendar/closed-dates")]
async fn create_closed_date(
    state: web::Data<AppState>,
    who: Authorized<AdminOnly>,
    body: ApiJson<NewClosedDate>,
) -> ApiResult<HttpResponse> {
    let c = svc::add_closed_date(&state, Actor::from(&*who), body.0).await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/calendar/closed-dates/{}", c.date)))
        .json(c))
}

/// Any signed-in caller.
#[utoipa::path(
    tag = "calendar",
    summary = "Get a closed date",
    params(("date" = NaiveDate, Path, description = "`YYYY-MM-DD`", example = "2026-03-20")),
    responses(
        (status = 200, body = ClosedDate),
        (status = 404, description = "The date is not closed", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/calendar/closed-dates/{date}")]
async fn get_closed_date(
    state: web::Data<AppState>,
    _who: Authorized<SignedIn>,
    date: web::Path<NaiveDate>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(svc::get_closed_date(&state, *date).await?))
}

/// Admin only. Corrects the name, kind or source; to move a date, delete it and add the
/// new one.
#[utoipa::path(
    tag = "calendar",
    summary = "Correct a closed date's name, kind or source",
    params(("date" = NaiveDate, Path, description = "`YYYY-MM-DD`", example = "2026-03-20")),
    request_body = ClosedDateUpdate,
    responses(
        (status = 200, body = ClosedDate),
        (status = 404, description = "The date is not closed", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[put("/calendar/closed-dates/{date}")]
async fn update_closed_date(
    state: web::Data<AppState>,
    who: Authorized<AdminOnly>,
    date: web::Path<NaiveDate>,
    body: ApiJson<ClosedDateUpdate>,
) -> ApiResult<HttpResponse> {
    let c = svc::update_closed_date(&state, Actor::from(&*who), *date, body.0).await?;
    Ok(HttpResponse::Ok().json(c))
}

/// Admin only. The date becomes a working day again (if its weekday has hours); a seeded
/// date deleted here is not seeded again.
#[utoipa::path(
    tag = "calendar",
    summary = "Delete a closed date",
    params(("date" = NaiveDate, Path, description = "`YYYY-MM-DD`", example = "2026-03-20")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "The date is not closed", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[delete("/calendar/closed-dates/{date}")]
async fn delete_closed_date(
    state: web::Data<AppState>,
    who: Authorized<AdminOnly>,
    date: web::Path<NaiveDate>,
) -> ApiResult<HttpResponse> {
    svc::delete_closed_date(&state, Actor::from(&*who), *date).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Any signed-in caller. By start date, in pages.
#[utoipa::path(
    tag = "calendar",
    summary = "List special schedules",
    params(PageQuery),
    responses((status = 200, body = Page<SpecialSchedule>)),
    security(("bearer" = []))
)]
#[get("/calendar/special-schedules")]
async fn list_special_schedules(
    state: web::Data<AppState>,
    _who: Authorized<SignedIn>,
    page: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let res = svc::list_special_schedules(&state, page.limit()?, after(&page)?).await?;
    Ok(HttpResponse::Ok().json(res))
}

/// Admin only. The hours replace the weekly hours on every date of the range.
#[utoipa::path(
    tag = "calendar",
    summary = "Add a special schedule for a date range",
    request_body = NewSpecialSchedule,
    responses(
        (status = 201, body = SpecialSchedule, headers(("Location" = String))),
        (status = 422, description = "A field did not validate: `to` before `from`, a range overlapping another special schedule (`from`), a bad interval (`hours.<day>`), or more than 366 days in a row without working time", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/calendar/special-schedules")]
async fn create_special_schedule(
    state: web::Data<AppState>,
    who: Authorized<AdminOnly>,
    body: ApiJson<NewSpecialSchedule>,
) -> ApiResult<HttpResponse> {
    let s = svc::add_special_schedule(&state, Actor::from(&*who), body.0).await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/calendar/special-schedules/{}", s.id)))
        .json(s))
}

/// Any signed-in caller.
#[utoipa::path(
    tag = "calendar",
    summary = "Get a special schedule",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = SpecialSchedule),
        (status = 404, description = "No such special schedule", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/calendar/special-schedules/{id}")]
async fn get_special_schedule(
    state: web::Data<AppState>,
    _who: Authorized<SignedIn>,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(svc::get_special_schedule(&state, *id).await?))
}

/// Admin only. Its dates follow the weekly hours again.
#[utoipa::path(
    tag = "calendar",
    summary = "Delete a special schedule",
    params(("id" = Uuid, Path)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such special schedule", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[delete("/calendar/special-schedules/{id}")]
async fn delete_special_schedule(
    state: web::Data<AppState>,
    who: Authorized<AdminOnly>,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    svc::delete_special_schedule(&state, Actor::from(&*who), *id).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DueQuery {
    /// When the step starts: an RFC 3339 instant (encode `+` as `%2B`).
    #[param(required = true, value_type = String, format = DateTime, example = "2026-03-05T08:20:00Z")]
    pub from: Option<String>,
    /// The SOP time standard: `15m`, `1h`, `1d`, `1w`, a range such as `1-2d` (target 1 day,
    /// limit 2 days); also other counts of `m`, `h`, `d`, `w`. A range whose target is not
    /// below its limit, or mixes minutes/hours with days/weeks, is 422.
    #[param(required = true, value_type = String, example = "1-2d", pattern = r"^([1-9][0-9]*(m|min|h|d|w)?-)?[1-9][0-9]*(m|min|h|d|w)$")]
    pub standard: Option<String>,
}

/// Any signed-in caller. Minutes and hours count working minutes; days and weeks count
/// working days (same clock time on the N-th next working day, or that day's closing
/// time); a start outside working time starts the clock at the next opening. See
/// `docs/time-standards.md`.
#[utoipa::path(
    tag = "calendar",
    summary = "Compute the due times of a step under a time standard",
    params(DueQuery),
    responses(
        (status = 200, body = DuePreview),
        (status = 400, description = "`from` or `standard` missing or unreadable (`errors` names it)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`standard` has the documented shape but is no standard (a range whose target is not below its limit, or that mixes minutes/hours with days/weeks), or the due time lies beyond the dates the calendar can express (an absurd standard)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/calendar/due")]
async fn due(
    state: web::Data<AppState>,
    _who: Authorized<SignedIn>,
    query: web::Query<DueQuery>,
) -> ApiResult<HttpResponse> {
    let from = instant("from", &query.from)?;
    let text = required("standard", &query.standard)?;
    if !standard::has_documented_shape(text) {
        return Err(bad_param("standard", StandardParseError(text.to_owned()).to_string()));
    }
    // Of the documented shape, but not a usable standard (e.g. `2-1d`): 422.
    let standard: TimeStandard = text.parse().map_err(|_| ApiError::invalid("standard", standard::unusable(text)))?;
    let preview = svc::due(&state, from, standard)?;
    // RFC 3339 (the answer's `date-time`) has four-digit years: a due time after 9999 is
    // as far beyond what the calendar can express as one past chrono's range.
    let last = NaiveDate::from_ymd_opt(9999, 12, 31).and_then(|d| d.and_hms_opt(23, 59, 59)).map(|t| t.and_utc());
    if last.is_some_and(|last| preview.limit_at.max(preview.target_at) > last) {
        return Err(ApiError::invalid("standard", crate::msg!("calendar-due-beyond")));
    }
    Ok(HttpResponse::Ok().json(preview))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ElapsedQuery {
    /// Start: an RFC 3339 instant (encode `+` as `%2B`).
    #[param(required = true, value_type = String, format = DateTime, example = "2026-03-02T04:55:00Z")]
    pub from: Option<String>,
    /// End (excluded), not before `from`.
    #[param(required = true, value_type = String, format = DateTime, example = "2026-03-02T05:25:00Z")]
    pub to: Option<String>,
}

/// Any signed-in caller. Working time in `[from, to)` on the calendar in force.
#[utoipa::path(
    tag = "calendar",
    summary = "Measure the working time between two instants",
    params(ElapsedQuery),
    responses(
        (status = 200, body = ElapsedWorkingTime),
        (status = 400, description = "`from` or `to` missing or unreadable (`errors` names it)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`to` is before `from`", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/calendar/elapsed")]
async fn elapsed(
    state: web::Data<AppState>,
    _who: Authorized<SignedIn>,
    query: web::Query<ElapsedQuery>,
) -> ApiResult<HttpResponse> {
    let from = instant("from", &query.from)?;
    let to = instant("to", &query.to)?;
    Ok(HttpResponse::Ok().json(svc::elapsed(&state, from, to)?))
}
