//! Dates as people type them and as the Center keeps them (Japan time).

use chrono::NaiveDate;
use unicode_normalization::UnicodeNormalization;

/// A date as typed: `2026-04-01` or `2026/04/01`, full-width digits allowed.
pub fn date(raw: &str) -> Result<NaiveDate, super::FieldError> {
    let s: String = raw.nfkc().collect::<String>().trim().replace('/', "-");
    if s.is_empty() {
        return Err("error.required");
    }
    NaiveDate::parse_from_str(&s, "%Y-%m-%d").map_err(|_| "error.date_invalid")
}

/// Formats a UTC time in JST (`2026-11-25 18:00 JST`).
pub fn jst(at: &chrono::DateTime<chrono::Utc>) -> String {
    use chrono::{Datelike, Timelike};
    let t = at.naive_utc() + chrono::Duration::hours(9);
    let Some(year) = u32::try_from(t.year()).ok().filter(|y| *y <= 9999) else {
        return format!(
            "{:04}-{:02}-{:02} {:02}:{:02} JST",
            t.year(),
            t.month(),
            t.day(),
            t.hour(),
            t.minute()
        );
    };
    // Digit by digit rather than through `format!`'s padding: lists show many of these (50 on
    // a queue page), and the formatting machinery was most of their cost.
    let mut s = String::with_capacity(20);
    for (n, width, after) in [
        (year, 4, '-'),
        (t.month(), 2, '-'),
        (t.day(), 2, ' '),
        (t.hour(), 2, ':'),
        (t.minute(), 2, ' '),
    ] {
        for p in (0..width).rev() {
            s.push(char::from(b'0' + ((n / 10u32.pow(p)) % 10) as u8));
        }
        s.push(after);
    }
    s.push_str("JST");
    s
}

/// Today's date in Japan, where due dates are kept.
pub fn today() -> NaiveDate {
    (chrono::Utc::now() + chrono::Duration::hours(9)).date_naive()
}

/// A due date: a valid date, today or later (Japan time).
pub fn due(raw: &str) -> Result<NaiveDate, super::FieldError> {
    let d = date(raw)?;
    if d < today() {
        Err("error.due_in_past")
    } else {
        Ok(d)
    }
}

/// Free text: trimmed, required or not, at most 4,000 characters.
pub fn long_text(raw: &str, required: bool) -> Result<String, super::FieldError> {
    let s = raw.trim();
    if required && s.is_empty() {
        Err("error.required")
    } else if s.chars().count() > 4000 {
        Err("error.too_long")
    } else {
        Ok(s.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jst_writes_the_time_in_japan_with_padded_fields() {
        use chrono::TimeZone;
        let cases = [
            (
                chrono::Utc.with_ymd_and_hms(2026, 11, 25, 9, 0, 0),
                "2026-11-25 18:00 JST",
            ),
            (
                chrono::Utc.with_ymd_and_hms(2026, 12, 31, 15, 5, 59),
                "2027-01-01 00:05 JST",
            ),
            (
                chrono::Utc.with_ymd_and_hms(987, 1, 2, 3, 4, 5),
                "0987-01-02 12:04 JST",
            ),
            (
                chrono::Utc.with_ymd_and_hms(12026, 1, 1, 0, 0, 0),
                "12026-01-01 09:00 JST",
            ),
        ];
        for (at, want) in cases {
            assert_eq!(jst(&at.unwrap()), want);
        }
    }

    #[test]
    fn full_width_digits_and_slashes_read_as_a_date() {
        assert_eq!(
            date("２０２６/０４/０１"),
            NaiveDate::from_ymd_opt(2026, 4, 1).ok_or("x")
        );
        assert_eq!(date(" "), Err("error.required"));
        assert_eq!(date("2026-02-30"), Err("error.date_invalid"));
    }

    #[test]
    fn a_due_date_in_the_past_is_refused_and_today_is_not() {
        assert_eq!(due("2000-01-01"), Err("error.due_in_past"));
        assert_eq!(due(&today().to_string()), Ok(today()));
    }

    #[test]
    fn jst_is_nine_hours_ahead_across_the_date_line() {
        let at = chrono::DateTime::parse_from_rfc3339("2026-12-31T15:05:59Z")
            .unwrap()
            .to_utc();
        assert_eq!(jst(&at), "2027-01-01 00:05 JST");
    }

    #[test]
    fn long_text_is_trimmed_and_limited() {
        assert_eq!(long_text("  a ", true), Ok("a".to_string()));
        assert_eq!(long_text(" ", true), Err("error.required"));
        assert_eq!(long_text("", false), Ok(String::new()));
        assert_eq!(long_text(&"x".repeat(4001), false), Err("error.too_long"));
    }
}
