//! [`WorkingCalendar`]: the checked, precomputed form of the calendar data.
//!
//! The arithmetic asks one question over and over: "what are the working hours on day
//! N?". Here that answer is prepared once per weekday (and per special schedule), so a
//! lookup is a couple of binary searches and never allocates.

use chrono::{NaiveDate, NaiveTime, TimeDelta, Timelike, Weekday};

use super::holidays::seeded_closed_dates;
use super::schedule::{ClosedDate, Interval, SpecialSchedule, WeeklySchedule};
use super::wall_clock::{EPOCH, day_number, weekday_index};

/// The longest run of consecutive days without working time a calendar may contain.
/// Idul Fitri with its collective leave closes the office for about ten days; a year
/// without a working day can only be a data-entry mistake, so `new` refuses it — and
/// because of this bound every search for the next working day ends.
pub const MAX_CLOSED_RUN_DAYS: i64 = 366;

const WEEKDAYS: [Weekday; 7] =
    [Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu, Weekday::Fri, Weekday::Sat, Weekday::Sun];

/// Why calendar data was refused. Each message names the schedule and day to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("{schedule}, {weekday}: {start}–{end} must end after it starts (whole seconds)")]
    BadInterval { schedule: String, weekday: Weekday, start: NaiveTime, end: NaiveTime },
    #[error("{schedule}, {weekday}: working intervals overlap")]
    OverlappingIntervals { schedule: String, weekday: Weekday },
    #[error("the weekly schedule has no working time on any day")]
    NoWorkingTime,
    #[error("special schedule `{name}` ends on {to}, before it starts on {from}")]
    ReversedRange { name: String, from: NaiveDate, to: NaiveDate },
    #[error("special schedules `{first}` and `{second}` overlap")]
    OverlappingSpecialSchedules { first: String, second: String },
    #[error("{days} days in a row without working time from {from} (at most {MAX_CLOSED_RUN_DAYS})")]
    ClosedTooLong { from: NaiveDate, days: i64 },
}

/// A working stretch as seconds of the day on the WIB wall clock: `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Span {
    pub(super) start: i64,
    pub(super) end: i64,
}

/// The working hours of one day: sorted, non-touching spans and their total.
#[derive(Debug, Clone, Default)]
pub(super) struct DayHours {
    pub(super) spans: Vec<Span>,
    pub(super) seconds: i64,
}

impl DayHours {
    pub(super) fn is_working(&self) -> bool {
        !self.spans.is_empty()
    }
}

static CLOSED: DayHours = DayHours { spans: Vec::new(), seconds: 0 };

#[derive(Debug, Clone)]
pub(super) struct WeekHours {
    days: [DayHours; 7],
    /// Working seconds in any seven consecutive days that follow this pattern.
    pub(super) seconds: i64,
    /// Working days in any seven consecutive days that follow this pattern.
    pub(super) working_days: i64,
}

#[derive(Debug, Clone)]
struct SpecialRange {
    from: i64,
    to: i64,
    week: WeekHours,
}

/// The office calendar: weekly hours, closed dates and special schedules, checked and
/// ready for due-time arithmetic (see the `arith` and `due` modules for the methods).
#[derive(Debug, Clone)]
pub struct WorkingCalendar {
    weekly: WeeklySchedule,
    closed_dates: Vec<ClosedDate>,
    special_schedules: Vec<SpecialSchedule>,
    pub(super) week: WeekHours,
    closed_days: Vec<i64>,
    specials: Vec<SpecialRange>,
    /// First and last day number on which a closed date or special schedule may change
    /// the weekly pattern. Outside it whole weeks can be counted at once.
    irregular: Option<(i64, i64)>,
}

impl WorkingCalendar {
    /// Checks the data and prepares it. Refused: an interval that does not end after it
    /// starts or has sub-second times, overlapping intervals in a day (touching ones are
    /// merged), a weekly schedule without any working time, a special schedule ending
    /// before it starts, two special schedules sharing a date, and more than
    /// [`MAX_CLOSED_RUN_DAYS`] consecutive days without working time.
    ///
    /// # Errors
    /// The [`CalendarError`] naming the first problem found.
    pub fn new(
        weekly: WeeklySchedule,
        mut closed_dates: Vec<ClosedDate>,
        mut special_schedules: Vec<SpecialSchedule>,
    ) -> Result<Self, CalendarError> {
        let week = week_hours(&weekly, "weekly schedule")?;
        if week.working_days == 0 {
            return Err(CalendarError::NoWorkingTime);
        }

        closed_dates.sort_by_key(|c| c.date);
        let mut closed_days: Vec<i64> = closed_dates.iter().map(|c| day_number(c.date)).collect();
        closed_days.dedup();

        special_schedules.sort_by_key(|s| s.from);
        let mut specials = Vec::with_capacity(special_schedules.len());
        for s in &special_schedules {
            if s.to < s.from {
                return Err(CalendarError::ReversedRange { name: s.name.clone(), from: s.from, to: s.to });
            }
            let label = format!("special schedule `{}`", s.name);
            specials.push(SpecialRange {
                from: day_number(s.from),
                to: day_number(s.to),
                week: week_hours(&s.hours, &label)?,
            });
        }
        for pair in special_schedules.windows(2) {
            if pair[1].from <= pair[0].to {
                return Err(CalendarError::OverlappingSpecialSchedules {
                    first: pair[0].name.clone(),
                    second: pair[1].name.clone(),
                });
            }
        }

        let first = closed_days.first().copied().into_iter().chain(specials.first().map(|s| s.from));
        let last = closed_days.last().copied().into_iter().chain(specials.last().map(|s| s.to));
        let irregular = first.min().zip(last.max());

        let calendar = Self { weekly, closed_dates, special_schedules, week, closed_days, specials, irregular };
        calendar.check_closed_runs()?;
        Ok(calendar)
    }

    /// The regency's default hours with the seeded national holidays and collective
    /// leave of 2025–2027, and no special schedules.
    pub fn regency_default() -> Self {
        Self::new(WeeklySchedule::regency_default(), seeded_closed_dates(), Vec::new())
            .expect("the default schedule and seeded dates are checked by the tests")
    }

    pub fn weekly(&self) -> &WeeklySchedule {
        &self.weekly
    }

    /// Sorted by date.
    pub fn closed_dates(&self) -> &[ClosedDate] {
        &self.closed_dates
    }

    /// Sorted by start date.
    pub fn special_schedules(&self) -> &[SpecialSchedule] {
        &self.special_schedules
    }

    /// The working intervals on `date` after closed dates and special schedules apply
    /// (touching intervals merged).
    pub fn hours_on(&self, date: NaiveDate) -> Vec<Interval> {
        let time = |s: i64| {
            let s = u32::try_from(s).expect("spans lie within one day");
            NaiveTime::from_num_seconds_from_midnight_opt(s, 0).expect("spans lie within one day")
        };
        self.hours(day_number(date)).spans.iter().map(|s| Interval { start: time(s.start), end: time(s.end) }).collect()
    }

    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        self.hours(day_number(date)).is_working()
    }

    /// Working hours on a day number. A closed date wins over a special schedule, which
    /// wins over the weekly hours.
    pub(super) fn hours(&self, day: i64) -> &DayHours {
        if let Some((first, last)) = self.irregular
            && (first..=last).contains(&day)
        {
            if self.closed_days.binary_search(&day).is_ok() {
                return &CLOSED;
            }
            let i = self.specials.partition_point(|s| s.from <= day);
            if let Some(s) = i.checked_sub(1).map(|i| &self.specials[i])
                && day <= s.to
            {
                return &s.week.days[weekday_index(day)];
            }
        }
        &self.week.days[weekday_index(day)]
    }

    /// How many of the next `wanted` whole weeks, starting at `day`, follow the weekly
    /// pattern untouched (so they hold exactly `week.seconds` and `week.working_days`).
    pub(super) fn regular_weeks_from(&self, day: i64, wanted: i64) -> i64 {
        match self.irregular {
            None => wanted,
            Some((_, last)) if day > last => wanted,
            Some((first, _)) if day < first => wanted.min((first - day) / 7),
            Some(_) => 0,
        }
    }

    /// Outside the irregular stretch the weekly pattern has a working day every week, so
    /// only the stretch itself (plus a week either side) needs looking at.
    fn check_closed_runs(&self) -> Result<(), CalendarError> {
        let Some((first, last)) = self.irregular else {
            return Ok(());
        };
        let mut run_start: Option<i64> = None;
        for day in (first - 7)..=(last + 7) {
            if !self.hours(day).is_working() {
                run_start.get_or_insert(day);
                continue;
            }
            if let Some(start) = run_start.take() {
                let days = day - start;
                if days > MAX_CLOSED_RUN_DAYS {
                    return Err(CalendarError::ClosedTooLong { from: date_of(start), days });
                }
            }
        }
        Ok(())
    }
}

fn date_of(day: i64) -> NaiveDate {
    EPOCH.checked_add_signed(TimeDelta::days(day)).unwrap_or(NaiveDate::MAX)
}

fn week_hours(schedule: &WeeklySchedule, label: &str) -> Result<WeekHours, CalendarError> {
    let mut days: [DayHours; 7] = Default::default();
    for (slot, weekday) in days.iter_mut().zip(WEEKDAYS) {
        *slot = day_hours(schedule.hours(weekday), label, weekday)?;
    }
    let seconds = days.iter().map(|d| d.seconds).sum();
    let working_days = days.iter().filter(|d| d.is_working()).count() as i64;
    Ok(WeekHours { days, seconds, working_days })
}

fn day_hours(intervals: &[Interval], label: &str, weekday: Weekday) -> Result<DayHours, CalendarError> {
    let mut spans: Vec<Span> = Vec::with_capacity(intervals.len());
    for iv in intervals {
        if iv.start.nanosecond() != 0 || iv.end.nanosecond() != 0 || iv.start >= iv.end {
            return Err(CalendarError::BadInterval {
                schedule: label.to_owned(),
                weekday,
                start: iv.start,
                end: iv.end,
            });
        }
        spans.push(Span {
            start: i64::from(iv.start.num_seconds_from_midnight()),
            end: i64::from(iv.end.num_seconds_from_midnight()),
        });
    }
    spans.sort_by_key(|s| s.start);
    // Touching intervals (12:00–12:15 then 12:15–15:30) are one stretch: merging them
    // keeps "interval end" meaning a moment the office really closes.
    let mut merged: Vec<Span> = Vec::with_capacity(spans.len());
    for s in spans {
        match merged.last_mut() {
            Some(prev) if prev.end > s.start => {
                return Err(CalendarError::OverlappingIntervals { schedule: label.to_owned(), weekday });
            }
            Some(prev) if prev.end == s.start => prev.end = s.end,
            _ => merged.push(s),
        }
    }
    let seconds = merged.iter().map(|s| s.end - s.start).sum();
    Ok(DayHours { spans: merged, seconds })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::schedule::ClosedDateKind;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn closed(d: NaiveDate) -> ClosedDate {
        ClosedDate { date: d, name: "test".into(), kind: ClosedDateKind::RegionalClosure, source: "test".into() }
    }

    fn special(name: &str, from: NaiveDate, to: NaiveDate, hours: WeeklySchedule) -> SpecialSchedule {
        SpecialSchedule { from, to, name: name.into(), hours, source: "test".into() }
    }

    #[test]
    fn default_week_is_37_and_a_half_hours_over_five_days() {
        let cal = WorkingCalendar::regency_default();
        assert_eq!(cal.week.seconds, 37 * 3600 + 1800);
        assert_eq!(cal.week.working_days, 5);
    }

    #[test]
    fn closed_date_beats_special_schedule_beats_weekly() {
        let mut ramadan = WeeklySchedule::regency_default();
        ramadan.monday = vec![Interval::hm((8, 0), (14, 0))];
        let cal = WorkingCalendar::new(
            WeeklySchedule::regency_default(),
            vec![closed(date(2030, 1, 14))],
            vec![special("Ramadan", date(2030, 1, 7), date(2030, 1, 20), ramadan)],
        )
        .unwrap();
        assert_eq!(cal.hours_on(date(2029, 12, 31)), WeeklySchedule::regency_default().monday);
        assert_eq!(cal.hours_on(date(2030, 1, 7)), vec![Interval::hm((8, 0), (14, 0))]);
        assert_eq!(cal.hours_on(date(2030, 1, 14)), vec![]);
        assert!(!cal.is_working_day(date(2030, 1, 14)));
        assert_eq!(cal.hours_on(date(2030, 1, 21)), WeeklySchedule::regency_default().monday);
    }

    #[test]
    fn touching_intervals_merge() {
        let w = WeeklySchedule {
            monday: vec![Interval::hm((12, 0), (15, 0)), Interval::hm((8, 0), (12, 0))],
            ..WeeklySchedule::default()
        };
        let cal = WorkingCalendar::new(w, vec![], vec![]).unwrap();
        assert_eq!(cal.hours_on(date(2030, 1, 7)), vec![Interval::hm((8, 0), (15, 0))]);
    }

    #[test]
    fn refuses_bad_data() {
        let mut w = WeeklySchedule::regency_default();
        w.monday = vec![Interval::hm((8, 0), (12, 0)), Interval::hm((11, 0), (13, 0))];
        assert!(matches!(
            WorkingCalendar::new(w, vec![], vec![]),
            Err(CalendarError::OverlappingIntervals { weekday: Weekday::Mon, .. })
        ));

        let mut w = WeeklySchedule::regency_default();
        w.tuesday = vec![Interval::hm((12, 0), (12, 0))];
        assert!(matches!(
            WorkingCalendar::new(w, vec![], vec![]),
            Err(CalendarError::BadInterval { weekday: Weekday::Tue, .. })
        ));

        assert_eq!(
            WorkingCalendar::new(WeeklySchedule::default(), vec![], vec![]).unwrap_err(),
            CalendarError::NoWorkingTime
        );

        let d = WeeklySchedule::regency_default();
        let err =
            WorkingCalendar::new(d.clone(), vec![], vec![special("a", date(2030, 2, 1), date(2030, 1, 1), d.clone())]);
        assert!(matches!(err, Err(CalendarError::ReversedRange { .. })));

        let err = WorkingCalendar::new(
            d.clone(),
            vec![],
            vec![
                special("b", date(2030, 1, 10), date(2030, 1, 20), d.clone()),
                special("a", date(2030, 1, 1), date(2030, 1, 10), d.clone()),
            ],
        );
        assert_eq!(
            err.unwrap_err(),
            CalendarError::OverlappingSpecialSchedules { first: "a".into(), second: "b".into() }
        );
    }

    #[test]
    fn a_year_long_closure_is_refused_but_a_shorter_one_is_not() {
        let shut = WeeklySchedule::default();
        // Tue 2030-01-01 .. Thu 2031-01-02 closed: 367 days; Friday 2031-01-03 works.
        let too_long = special("shut", date(2030, 1, 1), date(2031, 1, 2), shut.clone());
        let err = WorkingCalendar::new(WeeklySchedule::regency_default(), vec![], vec![too_long]);
        assert_eq!(
            err.unwrap_err(),
            CalendarError::ClosedTooLong { from: date(2030, 1, 1), days: MAX_CLOSED_RUN_DAYS + 1 }
        );
        // .. Wed 2031-01-01: exactly 366 days is still allowed.
        let longest = special("shut", date(2030, 1, 1), date(2031, 1, 1), shut);
        assert!(WorkingCalendar::new(WeeklySchedule::regency_default(), vec![], vec![longest]).is_ok());
    }

    #[test]
    fn weekly_schedule_serde_shape() {
        let json = serde_json::to_value(WeeklySchedule::regency_default()).unwrap();
        assert_eq!(json["friday"][1]["start"], "12:30:00");
        assert_eq!(json["saturday"], serde_json::json!([]));
        // Omitted days are closed; "HH:MM" is accepted.
        let w: WeeklySchedule = serde_json::from_str(r#"{"monday":[{"start":"08:00","end":"12:00"}]}"#).unwrap();
        assert_eq!(w.monday, vec![Interval::hm((8, 0), (12, 0))]);
        assert!(w.sunday.is_empty());
    }
}
