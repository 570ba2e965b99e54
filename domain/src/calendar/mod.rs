//! The office's working calendar: pure working-time arithmetic, no I/O.
//!
//! The rules are those of `docs/time-standards.md`; where that page was silent the rule
//! chosen is written on the method that applies it (and added to the page). In short:
//!
//! * WIB (Asia/Jakarta) wall clock, UTC at the edges, one-second resolution.
//! * Minutes and hours count working minutes; a duration that runs out exactly at a
//!   closing time is due at that closing time.
//! * Days and weeks count working days (1 week = 5): the same clock time on the N-th
//!   next working day; if the office is not open then, the closing time (day closes
//!   earlier), the end of the interval before a break, or the opening (day opens later).
//! * A step started outside working time starts its clock at the next opening.
//! * Closed dates remove whole days; special schedules replace the weekday hours;
//!   a closed date wins over a special schedule.
//! * At most [`MAX_CLOSED_RUN_DAYS`] consecutive days without working time: more is
//!   refused when the calendar is built, so every search ends. Results that cannot be
//!   represented (absurd standards) are an [`OutOfRange`] error, never a panic.

mod arith;
mod due;
mod holidays;
mod schedule;
pub mod standard;
mod wall_clock;
mod working_calendar;

#[cfg(test)]
mod properties;
#[cfg(test)]
mod worked_examples;

pub use due::{Due, SlaState};
pub use holidays::seeded_closed_dates;
pub use schedule::{ClosedDate, ClosedDateKind, Interval, SpecialSchedule, WeeklySchedule};
pub use standard::{StandardParseError, TimeStandard, WorkDuration};
pub use wall_clock::OutOfRange;
pub use working_calendar::{CalendarError, MAX_CLOSED_RUN_DAYS, WorkingCalendar};
