//! Hand-worked cases, written out in WIB wall-clock time ("2025-10-13 Mon 11:55").
//! October 2025 is an ordinary month (no closed dates), used unless a case needs one.

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Asia::Jakarta;

use super::*;

fn cal() -> WorkingCalendar {
    WorkingCalendar::regency_default()
}

/// "2025-10-13 Mon 11:55" (or with ":SS") on the office clock, as a UTC instant.
/// chrono rejects a weekday that does not match the date, which checks the hand work.
fn wib(s: &str) -> DateTime<Utc> {
    let format = if s.len() > 20 { "%Y-%m-%d %a %H:%M:%S" } else { "%Y-%m-%d %a %H:%M" };
    let local = NaiveDateTime::parse_from_str(s, format).unwrap_or_else(|e| panic!("{s}: {e}"));
    Jakarta.from_local_datetime(&local).unwrap().with_timezone(&Utc)
}

fn show(t: DateTime<Utc>) -> String {
    let local = t.with_timezone(&Jakarta);
    let format = if local.timestamp() % 60 == 0 { "%Y-%m-%d %a %H:%M" } else { "%Y-%m-%d %a %H:%M:%S" };
    local.format(format).to_string()
}

fn std(s: &str) -> TimeStandard {
    s.parse().unwrap()
}

/// The due (limit) of a single standard started at `start`.
fn add(start: &str, standard: &str) -> String {
    show(cal().add(wib(start), std(standard).limit).unwrap())
}

fn due(start: &str, standard: &str) -> Due {
    cal().due(wib(start), &std(standard)).unwrap()
}

#[test]
fn the_api_speaks_utc() {
    assert_eq!(wib("2025-10-13 Mon 07:30"), Utc.with_ymd_and_hms(2025, 10, 13, 0, 30, 0).unwrap());
}

#[test]
fn examples_from_the_rules() {
    assert_eq!(add("2025-10-13 Mon 11:55", "15m"), "2025-10-13 Mon 12:25");
    assert_eq!(add("2025-10-13 Mon 11:45", "15m"), "2025-10-13 Mon 12:00", "ends at the break");
    assert_eq!(add("2025-10-14 Tue 10:00", "1d"), "2025-10-15 Wed 10:00");
    assert_eq!(add("2025-10-16 Thu 15:20", "1d"), "2025-10-17 Fri 15:00", "Friday closes earlier");
}

#[test]
fn friday_afternoon() {
    assert_eq!(add("2025-10-10 Fri 14:50", "15m"), "2025-10-13 Mon 07:35", "10 min Fri + 5 min Mon");
    assert_eq!(add("2025-10-10 Fri 14:30", "1h"), "2025-10-13 Mon 08:00");
    assert_eq!(add("2025-10-10 Fri 14:00", "1d"), "2025-10-13 Mon 14:00");
    assert_eq!(add("2025-10-10 Fri 14:59:59", "1d"), "2025-10-13 Mon 14:59:59");
    // Started in the Friday-prayer break: the clock starts at 12:30.
    assert_eq!(add("2025-10-10 Fri 11:35", "1h"), "2025-10-10 Fri 13:30");
    assert_eq!(add("2025-10-10 Fri 12:00", "1d"), "2025-10-13 Mon 12:30");
}

#[test]
fn a_step_started_on_saturday_starts_its_clock_on_monday() {
    let d = due("2025-10-11 Sat 10:00", "15m");
    assert_eq!(show(d.clock_started_at), "2025-10-13 Mon 07:30");
    assert_eq!(show(d.limit_at), "2025-10-13 Mon 07:45");
    assert_eq!(add("2025-10-11 Sat 10:00", "1d"), "2025-10-14 Tue 07:30");
    assert_eq!(add("2025-10-12 Sun 23:59", "1w"), "2025-10-20 Mon 07:30");
}

#[test]
fn exactly_at_closing_and_at_opening() {
    let c = cal();
    assert!(!c.is_working_instant(wib("2025-10-13 Mon 15:30")), "closing time is closed");
    assert!(c.is_working_instant(wib("2025-10-13 Mon 15:29:59")));
    assert!(c.is_working_instant(wib("2025-10-13 Mon 07:30")), "opening time is open");
    assert!(!c.is_working_instant(wib("2025-10-13 Mon 07:29:59")));
    assert_eq!(show(c.next_opening(wib("2025-10-13 Mon 15:30")).unwrap()), "2025-10-14 Tue 07:30");
    assert_eq!(show(c.next_opening(wib("2025-10-13 Mon 07:30")).unwrap()), "2025-10-13 Mon 07:30");
    assert_eq!(add("2025-10-13 Mon 15:30", "15m"), "2025-10-14 Tue 07:45");
    assert_eq!(add("2025-10-13 Mon 15:30", "1d"), "2025-10-15 Wed 07:30");
    assert_eq!(add("2025-10-13 Mon 07:30", "15m"), "2025-10-13 Mon 07:45");
    assert_eq!(add("2025-10-13 Mon 07:30", "1d"), "2025-10-14 Tue 07:30");
    // A standard that runs out exactly at the day's close is due then, not next morning.
    assert_eq!(add("2025-10-13 Mon 15:15", "15m"), "2025-10-13 Mon 15:30");
    assert_eq!(add("2025-10-13 Mon 14:30", "1h"), "2025-10-13 Mon 15:30");
}

#[test]
fn inside_the_lunch_break() {
    let c = cal();
    assert!(!c.is_working_instant(wib("2025-10-13 Mon 12:00")));
    assert!(c.is_working_instant(wib("2025-10-13 Mon 12:15")));
    assert_eq!(show(due("2025-10-13 Mon 12:05", "15m").clock_started_at), "2025-10-13 Mon 12:15");
    assert_eq!(add("2025-10-13 Mon 12:05", "15m"), "2025-10-13 Mon 12:30");
    assert_eq!(add("2025-10-13 Mon 12:05", "1d"), "2025-10-14 Tue 12:15");
    // 12:15 Thursday falls in Friday's longer break: due at the end of the morning.
    assert_eq!(add("2025-10-16 Thu 12:15", "1d"), "2025-10-17 Fri 11:30");
    assert_eq!(add("2025-10-16 Thu 12:30", "1d"), "2025-10-17 Fri 12:30");
}

#[test]
fn fifteen_minutes_across_the_break_and_one_hour() {
    assert_eq!(add("2025-10-13 Mon 11:50", "15m"), "2025-10-13 Mon 12:20");
    assert_eq!(add("2025-10-10 Fri 11:20", "15m"), "2025-10-10 Fri 12:35");
    assert_eq!(add("2025-10-13 Mon 11:30", "1h"), "2025-10-13 Mon 12:45");
    assert_eq!(add("2025-10-13 Mon 14:45", "1h"), "2025-10-14 Tue 07:45");
}

#[test]
fn one_week_is_five_working_days() {
    assert_eq!(add("2025-10-13 Mon 10:00", "1w"), "2025-10-20 Mon 10:00");
    assert_eq!(add("2025-10-15 Wed 15:25", "1w"), "2025-10-22 Wed 15:25");
    assert_eq!(add("2025-10-13 Mon 10:00", "2d"), "2025-10-15 Wed 10:00");
}

#[test]
fn ranged_one_to_two_days() {
    let d = due("2025-10-14 Tue 10:00", "1-2d");
    assert_eq!(show(d.clock_started_at), "2025-10-14 Tue 10:00");
    assert_eq!(show(d.target_at), "2025-10-15 Wed 10:00");
    assert_eq!(show(d.warning_at), "2025-10-15 Wed 10:00", "warning from the target");
    assert_eq!(show(d.limit_at), "2025-10-16 Thu 10:00");
    let d = due("2025-10-15 Wed 15:20", "1-2d");
    assert_eq!(show(d.target_at), "2025-10-16 Thu 15:20");
    assert_eq!(show(d.limit_at), "2025-10-17 Fri 15:00");
}

#[test]
fn warning_at_eighty_percent_of_a_single_standard() {
    let d = due("2025-10-13 Mon 08:00", "1h");
    assert_eq!(show(d.warning_at), "2025-10-13 Mon 08:48");
    let d = due("2025-10-13 Mon 11:55", "15m");
    assert_eq!(show(d.warning_at), "2025-10-13 Mon 12:22", "12 working minutes, across the break");
    // 1d from Tue 10:00: 465 working minutes to Wed 10:00; 80 % = 372 min.
    let d = due("2025-10-14 Tue 10:00", "1d");
    assert_eq!(show(d.warning_at), "2025-10-15 Wed 08:27");
    // Thu 15:20 → Fri 15:00 is 10 + 390 = 400 min; 80 % = 320 min.
    let d = due("2025-10-16 Thu 15:20", "1d");
    assert_eq!(show(d.warning_at), "2025-10-17 Fri 13:40");
    // 1w from Mon 10:00 is the full 2250-minute week; 80 % = 1800 min.
    let d = due("2025-10-13 Mon 10:00", "1w");
    assert_eq!(show(d.warning_at), "2025-10-17 Fri 09:00");
    // 7 min: 5.6 rounds up to 6 whole minutes.
    let d = due("2025-10-13 Mon 10:00", "7m");
    assert_eq!(show(d.warning_at), "2025-10-13 Mon 10:06");
    // Seconds in the start carry through; the rounding is of working minutes.
    let d = due("2025-10-13 Mon 10:00:37", "1h");
    assert_eq!(show(d.warning_at), "2025-10-13 Mon 10:48:37");
    assert_eq!(show(d.limit_at), "2025-10-13 Mon 11:00:37");
}

#[test]
fn sla_state_at_each_boundary() {
    let d = due("2025-10-13 Mon 08:00", "1h");
    let at = |s: &str| d.sla_state(wib(s));
    assert_eq!(at("2025-10-13 Mon 08:00"), SlaState::OnTime);
    assert_eq!(at("2025-10-13 Mon 08:47:59"), SlaState::OnTime);
    assert_eq!(at("2025-10-13 Mon 08:48:00"), SlaState::Warning);
    assert_eq!(at("2025-10-13 Mon 09:00:00"), SlaState::Warning, "at the limit is not yet late");
    assert_eq!(at("2025-10-13 Mon 09:00:01"), SlaState::Overdue);

    let d = due("2025-10-14 Tue 10:00", "1-2d");
    let at = |s: &str| d.sla_state(wib(s));
    assert_eq!(at("2025-10-15 Wed 09:59:59"), SlaState::OnTime);
    assert_eq!(at("2025-10-15 Wed 10:00"), SlaState::Warning);
    assert_eq!(at("2025-10-16 Thu 10:00"), SlaState::Warning);
    assert_eq!(at("2025-10-16 Thu 10:00:01"), SlaState::Overdue);
}

#[test]
fn shift_after_a_pause_on_the_applicant() {
    let c = cal();
    let d = due("2025-10-14 Tue 10:00", "1d");
    assert_eq!((show(d.warning_at), show(d.limit_at)), ("2025-10-15 Wed 08:27".into(), "2025-10-15 Wed 10:00".into()));
    // Returned Tue 14:00, resubmitted Wed 09:00: 90 + 90 working minutes waited.
    let waited = c.elapsed_seconds(wib("2025-10-14 Tue 14:00"), wib("2025-10-15 Wed 09:00"));
    assert_eq!(waited, 180 * 60);
    let s = c.shift(&d, waited).unwrap();
    assert_eq!(s.clock_started_at, d.clock_started_at);
    assert_eq!(show(s.warning_at), "2025-10-15 Wed 11:27");
    assert_eq!(show(s.target_at), "2025-10-15 Wed 13:15", "120 min to 12:00, 60 after the break");
    assert_eq!(show(s.limit_at), "2025-10-15 Wed 13:15");
    assert_eq!(c.shift(&d, 0).unwrap(), d);
    assert_eq!(c.shift(&d, -5).unwrap(), d);
    // A limit at a closing time moves into the next opening.
    let d = due("2025-10-13 Mon 11:45", "15m");
    assert_eq!(show(c.shift(&d, 60).unwrap().limit_at), "2025-10-13 Mon 12:16");
}

#[test]
fn idul_fitri_2025() {
    // Fri 28 Mar cuti Nyepi, Sat 29 Nyepi, Mon 31 Mar–Tue 1 Apr Idulfitri,
    // Wed 2–Fri 4 and Mon 7 Apr cuti bersama: next working day Tue 8 Apr.
    assert_eq!(add("2025-03-27 Thu 10:00", "1d"), "2025-04-08 Tue 10:00");
    assert_eq!(add("2025-03-27 Thu 10:00", "1w"), "2025-04-14 Mon 10:00");
    assert_eq!(add("2025-03-27 Thu 15:25", "15m"), "2025-04-08 Tue 07:40");
    assert_eq!(show(due("2025-04-02 Wed 09:00", "1h").clock_started_at), "2025-04-08 Tue 07:30");
    let minutes = cal().elapsed_minutes(wib("2025-03-27 Thu 15:00"), wib("2025-04-08 Tue 08:00"));
    assert_eq!(minutes, 30 + 30);
}

#[test]
fn idul_fitri_2026() {
    // Wed 18 Mar cuti Nyepi, Thu 19 Nyepi, Fri 20 cuti, Sat 21–Sun 22 Idulfitri,
    // Mon 23–Tue 24 cuti bersama: next working day Wed 25 Mar.
    let d = due("2026-03-17 Tue 09:00", "1-2d");
    assert_eq!(show(d.target_at), "2026-03-25 Wed 09:00");
    assert_eq!(show(d.limit_at), "2026-03-26 Thu 09:00");
    assert_eq!(add("2026-03-17 Tue 15:20", "1d"), "2026-03-25 Wed 15:20");
    assert_eq!(add("2026-03-17 Tue 15:20", "15m"), "2026-03-25 Wed 07:35");
}

#[test]
fn year_end() {
    // 2025: Thu 25 Dec Natal, Fri 26 cuti bersama, Wed 31 Dec works, Thu 1 Jan closed.
    assert_eq!(add("2025-12-24 Wed 10:00", "1w"), "2026-01-05 Mon 10:00");
    assert_eq!(add("2025-12-24 Wed 10:00", "1d"), "2025-12-29 Mon 10:00");
    assert_eq!(add("2025-12-31 Wed 15:00", "1d"), "2026-01-02 Fri 15:00", "at Friday's close");
    assert_eq!(add("2025-12-31 Wed 15:20", "1d"), "2026-01-02 Fri 15:00");
    assert_eq!(add("2025-12-31 Wed 15:20", "15m"), "2026-01-02 Fri 07:35");
    let minutes = cal().elapsed_minutes(wib("2025-12-24 Wed 07:30"), wib("2026-01-02 Fri 07:30"));
    assert_eq!(minutes, 4 * 465, "24, 29, 30, 31 December");
    // 2026: Thu 24 Dec cuti bersama, Fri 25 Natal, Fri 1 Jan 2027, Tue 5 Jan Isra Mikraj (est.).
    assert_eq!(add("2026-12-23 Wed 14:00", "1d"), "2026-12-28 Mon 14:00");
    assert_eq!(add("2026-12-31 Thu 15:20", "1d"), "2027-01-04 Mon 15:20");
    assert_eq!(add("2026-12-31 Thu 10:00", "2d"), "2027-01-06 Wed 10:00");
}

#[test]
fn a_special_schedule_that_opens_later() {
    let mut short = WeeklySchedule::regency_default();
    short.tuesday = vec![Interval::hm((8, 0), (14, 0))];
    let special = SpecialSchedule {
        from: chrono::NaiveDate::from_ymd_opt(2030, 1, 8).unwrap(),
        to: chrono::NaiveDate::from_ymd_opt(2030, 1, 8).unwrap(),
        name: "test".into(),
        hours: short,
        source: "test".into(),
    };
    let c = WorkingCalendar::new(WeeklySchedule::regency_default(), vec![], vec![special]).unwrap();
    let add = |s: &str, d: &str| show(c.add(wib(s), std(d).limit).unwrap());
    assert_eq!(add("2030-01-07 Mon 07:30", "1d"), "2030-01-08 Tue 08:00", "opens later: its opening");
    assert_eq!(add("2030-01-07 Mon 15:00", "1d"), "2030-01-08 Tue 14:00", "closes earlier: its close");
    assert_eq!(add("2030-01-07 Mon 15:00", "1h"), "2030-01-08 Tue 08:30");
    assert_eq!(add("2030-01-07 Mon 12:20", "1d"), "2030-01-08 Tue 12:20");
}

#[test]
fn elapsed_working_time() {
    let c = cal();
    let week = c.elapsed_minutes(wib("2025-10-13 Mon 07:30"), wib("2025-10-17 Fri 15:00"));
    assert_eq!(week, 37 * 60 + 30);
    assert_eq!(c.elapsed_seconds(wib("2025-10-13 Mon 10:00"), wib("2025-10-13 Mon 09:00")), 0);
    assert_eq!(c.elapsed_seconds(wib("2025-10-13 Mon 07:30"), wib("2025-10-13 Mon 07:30:59")), 59);
    assert_eq!(c.elapsed_minutes(wib("2025-10-13 Mon 07:30"), wib("2025-10-13 Mon 07:30:59")), 0);
    assert_eq!(c.elapsed_minutes(wib("2025-10-11 Sat 00:00"), wib("2025-10-12 Sun 23:59")), 0);
    // A whole year: 2026 has 17 + 8 closed dates, 5 of them on weekends.
    let year = c.elapsed_minutes(wib("2026-01-01 Thu 00:00"), wib("2027-01-01 Fri 00:00"));
    assert!(year > 240 * 6 * 60 && year < 250 * 8 * 60, "{year}");
}

#[test]
fn absurd_standards_end_quickly_and_without_panic() {
    let c = cal();
    let start = wib("2025-10-13 Mon 10:00");
    assert_eq!(c.add(start, WorkDuration::Days(u32::MAX)), Err(OutOfRange));
    assert_eq!(c.due(start, &std("4000000000d")), Err(OutOfRange));
    assert!(c.due(start, &std("100000d")).is_ok());
    let far = c.add(start, WorkDuration::Minutes(u32::MAX)).unwrap();
    assert_eq!(c.elapsed_seconds(start, far), i64::from(u32::MAX) * 60);
    assert_eq!(c.add(start, WorkDuration::Minutes(0)).unwrap(), start);
    assert_eq!(c.add(wib("2025-10-11 Sat 10:00"), WorkDuration::Days(0)).unwrap(), wib("2025-10-13 Mon 07:30"));
}

#[test]
fn due_and_state_as_json() {
    let d = due("2025-10-13 Mon 08:00", "1h");
    let json = serde_json::to_value(d).unwrap();
    assert_eq!(json["limit_at"], "2025-10-13T02:00:00Z");
    assert_eq!(json["warning_at"], "2025-10-13T01:48:00Z");
    assert_eq!(serde_json::to_value(SlaState::OnTime).unwrap(), "on_time");
    assert_eq!(serde_json::to_value(ClosedDateKind::CollectiveLeave).unwrap(), "collective_leave");
    assert_eq!(serde_json::from_value::<Due>(json).unwrap(), d);
}
