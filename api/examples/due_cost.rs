//! The cost of one due-time computation (`WorkingCalendar::due`) and one working-time
//! measurement (`elapsed_seconds`), on the calendar the service runs with: the regency's
//! default week, the seeded holidays and collective leave of 2025–2027, and a Ramadan
//! special schedule.
//!
//!     cargo run --release -p jembatan --example due_cost
//!
//! Starts every 7 min 13 s from 2025-01-01 to 2027-12-31 (~218 000 instants, working
//! time and not, weekends and holidays included), each with every standard of the SOP.
//! Each measurement is repeated five times; the fastest and slowest are printed, in
//! nanoseconds per call. Not a test: a figure for docs/benchmarks.md.

use std::hint::black_box;
use std::time::Instant;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use jembatan::calendar::{
    Interval, SpecialSchedule, TimeStandard, WeeklySchedule, WorkingCalendar, seeded_closed_dates,
};

fn main() {
    let short = vec![Interval::hm((8, 0), (14, 0))];
    let ramadan_hours = WeeklySchedule {
        monday: short.clone(),
        tuesday: short.clone(),
        wednesday: short.clone(),
        thursday: short,
        friday: vec![Interval::hm((8, 0), (11, 30))],
        ..WeeklySchedule::default()
    };
    let ramadan = SpecialSchedule {
        from: NaiveDate::from_ymd_opt(2026, 2, 19).unwrap(),
        to: NaiveDate::from_ymd_opt(2026, 3, 19).unwrap(),
        name: "Ramadan 1447 H".into(),
        hours: ramadan_hours,
        source: "benchmark: hours like a yearly Ramadan circular".into(),
    };
    let calendar = WorkingCalendar::new(WeeklySchedule::regency_default(), seeded_closed_dates(), vec![ramadan])
        .expect("a valid calendar");

    let first = Utc.with_ymd_and_hms(2024, 12, 31, 17, 0, 0).unwrap();
    let last = Utc.with_ymd_and_hms(2027, 12, 31, 16, 59, 59).unwrap();
    let mut starts: Vec<DateTime<Utc>> = Vec::new();
    let mut t = first;
    while t <= last {
        starts.push(t);
        t += Duration::seconds(7 * 60 + 13);
    }
    let standards: Vec<TimeStandard> =
        ["15m", "1h", "1d", "1-2d", "2d", "1w"].iter().map(|s| s.parse().unwrap()).collect();
    let calls = (starts.len() * standards.len()) as f64;

    let mut due_ns = Vec::new();
    let mut elapsed_ns = Vec::new();
    for _ in 0..5 {
        let begun = Instant::now();
        let mut ends = Vec::with_capacity(starts.len() * standards.len());
        for s in &starts {
            for st in &standards {
                // Starts near the end of 2027 run past the seeded years: still answered.
                if let Ok(d) = calendar.due(black_box(*s), black_box(st)) {
                    ends.push((*s, d.limit_at));
                }
            }
        }
        due_ns.push(begun.elapsed().as_nanos() as f64 / calls);

        let begun = Instant::now();
        let mut total = 0i64;
        for (s, e) in &ends {
            total = total.wrapping_add(calendar.elapsed_seconds(black_box(*s), black_box(*e)));
        }
        elapsed_ns.push(begun.elapsed().as_nanos() as f64 / ends.len() as f64);
        black_box(total);
    }
    let range = |v: &[f64]| {
        let min = v.iter().copied().fold(f64::INFINITY, f64::min);
        let max = v.iter().copied().fold(0.0, f64::max);
        format!("{min:.0}–{max:.0} ns")
    };
    println!("starts: {}, standards: {}, calls per repeat: {calls}", starts.len(), standards.len());
    println!("due():             {} per call (fastest–slowest of 5 repeats)", range(&due_ns));
    println!("elapsed_seconds(): {} per call (start to limit)", range(&elapsed_ns));
}
