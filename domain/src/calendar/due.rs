//! Due times of a step and its SLA state.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::standard::TimeStandard;
use super::wall_clock::{OutOfRange, Wall};
use super::working_calendar::WorkingCalendar;

/// When a step's clock started and when it becomes due.
///
/// `clock_started_at <= warning_at <= target_at <= limit_at` always holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Due {
    /// The step's start, or the next opening if it started outside working time.
    pub clock_started_at: DateTime<Utc>,
    /// From here the step shows as `warning`.
    pub warning_at: DateTime<Utc>,
    /// The standard's target ("1" of "1–2 days"); equal to `limit_at` for a single one.
    pub target_at: DateTime<Utc>,
    /// After this instant (strictly) the step is overdue.
    pub limit_at: DateTime<Utc>,
}

/// Where a step stands against its time standard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SlaState {
    OnTime,
    Warning,
    Overdue,
}

impl Due {
    /// `on_time` before `warning_at`; `warning` from `warning_at` up to and including
    /// `limit_at`; `overdue` strictly after `limit_at`.
    pub fn sla_state(&self, now: DateTime<Utc>) -> SlaState {
        if now > self.limit_at {
            SlaState::Overdue
        } else if now >= self.warning_at {
            SlaState::Warning
        } else {
            SlaState::OnTime
        }
    }
}

impl WorkingCalendar {
    /// Due times of a step started at `start` under `standard`.
    ///
    /// `warning_at` is the target for a ranged standard ("1-2d"). For a single standard
    /// it is the moment 80 % of the working time from clock start to limit has passed,
    /// that working time rounded up to whole minutes (and never past the limit): for
    /// "1h" that is 48 working minutes after the clock start.
    ///
    /// # Errors
    /// [`OutOfRange`] if the limit is past the last representable date.
    pub fn due(&self, start: DateTime<Utc>, standard: &TimeStandard) -> Result<Due, OutOfRange> {
        let clock = self.opening_at_or_after(Wall::from_utc(start))?;
        let target = self.add_from_clock(clock, standard.target);
        let limit = if standard.is_single() { target } else { self.add_from_clock(clock, standard.limit) };
        let warning = if standard.is_single() {
            let total = self.working_seconds_between(clock, limit);
            // ceil(0.8 * total) in whole minutes, in integers: ceil(4 * total / 300).
            let eighty_percent = (4 * total + 299) / 300 * 60;
            self.advance(clock, eighty_percent.min(total))
        } else {
            target
        };
        Ok(Due {
            clock_started_at: clock.to_utc()?,
            warning_at: warning.to_utc()?,
            target_at: target.to_utc()?,
            limit_at: limit.to_utc()?,
        })
    }

    /// The due times after a pause: while the request waited on the applicant the
    /// office's clock stood still, so warning, target and limit each move later by
    /// `waited_seconds` of working time (usually `elapsed_seconds(returned, resubmitted)`).
    /// `clock_started_at` stays: the clock did start then. Zero or less changes nothing.
    ///
    /// # Errors
    /// [`OutOfRange`] if a moved time is past the last representable date.
    pub fn shift(&self, due: &Due, waited_seconds: i64) -> Result<Due, OutOfRange> {
        let later = |t: DateTime<Utc>| self.advance(Wall::from_utc(t), waited_seconds).to_utc();
        Ok(Due {
            clock_started_at: due.clock_started_at,
            warning_at: later(due.warning_at)?,
            target_at: later(due.target_at)?,
            limit_at: later(due.limit_at)?,
        })
    }
}
