//! The office's wall clock: instants as whole seconds of WIB (Asia/Jakarta) local time.
//!
//! The API speaks UTC, but every rule ("same clock time on the next working day",
//! "closes at 15:30") is about the clock on the office wall. So each public method
//! converts its UTC instants to [`Wall`] seconds once, does plain integer arithmetic on
//! days and seconds-of-day, and converts the answer back once.
//!
//! Resolution is one second: sub-second parts of an input instant are dropped (floored),
//! so a result is never later than the exact answer by more than that fraction.

use chrono::{DateTime, NaiveDate, Offset, TimeZone, Utc};
use chrono_tz::Asia::Jakarta;

pub(super) const SECONDS_PER_DAY: i64 = 86_400;

/// WIB is UTC+7. chrono-tz is the authority for the offset; this is only the fallback
/// for a wall-clock time that historically never existed (a pre-1964 offset change).
const WIB_OFFSET_SECONDS: i64 = 7 * 3600;

/// A computed instant falls outside the dates chrono can represent (roughly ±262 000
/// years), e.g. a standard of four billion days. Nothing realistic hits this.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the result lies beyond the range of dates the calendar can express")]
pub struct OutOfRange;

/// Whole seconds since 1970-01-01 00:00:00 on the WIB wall clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Wall(pub(super) i64);

impl Wall {
    pub(super) fn from_utc(t: DateTime<Utc>) -> Self {
        let offset = Jakarta.offset_from_utc_datetime(&t.naive_utc()).fix();
        Wall(t.timestamp() + i64::from(offset.local_minus_utc()))
    }

    pub(super) fn to_utc(self) -> Result<DateTime<Utc>, OutOfRange> {
        let naive_local = DateTime::from_timestamp(self.0, 0).ok_or(OutOfRange)?.naive_utc();
        let offset = Jakarta
            .offset_from_local_datetime(&naive_local)
            .earliest()
            .map_or(WIB_OFFSET_SECONDS, |o| i64::from(o.fix().local_minus_utc()));
        DateTime::from_timestamp(self.0 - offset, 0).ok_or(OutOfRange)
    }

    pub(super) fn at(day: i64, second_of_day: i64) -> Self {
        Wall(day * SECONDS_PER_DAY + second_of_day)
    }

    /// Day number: days since 1970-01-01 on the wall clock.
    pub(super) fn day(self) -> i64 {
        self.0.div_euclid(SECONDS_PER_DAY)
    }

    pub(super) fn second_of_day(self) -> i64 {
        self.0.rem_euclid(SECONDS_PER_DAY)
    }
}

pub(super) const EPOCH: NaiveDate = NaiveDate::from_ymd_opt(1970, 1, 1).expect("1970-01-01 is a date");

pub(super) fn day_number(date: NaiveDate) -> i64 {
    (date - EPOCH).num_days()
}

/// 0 = Monday … 6 = Sunday. 1970-01-01 was a Thursday (3).
pub(super) fn weekday_index(day: i64) -> usize {
    // rem_euclid(7) is in 0..7, so the cast cannot truncate.
    (day + 3).rem_euclid(7) as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Datelike, NaiveDateTime};

    #[test]
    fn wib_is_utc_plus_seven() {
        let t = Utc.with_ymd_and_hms(2025, 3, 31, 17, 30, 0).unwrap();
        let w = Wall::from_utc(t);
        let local = NaiveDateTime::parse_from_str("2025-04-01 00:30:00", "%F %T").unwrap();
        assert_eq!(w.0, local.and_utc().timestamp());
        assert_eq!(w.second_of_day(), 30 * 60);
        assert_eq!(w.to_utc().unwrap(), t);
    }

    #[test]
    fn sub_second_parts_are_dropped() {
        let t = Utc.with_ymd_and_hms(2025, 1, 6, 1, 0, 0).unwrap() + chrono::Duration::milliseconds(999);
        assert_eq!(Wall::from_utc(t).to_utc().unwrap(), Utc.with_ymd_and_hms(2025, 1, 6, 1, 0, 0).unwrap());
    }

    #[test]
    fn weekday_index_matches_chrono() {
        for d in -400..400 {
            let date = EPOCH + chrono::Duration::days(d);
            assert_eq!(weekday_index(day_number(date)), date.weekday().num_days_from_monday() as usize);
        }
    }

    #[test]
    fn far_future_is_out_of_range_not_a_panic() {
        assert_eq!(Wall(i64::MAX / 2).to_utc(), Err(OutOfRange));
    }
}
