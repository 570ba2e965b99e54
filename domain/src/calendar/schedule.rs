//! The calendar's data, as an admin edits it: weekly hours, closed dates, special schedules.
//!
//! These are plain serde types; [`super::WorkingCalendar::new`] checks them and turns them
//! into the form the arithmetic uses.

use chrono::{NaiveDate, NaiveTime, Weekday};
use serde::{Deserialize, Serialize};

/// One stretch of working time within a day, on the WIB wall clock: `[start, end)`.
///
/// The office is open at `start` and closed at `end`; an interval cannot run past
/// midnight (office hours never do). Times are whole seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Interval {
    pub start: NaiveTime,
    pub end: NaiveTime,
}

impl Interval {
    /// `Interval::hm((7, 30), (12, 0))` is 07:30–12:00. For literals in code and tests.
    ///
    /// # Panics
    /// If an hour is 24 or more or a minute 60 or more.
    pub fn hm(start: (u32, u32), end: (u32, u32)) -> Self {
        let t = |(h, m): (u32, u32)| NaiveTime::from_hms_opt(h, m, 0).expect("hours < 24 and minutes < 60");
        Self { start: t(start), end: t(end) }
    }
}

/// Working intervals for each weekday. A day with no intervals is closed.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct WeeklySchedule {
    pub monday: Vec<Interval>,
    pub tuesday: Vec<Interval>,
    pub wednesday: Vec<Interval>,
    pub thursday: Vec<Interval>,
    pub friday: Vec<Interval>,
    pub saturday: Vec<Interval>,
    pub sunday: Vec<Interval>,
}

impl WeeklySchedule {
    /// The regency's five-day week under Perpres 21/2023 (37.5 hours, starting 07:30):
    /// Mon–Thu 07:30–12:00 and 12:15–15:30; Fri 07:30–11:30 and 12:30–15:00 (the longer
    /// Friday break is for Friday prayers); Saturday and Sunday closed.
    pub fn regency_default() -> Self {
        let mon_thu = vec![Interval::hm((7, 30), (12, 0)), Interval::hm((12, 15), (15, 30))];
        Self {
            monday: mon_thu.clone(),
            tuesday: mon_thu.clone(),
            wednesday: mon_thu.clone(),
            thursday: mon_thu,
            friday: vec![Interval::hm((7, 30), (11, 30)), Interval::hm((12, 30), (15, 0))],
            saturday: Vec::new(),
            sunday: Vec::new(),
        }
    }

    pub fn hours(&self, day: Weekday) -> &[Interval] {
        match day {
            Weekday::Mon => &self.monday,
            Weekday::Tue => &self.tuesday,
            Weekday::Wed => &self.wednesday,
            Weekday::Thu => &self.thursday,
            Weekday::Fri => &self.friday,
            Weekday::Sat => &self.saturday,
            Weekday::Sun => &self.sunday,
        }
    }
}

/// Why the office is closed on a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClosedDateKind {
    /// "Libur nasional" (national public holiday).
    PublicHoliday,
    /// "Cuti bersama" (collective leave), from the yearly joint ministerial decree.
    CollectiveLeave,
    /// A closure decided by the regency (e.g. by the Bupati's circular letter).
    RegionalClosure,
}

/// A whole date on which the office does not work, whatever the schedule says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClosedDate {
    pub date: NaiveDate,
    /// In Indonesian, as the decree words it, e.g. "Cuti Bersama Idulfitri 1446 Hijriah".
    pub name: String,
    pub kind: ClosedDateKind,
    /// The decree it comes from (number and year), so an auditor can check it.
    pub source: String,
}

/// Different hours for a range of dates, e.g. the shorter Ramadan hours that a circular
/// letter sets every year. They replace the weekly hours on those dates; a closed date
/// in the range still closes the office.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpecialSchedule {
    pub from: NaiveDate,
    /// Inclusive.
    pub to: NaiveDate,
    pub name: String,
    pub hours: WeeklySchedule,
    pub source: String,
}
