//! Property tests: the laws the arithmetic must keep for any start and duration, checked
//! on the default calendar and on one with a special schedule, over 2024–2030 (through
//! the seeded closed dates and past them, where whole weeks are skipped).

use std::sync::LazyLock;

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Asia::Jakarta;
use proptest::prelude::*;

use super::*;

static DEFAULT: LazyLock<WorkingCalendar> = LazyLock::new(WorkingCalendar::regency_default);

/// Shorter hours opening at 08:00 for a month of 2026 (a made-up "Ramadan").
static WITH_SPECIAL: LazyLock<WorkingCalendar> = LazyLock::new(|| {
    let mut short = WeeklySchedule::default();
    for day in [&mut short.monday, &mut short.tuesday, &mut short.wednesday, &mut short.thursday] {
        *day = vec![Interval::hm((8, 0), (12, 0)), Interval::hm((12, 30), (15, 0))];
    }
    short.friday = vec![Interval::hm((8, 0), (11, 0)), Interval::hm((13, 0), (15, 30))];
    let special = SpecialSchedule {
        from: NaiveDate::from_ymd_opt(2026, 2, 18).unwrap(),
        to: NaiveDate::from_ymd_opt(2026, 3, 19).unwrap(),
        name: "made-up Ramadan".into(),
        hours: short,
        source: "test".into(),
    };
    WorkingCalendar::new(WeeklySchedule::regency_default(), seeded_closed_dates(), vec![special]).unwrap()
});

fn calendar() -> impl Strategy<Value = &'static WorkingCalendar> {
    prop_oneof![Just(&*DEFAULT), Just(&*WITH_SPECIAL)]
}

const FIRST_DAY: i64 = 20_058; // 2024-12-01
const LAST_DAY: i64 = 22_280; // 2030-12-31

/// Any second, or a whole minute, or a moment at or next to an opening or closing.
fn instant() -> impl Strategy<Value = DateTime<Utc>> {
    let edges = [
        (0, 0, 0),
        (7, 29, 59),
        (7, 30, 0),
        (8, 0, 0),
        (11, 30, 0),
        (11, 45, 0),
        (12, 0, 0),
        (12, 15, 0),
        (12, 30, 0),
        (14, 59, 59),
        (15, 0, 0),
        (15, 20, 0),
        (15, 30, 0),
        (23, 59, 59),
    ];
    let local = |day: i64, s: i64| {
        let wall = DateTime::from_timestamp(day * 86_400 + s, 0).unwrap().naive_utc();
        Jakarta.from_local_datetime(&wall).unwrap().with_timezone(&Utc)
    };
    prop_oneof![
        (FIRST_DAY..=LAST_DAY, 0..86_400i64).prop_map(move |(d, s)| local(d, s)),
        (FIRST_DAY..=LAST_DAY, 0..1440i64).prop_map(move |(d, m)| local(d, m * 60)),
        (FIRST_DAY..=LAST_DAY, proptest::sample::select(edges.to_vec()))
            .prop_map(move |(d, (h, m, s))| local(d, h * 3600 + m * 60 + s)),
    ]
}

fn duration() -> impl Strategy<Value = WorkDuration> {
    prop_oneof![(0..=40_000u32).prop_map(WorkDuration::Minutes), (0..=60u32).prop_map(WorkDuration::Days),]
}

/// Open, or exactly at a closing time.
fn open_or_closing(c: &WorkingCalendar, t: DateTime<Utc>) -> bool {
    c.is_working_instant(t) || c.is_working_instant(t - Duration::seconds(1))
}

/// Reference: walk dates one by one with the public `hours_on`, no shortcuts.
fn naive_add_minutes(c: &WorkingCalendar, start: DateTime<Utc>, minutes: u32) -> DateTime<Utc> {
    let local = start.with_timezone(&Jakarta).naive_local();
    let (mut date, mut now) = (local.date(), local.time());
    let mut left = i64::from(minutes) * 60;
    let to_utc = |d: NaiveDate, t| Jakarta.from_local_datetime(&NaiveDateTime::new(d, t)).unwrap().with_timezone(&Utc);
    loop {
        for iv in c.hours_on(date) {
            if iv.end <= now {
                continue;
            }
            let from = now.max(iv.start);
            let available = (iv.end - from).num_seconds();
            if left <= available {
                return to_utc(date, from + Duration::seconds(left));
            }
            left -= available;
        }
        date = date.succ_opt().unwrap();
        now = chrono::NaiveTime::MIN;
    }
}

fn naive_elapsed(c: &WorkingCalendar, a: DateTime<Utc>, b: DateTime<Utc>) -> i64 {
    let (a, b) = (a.with_timezone(&Jakarta).naive_local(), b.with_timezone(&Jakarta).naive_local());
    let mut total = 0;
    let mut date = a.date();
    while date <= b.date() {
        for iv in c.hours_on(date) {
            let s = NaiveDateTime::new(date, iv.start).max(a);
            let e = NaiveDateTime::new(date, iv.end).min(b);
            total += (e - s).num_seconds().max(0);
        }
        date = date.succ_opt().unwrap();
    }
    total
}

proptest! {
    #[test]
    fn minutes_add_back_up(c in calendar(), start in instant(), m in 0..=40_000u32) {
        let clock = c.next_opening(start).unwrap();
        let due = c.add(start, WorkDuration::Minutes(m)).unwrap();
        prop_assert_eq!(c.elapsed_seconds(clock, due), i64::from(m) * 60);
        prop_assert_eq!(c.elapsed_seconds(start, due), i64::from(m) * 60);
    }

    #[test]
    fn due_is_never_in_closed_time(c in calendar(), start in instant(), d in duration()) {
        let due = c.add(start, d).unwrap();
        prop_assert!(open_or_closing(c, due), "{} + {} = {}", start, d, due);
        prop_assert!(due >= c.next_opening(start).unwrap());
    }

    #[test]
    fn add_is_monotonic(
        c in calendar(),
        start in instant(),
        a in 0..=20_000u32,
        b in 0..=20_000u32,
        x in 0..=40u32,
        y in 0..=40u32,
    ) {
        let add = |d| c.add(start, d).unwrap();
        let (a, b) = (a.min(b), a.max(b));
        prop_assert!(add(WorkDuration::Minutes(a)) <= add(WorkDuration::Minutes(b)));
        let (x, y) = (x.min(y), x.max(y));
        let (dx, dy) = (add(WorkDuration::Days(x)), add(WorkDuration::Days(y)));
        prop_assert!(dx <= dy);
        if x < y {
            prop_assert!(dx < dy, "a later working day is later");
        }
    }

    #[test]
    fn elapsed_is_additive(c in calendar(), a in instant(), b in instant(), x in instant()) {
        let mut v = [a, b, x];
        v.sort();
        let [a, b, x] = v;
        let whole = c.elapsed_seconds(a, x);
        prop_assert_eq!(c.elapsed_seconds(a, b) + c.elapsed_seconds(b, x), whole);
        prop_assert_eq!(c.elapsed_seconds(x, a), 0);
    }

    #[test]
    fn shortcuts_agree_with_a_plain_day_walk(
        c in calendar(),
        start in instant(),
        m in 0..=400_000u32,
        end in instant(),
    ) {
        let due = c.add(start, WorkDuration::Minutes(m)).unwrap();
        prop_assert_eq!(due, naive_add_minutes(c, start, m));
        prop_assert_eq!(c.elapsed_seconds(start, end), naive_elapsed(c, start, end));
    }

    #[test]
    fn days_land_on_the_nth_working_day(c in calendar(), start in instant(), n in 1..=60u32) {
        let clock = c.next_opening(start).unwrap().with_timezone(&Jakarta).date_naive();
        let mut date = clock;
        for _ in 0..n {
            date = date.succ_opt().unwrap();
            while !c.is_working_day(date) {
                date = date.succ_opt().unwrap();
            }
        }
        let due = c.add(start, WorkDuration::Days(n)).unwrap();
        prop_assert_eq!(due.with_timezone(&Jakarta).date_naive(), date);
    }

    #[test]
    fn next_opening_skips_only_closed_time(c in calendar(), t in instant()) {
        let o = c.next_opening(t).unwrap();
        prop_assert!(o >= t - Duration::seconds(1) && c.is_working_instant(o));
        prop_assert_eq!(c.elapsed_seconds(t, o), 0);
        prop_assert_eq!(o == t, c.is_working_instant(t));
    }

    #[test]
    fn due_is_ordered_and_shift_moves_by_the_wait(
        c in calendar(),
        start in instant(),
        target in 1..=10u32,
        extra in 0..=5u32,
        minutes in any::<bool>(),
        waited in 0..=30_000i64,
    ) {
        let (target, limit) = if minutes {
            (WorkDuration::Minutes(target * 15), WorkDuration::Minutes((target + extra) * 15))
        } else {
            (WorkDuration::Days(target), WorkDuration::Days(target + extra))
        };
        let d = c.due(start, &TimeStandard { target, limit }).unwrap();
        prop_assert!(d.clock_started_at <= d.warning_at && d.warning_at <= d.target_at);
        prop_assert!(d.target_at <= d.limit_at);
        prop_assert!(open_or_closing(c, d.warning_at));
        prop_assert_eq!(d.sla_state(d.warning_at), SlaState::Warning);
        prop_assert_eq!(d.sla_state(d.limit_at + Duration::seconds(1)), SlaState::Overdue);
        let s = c.shift(&d, waited).unwrap();
        prop_assert_eq!(c.elapsed_seconds(d.limit_at, s.limit_at), waited);
        prop_assert_eq!(c.elapsed_seconds(d.warning_at, s.warning_at), waited);
        prop_assert!(s.warning_at <= s.target_at && s.target_at <= s.limit_at);
    }
}
