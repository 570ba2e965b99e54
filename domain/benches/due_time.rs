//! Due-time computation (issue 15, item 4: under 2 µs). Every transition computes the next
//! step's due times and every list recomputes the SLA state, so this is on the hot path.
//!
//!     cargo bench -p jembatan-domain --bench due_time
//!
//! Cases: a short standard inside a working day, one that crosses a weekend, a ranged
//! standard across the Lebaran closure (the longest closed run of the year), and a start in
//! the middle of the night (the clock starts at the next opening).

use std::hint::black_box;

use chrono::{DateTime, TimeZone, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use jembatan_domain::calendar::{TimeStandard, WorkingCalendar};

/// An instant on the WIB wall clock (UTC+7).
fn wib(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).single().expect("valid") - chrono::Duration::hours(7)
}

fn due_times(c: &mut Criterion) {
    let cal = WorkingCalendar::regency_default();
    let cases = [
        ("15m within a working day", "15m", wib(2026, 11, 16, 8, 0)),
        ("1d across a weekend", "1d", wib(2026, 11, 20, 14, 0)),
        ("1-2d across Lebaran 2026", "1-2d", wib(2026, 3, 18, 13, 0)),
        ("3h from midnight", "3h", wib(2026, 11, 17, 0, 30)),
        ("5d (the longest standard)", "5d", wib(2026, 12, 23, 9, 0)),
    ];
    let mut group = c.benchmark_group("due");
    for (name, standard, start) in cases {
        let standard: TimeStandard = standard.parse().expect("a standard of the SOP");
        cal.due(start, &standard).expect("representable");
        group.bench_function(name, |b| b.iter(|| cal.due(black_box(start), black_box(&standard))));
    }
    group.finish();
    let standard: TimeStandard = "1d".parse().expect("standard");
    let due = cal.due(wib(2026, 11, 16, 8, 0), &standard).expect("due");
    c.bench_function("sla_state", |b| b.iter(|| black_box(&due).sla_state(black_box(wib(2026, 11, 17, 9, 0)))));
}

criterion_group!(benches, due_times);
criterion_main!(benches);
