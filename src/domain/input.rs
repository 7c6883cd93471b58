//! Typed-in values checked the way Japanese offices type them: text kept exactly as typed
//! (only trimmed), phone numbers and dates in full or half width.

use unicode_normalization::UnicodeNormalization;

/// Text kept exactly as typed, only trimmed: required or not, at most `max` characters, no
/// control characters but line breaks.
pub fn text(raw: &str, max: usize, required: bool) -> Result<String, &'static str> {
    let s = raw.trim();
    if s.is_empty() && required {
        Err("error.required")
    } else if s.chars().count() > max || s.chars().any(|c| c.is_control() && c != '\n' && c != '\r')
    {
        Err("error.too_long")
    } else {
        Ok(s.to_string())
    }
}

/// A phone or fax number: digits with hyphens, spaces, parentheses or +; full width accepted.
pub fn phone_number(raw: &str, required: bool) -> Result<String, &'static str> {
    let s: String = raw.nfkc().collect::<String>().trim().to_string();
    if s.is_empty() {
        return if required {
            Err("error.required")
        } else {
            Ok(s)
        };
    }
    let digits = s.chars().filter(char::is_ascii_digit).count();
    if s.len() > 30 || digits < 6 || !s.chars().all(|c| c.is_ascii_digit() || "+-() ".contains(c)) {
        return Err("error.phone_invalid");
    }
    Ok(s)
}

pub use super::dates::date;
