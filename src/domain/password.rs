//! Password policy: 12 to 256 characters, never truncated, not one of the 10,000 most common.

use std::collections::HashSet;
use std::sync::OnceLock;

/// The 10,000 most common passwords (from the list Django ships), one a line.
const COMMON: &str = include_str!("common-passwords.txt");

fn common() -> &'static HashSet<&'static str> {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| {
        COMMON
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect()
    })
}

/// What is wrong with a proposed password; each maps to a locale key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordProblem {
    TooShort,
    TooLong,
    TooCommon,
    /// One character repeated, a few repeated over and over, or a run such as 123456789012.
    TooSimple,
    Mismatch,
}

impl PasswordProblem {
    /// The locale key of the message.
    pub fn key(self) -> &'static str {
        match self {
            PasswordProblem::TooShort => "error.password_too_short",
            PasswordProblem::TooLong => "error.password_too_long",
            PasswordProblem::TooCommon => "error.password_too_common",
            PasswordProblem::TooSimple => "error.password_too_simple",
            PasswordProblem::Mismatch => "error.password_mismatch",
        }
    }
}

/// Fewer than five different characters (aaaaaaaaaaaa, abababababab), or every character the
/// one after (or before) the last: 123456789012, abcdefghijkl.
fn too_simple(raw: &str) -> bool {
    let chars: Vec<char> = raw.chars().collect();
    let mut distinct = chars.clone();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() < 5 {
        return true;
    }
    let step = |a: char, b: char| -> i64 {
        match (a, b) {
            ('9', '0') => 1,
            ('0', '9') => -1,
            _ => i64::from(u32::from(b)) - i64::from(u32::from(a)),
        }
    };
    let steps: Vec<i64> = chars.windows(2).map(|w| step(w[0], w[1])).collect();
    steps.iter().all(|s| *s == 1) || steps.iter().all(|s| *s == -1)
}

/// A password that meets the policy.
pub struct NewPassword(String);

impl std::fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPassword(***)")
    }
}

impl NewPassword {
    /// Checks length (in characters) and the common-password list; `confirm` must match.
    pub fn parse(raw: &str, confirm: &str) -> Result<NewPassword, PasswordProblem> {
        let len = raw.chars().count();
        if len < 12 {
            return Err(PasswordProblem::TooShort);
        }
        if len > 256 {
            return Err(PasswordProblem::TooLong);
        }
        if common().contains(raw) || common().contains(raw.to_lowercase().as_str()) {
            return Err(PasswordProblem::TooCommon);
        }
        if too_simple(raw) {
            return Err(PasswordProblem::TooSimple);
        }
        if raw != confirm {
            return Err(PasswordProblem::Mismatch);
        }
        Ok(NewPassword(raw.to_string()))
    }

    /// The password itself, for hashing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_holds_ten_thousand_entries() {
        assert_eq!(common().len(), 10_000);
    }

    #[test]
    fn short_long_common_and_mismatched_passwords_are_refused() {
        assert_eq!(
            NewPassword::parse("short", "short").unwrap_err(),
            PasswordProblem::TooShort
        );
        let long = "あ".repeat(257);
        assert_eq!(
            NewPassword::parse(&long, &long).unwrap_err(),
            PasswordProblem::TooLong
        );
        let common = common().iter().find(|p| p.chars().count() >= 12).unwrap();
        assert_eq!(
            NewPassword::parse(common, common).unwrap_err(),
            PasswordProblem::TooCommon
        );
        assert_eq!(
            NewPassword::parse("correct horse battery", "correct horse batterY").unwrap_err(),
            PasswordProblem::Mismatch
        );
    }

    #[test]
    fn repeated_and_sequential_passwords_are_refused() {
        for simple in [
            "aaaaaaaaaaaa",
            "abababababab",
            "aabbccddaabb",
            "123456789012",
            "abcdefghijkl",
            "lkjihgfedcba",
        ] {
            assert_eq!(
                NewPassword::parse(simple, simple).unwrap_err(),
                PasswordProblem::TooSimple,
                "{simple}"
            );
        }
        for fine in [
            "成田ロジ倉庫の合鍵は青い",
            "Walk-Pass-2026!x",
            "correct horse battery",
        ] {
            assert!(NewPassword::parse(fine, fine).is_ok(), "{fine}");
        }
    }

    #[test]
    fn a_256_character_password_is_kept_whole() {
        let p = "パスワード".repeat(51) + "x";
        assert_eq!(p.chars().count(), 256);
        assert_eq!(NewPassword::parse(&p, &p).unwrap().expose(), p);
    }
}
