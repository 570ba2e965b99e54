//! Text fields, one module for their rules:
//! - a *line* (names, titles of directory entries): not blank, no control characters, at
//!   most N characters — `Text<N>` and `check_text`, matching `TEXT_PATTERN` in the spec;
//! - a *passage* (a request's purpose, a holiday's source): 1–N characters once trimmed,
//!   line breaks allowed — `check_passage`;
//! - a *note* (on a transition): optional, any text up to N characters — `check_note`.

use std::fmt;

use crate::error::FieldErrors;
use crate::i18n::Msg;
use crate::msg;

/// The pattern of names and titles (`name`, `full_name`): not blank, no control
/// characters. Pair it with `min_length = 1` and a `max_length`; `check_text` enforces
/// the same rule, so what the spec allows is exactly what is accepted.
pub const TEXT_PATTERN: &str =
    r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$";

/// `TEXT_PATTERN` plus a length limit in characters.
pub fn check_text(value: &str, max_chars: usize) -> Result<(), Msg> {
    if value.chars().any(char::is_control) {
        return Err(msg!("text-control-characters"));
    }
    if value.trim().is_empty() {
        return Err(msg!("text-blank"));
    }
    if value.chars().count() > max_chars {
        return Err(msg!("text-at-most", max = max_chars));
    }
    Ok(())
}

/// A line of text that passed `check_text` with limit `MAX`: once parsed at the edge, it
/// cannot be invalid further in. Services parse the body's names into it (collecting every
/// field's error); the spec documents those fields with `min_length = 1`, `max_length` and
/// `TEXT_PATTERN` (an `openapi` test checks the pattern).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text<const MAX: usize>(String);

impl<const MAX: usize> Text<MAX> {
    pub fn parse(value: &str) -> Result<Self, Msg> {
        check_text(value, MAX).map(|()| Text(value.to_owned()))
    }

    /// Parses `value`, or adds the reason to `errors` under `field` (so every field of a
    /// body is reported at once).
    pub fn parse_field(value: &str, field: &str, errors: &mut FieldErrors) -> Option<Self> {
        Self::parse(value).map_err(|m| errors.entry(field.to_owned()).or_default().push(m)).ok()
    }

    /// The value with surrounding white space removed, as stored.
    pub fn trimmed(&self) -> &str {
        self.0.trim()
    }
}

impl<const MAX: usize> fmt::Display for Text<MAX> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A passage: 1–`max` characters once trimmed; line breaks are part of it.
pub fn check_passage(errors: &mut FieldErrors, field: &str, value: &str, max: usize) {
    let n = value.trim().chars().count();
    if n == 0 || n > max {
        errors.entry(field.to_owned()).or_default().push(msg!("text-between", max = max));
    }
    if value.chars().any(unsafe_in_passage) {
        errors.entry(field.to_owned()).or_default().push(msg!("text-passage-control-characters"));
    }
}

/// NUL and the other control characters (PostgreSQL refuses NUL in text; the rest hide
/// text from readers), and the bidirectional overrides that reorder what a reader sees.
fn unsafe_in_passage(c: char) -> bool {
    (c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// A note: may be absent or empty, at most `max` characters.
pub fn check_note(errors: &mut FieldErrors, field: &str, value: Option<&str>, max: usize) {
    if value.is_some_and(|v| v.chars().count() > max) {
        errors.entry(field.to_owned()).or_default().push(msg!("text-at-most", max = max));
    }
}

/// The pattern of email addresses: `local@domain.tld`, no spaces or control characters.
pub const EMAIL_PATTERN: &str =
    r"^[^@\s\u0000-\u001F\u007F-\u009F]+@[^@.\s\u0000-\u001F\u007F-\u009F]+(\.[^@.\s\u0000-\u001F\u007F-\u009F]+)+$";

/// `EMAIL_PATTERN`, and at most 254 characters.
pub fn is_email(e: &str) -> bool {
    let plain = |c: char| !(c.is_whitespace() || c.is_control() || c == '@');
    e.chars().count() <= 254
        && e.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && local.chars().all(plain)
                && domain.split('.').count() >= 2
                && domain.split('.').all(|label| !label.is_empty() && label.chars().all(plain))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_not_blank_and_has_no_control_characters() {
        assert!(check_text("Dinas Kesehatan", 200).is_ok());
        assert!(check_text(" x ", 200).is_ok());
        assert!(check_text("", 200).is_err());
        assert!(check_text(" \u{3000}\u{a0}", 200).is_err());
        assert!(check_text("a\u{1c}", 200).is_err());
        assert!(check_text("a\u{85}", 200).is_err());
        assert!(check_text(&"é".repeat(200), 200).is_ok());
        assert!(check_text(&"é".repeat(201), 200).is_err());
        assert_eq!(Text::<10>::parse(" Dinkes ").unwrap().trimmed(), "Dinkes");
        assert!(Text::<3>::parse("abcd").is_err());
    }

    #[test]
    fn a_passage_may_break_lines_but_not_be_blank_or_long() {
        let mut errors = FieldErrors::new();
        check_passage(&mut errors, "purpose", "Baris satu\nbaris dua", 40);
        assert!(errors.is_empty());
        check_passage(&mut errors, "purpose", " \n ", 40);
        check_passage(&mut errors, "title", &"x".repeat(41), 40);
        assert_eq!(errors.len(), 2);
        let mut errors = FieldErrors::new();
        check_passage(&mut errors, "a", "tab\there\r\nok", 40);
        assert!(errors.is_empty());
        for bad in ["nul\0", "bell\u{7}", "rlo\u{202E}txt", "isolate\u{2066}x", "c1\u{85}"] {
            check_passage(&mut errors, bad, bad, 40);
        }
        assert_eq!(errors.len(), 5);
    }

    #[test]
    fn emails_follow_the_documented_pattern() {
        for ok in ["budi@dinkes.trenggalekkab.go.id", "a@b.c", "x.y+z@sub.example.org"] {
            assert!(is_email(ok), "{ok}");
        }
        for bad in ["", "a", "a@b", "@b.c", "a@.b", "a@b.", "a@b..c", "a b@c.d", "a@b@c.d", "a@b.c\u{1}"] {
            assert!(!is_email(bad), "{bad}");
        }
    }
}
