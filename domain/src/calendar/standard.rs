//! The SOP's "Waktu" column as a type: a target and a limit, each a working duration.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A duration in the office's working time.
///
/// Minutes and hours count working minutes; days and weeks count working days
/// (see `docs/time-standards.md`), so the two kinds are kept apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WorkDuration {
    /// Working minutes ("15 menit" = 15, "1 jam" = 60).
    Minutes(u32),
    /// Working days ("1 hari" = 1, "1 minggu" = 5).
    Days(u32),
}

impl WorkDuration {
    fn parse(s: &str) -> Result<Self, StandardParseError> {
        let s = s.trim();
        let split = s.find(|c: char| !c.is_ascii_digit()).ok_or_else(|| StandardParseError(s.to_owned()))?;
        let (num, unit) = s.split_at(split);
        let n: u32 = num.parse().map_err(|_| StandardParseError(s.to_owned()))?;
        if n == 0 {
            return Err(StandardParseError(s.to_owned()));
        }
        let d = match unit {
            "m" | "min" => WorkDuration::Minutes(n),
            "h" => WorkDuration::Minutes(n.checked_mul(60).ok_or_else(|| StandardParseError(s.to_owned()))?),
            "d" => WorkDuration::Days(n),
            "w" => WorkDuration::Days(n.checked_mul(5).ok_or_else(|| StandardParseError(s.to_owned()))?),
            _ => return Err(StandardParseError(s.to_owned())),
        };
        Ok(d)
    }
}

impl fmt::Display for WorkDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            WorkDuration::Minutes(m) if m % 60 == 0 => write!(f, "{}h", m / 60),
            WorkDuration::Minutes(m) => write!(f, "{m}m"),
            WorkDuration::Days(d) if d % 5 == 0 => write!(f, "{}w", d / 5),
            WorkDuration::Days(d) => write!(f, "{d}d"),
        }
    }
}

/// A time standard: "1-2d" has target 1 day and limit 2 days; "15m" is both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimeStandard {
    pub target: WorkDuration,
    pub limit: WorkDuration,
}

impl TimeStandard {
    pub fn single(d: WorkDuration) -> Self {
        Self { target: d, limit: d }
    }
    /// A single standard warns from 80 % elapsed; a ranged one from its target.
    pub fn is_single(&self) -> bool {
        self.target == self.limit
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a time standard; use e.g. 15m, 1h, 1d, 1w or 1-2d")]
pub struct StandardParseError(pub String);

impl FromStr for TimeStandard {
    type Err = StandardParseError;

    /// Accepts `15m`, `1h`, `1d`, `1w`, and ranges `1-2d` (unit after the limit) or `1d-2d`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || StandardParseError(s.to_owned());
        match s.split_once('-') {
            None => Ok(Self::single(WorkDuration::parse(s)?)),
            Some((a, b)) => {
                let limit = WorkDuration::parse(b)?;
                let target = if a.chars().all(|c| c.is_ascii_digit()) {
                    let unit = b.trim_start_matches(|c: char| c.is_ascii_digit());
                    WorkDuration::parse(&format!("{a}{unit}"))?
                } else {
                    WorkDuration::parse(a)?
                };
                let same_kind = matches!(
                    (target, limit),
                    (WorkDuration::Minutes(_), WorkDuration::Minutes(_))
                        | (WorkDuration::Days(_), WorkDuration::Days(_))
                );
                if !same_kind || target >= limit {
                    return Err(err());
                }
                Ok(Self { target, limit })
            }
        }
    }
}

impl fmt::Display for TimeStandard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_single() {
            return write!(f, "{}", self.target);
        }
        match (self.target, self.limit) {
            (WorkDuration::Days(a), WorkDuration::Days(b)) if a % 5 != 0 || b % 5 != 0 => {
                write!(f, "{a}-{b}d")
            }
            (WorkDuration::Minutes(a), WorkDuration::Minutes(b)) if a % 60 != 0 || b % 60 != 0 => {
                write!(f, "{a}-{b}m")
            }
            (t, l) => write!(f, "{t}-{l}"),
        }
    }
}

impl Serialize for TimeStandard {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The documented shape of a time standard (the spec's `pattern`): a count and a unit
/// (`m` or `min`, `h`, `d`, `w`), or a range `target-limit` with the unit after the limit
/// and optionally after the target too. Counts have no leading zero, nothing else (no
/// spaces) is allowed. [`has_documented_shape`] checks exactly this.
pub const PATTERN: &str = r"^([1-9][0-9]*(m|min|h|d|w)?-)?[1-9][0-9]*(m|min|h|d|w)$";

/// Whether `s` matches [`PATTERN`]. A standard of this shape can still be refused by
/// `parse` — a target not below its limit, a target and a limit of different kinds
/// (minutes/hours vs days/weeks), a count too large — which is a 422, not a 400.
pub fn has_documented_shape(s: &str) -> bool {
    fn duration(s: &str, unit_optional: bool) -> bool {
        let digits = s.bytes().take_while(u8::is_ascii_digit).count();
        let (count, unit) = s.split_at(digits);
        !count.is_empty()
            && !count.starts_with('0')
            && (matches!(unit, "m" | "min" | "h" | "d" | "w") || (unit_optional && unit.is_empty()))
    }
    match s.split_once('-') {
        None => duration(s, false),
        Some((target, limit)) => duration(target, true) && duration(limit, false),
    }
}

/// A string of another shape is a malformed value; one of the documented shape that does
/// not make a standard is an unacceptable one (see `crate::UNACCEPTABLE`).
impl<'de> Deserialize<'de> for TimeStandard {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if !has_documented_shape(&s) {
            return Err(serde::de::Error::custom(StandardParseError(s)));
        }
        s.parse().map_err(|_| serde::de::Error::custom(format!("{}{}", crate::UNACCEPTABLE, unusable(&s))))
    }
}

/// Why a standard of the documented shape is refused.
pub fn unusable(s: &str) -> String {
    format!(
        "`{s}` cannot be used: a range's target must be shorter than its limit and both in minutes/hours \
         or both in days/weeks, and a count must fit 32 bits"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_sop_standard() {
        assert_eq!("15m".parse::<TimeStandard>().unwrap(), TimeStandard::single(WorkDuration::Minutes(15)));
        assert_eq!("1h".parse::<TimeStandard>().unwrap(), TimeStandard::single(WorkDuration::Minutes(60)));
        assert_eq!("1d".parse::<TimeStandard>().unwrap(), TimeStandard::single(WorkDuration::Days(1)));
        assert_eq!("1w".parse::<TimeStandard>().unwrap(), TimeStandard::single(WorkDuration::Days(5)));
        let r: TimeStandard = "1-2d".parse().unwrap();
        assert_eq!((r.target, r.limit), (WorkDuration::Days(1), WorkDuration::Days(2)));
        assert_eq!("1d-2d".parse::<TimeStandard>().unwrap(), r);
    }

    #[test]
    fn display_round_trips() {
        for s in ["15m", "1h", "90m", "1d", "1w", "1-2d", "3d", "2w", "1h-2h"] {
            let t: TimeStandard = s.parse().unwrap();
            assert_eq!(t.to_string().parse::<TimeStandard>().unwrap(), t, "{s}");
        }
        assert_eq!("1-2d".parse::<TimeStandard>().unwrap().to_string(), "1-2d");
    }

    #[test]
    fn the_documented_shape_is_checked_exactly() {
        for s in ["15m", "1min", "1h", "1d", "1w", "1-2d", "1d-2d", "1h-2h", "30-90m", "2-1d", "1h-1d", "99999999999h"]
        {
            assert!(has_documented_shape(s), "{s}");
        }
        for s in ["", "0d", "01d", "d", "15", "1y", "-1d", "1-", "1--2d", "1-2", " 1d", "1d ", "1 d", "1-2-3d", "1d-"] {
            assert!(!has_documented_shape(s), "{s}");
        }
        // Of the documented shape and parseable, or of it and refused as unusable.
        let status = |s: &str| serde_json::from_value::<TimeStandard>(serde_json::json!(s)).map_err(|e| e.to_string());
        assert!(status("1-2d").is_ok());
        assert!(status("2-1d").unwrap_err().starts_with(crate::UNACCEPTABLE));
        assert!(!status("1y").unwrap_err().starts_with(crate::UNACCEPTABLE));
    }

    #[test]
    fn rejects_nonsense() {
        for s in ["", "0d", "d", "15", "1y", "2-1d", "1h-1d", "-1d", "1-1d", "99999999999h"] {
            assert!(s.parse::<TimeStandard>().is_err(), "{s} should not parse");
        }
    }
}
