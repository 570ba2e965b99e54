//! The office calendar as data: weekly hours, closed dates and special schedules in the
//! database, and the [`WorkingCalendar`] built from them that the service computes with.
//!
//! Every change runs in one write transaction that
//! 1. bumps the calendar's version in its settings row first (on PostgreSQL that locks the
//!    row, so concurrent changes are checked one after the other; SQLite write
//!    transactions are serialized anyway),
//! 2. reads the stored calendar, applies the change and builds a `WorkingCalendar` from
//!    the result — a change that would leave it invalid (no working time, overlapping
//!    special schedules, a year without a working day, …) is refused with 422 naming the
//!    field, before anything is written,
//! 3. writes the change and its audit event (object type `calendar`, object id
//!    [`CALENDAR_ID`]),
//! 4. commits, then installs the new calendar through [`on_calendar_changed`].
//!
//! The national holidays of `calendar::seeded_closed_dates()` are inserted once, at the
//! first start ([`seed_if_new`]); the settings row remembers it, so a seeded date an admin
//! deletes stays deleted.

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, Utc, Weekday};
use entity::{calendar_setting, closed_date, special_schedule};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::audit::{self, Actor};
use crate::calendar::{self as cal, CalendarError, TimeStandard, WorkingCalendar};
use crate::error::{ApiError, ApiResult, FieldErrors};
use crate::shared::Page;
use crate::shared::page::{decode_cursor_bytes, encode_cursor_bytes};
use crate::shared::text::check_passage;
use crate::state::AppState;

/// The calendar's id in the audit trail: every calendar change is an event about this
/// object, so `GET /audit/events?object_id=ca1e0da4-0000-4000-8000-000000000001` is the
/// calendar's history.
pub const CALENDAR_ID: Uuid = Uuid::from_u128(0xca1e_0da4_0000_4000_8000_0000_0000_0001);

/// The office's time zone (WIB, UTC+7, no daylight saving).
pub const TIME_ZONE: &str = "Asia/Jakarta";

/// Closed dates and special schedules must lie in these years: four-digit years keep the
/// dates stored as text on SQLite in date order.
pub const FIRST_YEAR: i32 = 1970;
pub const LAST_YEAR: i32 = 9999;

const SETTINGS_ID: i32 = 1;
const NAME_MAX: usize = 200;
const SOURCE_MAX: usize = 1000;

// ---------------------------------------------------------------------------------------
// API types
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClosedDateKind {
    /// Libur nasional.
    PublicHoliday,
    /// Cuti bersama, from the yearly joint ministerial decree (SKB).
    CollectiveLeave,
    /// A closure of the regency's offices only.
    RegionalClosure,
}

impl ClosedDateKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PublicHoliday => "public_holiday",
            Self::CollectiveLeave => "collective_leave",
            Self::RegionalClosure => "regional_closure",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "public_holiday" => Some(Self::PublicHoliday),
            "collective_leave" => Some(Self::CollectiveLeave),
            "regional_closure" => Some(Self::RegionalClosure),
            _ => None,
        }
    }
}

impl From<cal::ClosedDateKind> for ClosedDateKind {
    fn from(k: cal::ClosedDateKind) -> Self {
        match k {
            cal::ClosedDateKind::PublicHoliday => Self::PublicHoliday,
            cal::ClosedDateKind::CollectiveLeave => Self::CollectiveLeave,
            cal::ClosedDateKind::RegionalClosure => Self::RegionalClosure,
        }
    }
}

impl From<ClosedDateKind> for cal::ClosedDateKind {
    fn from(k: ClosedDateKind) -> Self {
        match k {
            ClosedDateKind::PublicHoliday => Self::PublicHoliday,
            ClosedDateKind::CollectiveLeave => Self::CollectiveLeave,
            ClosedDateKind::RegionalClosure => Self::RegionalClosure,
        }
    }
}

/// A working interval on the WIB wall clock, `[start, end)`. Times are `HH:MM` or
/// `HH:MM:SS` (whole seconds) and are answered as `HH:MM:SS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkingInterval {
    #[schema(value_type = String, pattern = "^([01]\\d|2[0-3]):[0-5]\\d(:[0-5]\\d)?$", example = "07:30:00")]
    pub start: NaiveTime,
    #[schema(value_type = String, pattern = "^([01]\\d|2[0-3]):[0-5]\\d(:[0-5]\\d)?$", example = "12:00:00")]
    pub end: NaiveTime,
}

/// Working intervals for each day of the week; `[]` is a closed day. All seven days must
/// be given. Touching intervals (12:00–12:15 then 12:15–15:30) are one stretch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "monday": [{"start": "07:30:00", "end": "12:00:00"}, {"start": "12:15:00", "end": "15:30:00"}],
    "tuesday": [{"start": "07:30:00", "end": "12:00:00"}, {"start": "12:15:00", "end": "15:30:00"}],
    "wednesday": [{"start": "07:30:00", "end": "12:00:00"}, {"start": "12:15:00", "end": "15:30:00"}],
    "thursday": [{"start": "07:30:00", "end": "12:00:00"}, {"start": "12:15:00", "end": "15:30:00"}],
    "friday": [{"start": "07:30:00", "end": "11:30:00"}, {"start": "12:30:00", "end": "15:00:00"}],
    "saturday": [],
    "sunday": []
}))]
pub struct WeeklyHours {
    pub monday: Vec<WorkingInterval>,
    pub tuesday: Vec<WorkingInterval>,
    pub wednesday: Vec<WorkingInterval>,
    pub thursday: Vec<WorkingInterval>,
    pub friday: Vec<WorkingInterval>,
    pub saturday: Vec<WorkingInterval>,
    pub sunday: Vec<WorkingInterval>,
}

fn intervals_out(v: &[cal::Interval]) -> Vec<WorkingInterval> {
    v.iter().map(|i| WorkingInterval { start: i.start, end: i.end }).collect()
}

fn intervals_in(v: &[WorkingInterval]) -> Vec<cal::Interval> {
    v.iter().map(|i| cal::Interval { start: i.start, end: i.end }).collect()
}

impl From<&cal::WeeklySchedule> for WeeklyHours {
    fn from(w: &cal::WeeklySchedule) -> Self {
        Self {
            monday: intervals_out(&w.monday),
            tuesday: intervals_out(&w.tuesday),
            wednesday: intervals_out(&w.wednesday),
            thursday: intervals_out(&w.thursday),
            friday: intervals_out(&w.friday),
            saturday: intervals_out(&w.saturday),
            sunday: intervals_out(&w.sunday),
        }
    }
}

impl From<&WeeklyHours> for cal::WeeklySchedule {
    fn from(w: &WeeklyHours) -> Self {
        Self {
            monday: intervals_in(&w.monday),
            tuesday: intervals_in(&w.tuesday),
            wednesday: intervals_in(&w.wednesday),
            thursday: intervals_in(&w.thursday),
            friday: intervals_in(&w.friday),
            saturday: intervals_in(&w.saturday),
            sunday: intervals_in(&w.sunday),
        }
    }
}

/// The calendar in force: weekly hours, special schedules and time zone. Closed dates are
/// listed at `/calendar/closed-dates`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Calendar {
    /// The calendar's id: each change to it is an audit event about this object.
    #[schema(example = "ca1e0da4-0000-4000-8000-000000000001")]
    pub id: Uuid,
    /// Working hours are on this wall clock (WIB); instants in the API are UTC.
    #[schema(example = "Asia/Jakarta")]
    pub time_zone: String,
    #[schema(example = "+07:00")]
    pub utc_offset: String,
    pub weekly_schedule: WeeklyHours,
    /// Working minutes in a week of the weekly schedule (2250 for the regency default).
    #[schema(example = 2250)]
    pub weekly_working_minutes: i64,
    /// Date ranges whose hours replace the weekly hours, by start date.
    pub special_schedules: Vec<SpecialSchedule>,
    /// Bumped by every change to the calendar (closed dates included); also the `ETag`.
    #[schema(example = 3)]
    pub version: i32,
    /// When the calendar last changed (null if never).
    pub updated_at: Option<DateTime<Utc>>,
}

/// A date on which the office is closed all day.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"date": "2026-03-20", "name": "Cuti Bersama Idulfitri 1447 Hijriah", "kind": "collective_leave", "source": "SKB Menteri Agama, Menteri Ketenagakerjaan dan Menteri PANRB No. 1497 Tahun 2025, No. 2 Tahun 2025, No. 5 Tahun 2025", "created_at": "2026-01-05T02:00:00Z", "updated_at": "2026-01-05T02:00:00Z"}))]
pub struct ClosedDate {
    pub date: NaiveDate,
    pub name: String,
    pub kind: ClosedDateKind,
    /// The decree the date comes from.
    pub source: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A new closed date. At most one per date.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"date": "2026-08-10", "name": "Hari Jadi Kabupaten Trenggalek", "kind": "regional_closure", "source": "Surat Edaran Bupati Trenggalek No. 000.8/123/406.020/2026"}))]
pub struct NewClosedDate {
    /// A date in the years 1970–9999.
    pub date: NaiveDate,
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    pub kind: ClosedDateKind,
    /// The decree or letter the date comes from.
    #[schema(min_length = 1, max_length = 1000)]
    pub source: String,
}

/// A correction of a closed date's name, kind or source (to move it, delete it and add
/// the new date).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Idulfitri 1447 Hijriah", "kind": "public_holiday", "source": "SKB No. 1497 Tahun 2025, No. 2 Tahun 2025, No. 5 Tahun 2025, as amended"}))]
pub struct ClosedDateUpdate {
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    pub kind: ClosedDateKind,
    #[schema(min_length = 1, max_length = 1000)]
    pub source: String,
}

/// Hours that replace the weekly hours from `from` to `to` (both included), e.g. shorter
/// Ramadan hours. A closed date still closes the office on a date in the range.
#[derive(Debug, Serialize, ToSchema)]
pub struct SpecialSchedule {
    pub id: Uuid,
    #[schema(example = "2026-02-18")]
    pub from: NaiveDate,
    #[schema(example = "2026-03-19")]
    pub to: NaiveDate,
    #[schema(example = "Jam kerja bulan Ramadan 1447 H")]
    pub name: String,
    pub hours: WeeklyHours,
    pub source: String,
    pub created_at: DateTime<Utc>,
}

/// A new special schedule. Special schedules may not share a date.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "from": "2026-02-18", "to": "2026-03-19", "name": "Jam kerja bulan Ramadan 1447 H",
    "source": "Surat Edaran Menteri PANRB tentang jam kerja ASN pada bulan Ramadan 1447 H",
    "hours": {
        "monday": [{"start": "08:00", "end": "15:00"}], "tuesday": [{"start": "08:00", "end": "15:00"}],
        "wednesday": [{"start": "08:00", "end": "15:00"}], "thursday": [{"start": "08:00", "end": "15:00"}],
        "friday": [{"start": "08:00", "end": "15:30"}], "saturday": [], "sunday": []
    }
}))]
pub struct NewSpecialSchedule {
    /// First date, in the years 1970–9999.
    pub from: NaiveDate,
    /// Last date (included), not before `from`.
    pub to: NaiveDate,
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    pub hours: WeeklyHours,
    /// The circular letter or decree that sets these hours.
    #[schema(min_length = 1, max_length = 1000)]
    pub source: String,
}

/// The new weekly hours. They apply to every date not covered by a special schedule or
/// closed, past dates included (finished steps keep what they were measured with).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WeeklyScheduleUpdate {
    pub hours: WeeklyHours,
    /// The calendar version you saw (or send `If-Match`); a stale one is refused with 409.
    #[serde(default, deserialize_with = "crate::shared::integral::integral_i32")]
    #[schema(example = 3, minimum = 1, maximum = 2147483647)]
    pub version: Option<i32>,
}

/// Due times of a step starting at `from` under `standard`, on the calendar in force.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"from": "2026-03-05T08:20:00Z", "standard": "1d", "clock_started_at": "2026-03-05T08:20:00Z", "warning_at": "2026-03-06T06:40:00Z", "target_at": "2026-03-06T08:00:00Z", "limit_at": "2026-03-06T08:00:00Z"}))]
pub struct DuePreview {
    pub from: DateTime<Utc>,
    /// The standard as understood, in its canonical spelling.
    pub standard: String,
    /// The first working instant at or after `from`.
    pub clock_started_at: DateTime<Utc>,
    /// From here the step is in `warning` (the target for a ranged standard; 80 % of the
    /// working time to the limit for a single one).
    pub warning_at: DateTime<Utc>,
    pub target_at: DateTime<Utc>,
    /// After this the step is `overdue`.
    pub limit_at: DateTime<Utc>,
}

/// Working time in `[from, to)`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"from": "2026-03-02T04:55:00Z", "to": "2026-03-02T05:25:00Z", "working_seconds": 900, "working_minutes": 15}))]
pub struct ElapsedWorkingTime {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub working_seconds: i64,
    /// Whole working minutes, rounded down.
    pub working_minutes: i64,
}

// ---------------------------------------------------------------------------------------
// Reading the stored calendar
// ---------------------------------------------------------------------------------------

/// The calendar as stored, in the calendar module's types.
struct Stored {
    settings: calendar_setting::Model,
    weekly: cal::WeeklySchedule,
    closed: Vec<cal::ClosedDate>,
    specials: Vec<(Uuid, cal::SpecialSchedule)>,
}

impl Stored {
    /// Settings first: data read after it is at least as new as its version.
    async fn read<C: ConnectionTrait>(db: &C) -> ApiResult<Self> {
        let settings = settings(db).await?;
        let weekly = match &settings.weekly_schedule {
            None => cal::WeeklySchedule::regency_default(),
            Some(json) => serde_json::from_value(json.clone())
                .map_err(|e| ApiError::internal(format!("stored weekly schedule is unreadable: {e}")))?,
        };
        let closed = closed_date::Entity::find()
            .order_by_asc(closed_date::Column::Date)
            .all(db)
            .await?
            .into_iter()
            .map(closed_from_row)
            .collect::<ApiResult<Vec<_>>>()?;
        let specials = special_schedule::Entity::find()
            .order_by_asc(special_schedule::Column::FromDate)
            .all(db)
            .await?
            .into_iter()
            .map(|r| Ok((r.id, special_from_row(r)?)))
            .collect::<ApiResult<Vec<_>>>()?;
        Ok(Self { settings, weekly, closed, specials })
    }

    fn build(&self) -> Result<WorkingCalendar, CalendarError> {
        WorkingCalendar::new(
            self.weekly.clone(),
            self.closed.clone(),
            self.specials.iter().map(|(_, s)| s.clone()).collect(),
        )
    }
}

async fn settings<C: ConnectionTrait>(db: &C) -> ApiResult<calendar_setting::Model> {
    calendar_setting::Entity::find_by_id(SETTINGS_ID)
        .one(db)
        .await?
        .ok_or_else(|| ApiError::internal("the calendar settings row is missing"))
}

fn closed_from_row(r: closed_date::Model) -> ApiResult<cal::ClosedDate> {
    let kind = ClosedDateKind::parse(&r.kind)
        .ok_or_else(|| ApiError::internal(format!("closed date {}: unknown kind `{}`", r.date, r.kind)))?;
    Ok(cal::ClosedDate { date: r.date, name: r.name, kind: kind.into(), source: r.source })
}

fn special_from_row(r: special_schedule::Model) -> ApiResult<cal::SpecialSchedule> {
    let hours = serde_json::from_value(r.hours)
        .map_err(|e| ApiError::internal(format!("special schedule {}: unreadable hours: {e}", r.id)))?;
    Ok(cal::SpecialSchedule { from: r.from_date, to: r.to_date, name: r.name, hours, source: r.source })
}

fn closed_view(r: closed_date::Model) -> ClosedDate {
    ClosedDate {
        date: r.date,
        name: r.name,
        kind: ClosedDateKind::parse(&r.kind).unwrap_or(ClosedDateKind::RegionalClosure),
        source: r.source,
        created_at: r.created_at,
        updated_at: r.updated_at,
    }
}

fn special_view(r: special_schedule::Model) -> ApiResult<SpecialSchedule> {
    let id = r.id;
    let created_at = r.created_at;
    let s = special_from_row(r)?;
    Ok(SpecialSchedule {
        id,
        from: s.from,
        to: s.to,
        name: s.name,
        hours: WeeklyHours::from(&s.hours),
        source: s.source,
        created_at,
    })
}

/// Builds the calendar from the tables (weekly hours default to the regency's while
/// unset). Stored data that no longer builds is an internal error: every write checks it.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn load<C: ConnectionTrait>(db: &C) -> ApiResult<WorkingCalendar> {
    let stored = Stored::read(db).await?;
    stored.build().map_err(|e| ApiError::internal(format!("the stored calendar is invalid: {e}")))
}

// ---------------------------------------------------------------------------------------
// Start-up, seeding and installing the calendar
// ---------------------------------------------------------------------------------------

/// At service start: seed on the first start, then install the stored calendar.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn startup(state: &AppState) -> ApiResult<()> {
    seed_if_new(&state.db, state.now()).await?;
    state.set_calendar(load(&state.db).await?);
    Ok(())
}

/// On the first start only: writes the regency's default weekly hours and inserts the
/// seeded closed dates (national holidays and collective leave of 2025–2027), with one
/// audit event. The settings row's `closed_dates_seeded_at` is claimed in the same
/// transaction, so this happens once even with several replicas starting together, and a
/// seeded date an admin later deletes is not inserted again. A date already present is
/// left as it is. Returns how many dates were inserted.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn seed_if_new(db: &DatabaseConnection, now: DateTime<Utc>) -> ApiResult<u64> {
    use calendar_setting::Column as S;
    let txn = crate::db::begin_write(db).await?;
    let claimed = calendar_setting::Entity::update_many()
        .col_expr(S::ClosedDatesSeededAt, Expr::val(now))
        .filter(S::Id.eq(SETTINGS_ID))
        .filter(S::ClosedDatesSeededAt.is_null())
        .exec(&txn)
        .await?
        .rows_affected
        == 1;
    if !claimed {
        return Ok(0);
    }
    let weekly = serde_json::to_value(cal::WeeklySchedule::regency_default()).map_err(ApiError::internal)?;
    let weekly_set = calendar_setting::Entity::update_many()
        .col_expr(S::WeeklySchedule, Expr::val(weekly))
        .filter(S::Id.eq(SETTINGS_ID))
        .filter(S::WeeklySchedule.is_null())
        .exec(&txn)
        .await?
        .rows_affected
        == 1;
    let seeded = cal::seeded_closed_dates();
    let rows = seeded.iter().map(|c| closed_date::ActiveModel {
        date: Set(c.date),
        name: Set(c.name.clone()),
        kind: Set(ClosedDateKind::from(c.kind).as_str().to_owned()),
        source: Set(c.source.clone()),
        created_at: Set(now),
        updated_at: Set(now),
    });
    let inserted =
        match closed_date::Entity::insert_many(rows).on_conflict_do_nothing().exec_without_returning(&txn).await? {
            sea_orm::TryInsertResult::Inserted(n) => n,
            sea_orm::TryInsertResult::Empty | sea_orm::TryInsertResult::Conflicted => 0,
        };
    audit::append(
        &txn,
        now,
        Actor::SYSTEM,
        "calendar.seeded",
        "calendar",
        CALENDAR_ID,
        serde_json::json!({
            "closed_dates_inserted": inserted,
            "closed_dates_first": seeded.first().map(|c| c.date),
            "closed_dates_last": seeded.last().map(|c| c.date),
            "weekly_schedule": if weekly_set { "regency default" } else { "kept" },
        }),
    )
    .await?;
    txn.commit().await?;
    tracing::info!(inserted, "seeded the office calendar's closed dates");
    Ok(inserted)
}

/// Runs after every committed calendar change: installs the new calendar.
///
/// Then recomputes every open step's due times from its start under the new calendar,
/// moved by the working time it waited on the applicant (`service::due_times`).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn on_calendar_changed(state: &AppState, calendar: WorkingCalendar, version: i32) -> ApiResult<()> {
    state.set_calendar(calendar);
    ensure_newest(state, version).await;
    // Open steps are measured against the calendar in force: recompute them now.
    // Finished steps keep what they were measured with.
    if let Err(e) = crate::service::due_times::recompute_open_due_times(state).await {
        tracing::warn!(error = %e, "cannot recompute due times after a calendar change");
    }
    Ok(())
}

/// A change committed after ours may have been installed before ours: if the stored
/// version is no longer the one just installed, install the stored calendar. A failure
/// here is logged, not returned: the change itself is committed.
async fn ensure_newest(state: &AppState, mut installed: i32) {
    for _ in 0..5 {
        let stored = match settings(&state.db).await {
            Ok(s) => s.version,
            Err(e) => {
                tracing::warn!(error = %e, "cannot check the calendar version after a change");
                return;
            }
        };
        if stored == installed {
            return;
        }
        match Stored::read(&state.db).await.and_then(|s| {
            let v = s.settings.version;
            s.build().map(|c| (c, v)).map_err(|e| ApiError::internal(format!("the stored calendar is invalid: {e}")))
        }) {
            Ok((calendar, v)) => {
                state.set_calendar(calendar);
                installed = v;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot reload the calendar after a change");
                return;
            }
        }
    }
}

/// For a periodic job when several replicas run: installs a calendar another replica
/// changed. Returns whether the calendar in force changed.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn refresh(state: &AppState) -> ApiResult<bool> {
    let fresh = load(&state.db).await?;
    let current = state.calendar();
    let same = fresh.weekly() == current.weekly()
        && fresh.closed_dates() == current.closed_dates()
        && fresh.special_schedules() == current.special_schedules();
    if !same {
        state.set_calendar(fresh);
    }
    Ok(!same)
}

// ---------------------------------------------------------------------------------------
// Changes
// ---------------------------------------------------------------------------------------

/// Opens a calendar change: a write transaction in which the settings row is already
/// updated (version bumped, and locked on PostgreSQL). `expected` is the version the
/// caller saw, if any. Returns the transaction and the new version.
async fn begin_change(
    state: &AppState,
    now: DateTime<Utc>,
    expected: Option<i32>,
) -> ApiResult<(DatabaseTransaction, i32)> {
    use calendar_setting::Column as S;
    let txn = crate::db::begin_write(&state.db).await?;
    let res = calendar_setting::Entity::update_many()
        .col_expr(S::Version, Expr::col(S::Version).add(1))
        .col_expr(S::UpdatedAt, Expr::val(now))
        .filter(S::Id.eq(SETTINGS_ID))
        .exec(&txn)
        .await?;
    if res.rows_affected != 1 {
        return Err(ApiError::internal("the calendar settings row is missing"));
    }
    let version = settings(&txn).await?.version;
    super::check_version(version - 1, expected)?;
    Ok((txn, version))
}

/// Commits a change and installs the calendar it produced.
async fn commit_change(
    state: &AppState,
    txn: DatabaseTransaction,
    calendar: WorkingCalendar,
    version: i32,
) -> ApiResult<()> {
    txn.commit().await?;
    on_calendar_changed(state, calendar, version).await
}

/// Which change was refused, to name the field in the 422.
#[derive(Clone, Copy)]
enum Change {
    ClosedDate,
    SpecialSchedule,
    WeeklySchedule,
}

fn day_field(w: Weekday) -> &'static str {
    match w {
        Weekday::Mon => "monday",
        Weekday::Tue => "tuesday",
        Weekday::Wed => "wednesday",
        Weekday::Thu => "thursday",
        Weekday::Fri => "friday",
        Weekday::Sat => "saturday",
        Weekday::Sun => "sunday",
    }
}

fn refused(e: CalendarError, change: Change) -> ApiError {
    let field = match (&e, change) {
        (CalendarError::BadInterval { weekday, .. } | CalendarError::OverlappingIntervals { weekday, .. }, _) => {
            format!("hours.{}", day_field(*weekday))
        }
        (CalendarError::NoWorkingTime, _) => "hours".to_owned(),
        (CalendarError::ReversedRange { .. }, _) => "to".to_owned(),
        (CalendarError::OverlappingSpecialSchedules { .. }, _) => "from".to_owned(),
        (CalendarError::ClosedTooLong { .. }, Change::ClosedDate) => "date".to_owned(),
        (CalendarError::ClosedTooLong { .. }, Change::SpecialSchedule | Change::WeeklySchedule) => "hours".to_owned(),
    };
    ApiError::invalid(&field, e.to_string())
}

fn check_date(errors: &mut FieldErrors, field: &str, d: NaiveDate) {
    if !(FIRST_YEAR..=LAST_YEAR).contains(&d.year()) {
        errors.entry(field.to_owned()).or_default().push(crate::msg!(
            "calendar-years",
            first = FIRST_YEAR,
            last = LAST_YEAR
        ));
    }
}

fn fail_on(errors: FieldErrors) -> ApiResult<()> {
    if errors.is_empty() { Ok(()) } else { Err(ApiError::invalid_fields(errors)) }
}

async fn find_closed<C: ConnectionTrait>(db: &C, date: NaiveDate) -> ApiResult<closed_date::Model> {
    closed_date::Entity::find_by_id(date).one(db).await?.ok_or_else(|| ApiError::not_found("closed date"))
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn add_closed_date(state: &AppState, actor: Actor, input: NewClosedDate) -> ApiResult<ClosedDate> {
    let mut errors = FieldErrors::new();
    check_date(&mut errors, "date", input.date);
    check_passage(&mut errors, "name", &input.name, NAME_MAX);
    check_passage(&mut errors, "source", &input.source, SOURCE_MAX);
    fail_on(errors)?;
    let now = state.now();
    let (txn, version) = begin_change(state, now, None).await?;
    if let Some(existing) = closed_date::Entity::find_by_id(input.date).one(&txn).await? {
        return Err(ApiError::Conflict(crate::msg!(
            "calendar-already-closed",
            date = input.date.to_string(),
            name = existing.name
        )));
    }
    let entry = cal::ClosedDate {
        date: input.date,
        name: input.name.trim().to_owned(),
        kind: input.kind.into(),
        source: input.source.trim().to_owned(),
    };
    let mut stored = Stored::read(&txn).await?;
    stored.closed.push(entry.clone());
    let calendar = stored.build().map_err(|e| refused(e, Change::ClosedDate))?;
    let row = closed_date::ActiveModel {
        date: Set(entry.date),
        name: Set(entry.name),
        kind: Set(input.kind.as_str().to_owned()),
        source: Set(entry.source),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    audit::append(
        &txn,
        now,
        actor,
        "calendar.closed_date_added",
        "calendar",
        CALENDAR_ID,
        serde_json::json!({"date": row.date, "name": row.name, "kind": row.kind, "source": row.source, "version": version}),
    )
    .await?;
    commit_change(state, txn, calendar, version).await?;
    Ok(closed_view(row))
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn update_closed_date(
    state: &AppState,
    actor: Actor,
    date: NaiveDate,
    input: ClosedDateUpdate,
) -> ApiResult<ClosedDate> {
    let mut errors = FieldErrors::new();
    check_passage(&mut errors, "name", &input.name, NAME_MAX);
    check_passage(&mut errors, "source", &input.source, SOURCE_MAX);
    fail_on(errors)?;
    let now = state.now();
    let (txn, version) = begin_change(state, now, None).await?;
    let current = find_closed(&txn, date).await?;
    let before = serde_json::json!({"name": current.name, "kind": current.kind, "source": current.source});
    let mut am: closed_date::ActiveModel = current.into();
    am.name = Set(input.name.trim().to_owned());
    am.kind = Set(input.kind.as_str().to_owned());
    am.source = Set(input.source.trim().to_owned());
    am.updated_at = Set(now);
    let row = am.update(&txn).await?;
    let calendar = Stored::read(&txn).await?.build().map_err(|e| refused(e, Change::ClosedDate))?;
    audit::append(
        &txn,
        now,
        actor,
        "calendar.closed_date_updated",
        "calendar",
        CALENDAR_ID,
        serde_json::json!({
            "date": date,
            "before": before,
            "after": {"name": row.name, "kind": row.kind, "source": row.source},
            "version": version,
        }),
    )
    .await?;
    commit_change(state, txn, calendar, version).await?;
    Ok(closed_view(row))
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn delete_closed_date(state: &AppState, actor: Actor, date: NaiveDate) -> ApiResult<()> {
    let now = state.now();
    let (txn, version) = begin_change(state, now, None).await?;
    let current = find_closed(&txn, date).await?;
    let mut stored = Stored::read(&txn).await?;
    stored.closed.retain(|c| c.date != date);
    let calendar = stored.build().map_err(|e| refused(e, Change::ClosedDate))?;
    closed_date::Entity::delete_by_id(date).exec(&txn).await?;
    audit::append(
        &txn,
        now,
        actor,
        "calendar.closed_date_deleted",
        "calendar",
        CALENDAR_ID,
        serde_json::json!({
            "date": date, "name": current.name, "kind": current.kind, "source": current.source, "version": version,
        }),
    )
    .await?;
    commit_change(state, txn, calendar, version).await
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn add_special_schedule(
    state: &AppState,
    actor: Actor,
    input: NewSpecialSchedule,
) -> ApiResult<SpecialSchedule> {
    let mut errors = FieldErrors::new();
    check_date(&mut errors, "from", input.from);
    check_date(&mut errors, "to", input.to);
    if input.to < input.from {
        errors.entry("to".into()).or_default().push(crate::msg!("to-not-before-from"));
    }
    check_passage(&mut errors, "name", &input.name, NAME_MAX);
    check_passage(&mut errors, "source", &input.source, SOURCE_MAX);
    fail_on(errors)?;
    let now = state.now();
    let (txn, version) = begin_change(state, now, None).await?;
    let entry = cal::SpecialSchedule {
        from: input.from,
        to: input.to,
        name: input.name.trim().to_owned(),
        hours: cal::WeeklySchedule::from(&input.hours),
        source: input.source.trim().to_owned(),
    };
    let id = Uuid::now_v7();
    let mut stored = Stored::read(&txn).await?;
    stored.specials.push((id, entry.clone()));
    let calendar = stored.build().map_err(|e| refused(e, Change::SpecialSchedule))?;
    let hours = serde_json::to_value(&entry.hours).map_err(ApiError::internal)?;
    let row = special_schedule::ActiveModel {
        id: Set(id),
        from_date: Set(entry.from),
        to_date: Set(entry.to),
        name: Set(entry.name),
        hours: Set(hours),
        source: Set(entry.source),
        created_at: Set(now),
    }
    .insert(&txn)
    .await?;
    audit::append(
        &txn,
        now,
        actor,
        "calendar.special_schedule_added",
        "calendar",
        CALENDAR_ID,
        serde_json::json!({
            "id": row.id, "from": row.from_date, "to": row.to_date, "name": row.name, "hours": row.hours,
            "source": row.source, "version": version,
        }),
    )
    .await?;
    commit_change(state, txn, calendar, version).await?;
    special_view(row)
}

#[tracing::instrument(level = "debug", skip_all, fields(id = %id))]
pub async fn delete_special_schedule(state: &AppState, actor: Actor, id: Uuid) -> ApiResult<()> {
    let now = state.now();
    let (txn, version) = begin_change(state, now, None).await?;
    let current = special_schedule::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| ApiError::not_found("special schedule"))?;
    let mut stored = Stored::read(&txn).await?;
    stored.specials.retain(|(sid, _)| *sid != id);
    let calendar = stored.build().map_err(|e| refused(e, Change::SpecialSchedule))?;
    special_schedule::Entity::delete_by_id(id).exec(&txn).await?;
    audit::append(
        &txn,
        now,
        actor,
        "calendar.special_schedule_deleted",
        "calendar",
        CALENDAR_ID,
        serde_json::json!({
            "id": id, "from": current.from_date, "to": current.to_date, "name": current.name,
            "hours": current.hours, "source": current.source, "version": version,
        }),
    )
    .await?;
    commit_change(state, txn, calendar, version).await
}

/// Replaces the weekly hours. `if_match` (or the body's `version`) is the calendar
/// version the caller saw; a stale one is 409.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn replace_weekly_schedule(
    state: &AppState,
    actor: Actor,
    input: WeeklyScheduleUpdate,
    if_match: Option<i32>,
) -> ApiResult<Calendar> {
    let now = state.now();
    let (txn, version) = begin_change(state, now, if_match.or(input.version)).await?;
    let mut stored = Stored::read(&txn).await?;
    let before = WeeklyHours::from(&stored.weekly);
    stored.weekly = cal::WeeklySchedule::from(&input.hours);
    let calendar = stored.build().map_err(|e| refused(e, Change::WeeklySchedule))?;
    let json = serde_json::to_value(&stored.weekly).map_err(ApiError::internal)?;
    calendar_setting::Entity::update_many()
        .col_expr(calendar_setting::Column::WeeklySchedule, Expr::val(json))
        .filter(calendar_setting::Column::Id.eq(SETTINGS_ID))
        .exec(&txn)
        .await?;
    audit::append(
        &txn,
        now,
        actor,
        "calendar.weekly_schedule_replaced",
        "calendar",
        CALENDAR_ID,
        serde_json::json!({"before": before, "after": input.hours, "version": version}),
    )
    .await?;
    let view = calendar_view(&txn).await?;
    commit_change(state, txn, calendar, version).await?;
    Ok(view)
}

// ---------------------------------------------------------------------------------------
// Reads
// ---------------------------------------------------------------------------------------

fn weekly_minutes(w: &cal::WeeklySchedule) -> i64 {
    [&w.monday, &w.tuesday, &w.wednesday, &w.thursday, &w.friday, &w.saturday, &w.sunday]
        .into_iter()
        .flatten()
        .map(|i| (i.end - i.start).num_seconds())
        .sum::<i64>()
        / 60
}

async fn calendar_view<C: ConnectionTrait>(db: &C) -> ApiResult<Calendar> {
    let stored = Stored::read(db).await?;
    let rows = special_schedule::Entity::find().order_by_asc(special_schedule::Column::FromDate).all(db).await?;
    Ok(Calendar {
        id: CALENDAR_ID,
        time_zone: TIME_ZONE.to_owned(),
        utc_offset: "+07:00".to_owned(),
        weekly_schedule: WeeklyHours::from(&stored.weekly),
        weekly_working_minutes: weekly_minutes(&stored.weekly),
        special_schedules: rows.into_iter().map(special_view).collect::<ApiResult<Vec<_>>>()?,
        version: stored.settings.version,
        updated_at: stored.settings.updated_at,
    })
}

/// The stored calendar (the one in force).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn get_calendar(state: &AppState) -> ApiResult<Calendar> {
    // One read transaction, so the version matches the data.
    let txn = state.db.begin().await?;
    let view = calendar_view(&txn).await?;
    txn.commit().await?;
    Ok(view)
}

/// The calendar's lists are keyed by a date (a closed date, a special schedule's first
/// day). Their cursor is the last date's day number (days from 0001-01-01, the first
/// being 1) as 16 big-endian bytes: the shape `PageQuery` documents for every cursor, so
/// any cursor a client can build from the spec decodes. Day numbers outside
/// 0001-01-01..9999-12-31 clamp to those dates (before everything, after everything).
pub fn encode_date_cursor(d: NaiveDate) -> String {
    encode_cursor_bytes(i128::from(d.num_days_from_ce()).to_be_bytes())
}

pub fn decode_date_cursor(cursor: &str) -> ApiResult<NaiveDate> {
    let first = NaiveDate::from_ymd_opt(1, 1, 1).unwrap_or(NaiveDate::MIN);
    let last = NaiveDate::from_ymd_opt(9999, 12, 31).unwrap_or(NaiveDate::MAX);
    let n = i128::from_be_bytes(decode_cursor_bytes(cursor)?);
    let n = n.clamp(i128::from(first.num_days_from_ce()), i128::from(last.num_days_from_ce()));
    Ok(i32::try_from(n).ok().and_then(NaiveDate::from_num_days_from_ce_opt).unwrap_or(first))
}

fn page_by_date<R, T>(rows: Vec<R>, limit: u64, date: impl Fn(&R) -> NaiveDate, map: impl Fn(R) -> T) -> Page<T> {
    Page::from_rows_by(rows, limit, |r| encode_date_cursor(date(r)), map)
}

/// Closed dates in `[from, to]` (either bound optional), by date, after `after`.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn list_closed_dates(
    state: &AppState,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    limit: u64,
    after: Option<NaiveDate>,
) -> ApiResult<Page<ClosedDate>> {
    use closed_date::Column as C;
    let mut q = closed_date::Entity::find().order_by_asc(C::Date).limit(limit + 1);
    if let Some(f) = from {
        q = q.filter(C::Date.gte(f));
    }
    if let Some(t) = to {
        q = q.filter(C::Date.lte(t));
    }
    if let Some(a) = after {
        q = q.filter(C::Date.gt(a));
    }
    let rows = q.all(&state.db).await?;
    Ok(page_by_date(rows, limit, |r| r.date, closed_view))
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn get_closed_date(state: &AppState, date: NaiveDate) -> ApiResult<ClosedDate> {
    find_closed(&state.db, date).await.map(closed_view)
}

/// Special schedules by start date, after `after`.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn list_special_schedules(
    state: &AppState,
    limit: u64,
    after: Option<NaiveDate>,
) -> ApiResult<Page<SpecialSchedule>> {
    use special_schedule::Column as C;
    let mut q = special_schedule::Entity::find().order_by_asc(C::FromDate).limit(limit + 1);
    if let Some(a) = after {
        q = q.filter(C::FromDate.gt(a));
    }
    let rows = q.all(&state.db).await?;
    let page = page_by_date(rows, limit, |r| r.from_date, |r| r);
    let items = page.items.into_iter().map(special_view).collect::<ApiResult<Vec<_>>>()?;
    Ok(Page { items, next_cursor: page.next_cursor })
}

#[tracing::instrument(level = "debug", skip_all, fields(id = %id))]
pub async fn get_special_schedule(state: &AppState, id: Uuid) -> ApiResult<SpecialSchedule> {
    let row = special_schedule::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or_else(|| ApiError::not_found("special schedule"))?;
    special_view(row)
}

/// Due times of a step starting at `from`, on the calendar in force. A result beyond the
/// representable dates (an absurd standard) is 422 on `standard`.
pub fn due(state: &AppState, from: DateTime<Utc>, standard: TimeStandard) -> ApiResult<DuePreview> {
    let due = state.calendar().due(from, &standard).map_err(|e| ApiError::invalid("standard", e.to_string()))?;
    Ok(DuePreview {
        from,
        standard: standard.to_string(),
        clock_started_at: due.clock_started_at,
        warning_at: due.warning_at,
        target_at: due.target_at,
        limit_at: due.limit_at,
    })
}

/// Working time in `[from, to)` on the calendar in force; `to` before `from` is 422.
pub fn elapsed(state: &AppState, from: DateTime<Utc>, to: DateTime<Utc>) -> ApiResult<ElapsedWorkingTime> {
    if to < from {
        return Err(ApiError::invalid("to", crate::msg!("to-not-before-from")));
    }
    let seconds = state.calendar().elapsed_seconds(from, to);
    Ok(ElapsedWorkingTime { from, to, working_seconds: seconds, working_minutes: seconds / 60 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weekly_hours_round_trip_and_count_minutes() {
        let w = cal::WeeklySchedule::regency_default();
        let api = WeeklyHours::from(&w);
        assert_eq!(cal::WeeklySchedule::from(&api), w);
        assert_eq!(weekly_minutes(&w), 2250);
        let json = serde_json::to_value(&api).unwrap();
        assert_eq!(json["friday"][1]["start"], "12:30:00");
    }

    #[test]
    fn weekly_hours_need_every_day_and_know_no_other_field() {
        let missing = r#"{"monday":[],"tuesday":[],"wednesday":[],"thursday":[],"friday":[],"saturday":[]}"#;
        assert!(serde_json::from_str::<WeeklyHours>(missing).is_err());
        let typo = r#"{"monday":[],"tuesday":[],"wednesday":[],"thursday":[],"friday":[],"saturday":[],
            "sunday":[],"mondy":[]}"#;
        assert!(serde_json::from_str::<WeeklyHours>(typo).is_err());
        let short = r#"{"monday":[{"start":"08:00","end":"12:00"}],"tuesday":[],"wednesday":[],"thursday":[],
            "friday":[],"saturday":[],"sunday":[]}"#;
        let w: WeeklyHours = serde_json::from_str(short).unwrap();
        assert_eq!(w.monday[0].start, NaiveTime::from_hms_opt(8, 0, 0).unwrap());
    }

    #[test]
    fn kinds_match_the_calendar_module() {
        for k in [ClosedDateKind::PublicHoliday, ClosedDateKind::CollectiveLeave, ClosedDateKind::RegionalClosure] {
            assert_eq!(ClosedDateKind::parse(k.as_str()), Some(k));
            let c: cal::ClosedDateKind = k.into();
            assert_eq!(ClosedDateKind::from(c), k);
            assert_eq!(serde_json::to_value(k).unwrap(), serde_json::to_value(c).unwrap());
        }
    }

    #[test]
    fn refusals_name_the_field() {
        let fields = |e: ApiError| match e {
            ApiError::Unprocessable { errors, .. } => errors.into_keys().collect::<Vec<_>>(),
            other => panic!("{other:?}"),
        };
        let e = CalendarError::OverlappingIntervals { schedule: "x".into(), weekday: Weekday::Fri };
        assert_eq!(fields(refused(e, Change::WeeklySchedule)), ["hours.friday"]);
        assert_eq!(fields(refused(CalendarError::NoWorkingTime, Change::WeeklySchedule)), ["hours"]);
        let e = CalendarError::OverlappingSpecialSchedules { first: "a".into(), second: "b".into() };
        assert_eq!(fields(refused(e, Change::SpecialSchedule)), ["from"]);
        let e = CalendarError::ClosedTooLong { from: NaiveDate::MIN, days: 400 };
        assert_eq!(fields(refused(e, Change::ClosedDate)), ["date"]);
    }

    #[test]
    fn date_cursors_have_the_documented_shape_and_any_such_cursor_decodes() {
        for d in ["2026-03-20", "0001-01-01", "9999-12-31"] {
            let d: NaiveDate = d.parse().unwrap();
            let c = encode_date_cursor(d);
            assert_eq!(c.len(), 22);
            assert_eq!(decode_date_cursor(&c).unwrap(), d);
        }
        // Out of range: before the first date, after the last one.
        let first = NaiveDate::from_ymd_opt(1, 1, 1).unwrap();
        assert_eq!(decode_date_cursor("AAAAAAAAAAAAAAAAAAAAAA").unwrap(), first);
        assert_eq!(decode_date_cursor("_____________________w").unwrap(), first);
        assert_eq!(
            decode_date_cursor("f____________________w").unwrap(),
            NaiveDate::from_ymd_opt(9999, 12, 31).unwrap()
        );
        assert!(decode_date_cursor("nope").is_err());
        assert!(decode_date_cursor("ZGF0ZToyMDI2LTAzLTIw").is_err(), "the old text cursor (date:2026-03-20)");
    }
}
