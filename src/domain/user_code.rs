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

/// A NACCS 利用者ID: the user code (5) followed by the 識別番号 (3), letters and digits.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NaccsId(String);

impl NaccsId {
    /// Accepts full-width input and lower case (normalised to upper-case ASCII).
    pub fn parse(raw: &str) -> Result<NaccsId, super::FieldError> {
        let s: String = raw.nfkc().collect::<String>().trim().to_uppercase();
        if s.len() != 8
            || !s
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        {
            return Err("error.user_id_invalid");
        }
        Ok(NaccsId(s))
    }

    /// The user-code part.
    pub fn user_code(&self) -> &str {
        &self.0[..5]
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod id_tests {
    use super::*;

    #[test]
    fn ids_are_a_user_code_and_three_more_characters() {
        let id = NaccsId::parse("ａｂ１２３００１").unwrap();
        assert_eq!((id.as_str(), id.user_code()), ("AB123001", "AB123"));
        for bad in ["AB12300", "AB1230011", "AB123-01", ""] {
            assert!(NaccsId::parse(bad).is_err(), "{bad}");
        }
    }
}
