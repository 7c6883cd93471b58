//! NACCS user codes (利用者コード): five characters, A–Z and 0–9.

use unicode_normalization::UnicodeNormalization;

/// A validated NACCS user code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserCode(String);

impl UserCode {
    /// Accepts full-width input and lower case (normalised to upper case ASCII).
    pub fn parse(raw: &str) -> Result<UserCode, super::FieldError> {
        let s: String = raw.nfkc().collect::<String>().trim().to_uppercase();
        if s.is_empty() {
            return Err("error.user_code_required");
        }
        if s.len() != 5
            || !s
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        {
            return Err("error.user_code_invalid");
        }
        Ok(UserCode(s))
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_five_letters_or_digits() {
        assert_eq!(UserCode::parse("ａｂ１２３").unwrap().as_str(), "AB123");
        for bad in ["", "ABCD", "ABCDEF", "AB-12", "ＡＢ１２あ"] {
            assert!(UserCode::parse(bad).is_err(), "{bad}");
        }
    }
}
