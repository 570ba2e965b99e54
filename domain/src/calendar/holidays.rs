//! The seeded closed dates: national public holidays and collective leave of 2025–2027
//! from the joint ministerial decrees (SKB of the Ministers of Religious Affairs,
//! Manpower, and Administrative Reform). The data is `closed_dates.json`, kept readable
//! beside this file; its `about` lines say what is confirmed and what is estimated.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use chrono::NaiveDate;
use serde::Deserialize;

use super::schedule::{ClosedDate, ClosedDateKind};

const SEED: &str = include_str!("closed_dates.json");

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedFile {
    #[allow(dead_code)] // for the human reader
    about: Vec<String>,
    decrees: BTreeMap<String, String>,
    closed_dates: Vec<SeedEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedEntry {
    date: NaiveDate,
    /// The weekday as the decree prints it; only checked by the tests.
    #[cfg_attr(not(test), allow(dead_code))]
    day: String,
    name: String,
    kind: ClosedDateKind,
    decree: String,
    note: Option<String>,
}

fn parse(json: &str) -> Result<Vec<ClosedDate>, String> {
    let file: SeedFile = serde_json::from_str(json).map_err(|e| e.to_string())?;
    file.closed_dates
        .into_iter()
        .map(|e| {
            let decree =
                file.decrees.get(&e.decree).ok_or_else(|| format!("{}: unknown decree `{}`", e.date, e.decree))?;
            let source = match e.note {
                Some(note) => format!("{decree}; {note}"),
                None => decree.clone(),
            };
            Ok(ClosedDate { date: e.date, name: e.name, kind: e.kind, source })
        })
        .collect()
}

/// National public holidays and collective leave of 2025, 2026 and 2027, sorted by
/// date. 2027 holds estimates only (marked "unverified" in `source`) and no collective
/// leave yet: add those from the 2027 decree.
pub fn seeded_closed_dates() -> Vec<ClosedDate> {
    static SEEDED: OnceLock<Vec<ClosedDate>> = OnceLock::new();
    SEEDED.get_or_init(|| parse(SEED).expect("closed_dates.json is checked by the tests")).clone()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Datelike, Days, Weekday};
    use std::collections::HashSet;

    fn entries() -> Vec<SeedEntry> {
        serde_json::from_str::<SeedFile>(SEED).unwrap().closed_dates
    }

    fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    /// Easter Sunday (anonymous Gregorian algorithm).
    fn easter(y: i32) -> NaiveDate {
        let (a, b, c) = (y % 19, y / 100, y % 100);
        let (d, e) = (b / 4, b % 4);
        let f = (b + 8) / 25;
        let g = (b - f + 1) / 3;
        let h = (19 * a + b - d - g + 15) % 30;
        let (i, k) = (c / 4, c % 4);
        let l = (32 + 2 * e + 2 * i - h - k) % 7;
        let m = (a + 11 * h + 22 * l) / 451;
        let month = (h + l - 7 * m + 114) / 31;
        let day = (h + l - 7 * m + 114) % 31 + 1;
        ymd(y, month as u32, day as u32)
    }

    #[test]
    fn parses_sorted_without_duplicate_dates() {
        let dates = seeded_closed_dates();
        assert!(dates.windows(2).all(|w| w[0].date < w[1].date), "sorted, no duplicates");
        let unique: HashSet<_> = dates.iter().map(|c| c.date).collect();
        assert_eq!(unique.len(), dates.len());
    }

    #[test]
    fn counts_per_year_match_the_decrees() {
        let dates = seeded_closed_dates();
        let count = |year, kind| dates.iter().filter(|c| c.date.year() == year && c.kind == kind).count();
        // 2025: 17 libur nasional, 10 cuti bersama + 18 August added in 2025.
        assert_eq!(count(2025, ClosedDateKind::PublicHoliday), 17);
        assert_eq!(count(2025, ClosedDateKind::CollectiveLeave), 11);
        // 2026: 17 libur nasional, 8 cuti bersama.
        assert_eq!(count(2026, ClosedDateKind::PublicHoliday), 17);
        assert_eq!(count(2026, ClosedDateKind::CollectiveLeave), 8);
        // 2027: estimated libur nasional only.
        assert_eq!(count(2027, ClosedDateKind::PublicHoliday), 17);
        assert_eq!(count(2027, ClosedDateKind::CollectiveLeave), 0);
        assert_eq!(dates.len(), 17 + 11 + 17 + 8 + 17);
    }

    #[test]
    fn every_weekday_is_the_one_printed() {
        let hari = |w: Weekday| match w {
            Weekday::Mon => "Senin",
            Weekday::Tue => "Selasa",
            Weekday::Wed => "Rabu",
            Weekday::Thu => "Kamis",
            Weekday::Fri => "Jumat",
            Weekday::Sat => "Sabtu",
            Weekday::Sun => "Minggu",
        };
        for e in entries() {
            assert_eq!(hari(e.date.weekday()), e.day, "{} {}", e.date, e.name);
        }
    }

    #[test]
    fn fixed_and_easter_dates_are_where_they_belong() {
        for c in seeded_closed_dates().into_iter().filter(|c| c.kind == ClosedDateKind::PublicHoliday) {
            let y = c.date.year();
            let expected = match c.name.as_str() {
                n if n == format!("Tahun Baru {y} Masehi") => Some(ymd(y, 1, 1)),
                "Hari Buruh Internasional" => Some(ymd(y, 5, 1)),
                "Hari Lahir Pancasila" => Some(ymd(y, 6, 1)),
                "Proklamasi Kemerdekaan" => Some(ymd(y, 8, 17)),
                "Kelahiran Yesus Kristus" => Some(ymd(y, 12, 25)),
                "Wafat Yesus Kristus" => easter(y).checked_sub_days(Days::new(2)),
                "Kebangkitan Yesus Kristus (Paskah)" => Some(easter(y)),
                "Kenaikan Yesus Kristus" => easter(y).checked_add_days(Days::new(39)),
                _ => None,
            };
            if let Some(expected) = expected {
                assert_eq!(c.date, expected, "{}", c.name);
            }
        }
        assert_eq!(easter(2025), ymd(2025, 4, 20));
        assert_eq!(easter(2026), ymd(2026, 4, 5));
    }

    #[test]
    fn every_new_year_and_two_day_idulfitri_is_present() {
        let dates = seeded_closed_dates();
        for y in 2025..=2027 {
            assert!(dates.iter().any(|c| c.date == ymd(y, 1, 1)), "{y}");
            let fitri: Vec<_> = dates
                .iter()
                .filter(|c| c.kind == ClosedDateKind::PublicHoliday && c.name.starts_with("Idulfitri"))
                .filter(|c| c.date.year() == y)
                .collect();
            assert_eq!(fitri.len(), 2, "{y}");
            assert_eq!(fitri[0].date.succ_opt(), Some(fitri[1].date), "{y}");
        }
    }

    #[test]
    fn collective_leave_sits_beside_its_holiday() {
        let dates = seeded_closed_dates();
        for leave in dates.iter().filter(|c| c.kind == ClosedDateKind::CollectiveLeave) {
            let of = leave.name.strip_prefix("Cuti Bersama ").expect("named after its holiday");
            let near = dates.iter().any(|h| {
                h.kind == ClosedDateKind::PublicHoliday
                    && of.starts_with(&h.name)
                    && (h.date - leave.date).num_days().abs() <= 7
            });
            assert!(near, "{} {}", leave.date, leave.name);
        }
    }

    #[test]
    fn every_estimate_says_so_and_nothing_else_does() {
        for c in seeded_closed_dates() {
            let unverified = c.source.contains("unverified");
            assert_eq!(unverified, c.date.year() == 2027, "{} {}", c.date, c.source);
            assert!(c.source.contains("SKB"), "{}", c.source);
        }
        let amended = seeded_closed_dates().into_iter().find(|c| c.date == ymd(2025, 8, 18)).unwrap();
        assert!(amended.source.contains("No. 933 Tahun 2025"));
    }

    #[test]
    fn unknown_decree_key_is_an_error() {
        let bad = r#"{"about":[],"decrees":{},"closed_dates":[
            {"date":"2025-01-01","day":"Rabu","kind":"public_holiday","decree":"x","name":"n"}]}"#;
        assert!(parse(bad).unwrap_err().contains("unknown decree"));
    }
}
