//! Working-time arithmetic: is the office open, when does it open next, what instant is
//! N working minutes or days after a start, how much working time lies between two
//! instants.
//!
//! Every loop walks whole days (never minutes) and, outside the stretch of dates that
//! closed dates and special schedules touch, jumps whole weeks at once, so the cost
//! depends on how many irregular days are crossed, not on the length of the standard.

use chrono::{DateTime, Utc};

use super::standard::WorkDuration;
use super::wall_clock::{OutOfRange, SECONDS_PER_DAY, Wall};
use super::working_calendar::{MAX_CLOSED_RUN_DAYS, Span, WorkingCalendar};

impl WorkingCalendar {
    /// True if the office is working at `t`: inside an interval, where the start is
    /// working and the end is not (07:30:00 is working, 15:30:00 on Monday is not).
    pub fn is_working_instant(&self, t: DateTime<Utc>) -> bool {
        let w = Wall::from_utc(t);
        let s = w.second_of_day();
        self.hours(w.day()).spans.iter().any(|span| span.start <= s && s < span.end)
    }

    /// The first working instant at or after `t` (`t` itself, to the second, if the
    /// office is working then). This is when a step's clock starts.
    ///
    /// # Errors
    /// [`OutOfRange`] only if the answer is past the last representable date.
    pub fn next_opening(&self, t: DateTime<Utc>) -> Result<DateTime<Utc>, OutOfRange> {
        self.opening_at_or_after(Wall::from_utc(t))?.to_utc()
    }

    /// The instant `d` of working time after `start`, counted from the next opening.
    ///
    /// * Minutes: the earliest instant by which `d` working minutes have passed, so a
    ///   duration that runs out exactly at a closing time is due at that closing time
    ///   (11:45 + 15m = 12:00, not 12:15).
    /// * Days: the clock time of the clock start, on the N-th next working day. If the
    ///   office is not open then: after that day's close, the closing time; in a break,
    ///   the end of the interval before the break; before that day's opening, the
    ///   opening (Thursday 15:20 + 1d = Friday 15:00, Thursday 12:15 + 1d = Friday 11:30).
    /// * Zero of either: the clock start itself.
    ///
    /// # Errors
    /// [`OutOfRange`] if the answer is past the last representable date (a standard of
    /// billions of days).
    pub fn add(&self, start: DateTime<Utc>, d: WorkDuration) -> Result<DateTime<Utc>, OutOfRange> {
        let clock = self.opening_at_or_after(Wall::from_utc(start))?;
        self.add_from_clock(clock, d).to_utc()
    }

    /// Working seconds in `[start, end)`; 0 if `end <= start`.
    pub fn elapsed_seconds(&self, start: DateTime<Utc>, end: DateTime<Utc>) -> i64 {
        self.working_seconds_between(Wall::from_utc(start), Wall::from_utc(end))
    }

    /// Whole working minutes in `[start, end)` (rounded down); 0 if `end <= start`.
    pub fn elapsed_minutes(&self, start: DateTime<Utc>, end: DateTime<Utc>) -> i64 {
        self.elapsed_seconds(start, end) / 60
    }

    pub(super) fn opening_at_or_after(&self, w: Wall) -> Result<Wall, OutOfRange> {
        let mut day = w.day();
        let s = w.second_of_day();
        if let Some(span) = self.hours(day).spans.iter().find(|span| s < span.end) {
            return Ok(Wall::at(day, s.max(span.start)));
        }
        // `new` refuses more than MAX_CLOSED_RUN_DAYS closed days in a row, so this
        // finds a working day; the bound only keeps a broken invariant from spinning.
        for _ in 0..=MAX_CLOSED_RUN_DAYS {
            day += 1;
            if let Some(span) = self.hours(day).spans.first() {
                return Ok(Wall::at(day, span.start));
            }
        }
        Err(OutOfRange)
    }

    /// `d` after a clock start (which must be a working instant).
    pub(super) fn add_from_clock(&self, clock: Wall, d: WorkDuration) -> Wall {
        match d {
            WorkDuration::Minutes(m) => self.advance(clock, i64::from(m) * 60),
            WorkDuration::Days(0) => clock,
            WorkDuration::Days(n) => {
                let day = self.nth_working_day_after(clock.day(), i64::from(n));
                let spans = &self.hours(day).spans;
                Wall::at(day, place_clock_time(spans, clock.second_of_day()))
            }
        }
    }

    /// The earliest instant `t >= from` with `seconds` of working time in `[from, t)`;
    /// `from` itself for zero or less.
    pub(super) fn advance(&self, from: Wall, seconds: i64) -> Wall {
        if seconds <= 0 {
            return from;
        }
        let mut left = seconds;
        let mut day = from.day();
        let mut s = from.second_of_day();
        loop {
            if s == 0 && left > self.week.seconds {
                // Keep the last (partial) week for the day walk, so that the
                // "ends at a closing time" rule is applied in one place.
                let weeks = self.regular_weeks_from(day, (left - 1) / self.week.seconds);
                day += 7 * weeks;
                left -= weeks * self.week.seconds;
            }
            for span in &self.hours(day).spans {
                if span.end <= s {
                    continue;
                }
                let from_here = s.max(span.start);
                let available = span.end - from_here;
                if left <= available {
                    return Wall::at(day, from_here + left);
                }
                left -= available;
            }
            day += 1;
            s = 0;
        }
    }

    /// The day number of the `n`-th working day after `day` (`n >= 1`).
    fn nth_working_day_after(&self, day: i64, n: i64) -> i64 {
        let mut left = n;
        let mut day = day + 1;
        loop {
            if left > self.week.working_days {
                let weeks = self.regular_weeks_from(day, (left - 1) / self.week.working_days);
                day += 7 * weeks;
                left -= weeks * self.week.working_days;
            }
            if self.hours(day).is_working() {
                left -= 1;
                if left == 0 {
                    return day;
                }
            }
            day += 1;
        }
    }

    pub(super) fn working_seconds_between(&self, start: Wall, end: Wall) -> i64 {
        if end <= start {
            return 0;
        }
        let (first, last) = (start.day(), end.day());
        if first == last {
            return overlap(&self.hours(first).spans, start.second_of_day(), end.second_of_day());
        }
        let mut total = overlap(&self.hours(first).spans, start.second_of_day(), SECONDS_PER_DAY)
            + overlap(&self.hours(last).spans, 0, end.second_of_day());
        let mut day = first + 1;
        while day < last {
            let weeks = self.regular_weeks_from(day, (last - day) / 7);
            if weeks > 0 {
                total += weeks * self.week.seconds;
                day += 7 * weeks;
            } else {
                total += self.hours(day).seconds;
                day += 1;
            }
        }
        total
    }
}

/// Where a day-based standard falls on its due day, given the clock time `c` (seconds
/// of the day) at which its clock started. `spans` is that day's hours (not empty).
///
/// * `c` inside an interval, or exactly at its end: `c`.
/// * after the day's last interval (the day closes earlier): the closing time.
/// * in a break between intervals: the end of the interval before the break — the
///   latest working moment not later than the promised clock time.
/// * before the day's first interval (e.g. a special schedule that opens later): the
///   day's opening, the first moment the office works that day. The office was closed
///   between the promised time and that opening, so no working time is added.
pub(super) fn place_clock_time(spans: &[Span], c: i64) -> i64 {
    let mut previous_end = None;
    for span in spans {
        if c < span.start {
            return previous_end.unwrap_or(span.start);
        }
        if c <= span.end {
            return c;
        }
        previous_end = Some(span.end);
    }
    previous_end.unwrap_or(c)
}

/// Seconds of `spans` inside `[from, to)`.
fn overlap(spans: &[Span], from: i64, to: i64) -> i64 {
    spans.iter().map(|s| (s.end.min(to) - s.start.max(from)).max(0)).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn hm(h: i64, m: i64) -> i64 {
        h * 3600 + m * 60
    }

    const FRIDAY: [Span; 2] = [Span { start: hm(7, 30), end: hm(11, 30) }, Span { start: hm(12, 30), end: hm(15, 0) }];

    #[test]
    fn placing_a_clock_time_on_the_due_day() {
        assert_eq!(place_clock_time(&FRIDAY, hm(10, 0)), hm(10, 0), "inside");
        assert_eq!(place_clock_time(&FRIDAY, hm(7, 30)), hm(7, 30), "at opening");
        assert_eq!(place_clock_time(&FRIDAY, hm(11, 30)), hm(11, 30), "at the break");
        assert_eq!(place_clock_time(&FRIDAY, hm(12, 15)), hm(11, 30), "in the break");
        assert_eq!(place_clock_time(&FRIDAY, hm(12, 30)), hm(12, 30), "break ends");
        assert_eq!(place_clock_time(&FRIDAY, hm(15, 20)), hm(15, 0), "closes earlier");
        assert_eq!(place_clock_time(&FRIDAY, hm(7, 0)), hm(7, 30), "opens later");
    }

    #[test]
    fn overlap_counts_only_inside_the_window() {
        assert_eq!(overlap(&FRIDAY, 0, SECONDS_PER_DAY), hm(6, 30));
        assert_eq!(overlap(&FRIDAY, hm(11, 0), hm(13, 0)), hm(1, 0));
        assert_eq!(overlap(&FRIDAY, hm(11, 30), hm(12, 30)), 0);
    }
}
