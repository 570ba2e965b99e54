//! Integral numbers in JSON: JSON Schema's `integer` admits `3.0` as well as `3`, so a
//! client (or a published definition) that writes numbers as floats is not refused.
//! Fractions and out-of-range values still are.

use serde::Deserialize;

/// For optional `version` fields in bodies.
pub fn integral_i32<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<i32>, D::Error> {
    let Some(n) = Option::<serde_json::Number>::deserialize(d)? else { return Ok(None) };
    integral_number(n).map(Some)
}

/// `integral_i32` for a required integer of any width (`order: u16`, `version: i32`).
pub fn integral<'de, D: serde::Deserializer<'de>, T: TryFrom<i64>>(d: D) -> Result<T, D::Error> {
    integral_number(serde_json::Number::deserialize(d)?)
}

fn integral_number<T: TryFrom<i64>, E: serde::de::Error>(n: serde_json::Number) -> Result<T, E> {
    let as_int = n.as_i64().or_else(|| n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 1e15).map(|f| f as i64));
    match as_int {
        Some(i) => T::try_from(i).map_err(|_| E::custom(format!("{n} is out of range"))),
        None => Err(E::custom(format!("expected an integer, got {n}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Versioned {
        #[serde(default, deserialize_with = "integral_i32")]
        version: Option<i32>,
    }

    #[test]
    fn versions_may_be_written_as_integral_floats() {
        let v = |s: &str| serde_json::from_str::<Versioned>(s).map(|v| v.version);
        assert_eq!(v(r#"{"version": 3}"#).unwrap(), Some(3));
        assert_eq!(v(r#"{"version": 8143.0}"#).unwrap(), Some(8143));
        assert_eq!(v(r#"{"version": null}"#).unwrap(), None);
        assert_eq!(v("{}").unwrap(), None);
        assert!(v(r#"{"version": 1.5}"#).is_err());
        assert!(v(r#"{"version": 3000000000}"#).is_err());
        assert!(v(r#"{"version": "3"}"#).is_err());
    }
}
